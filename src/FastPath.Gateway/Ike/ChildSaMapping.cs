using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using FastPath.Crypto;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
using FastPath.Ike.Crypto;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;

namespace FastPath.Gateway.Ike;

// Pure translation of IKE's view of a CHILD_SA into the dataplane's (no state here):
//
//   ChildSuite (IANA transform IDs, RFC 7296 §3.3.2)   ─► EspSuite (FastPath.Crypto)
//   ChildSaInstall + direction                         ─► SaParameters (keys = encr [+4-byte salt] ‖ integ,
//                                                          RFC 7296 §2.17; NAT-T ports; replay window;
//                                                          hidetos; volume lifetimes RFC 4301 §4.4.2.1)
//   LocalTs × RemoteTs (address ranges, protocol, ports) ─► eroute selectors: each range as its CIDR
//                                                          blocks (TrafficSelectors.ToPrefixes), one
//                                                          selector per (local block, remote block)
//                                                          pair of the same family, with the TS's
//                                                          protocol and port ranges (§3.13.1)

/// <summary>The eroute selectors of one CHILD_SA, split by address family (outbound orientation: src = our side).</summary>
public sealed record ChildSelectors(IReadOnlyList<ErouteSelector<uint>> V4, IReadOnlyList<ErouteSelector<UInt128>> V6)
{
    public int Count => V4.Count + V6.Count;
}

/// <summary>ChildSaInstall → SaParameters and eroute selectors.</summary>
public static class ChildSaMapping
{
    /// <summary>The dataplane suite of a negotiated child suite; NotSupportedException for transforms the dataplane refuses.</summary>
    public static EspSuite ToEspSuite(ChildSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        int bits = IkeIana.HasKeyLengthAttribute(suite.Encr) ? suite.EncrKeyBits : IkeIana.FixedKeyBits(suite.Encr);
        return suite.Encr switch
        {
            EncrId.AesGcm8 => new EspSuite(EncryptionAlgorithm.AesGcm, bits, IntegrityAlgorithm.None, 8),
            EncrId.AesGcm12 => new EspSuite(EncryptionAlgorithm.AesGcm, bits, IntegrityAlgorithm.None, 12),
            EncrId.AesGcm16 => new EspSuite(EncryptionAlgorithm.AesGcm, bits, IntegrityAlgorithm.None, 16),
            EncrId.ChaCha20Poly1305 => new EspSuite(EncryptionAlgorithm.ChaCha20Poly1305, 256, IntegrityAlgorithm.None),
            EncrId.AesCbc => new EspSuite(EncryptionAlgorithm.AesCbc, bits, ToIntegrity(suite.Integ)),
            EncrId.AesCtr => new EspSuite(EncryptionAlgorithm.AesCtr, bits, ToIntegrity(suite.Integ)),
            EncrId.TripleDesCbc => new EspSuite(EncryptionAlgorithm.TripleDesCbc, 192, ToIntegrity(suite.Integ)),
            _ => throw new NotSupportedException($"ESP encryption {IkeIana.Name(suite.Encr, suite.EncrKeyBits)} is not supported by the dataplane"),
        };
    }

    private static IntegrityAlgorithm ToIntegrity(IntegId id) => id switch
    {
        IntegId.HmacMd5_96 => IntegrityAlgorithm.HmacMd5_96,
        IntegId.HmacSha1_96 => IntegrityAlgorithm.HmacSha1_96,
        IntegId.HmacSha2_256_128 => IntegrityAlgorithm.HmacSha256_128,
        IntegId.HmacSha2_384_192 => IntegrityAlgorithm.HmacSha384_192,
        IntegId.HmacSha2_512_256 => IntegrityAlgorithm.HmacSha512_256,
        _ => throw new NotSupportedException($"ESP integrity {IkeIana.Name(id)} is not supported by the dataplane"),
    };

    /// <summary>The SaParameters of one direction of <paramref name="sa"/>.</summary>
    public static SaParameters ToSaParameters(ChildSaInstall sa, bool inbound)
    {
        ArgumentNullException.ThrowIfNull(sa);
        EspSuite suite = ToEspSuite(sa.Suite);
        byte[] enc = inbound ? sa.InboundEncryptionKey : sa.OutboundEncryptionKey;
        byte[] integ = inbound ? sa.InboundIntegrityKey : sa.OutboundIntegrityKey;
        if (enc.Length != suite.EncryptionKeyMaterialLength || integ.Length != suite.IntegrityKeyLength)
            throw new ArgumentException($"{sa}: {(inbound ? "inbound" : "outbound")} keys are {enc.Length}+{integ.Length} bytes, {suite} needs {suite.EncryptionKeyMaterialLength}+{suite.IntegrityKeyLength}");
        var keys = new byte[enc.Length + integ.Length];
        enc.CopyTo(keys, 0);
        integ.CopyTo(keys, enc.Length);
        var (innerSrc, innerDst) = inbound && !sa.Transport ? InboundInnerPrefixes(sa) : (null, null);
        return new SaParameters
        {
            Spi = inbound ? sa.InboundSpi : sa.OutboundSpi,
            Suite = suite,
            KeyMaterial = keys,
            Esn = sa.Suite.Esn == EsnId.Esn,
            Mode = sa.Transport ? IpsecMode.Transport : IpsecMode.Tunnel,
            LocalAddress = IpAddress16.From(sa.LocalAddress),
            RemoteAddress = IpAddress16.From(sa.RemoteAddress),
            UdpEncapsulation = sa.UdpEncapsulation,
            // Both directions: source = our port, destination = the peer's (as ManualGateway does).
            NatSourcePort = checked((ushort)sa.LocalPort),
            NatDestinationPort = checked((ushort)sa.RemotePort),
            HideTos = sa.HideTos,
            ReplayWindow = sa.ReplayWindow,
            Lifetime = new SaLifetime((ulong)Math.Max(0, sa.SoftLifeBytes), (ulong)Math.Max(0, sa.HardLifeBytes),
                (ulong)Math.Max(0, sa.SoftLifePackets), (ulong)Math.Max(0, sa.HardLifePackets)),
            InnerSource = innerSrc,
            InnerDestination = innerDst,
        };
    }

