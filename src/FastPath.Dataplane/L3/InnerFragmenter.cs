using System;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.L3;

// Pre-fragmentation of the inner packet before ESP (the pipeline's default for "too big after ESP"):
//
//   inner IPv4, DF clear, EspOverhead.EncapsulatedLength(len) > path MTU
//     → Ipv4Fragmenter on the inner packet with mtu = EspOverhead.MaxInnerLength(path MTU)
//     → each fragment is encapsulated on its own and fits the path: the outer packets are never
//       fragmented, the peer gateway needs no reassembly (no Reassembler slots, no 30 s state, no
//       fragment-loss amplification: losing one outer fragment would lose the whole ESP packet)
//       and the inner destination host reassembles, as it would for any router on the path.
//   inner IPv4 with DF set → TooBig: ICMP type 3 code 4 with MTU = MaxInnerLength (RFC 1191 §4:
//     the MTU the sender must use so that its packets fit the tunnel).
//   inner IPv6 → TooBig: ICMPv6 Packet Too Big with MTU = MaxInnerLength (routers never fragment
//     IPv6, RFC 8200 §5), except when MaxInnerLength < 1280: RFC 8200 §5 requires a link (the
//     tunnel) to carry 1280-byte packets, so the pipeline encapsulates and fragments the OUTER
//     packet (Ipv4Fragmenter on the outer IPv4, DF clear) — Decision.FragmentOuter.
// This is what Linux xfrm does in tunnel mode (ip_finish_output fragments against the xfrm
// bundle's MTU, which already subtracts the ESP overhead; xfrm4_tunnel_check_size sends ICMP for DF).

/// <summary>What the pipeline does with an inner packet before encapsulation.</summary>
public enum InnerMtuDecision : byte
{
    /// <summary>Fits after ESP: encapsulate as is.</summary>
    Fits,
    /// <summary>Inner IPv4 with DF clear: fragment the inner packet (Fragment) and encapsulate each piece.</summary>
    FragmentInner,
    /// <summary>Send ICMP "fragmentation needed" / "packet too big" with <see cref="InnerFragmenter.InnerMtu"/>; drop FragmentationNeeded.</summary>
    TooBig,
    /// <summary>IPv6 inner ≤ 1280 that cannot fit: encapsulate, then fragment the outer IPv4 packet.</summary>
    FragmentOuter,
    /// <summary>Not a valid IPv4/IPv6 packet.</summary>
    Malformed,
}

/// <summary>Inner-packet MTU policy and pre-fragmentation for one SA and path MTU. Immutable, zero allocation per packet.</summary>
public sealed unsafe class InnerFragmenter
{
    private readonly EspOverhead _overhead;

    public InnerFragmenter(EspOverhead overhead, int pathMtu)
    {
        _overhead = overhead;
        PathMtu = pathMtu;
        InnerMtu = overhead.MaxInnerLength(pathMtu);
    }

    public int PathMtu { get; }
    /// <summary>The largest inner packet that fits after ESP (the MTU to advertise in ICMP).</summary>
    public int InnerMtu { get; }
    public EspOverhead Overhead => _overhead;

    /// <summary>Decides for the inner packet at <paramref name="ip"/> (IP header first, <paramref name="length"/> bytes).</summary>
    public InnerMtuDecision Decide(byte* ip, int length)
    {
        if (length < 1) return InnerMtuDecision.Malformed;
        int version = ip[0] >> 4;
        if (version == 4)
        {
            if (length < Ipv4Header.MinLength) return InnerMtuDecision.Malformed;
            ref Ipv4Header h = ref Ipv4Header.At(ip);
            int total = h.TotalLength;
            if (total > length || total < h.HeaderLength) return InnerMtuDecision.Malformed;
            if (_overhead.EncapsulatedLength(total) <= PathMtu) return InnerMtuDecision.Fits;
            if ((h.FlagsFragment & Ipv4Header.DontFragment) != 0 || InnerMtu < Ipv4Fragmenter.MinimumMtu) return InnerMtuDecision.TooBig;
            return InnerMtuDecision.FragmentInner;
        }
        if (version == 6)
        {
            if (length < Ipv6Header.Length) return InnerMtuDecision.Malformed;
            int total = Ipv6Header.Length + Ipv6Header.At(ip).PayloadLength;
            if (total > length) return InnerMtuDecision.Malformed;
            if (_overhead.EncapsulatedLength(total) <= PathMtu) return InnerMtuDecision.Fits;
            return total <= 1280 && InnerMtu < 1280 ? InnerMtuDecision.FragmentOuter : InnerMtuDecision.TooBig;
        }
        return InnerMtuDecision.Malformed;
    }

    /// <summary>Fragments the inner IPv4 packet (Data = inner IP header) into pieces of at most
    /// <see cref="InnerMtu"/> bytes in new frames (default headroom: room for the ESP headers).</summary>
    public FragmentResult Fragment(in Packet inner, FrameSlab slab, Span<Packet> fragments, out int count) =>
        Ipv4Fragmenter.Fragment(inner, 0, InnerMtu, slab, fragments, out count);
}
