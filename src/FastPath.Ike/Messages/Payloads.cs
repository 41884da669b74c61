using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace FastPath.Ike.Messages;

// Typed models of the payloads of RFC 7296 §3.2-3.16 and RFC 7383 §2.5. Every payload starts with
// the generic payload header (§3.2): Next Payload (1) | C bit + 7 reserved bits (1) | Payload
// Length (2, including these 4 bytes). The chain (next-payload links and the header) is written by
// IkeMessageBuilder and read by PayloadChain; a model only knows its body (the bytes after the
// generic header). Parsing lives in PayloadChain/PayloadParsers so every bound check sits next to
// the read it protects.

/// <summary>A payload of an IKE message (body without the 4-byte generic header).</summary>
public abstract class IkePayload
{
    /// <summary>The payload type written into the previous payload's Next Payload field.</summary>
    public abstract PayloadType Type { get; }

    /// <summary>The critical bit (RFC 7296 §3.2). Kept as received; set on send only for payloads the
    /// peer must understand (RFC 7296 says senders MUST clear it for the payloads it defines).</summary>
    public bool Critical { get; init; }

    /// <summary>Bytes of the body.</summary>
    public abstract int BodyLength { get; }

    /// <summary>Writes the body (exactly <see cref="BodyLength"/> bytes).</summary>
    public abstract void WriteBody(Span<byte> dst);
}

// ---- SA (§3.3) ---------------------------------------------------------------------------------

/// <summary>A transform attribute (RFC 7296 §3.3.5). TV form (AF bit set): a 2-byte value, used by the
/// only attribute IKEv2 defines, Key Length (14). TLV form keeps the bytes.</summary>
public sealed record TransformAttribute(ushort AttributeType, bool IsTv, ushort TvValue, byte[] TlvValue)
{
    public const ushort KeyLengthType = 14;

    public static TransformAttribute KeyLength(ushort bits) => new(KeyLengthType, true, bits, []);

    internal int Length => IsTv ? 4 : 4 + TlvValue.Length;
}

/// <summary>A transform substructure (RFC 7296 §3.3.2).</summary>
public sealed record Transform(TransformType TransformType, ushort TransformId, IReadOnlyList<TransformAttribute> Attributes)
{
    public Transform(TransformType type, ushort id) : this(type, id, []) { }

    public static Transform WithKeyLength(TransformType type, ushort id, ushort keyBits) =>
        new(type, id, [TransformAttribute.KeyLength(keyBits)]);

    /// <summary>The Key Length attribute in bits, or null when absent.</summary>
    public int? KeyLength
    {
        get
        {
            foreach (var a in Attributes)
                if (a.AttributeType == TransformAttribute.KeyLengthType && a.IsTv) return a.TvValue;
            return null;
        }
    }

    internal int Length
    {
        get
        {
            int n = 8;
            foreach (var a in Attributes) n += a.Length;
            return n;
        }
    }
}

/// <summary>A proposal substructure (RFC 7296 §3.3.1).</summary>
public sealed record Proposal(byte Number, ProtocolId Protocol, byte[] Spi, IReadOnlyList<Transform> Transforms)
{
    internal int Length
    {
        get
        {
            int n = 8 + Spi.Length;
            foreach (var t in Transforms) n += t.Length;
            return n;
        }
    }
}

/// <summary>Security Association payload (RFC 7296 §3.3).</summary>
public sealed class SaPayload : IkePayload
{
    public SaPayload(IReadOnlyList<Proposal> proposals) => Proposals = proposals;

    public IReadOnlyList<Proposal> Proposals { get; }
    public override PayloadType Type => PayloadType.SecurityAssociation;

    public override int BodyLength
    {
        get
        {
            int n = 0;
            foreach (var p in Proposals) n += p.Length;
            return n;
        }
    }