    // The SA's own selectors, when the TS are one CIDR block each without protocol/ports (the common
    // subnet-to-subnet case): a second wall behind the group check. Otherwise the group check alone.
    private static (IpPrefix?, IpPrefix?) InboundInnerPrefixes(ChildSaInstall sa)
    {
        IpPrefix? src = SinglePrefix(sa.RemoteTs), dst = SinglePrefix(sa.LocalTs);
        return src is null || dst is null || src.Value.IsIpv4 != dst.Value.IsIpv4 ? (null, null) : (src, dst);
    }

    private static IpPrefix? SinglePrefix(IReadOnlyList<TrafficSelector> ts)
    {
        if (ts.Count != 1 || ts[0].IpProtocol != 0 || ts[0].StartPort != 0 || ts[0].EndPort != 65535) return null;
        var blocks = TrafficSelectors.ToPrefixes(ts[0]);
        return blocks.Count == 1 ? new IpPrefix(IpAddress16.From(blocks[0].Address), blocks[0].PrefixLength) : null;
    }

    /// <summary>Eroute selectors for local → remote (every pair of the same family; pairs whose
    /// protocols differ select nothing and are left out).</summary>
    public static ChildSelectors ToSelectors(IReadOnlyList<TrafficSelector> local, IReadOnlyList<TrafficSelector> remote)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        var v4 = new List<ErouteSelector<uint>>();
        var v6 = new List<ErouteSelector<UInt128>>();
        foreach (TrafficSelector l in local)
        foreach (TrafficSelector r in remote)
        {
            if (l.TsType != r.TsType) continue;
            if (l.IpProtocol != 0 && r.IpProtocol != 0 && l.IpProtocol != r.IpProtocol) continue;
            byte protocol = l.IpProtocol != 0 ? l.IpProtocol : r.IpProtocol;
            // Ports only mean something with a protocol (RFC 7296 §3.13.1: 0-65535 = any).
            ushort slo = protocol == 0 ? (ushort)0 : l.StartPort, shi = protocol == 0 ? ushort.MaxValue : l.EndPort;
            ushort dlo = protocol == 0 ? (ushort)0 : r.StartPort, dhi = protocol == 0 ? ushort.MaxValue : r.EndPort;
            if (slo > shi || dlo > dhi) continue;
            foreach (var (la, ll) in TrafficSelectors.ToPrefixes(l))
            foreach (var (ra, rl) in TrafficSelectors.ToPrefixes(r))
            {
                if (la.AddressFamily == AddressFamily.InterNetwork)
                    Add(v4, new ErouteSelector<uint>(KeyBits<uint>.FromIPAddress(la), ll, KeyBits<uint>.FromIPAddress(ra), rl, protocol, slo, shi, dlo, dhi));
                else
                    Add(v6, new ErouteSelector<UInt128>(KeyBits<UInt128>.FromIPAddress(la), ll, KeyBits<UInt128>.FromIPAddress(ra), rl, protocol, slo, shi, dlo, dhi));
            }
        }
        return new ChildSelectors(v4, v6);
    }

    private static void Add<T>(List<T> list, T item)
    {
        if (!list.Contains(item)) list.Add(item);
    }

    /// <summary>A connection's configured selectors (empty = the host address, IkeConnection's rule).</summary>
    public static (IReadOnlyList<TrafficSelector> Local, IReadOnlyList<TrafficSelector> Remote) ConfiguredTs(IkeConnection c)
    {
        ArgumentNullException.ThrowIfNull(c);
        IReadOnlyList<TrafficSelector> local = c.LocalTs.Count > 0 ? c.LocalTs
            : c.LocalAddress is { } la ? [TrafficSelectors.FromAddress(la)]
            : throw new ArgumentException($"\"{c.Name}\": no leftsubnet and no left address: nothing to route");
        IReadOnlyList<TrafficSelector> remote = c.RemoteTs.Count > 0 ? c.RemoteTs
            : c.RemoteAddress is { } ra ? [TrafficSelectors.FromAddress(ra)]
            : throw new ArgumentException($"\"{c.Name}\": no rightsubnet and right=%any: nothing to route");
        return (local, remote);
    }

    internal static IPAddress Address(in IpAddress16 a) => a.ToIPAddress();
}
