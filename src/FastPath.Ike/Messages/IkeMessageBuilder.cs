using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace FastPath.Ike.Messages;

// Build side of the message layer. Flow:
//   Build(header, payloads)                    clear message: header Next Payload = first payload,
//                                              each generic header links to the next, lengths filled
//   BuildEncrypted(header, clear, inner, sk)   clear payloads, then SK (§3.14) whose Next Payload is
//                                              the first inner type; inner chain serialized, sealed
//                                              by ISkCipher over the finished header + SK header
//   BuildFragments(header, inner, sk, max)     RFC 7383 §2.5: the serialized inner chain is cut into
//                                              chunks so that each fragment message (header + SKF
//                                              header + sealed chunk) fits in max bytes; each sealed
//                                              on its own; fragment 1 names the first inner type.
// Arguments come from our own code, so misuse (a payload over 64 KiB, a max too small for one byte
// of data) throws ArgumentException; nothing here depends on peer input.

/// <summary>Builds IKE messages to bytes.</summary>
public static class IkeMessageBuilder
{
    /// <summary>Generic payload header + Fragment Number + Total Fragments (RFC 7383 §2.5).</summary>
    public const int FragmentHeaderLength = 8;

    /// <summary>A message of cleartext payloads (the last may be a received SK/SKF kept opaque).</summary>
    public static byte[] Build(IkeHeader header, IReadOnlyList<IkePayload> payloads)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        int len = IkeHeader.Size + PayloadChain.Length(payloads);
        var msg = new byte[len];
        var h = header with { NextPayload = payloads.Count > 0 ? payloads[0].Type : PayloadType.None, Length = (uint)len };
        h.Write(msg);
        PayloadChain.Write(payloads, msg.AsSpan(IkeHeader.Size));
        return msg;
    }

    /// <summary>Serializes a chain of inner payloads (what goes inside SK / is split into SKF).</summary>
    public static byte[] SerializeInner(IReadOnlyList<IkePayload> inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var b = new byte[PayloadChain.Length(inner)];
        PayloadChain.Write(inner, b);
        return b;
    }

    /// <summary>A message whose <paramref name="inner"/> payloads travel inside an Encrypted payload,
    /// after the <paramref name="clear"/> ones (usually none, RFC 7296 §3.14: SK is last).</summary>
    public static byte[] BuildEncrypted(IkeHeader header, IReadOnlyList<IkePayload> clear, IReadOnlyList<IkePayload> inner, ISkCipher cipher)
    {
        ArgumentNullException.ThrowIfNull(clear);
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(cipher);
        byte[] plain = SerializeInner(inner);
        int sealedLen = cipher.SealedLength(plain.Length);
        int clearLen = PayloadChain.Length(clear);
        int skLen = 4 + sealedLen;
        if (skLen > ushort.MaxValue) throw new ArgumentException($"Encrypted payload of {skLen} bytes exceeds the 16-bit length", nameof(inner));
        int len = IkeHeader.Size + clearLen + skLen;
        var msg = new byte[len];
        var h = header with { NextPayload = clear.Count > 0 ? clear[0].Type : PayloadType.Encrypted, Length = (uint)len };
        h.Write(msg);
        PayloadChain.Write(clear, msg.AsSpan(IkeHeader.Size), PayloadType.Encrypted);
        int sk = IkeHeader.Size + clearLen;
        msg[sk] = (byte)(inner.Count > 0 ? inner[0].Type : PayloadType.None);
        msg[sk + 1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(msg.AsSpan(sk + 2), (ushort)skLen);
        cipher.Seal(msg, sk + 4, plain);
        return msg;
    }

    /// <summary>Largest chunk of inner plaintext whose fragment message fits in <paramref name="maxMessage"/>
    /// bytes (IKE header + SKF header + sealed chunk), or 0 when not even one byte fits.</summary>
    public static int FragmentChunkSize(ISkCipher cipher, int maxMessage)
    {
        ArgumentNullException.ThrowIfNull(cipher);
        int room = maxMessage - IkeHeader.Size - FragmentHeaderLength;
        if (room <= 0) return 0;
        // SealedLength grows by whole blocks (padding), so start from the overhead-free bound and
        // step down until the sealed size fits.
        int chunk = room - cipher.IvLength - cipher.IcvLength;
        while (chunk > 0 && cipher.SealedLength(chunk) > room) chunk--;
        return Math.Max(chunk, 0);
    }

    /// <summary>RFC 7383 send side: the <paramref name="inner"/> payloads split into Encrypted Fragment
    /// messages of at most <paramref name="maxMessage"/> bytes each (the IKE message; the caller subtracts
    /// IP/UDP headers and the 4-byte non-ESP marker on port 4500 from its datagram limit). All
    /// fragments share the header (SPIs, exchange, flags, message ID). One fragment if it all fits.</summary>
    public static IReadOnlyList<byte[]> BuildFragments(IkeHeader header, IReadOnlyList<IkePayload> inner, ISkCipher cipher, int maxMessage)
    {
        ArgumentNullException.ThrowIfNull(inner);
        byte[] plain = SerializeInner(inner);
        int chunk = FragmentChunkSize(cipher, maxMessage);
        if (chunk <= 0) throw new ArgumentOutOfRangeException(nameof(maxMessage), $"{maxMessage} bytes leave no room for fragment data");
        int total = Math.Max(1, (plain.Length + chunk - 1) / chunk);
        if (total > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(maxMessage), $"{total} fragments exceed the 16-bit count");
        var first = inner.Count > 0 ? inner[0].Type : PayloadType.None;
        var list = new List<byte[]>(total);
        for (int i = 0; i < total; i++)
        {
            int start = i * chunk;
            var part = plain.AsSpan(start, Math.Min(chunk, plain.Length - start));
            int sealedLen = cipher.SealedLength(part.Length);
            int len = IkeHeader.Size + FragmentHeaderLength + sealedLen;
            var msg = new byte[len];
            (header with { NextPayload = PayloadType.EncryptedFragment, Length = (uint)len }).Write(msg);
            int o = IkeHeader.Size;
            msg[o] = (byte)(i == 0 ? first : PayloadType.None);
            msg[o + 1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(msg.AsSpan(o + 2), (ushort)(FragmentHeaderLength + sealedLen));
            BinaryPrimitives.WriteUInt16BigEndian(msg.AsSpan(o + 4), (ushort)(i + 1));
            BinaryPrimitives.WriteUInt16BigEndian(msg.AsSpan(o + 6), (ushort)total);
            // AEAD associated data = IKE header through the Total Fragments field (RFC 7383 §2.5).
            cipher.Seal(msg, o + FragmentHeaderLength, part);
            list.Add(msg);
        }
        return list;
    }
}