    public override void WriteBody(Span<byte> dst)
    {
        int o = 0;
        for (int i = 0; i < Proposals.Count; i++)
        {
            var p = Proposals[i];
            int plen = p.Length;
            dst[o] = (byte)(i == Proposals.Count - 1 ? 0 : 2); // Last Substruc (§3.3.1)
            dst[o + 1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(dst[(o + 2)..], (ushort)plen);
            dst[o + 4] = p.Number;
            dst[o + 5] = (byte)p.Protocol;
            dst[o + 6] = (byte)p.Spi.Length;
            dst[o + 7] = (byte)p.Transforms.Count;
            p.Spi.CopyTo(dst[(o + 8)..]);
            int t = o + 8 + p.Spi.Length;
            for (int j = 0; j < p.Transforms.Count; j++)
            {
                var tr = p.Transforms[j];
                int tlen = tr.Length;
                dst[t] = (byte)(j == p.Transforms.Count - 1 ? 0 : 3); // Last Substruc (§3.3.2)
                dst[t + 1] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(dst[(t + 2)..], (ushort)tlen);
                dst[t + 4] = (byte)tr.TransformType;
                dst[t + 5] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(dst[(t + 6)..], tr.TransformId);
                int a = t + 8;
                foreach (var at in tr.Attributes)
                {
                    if (at.IsTv)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(dst[a..], (ushort)(0x8000 | at.AttributeType));
                        BinaryPrimitives.WriteUInt16BigEndian(dst[(a + 2)..], at.TvValue);
                        a += 4;
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(dst[a..], (ushort)(at.AttributeType & 0x7fff));
                        BinaryPrimitives.WriteUInt16BigEndian(dst[(a + 2)..], (ushort)at.TlvValue.Length);
                        at.TlvValue.CopyTo(dst[(a + 4)..]);
                        a += 4 + at.TlvValue.Length;
                    }
                }
                t += tlen;
            }
            o += plen;
        }
    }
}

// ---- KE (§3.4) ---------------------------------------------------------------------------------

/// <summary>Key Exchange payload (RFC 7296 §3.4): DH group number and the public value.</summary>
public sealed class KePayload(ushort dhGroup, byte[] keyData) : IkePayload
{
    public ushort DhGroup { get; } = dhGroup;
    public byte[] KeyData { get; } = keyData;
    public override PayloadType Type => PayloadType.KeyExchange;
    public override int BodyLength => 4 + KeyData.Length;

    public override void WriteBody(Span<byte> dst)
    {
        BinaryPrimitives.WriteUInt16BigEndian(dst, DhGroup);
        dst[2] = 0;
        dst[3] = 0;
        KeyData.CopyTo(dst[4..]);
    }
}

// ---- IDi / IDr (§3.5) --------------------------------------------------------------------------

/// <summary>Identification payload (RFC 7296 §3.5), IDi or IDr. <see cref="Data"/> is the identity
/// as sent (4/16 address bytes, FQDN/RFC822 text, DER, key id, empty for ID_NULL).</summary>
public sealed class IdPayload(bool initiator, IdType idType, byte[] data) : IkePayload
{
    public bool IsInitiator { get; } = initiator;
    public IdType IdType { get; } = idType;
    public byte[] Data { get; } = data;
    public override PayloadType Type => IsInitiator ? PayloadType.IdInitiator : PayloadType.IdResponder;
    public override int BodyLength => 4 + Data.Length;

    public override void WriteBody(Span<byte> dst)
    {
        dst[0] = (byte)IdType;
        dst[1] = dst[2] = dst[3] = 0;
        Data.CopyTo(dst[4..]);
    }
}

// ---- CERT / CERTREQ (§3.6, §3.7) ---------------------------------------------------------------

/// <summary>Certificate payload (RFC 7296 §3.6).</summary>
public sealed class CertPayload(CertEncoding encoding, byte[] data) : IkePayload
{
    public CertEncoding Encoding { get; } = encoding;
    public byte[] Data { get; } = data;
    public override PayloadType Type => PayloadType.Certificate;
    public override int BodyLength => 1 + Data.Length;

    public override void WriteBody(Span<byte> dst)
    {
        dst[0] = (byte)Encoding;
        Data.CopyTo(dst[1..]);
    }
}

