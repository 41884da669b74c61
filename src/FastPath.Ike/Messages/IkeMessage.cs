using System;
using System.Collections.Generic;

namespace FastPath.Ike.Messages;

// Parse entry point of the message layer. Flow for a received datagram (after the NAT-T framing
// is removed, see NatT):
//   IkeMessage.Parse(bytes)      header (§3.1: 28 bytes, major version 2, Length == datagram
//                                length: nothing after the message), then the payload chain
//   msg.Encrypted is not null -> msg.DecryptSk(bytes, cipher)  -> inner payloads (§3.14)
//   msg.Fragment  is not null -> FragmentReassembler.Add(...)  -> inner payloads once complete
// No exception escapes for any input; failures are ParseError values.

/// <summary>A parsed (or to-be-built) IKE message: header and outer payloads.</summary>
public sealed class IkeMessage
{
    public IkeMessage(IkeHeader header, IReadOnlyList<IkePayload> payloads)
    {
        Header = header;
        Payloads = payloads;
    }

    public IkeHeader Header { get; }
    public IReadOnlyList<IkePayload> Payloads { get; }

    /// <summary>The Encrypted payload (always last), or null.</summary>
    public EncryptedPayload? Encrypted => Payloads.Count > 0 ? Payloads[^1] as EncryptedPayload : null;

    /// <summary>The Encrypted Fragment payload (always last), or null.</summary>
    public EncryptedFragmentPayload? Fragment => Payloads.Count > 0 ? Payloads[^1] as EncryptedFragmentPayload : null;

    /// <summary>Largest message accepted: a UDP datagram's payload limit (65535 - 8 UDP - 20 IPv4).</summary>
    public const int MaxLength = 65507;

    /// <summary>Parses one IKE message (the whole UDP payload on port 500, or after the 4-byte non-ESP
    /// marker on 4500). Never throws.</summary>
    public static ParseResult<IkeMessage> Parse(ReadOnlySpan<byte> datagram)
    {
        if (!IkeHeader.TryRead(datagram, out var h, out var e)) return ParseResult<IkeMessage>.Fail(e);
        if (h.Length < IkeHeader.Size) return ParseResult<IkeMessage>.Fail(ParseErrorCode.BadLength, 24, $"header length {h.Length} < {IkeHeader.Size}");
        if (h.Length > (uint)datagram.Length) return ParseResult<IkeMessage>.Fail(ParseErrorCode.Truncated, 24, $"header length {h.Length}, datagram {datagram.Length}");
        if (h.Length < (uint)datagram.Length) return ParseResult<IkeMessage>.Fail(ParseErrorCode.TrailingData, (int)h.Length, $"{datagram.Length - h.Length} bytes after the message");
        if (datagram.Length > MaxLength) return ParseResult<IkeMessage>.Fail(ParseErrorCode.BadLength, 24, $"message of {datagram.Length} bytes");
        var list = new List<IkePayload>();
        if (!PayloadChain.Parse(datagram, IkeHeader.Size, h.NextPayload, inner: false, list, out e)) return ParseResult<IkeMessage>.Fail(e);
        return ParseResult<IkeMessage>.Success(new IkeMessage(h, list));
    }

    /// <summary>Parses a chain of inner payloads (decrypted SK content or reassembled fragments).
    /// Error offsets are relative to <paramref name="plaintext"/>.</summary>
    public static ParseResult<IReadOnlyList<IkePayload>> ParseInner(ReadOnlySpan<byte> plaintext, PayloadType first)
    {
        var list = new List<IkePayload>();
        if (!PayloadChain.Parse(plaintext, 0, first, inner: true, list, out var e)) return ParseResult<IReadOnlyList<IkePayload>>.Fail(e);
        return ParseResult<IReadOnlyList<IkePayload>>.Success(list);
    }

    /// <summary>Verifies and decrypts the Encrypted payload and parses the inner payloads.
    /// <paramref name="received"/> must be the exact bytes this message was parsed from (the ICV covers them).</summary>
    public ParseResult<IReadOnlyList<IkePayload>> DecryptSk(ReadOnlySpan<byte> received, ISkCipher cipher)
    {
        ArgumentNullException.ThrowIfNull(cipher);
        var sk = Encrypted;
        if (sk is null) return ParseResult<IReadOnlyList<IkePayload>>.Fail(ParseErrorCode.BadPayloadChain, IkeHeader.Size, "no Encrypted payload");
        var pt = OpenBody(received, sk.BodyOffset, sk.Body.Length, cipher, out var e);
        if (pt is null) return ParseResult<IReadOnlyList<IkePayload>>.Fail(e);
        return ParseInner(pt, sk.FirstInnerPayload);
    }

    internal byte[]? OpenBody(ReadOnlySpan<byte> received, int bodyOffset, int bodyLength, ISkCipher cipher, out ParseError e)
    {
        e = default;
        if (received.Length != Header.Length || bodyOffset + bodyLength > received.Length)
        {
            e = new(ParseErrorCode.InvalidValue, 0, "bytes given are not the message that was parsed");
            return null;
        }
        if (bodyLength < cipher.IvLength + cipher.IcvLength + 1)
        {
            e = new(ParseErrorCode.BadLength, bodyOffset, $"encrypted body of {bodyLength} bytes, IV {cipher.IvLength} + ICV {cipher.IcvLength} + pad length need more");
            return null;
        }
        var pt = new byte[bodyLength];
        int n = cipher.Open(received, bodyOffset, bodyLength, pt);
        if (n < 0)
        {
            e = new(ParseErrorCode.DecryptFailed, bodyOffset, "integrity check or padding failed");
            return null;
        }
        return pt.AsSpan(0, n).ToArray();
    }

    /// <summary>First payload of type <typeparamref name="T"/> among <paramref name="payloads"/>.</summary>
    public static T? Find<T>(IReadOnlyList<IkePayload> payloads) where T : IkePayload
    {
        foreach (var p in payloads)
            if (p is T t) return t;
        return null;
    }

    /// <summary>First notify of <paramref name="type"/> among <paramref name="payloads"/>.</summary>
    public static NotifyPayload? FindNotify(IReadOnlyList<IkePayload> payloads, NotifyType type)
    {
        foreach (var p in payloads)
            if (p is NotifyPayload n && n.NotifyType == type) return n;
        return null;
    }

    /// <summary>Serializes header and payloads as they are (received SK/SKF bodies are copied opaque);
    /// the header's Next Payload and Length are recomputed from the payloads.</summary>
    public byte[] Serialize() => IkeMessageBuilder.Build(Header, Payloads);
}
