using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace FastPath.Ike.Messages;

// Walks a chain of payloads (RFC 7296 §3.2): from the first type (named by the IKE header, or by
// the Encrypted payload for inner payloads) through each generic header's Next Payload until None.
// Checks, in order, for every payload: 4 header bytes present; 4 <= Payload Length <= bytes left in
// the container (a zero or short length can never loop); the body parses for its type; unknown
// types: critical -> UnsupportedCriticalPayload (naming the type, RFC 7296 §2.5), else kept raw.
// SK / SKF must be the last payload of the outer chain (§3.14, RFC 7383 §2.5) and never appear
// inside one. When the chain ends, no byte of the container may be left (trailing garbage).
// At most MaxPayloads payloads: real messages carry ~15, and the bound keeps hostile chains of
// 4-byte payloads from costing 16K allocations.
internal static class PayloadChain
{
    public const int MaxPayloads = 128;

    public static bool Parse(ReadOnlySpan<byte> buf, int start, PayloadType first, bool inner, List<IkePayload> into, out ParseError e)
    {
        e = default;
        int o = start;
        var next = first;
        while (next != PayloadType.None)
        {
            if (into.Count == MaxPayloads) { e = new(ParseErrorCode.InvalidValue, o, $"more than {MaxPayloads} payloads"); return false; }
            if (buf.Length - o < 4) { e = new(ParseErrorCode.Truncated, o, $"payload header of {next} needs 4 bytes, {buf.Length - o} left"); return false; }
            var type = next;
            var following = (PayloadType)buf[o];
            bool critical = (buf[o + 1] & 0x80) != 0;
            int len = BinaryPrimitives.ReadUInt16BigEndian(buf[(o + 2)..]);
            if (len < 4 || len > buf.Length - o) { e = new(ParseErrorCode.BadLength, o + 2, $"{type} payload length {len}, {buf.Length - o} bytes left"); return false; }
            var body = buf.Slice(o + 4, len - 4);
            int bodyOff = o + 4;
            if (type is PayloadType.Encrypted or PayloadType.EncryptedFragment)
            {
                if (inner) { e = new(ParseErrorCode.BadPayloadChain, o, $"{type} inside an Encrypted payload"); return false; }
                if (o + len != buf.Length) { e = new(ParseErrorCode.BadPayloadChain, o + len, $"{buf.Length - o - len} bytes after {type}, which must be last"); return false; }
                if (type == PayloadType.Encrypted)
                {
                    into.Add(new EncryptedPayload(following, body.ToArray(), bodyOff) { Critical = critical });
                }
                else
                {
                    if (body.Length < 4) { e = new(ParseErrorCode.Truncated, bodyOff, "Encrypted Fragment header"); return false; }
                    ushort num = BinaryPrimitives.ReadUInt16BigEndian(body);
                    ushort total = BinaryPrimitives.ReadUInt16BigEndian(body[2..]);
                    // RFC 7383 §2.5: numbers start at 1, never above the total; only fragment 1 names
                    // the first inner payload.
                    if (num == 0 || total == 0 || num > total) { e = new(ParseErrorCode.InvalidValue, bodyOff, $"fragment {num} of {total}"); return false; }
                    if (num != 1 && following != PayloadType.None) { e = new(ParseErrorCode.InvalidValue, o, $"fragment {num} has Next Payload {(byte)following}, only fragment 1 may"); return false; }
                    into.Add(new EncryptedFragmentPayload(following, num, total, body[4..].ToArray(), bodyOff + 4) { Critical = critical });
                }
                return true; // 'following' names the inner chain, not a successor here.
            }
            IkePayload? p;
            if (IsKnown(type))
            {
                p = PayloadParsers.Parse(type, critical, body, bodyOff, out e);
                if (p is null) return false;
            }
            else if (critical)
            {
                e = new(ParseErrorCode.UnsupportedCriticalPayload, o, $"unknown payload type {(byte)type} marked critical", (byte)type);
                return false;
            }
            else
            {
                p = new RawPayload(type, body.ToArray());
            }
            into.Add(p);
            o += len;
            next = following;
        }
        if (o != buf.Length) { e = new(ParseErrorCode.TrailingData, o, $"{buf.Length - o} bytes after the last payload"); return false; }
        return true;
    }

    public static bool IsKnown(PayloadType t) =>
        t is >= PayloadType.SecurityAssociation and <= PayloadType.Eap and not PayloadType.Encrypted;

    /// <summary>Bytes of a chain of payloads with their generic headers.</summary>
    public static int Length(IReadOnlyList<IkePayload> payloads)
    {
        int n = 0;
        foreach (var p in payloads) n += 4 + p.BodyLength;
        return n;
    }

    /// <summary>Writes payloads with generic headers; the last one's Next Payload is <paramref name="last"/>.
    /// Returns bytes written.</summary>
    public static int Write(IReadOnlyList<IkePayload> payloads, Span<byte> dst, PayloadType last = PayloadType.None)
    {
        int o = 0;
        for (int i = 0; i < payloads.Count; i++)
        {
            var p = payloads[i];
            int len = 4 + p.BodyLength;
            if (len > ushort.MaxValue) throw new ArgumentException($"{p.Type} payload of {len} bytes exceeds the 16-bit length");
            var next = p switch
            {
                EncryptedPayload sk => sk.FirstInnerPayload,
                EncryptedFragmentPayload skf => skf.FirstInnerPayload,
                _ => i + 1 < payloads.Count ? payloads[i + 1].Type : last,
            };
            dst[o] = (byte)next;
            dst[o + 1] = (byte)(p.Critical ? 0x80 : 0);
            BinaryPrimitives.WriteUInt16BigEndian(dst[(o + 2)..], (ushort)len);
            p.WriteBody(dst.Slice(o + 4, len - 4));
            o += len;
        }
        return o;
    }
}