/// <summary>Certificate Request payload (RFC 7296 §3.7). For X.509 the authority field is a
/// concatenation of 20-byte SHA-1 hashes of CA public keys.</summary>
public sealed class CertReqPayload(CertEncoding encoding, byte[] authorities) : IkePayload
{
    public CertEncoding Encoding { get; } = encoding;
    public byte[] Authorities { get; } = authorities;
    public override PayloadType Type => PayloadType.CertificateRequest;
    public override int BodyLength => 1 + Authorities.Length;

    public override void WriteBody(Span<byte> dst)
    {
        dst[0] = (byte)Encoding;
        Authorities.CopyTo(dst[1..]);
    }
}

// ---- AUTH (§3.8) -------------------------------------------------------------------------------

/// <summary>Authentication payload (RFC 7296 §3.8).</summary>
public sealed class AuthPayload(AuthMethod method, byte[] data) : IkePayload
{
    public AuthMethod Method { get; } = method;
    public byte[] Data { get; } = data;
    public override PayloadType Type => PayloadType.Authentication;
    public override int BodyLength => 4 + Data.Length;

    public override void WriteBody(Span<byte> dst)
    {
        dst[0] = (byte)Method;
        dst[1] = dst[2] = dst[3] = 0;
        Data.CopyTo(dst[4..]);
    }
}

// ---- Ni / Nr (§3.9) ----------------------------------------------------------------------------

/// <summary>Nonce payload (RFC 7296 §3.9): 16..256 bytes.</summary>
public sealed class NoncePayload(byte[] nonce) : IkePayload
{
    public const int MinLength = 16;
    public const int MaxLength = 256;
    public byte[] Nonce { get; } = nonce;
    public override PayloadType Type => PayloadType.Nonce;
    public override int BodyLength => Nonce.Length;
    public override void WriteBody(Span<byte> dst) => Nonce.CopyTo(dst);
}

// ---- N (§3.10) ---------------------------------------------------------------------------------

/// <summary>Notify payload (RFC 7296 §3.10).</summary>
public sealed class NotifyPayload(ProtocolId protocol, NotifyType notifyType, byte[] spi, byte[] data) : IkePayload
{
    public NotifyPayload(NotifyType notifyType, byte[] data) : this(ProtocolId.None, notifyType, [], data) { }

    public ProtocolId Protocol { get; } = protocol;
    public NotifyType NotifyType { get; } = notifyType;
    public byte[] Spi { get; } = spi;
    public byte[] Data { get; } = data;
    /// <summary>Error types are below 16384 (RFC 7296 §3.10.1).</summary>
    public bool IsError => (ushort)NotifyType < 16384;
    public override PayloadType Type => PayloadType.Notify;
    public override int BodyLength => 4 + Spi.Length + Data.Length;

    public override void WriteBody(Span<byte> dst)
    {
        dst[0] = (byte)Protocol;
        dst[1] = (byte)Spi.Length;
        BinaryPrimitives.WriteUInt16BigEndian(dst[2..], (ushort)NotifyType);
        Spi.CopyTo(dst[4..]);
        Data.CopyTo(dst[(4 + Spi.Length)..]);
    }
}

// ---- D (§3.11) ---------------------------------------------------------------------------------

/// <summary>Delete payload (RFC 7296 §3.11). For the IKE SA: no SPIs; for ESP/AH: 4-byte SPIs.</summary>
public sealed class DeletePayload(ProtocolId protocol, byte spiSize, IReadOnlyList<byte[]> spis) : IkePayload
{
    public static DeletePayload IkeSa() => new(ProtocolId.Ike, 0, []);

    public static DeletePayload ChildSas(ProtocolId protocol, params uint[] spis)
    {
        var list = new List<byte[]>(spis.Length);
        foreach (uint s in spis)
        {
            var b = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(b, s);
            list.Add(b);
        }
        return new DeletePayload(protocol, 4, list);
    }

    public ProtocolId Protocol { get; } = protocol;
    public byte SpiSize { get; } = spiSize;
    public IReadOnlyList<byte[]> Spis { get; } = spis;
    public override PayloadType Type => PayloadType.Delete;
    public override int BodyLength => 4 + SpiSize * Spis.Count;

