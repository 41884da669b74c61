using System;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.L3;

// How many bytes ESP adds to an inner packet, and from that the largest inner packet that still
// fits a path MTU after encapsulation (RFC 4303 §2, RFC 3948 §2.1):
//
//   outer IP (20 | 40) + [UDP 8, NAT-T] + SPI/Seq 8 + IV + pad(inner + 2 → alignment) + 2 + ICV
//
// so  encapsulated(inner) = fixed + roundUp(inner + 2, align) + ICV  and
//     maxInner(mtu)       = floor((mtu − fixed − ICV) / align) · align − 2.
// Numbers for a 1500-byte path, tunnel mode, IPv4 outer, no NAT-T (docs/l3.md has the table):
//   AES-GCM-16 (IV 8, align 4, ICV 16):              1500 − 36 − 16 = 1448 → 1448 → max inner 1446
//   AES-CBC + HMAC-SHA1-96 (IV 16, align 16, ICV 12): 1500 − 44 − 12 = 1444 → 1440 → max inner 1438
//   3DES-CBC + HMAC-SHA1-96 (IV 8, align 8, ICV 12):  1500 − 36 − 12 = 1452 → 1448 → max inner 1446

/// <summary>ESP encapsulation overhead of one SA (tunnel or transport, IPv4/IPv6 outer, NAT-T).</summary>
public readonly record struct EspOverhead(int FixedHeader, int Alignment, int IcvLength)
{
    /// <summary>Outer IP + UDP (NAT-T) + ESP header (8) + IV, the bytes in front of the inner packet.
    /// Transport mode: ESP header + IV + UDP only (the IP header is the inner one, moved).</summary>
    public static EspOverhead Create(bool outerIpv6, bool natT, int ivLength, int alignment, int icvLength, bool tunnel = true)
    {
        if (alignment is not (4 or 8 or 16)) throw new ArgumentOutOfRangeException(nameof(alignment), "4, 8 or 16");
        int fixedHeader = (tunnel ? (outerIpv6 ? 40 : 20) : 0) + (natT ? 8 : 0) + 8 + ivLength;
        return new EspOverhead(fixedHeader, alignment, icvLength);
    }

    /// <summary>The overhead of an installed outbound SA.</summary>
    public static EspOverhead For(OutboundSa sa)
    {
        ArgumentNullException.ThrowIfNull(sa);
        return Create(sa.OuterIsIpv6, sa.NatDestinationPort != 0, sa.Transform.IvLength, sa.Transform.PayloadAlignment, sa.Transform.IcvLength, sa.Mode == IpsecMode.Tunnel);
    }

    public static readonly EspOverhead AesGcm16Ipv4 = Create(false, false, 8, 4, 16);
    public static readonly EspOverhead AesCbcSha1Ipv4 = Create(false, false, 16, 16, 12);
    public static readonly EspOverhead TripleDesSha1Ipv4 = Create(false, false, 8, 8, 12);

    /// <summary>Length of the outer packet for an inner packet of <paramref name="innerLength"/> bytes.</summary>
    public int EncapsulatedLength(int innerLength) => FixedHeader + (innerLength + 2 + Alignment - 1) / Alignment * Alignment + IcvLength;

    /// <summary>The largest inner packet whose encapsulation fits <paramref name="pathMtu"/> (may be ≤ 0: nothing fits).</summary>
    public int MaxInnerLength(int pathMtu) => (pathMtu - FixedHeader - IcvLength) / Alignment * Alignment - 2;
}