    public override void WriteBody(Span<byte> dst)
    {
        dst[0] = (byte)Protocol;
        dst[1] = SpiSize;
        BinaryPrimitives.WriteUInt16BigEndian(dst[2..], (ushort)Spis.Count);
        int o = 4;
        foreach (var s in Spis)
        {
            s.CopyTo(dst[o..]);
            o += SpiSize;
        }
    }
}

// ---- V (§3.12) ---------------------------------------------------------------------------------

/// <summary>Vendor ID payload (RFC 7296 §3.12).</summary>
public sealed class VendorIdPayload(byte[] vendorId) : IkePayload
{
    public byte[] VendorId { get; } = vendorId;
    public override PayloadType Type => PayloadType.VendorId;
    public override int BodyLength => VendorId.Length;
    public override void WriteBody(Span<byte> dst) => VendorId.CopyTo(dst);
}

// ---- TSi / TSr (§3.13) -------------------------------------------------------------------------

/// <summary>A traffic selector (RFC 7296 §3.13.1): IP protocol (0 = any), port range, address range
/// (4 bytes each for TS_IPV4_ADDR_RANGE, 16 for TS_IPV6_ADDR_RANGE).</summary>
public sealed record TrafficSelector(TsType TsType, byte IpProtocol, ushort StartPort, ushort EndPort, byte[] StartAddress, byte[] EndAddress)
{
    internal int Length => 8 + 2 * StartAddress.Length;

    internal static int AddressLength(TsType t) => t switch
    {
        TsType.Ipv4AddrRange => 4,
        TsType.Ipv6AddrRange => 16,
        _ => -1,
    };
}

/// <summary>Traffic Selector payload (RFC 7296 §3.13), TSi or TSr.</summary>
public sealed class TsPayload(bool initiator, IReadOnlyList<TrafficSelector> selectors) : IkePayload
{
    public bool IsInitiator { get; } = initiator;
    public IReadOnlyList<TrafficSelector> Selectors { get; } = selectors;
    public override PayloadType Type => IsInitiator ? PayloadType.TsInitiator : PayloadType.TsResponder;

    public override int BodyLength
    {
        get
        {
            int n = 4;
            foreach (var s in Selectors) n += s.Length;
            return n;
        }
    }

    public override void WriteBody(Span<byte> dst)
    {
        dst[0] = (byte)Selectors.Count;
        dst[1] = dst[2] = dst[3] = 0;
        int o = 4;
        foreach (var s in Selectors)
        {
            dst[o] = (byte)s.TsType;
            dst[o + 1] = s.IpProtocol;
            BinaryPrimitives.WriteUInt16BigEndian(dst[(o + 2)..], (ushort)s.Length);
            BinaryPrimitives.WriteUInt16BigEndian(dst[(o + 4)..], s.StartPort);
            BinaryPrimitives.WriteUInt16BigEndian(dst[(o + 6)..], s.EndPort);
            s.StartAddress.CopyTo(dst[(o + 8)..]);
            s.EndAddress.CopyTo(dst[(o + 8 + s.StartAddress.Length)..]);
            o += s.Length;
        }
    }
}

// ---- SK (§3.14) and SKF (RFC 7383 §2.5) -------------------------------------------------------

/// <summary>Encrypted payload as received (RFC 7296 §3.14): the protected body (IV | ciphertext | ICV)
/// kept opaque, and the type of the first inner payload (its Next Payload field). Decrypt with
/// <see cref="IkeMessage.DecryptSk"/>. To send an SK payload, give the inner payloads to
/// <see cref="IkeMessageBuilder"/>; this class only re-serializes what was received.</summary>
public sealed class EncryptedPayload(PayloadType firstInner, byte[] body, int bodyOffset) : IkePayload
{
    public PayloadType FirstInnerPayload { get; } = firstInner;
    /// <summary>IV | ciphertext | ICV.</summary>
    public byte[] Body { get; } = body;
    /// <summary>Offset of <see cref="Body"/> in the received message (what ISkCipher.Open needs).</summary>
    public int BodyOffset { get; } = bodyOffset;
    public override PayloadType Type => PayloadType.Encrypted;
    public override int BodyLength => Body.Length;
    public override void WriteBody(Span<byte> dst) => Body.CopyTo(dst);
}

/// <summary>Encrypted Fragment payload as received (RFC 7383 §2.5): Fragment Number, Total Fragments,
/// then IV | ciphertext | ICV of this fragment. Only fragment 1 names the first inner payload.</summary>
public sealed class EncryptedFragmentPayload(PayloadType firstInner, ushort fragmentNumber, ushort totalFragments, byte[] body, int bodyOffset) : IkePayload
{
    public PayloadType FirstInnerPayload { get; } = firstInner;
    public ushort FragmentNumber { get; } = fragmentNumber;
    public ushort TotalFragments { get; } = totalFragments;
    /// <summary>IV | ciphertext | ICV (after the 4 bytes of Fragment Number / Total Fragments).</summary>
    public byte[] Body { get; } = body;
    /// <summary>Offset of <see cref="Body"/> in the received message.</summary>
    public int BodyOffset { get; } = bodyOffset;
    public override PayloadType Type => PayloadType.EncryptedFragment;
    public override int BodyLength => 4 + Body.Length;

    public override void WriteBody(Span<byte> dst)
    {
        BinaryPrimitives.WriteUInt16BigEndian(dst, FragmentNumber);
        BinaryPrimitives.WriteUInt16BigEndian(dst[2..], TotalFragments);
        Body.CopyTo(dst[4..]);
    }
}

// ---- CP (§3.15) --------------------------------------------------------------------------------

/// <summary>A configuration attribute (RFC 7296 §3.15.1). Empty value = "please assign" in a request.</summary>
public sealed record CfgAttribute(CfgAttributeType AttributeType, byte[] Value);

/// <summary>Configuration payload (RFC 7296 §3.15): CFG_REQUEST/REPLY/SET/ACK and its attributes.</summary>
public sealed class CpPayload(CfgType cfgType, IReadOnlyList<CfgAttribute> attributes) : IkePayload
{
    public CfgType CfgType { get; } = cfgType;
    public IReadOnlyList<CfgAttribute> Attributes { get; } = attributes;
    public override PayloadType Type => PayloadType.Configuration;

    public override int BodyLength
    {
        get
        {
            int n = 4;
            foreach (var a in Attributes) n += 4 + a.Value.Length;
            return n;
        }
    }

    public override void WriteBody(Span<byte> dst)
    {
        dst[0] = (byte)CfgType;
        dst[1] = dst[2] = dst[3] = 0;
        int o = 4;
        foreach (var a in Attributes)
        {
            BinaryPrimitives.WriteUInt16BigEndian(dst[o..], (ushort)((ushort)a.AttributeType & 0x7fff));
            BinaryPrimitives.WriteUInt16BigEndian(dst[(o + 2)..], (ushort)a.Value.Length);
            a.Value.CopyTo(dst[(o + 4)..]);
            o += 4 + a.Value.Length;
        }
    }
}

// ---- EAP (§3.16) -------------------------------------------------------------------------------

/// <summary>EAP payload (RFC 7296 §3.16): one EAP message (RFC 3748), kept opaque; its own length field
/// is checked against the payload.</summary>
public sealed class EapPayload(byte[] message) : IkePayload
{
    public byte[] Message { get; } = message;
    public byte Code => Message[0];
    public byte Identifier => Message[1];
    public override PayloadType Type => PayloadType.Eap;
    public override int BodyLength => Message.Length;
    public override void WriteBody(Span<byte> dst) => Message.CopyTo(dst);
}

// ---- unknown ------------------------------------------------------------------------------------

/// <summary>A payload of a type this implementation does not know, received without the critical bit:
/// ignored by the exchanges (RFC 7296 §2.5) but kept so the message re-serializes as received.</summary>
public sealed class RawPayload(PayloadType type, byte[] body) : IkePayload
{
    private readonly PayloadType _type = type;
    public byte[] Body { get; } = body;
    public override PayloadType Type => _type;
    public override int BodyLength => Body.Length;
    public override void WriteBody(Span<byte> dst) => Body.CopyTo(dst);
}
