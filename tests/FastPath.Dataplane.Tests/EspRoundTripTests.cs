using System;
using System.Buffers.Binary;
using System.Linq;
using FastPath.Crypto;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;
using FastPath.Dataplane.Tests.Support;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>Encapsulate → decapsulate for every suite, ESN or not, tunnel (4-in-4, 6-in-6, 4-in-6,
/// 6-in-4) and transport, with and without NAT-T; layout checks of what goes on the wire.</summary>
public class EspRoundTripTests
{
    public static TheoryData<string, bool> SuitesEsn()
    {
        var d = new TheoryData<string, bool>();
        foreach (string s in SaPairs.AllSuites) { d.Add(s, false); d.Add(s, true); }
        return d;
    }

    [Theory]
    [MemberData(nameof(SuitesEsn))]
    public void EveryModeFamilyAndEncapsulationRoundTrips(string suite, bool esn)
    {
        using var frames = new Frames();
        var engine = new EspProcessor();
        foreach (IpsecMode mode in new[] { IpsecMode.Tunnel, IpsecMode.Transport })
        foreach (bool outer6 in new[] { false, true })
        foreach (bool inner6 in new[] { false, true })
        foreach (bool natT in new[] { false, true })
        {
            if (mode == IpsecMode.Transport && inner6 != outer6) continue;
            var (o, i) = SaPairs.Create(suite, esn, mode, outer6, natT);
            var sad = new SadTable();
            sad.Install(i);
            frames.Reset();
            var originals = Enumerable.Range(0, 40).Select(k =>
            {
                int size = k * 37 % 1400;
                // Transport mode protects host-to-host traffic: the packet's own addresses are the SA's.
                if (mode == IpsecMode.Transport)
                    return inner6 ? TestPackets.Ipv6Udp(size, k, "2001:db8:ffff::1", "2001:db8:ffff::2") : TestPackets.Ipv4Udp(size, k, "203.0.113.1", "203.0.113.2");
                return inner6 ? TestPackets.Ipv6Udp(size, k) : TestPackets.Ipv4Udp(size, k);
            }).ToArray();
            foreach (byte[] pkt in originals) frames.Add(pkt);
            engine.Encapsulate(frames.Batch, o);
            for (int k = 0; k < originals.Length; k++)
            {
                Packet p = frames.Batch[k];
                Assert.Equal(PacketVerdict.Forward, p.Verdict);
                byte[] wire = frames.Data(k);
                AssertOuterLayout(wire, o, outer6 || (mode == IpsecMode.Transport && inner6), natT, (ulong)(k + 1));
            }
            engine.Decapsulate(frames.Batch, sad);
            for (int k = 0; k < originals.Length; k++)
            {
                Assert.True(frames.Batch[k].Verdict == PacketVerdict.Forward, $"{mode} outer6={outer6} inner6={inner6} natT={natT} #{k}: {frames.Batch[k].Verdict} {frames.Batch[k].Drop}");
                Assert.Equal(originals[k], frames.Data(k));
            }
            Assert.Equal(originals.Length, o.Counters.Packets);
            Assert.Equal(originals.Length, i.Counters.Packets);
            Assert.Equal(originals.Sum(x => (long)x.Length), o.Counters.Bytes);
            o.Dispose();
            i.Dispose();
        }
        Assert.Equal(0, engine.Counters.TotalDrops);
    }

    private static void AssertOuterLayout(byte[] wire, OutboundSa sa, bool outer6, bool natT, ulong seq)
    {
        int ipLength = outer6 ? 40 : (wire[0] & 0xF) * 4;
        if (outer6)
        {
            Assert.Equal(6, wire[0] >> 4);
            Assert.Equal(wire.Length - 40, BinaryPrimitives.ReadUInt16BigEndian(wire.AsSpan(4)));
            Assert.Equal(natT ? IpProtocol.Udp : IpProtocol.Esp, wire[6]);
        }
        else
        {
            Assert.Equal(4, wire[0] >> 4);
            Assert.Equal(wire.Length, BinaryPrimitives.ReadUInt16BigEndian(wire.AsSpan(2)));
            Assert.Equal(natT ? IpProtocol.Udp : IpProtocol.Esp, wire[9]);
            Assert.Equal(0, Checksum.Compute(wire.AsSpan(0, ipLength)));
        }
        int esp = ipLength;
        if (natT)
        {
            Assert.Equal(4500, BinaryPrimitives.ReadUInt16BigEndian(wire.AsSpan(esp)));
            Assert.Equal(4500, BinaryPrimitives.ReadUInt16BigEndian(wire.AsSpan(esp + 2)));
            Assert.Equal(wire.Length - ipLength, BinaryPrimitives.ReadUInt16BigEndian(wire.AsSpan(esp + 4)));
            ushort udpChecksum = BinaryPrimitives.ReadUInt16BigEndian(wire.AsSpan(esp + 6));
            if (!outer6) Assert.Equal(0, udpChecksum); // RFC 3948 §2.1
            else
            {
                // Verifies: the sum over pseudo-header + datagram (with its checksum) is zero.
                var src = System.Runtime.InteropServices.MemoryMarshal.Read<IpAddress16>(wire.AsSpan(8));
                var dst = System.Runtime.InteropServices.MemoryMarshal.Read<IpAddress16>(wire.AsSpan(24));
                unsafe
                {
                    fixed (byte* u = &wire[esp])
                        Assert.Equal(0, Checksum.TransportIpv6(src, dst, IpProtocol.Udp, u, wire.Length - esp) & 0xFFFF ^ 0xFFFF);
                }
            }
            esp += 8;
        }
        Assert.Equal(sa.Spi, BinaryPrimitives.ReadUInt32BigEndian(wire.AsSpan(esp)));
        Assert.Equal((uint)seq, BinaryPrimitives.ReadUInt32BigEndian(wire.AsSpan(esp + 4)));
        if (sa.CbcIvs is null) Assert.Equal(seq, BinaryPrimitives.ReadUInt64BigEndian(wire.AsSpan(esp + 8)));
        int cipherLength = wire.Length - esp - 8 - sa.IvLength - sa.IcvLength;
        Assert.Equal(0, cipherLength % sa.Alignment);
    }

    [Theory]
    [InlineData("aes128gcm16")]
    [InlineData("aes128-sha1")]
    [InlineData("3des-sha1")]
    public void PaddingIsMinimalAndTrailerIsRfc4303(string suite)
    {
        // Decrypt by hand after encapsulation (via the inbound transform alone) and inspect the trailer.
        using var frames = new Frames();
        var engine = new EspProcessor();
        var (o, i) = SaPairs.Create(suite);
        for (int size = 0; size < 64; size++)
        {
            frames.Reset();
            byte[] inner = TestPackets.Ipv4Udp(size, size);
            frames.Add(inner);
            engine.Encapsulate(frames.Batch, o);
            byte[] wire = frames.Data(0);
            byte[] esp = wire.AsSpan(20).ToArray();
            uint seqHigh = 0;
            Assert.Equal(FastPath.Crypto.Esp.EspOpenResult.Ok, i.Transform.Open(esp, seqHigh));
            int n = esp.Length - 8 - i.IvLength - i.IcvLength;
            var payload = esp.AsSpan(8 + i.IvLength, n);
            int pad = payload[n - 2];
            Assert.Equal(IpProtocol.IpInIp, payload[n - 1]);
            Assert.Equal(inner.Length, n - 2 - pad);
            Assert.True(pad < i.Alignment, "padding is minimal");
            for (int k = 0; k < pad; k++) Assert.Equal(k + 1, payload[inner.Length + k]);
            Assert.Equal(inner, payload[..inner.Length].ToArray());
        }
    }

    [Fact]
    public void OuterHeaderHidesTosCopiesEcnAndAppliesDfPolicy()
    {
        using var frames = new Frames();
        var engine = new EspProcessor();
        foreach (bool hide in new[] { true, false })
        foreach (DfBitMode df in Enum.GetValues<DfBitMode>())
        foreach (bool innerDf in new[] { true, false })
        {
            var (o, _) = SaPairs.Create("aes128gcm16", hideTos: hide, df: df);
            frames.Reset();
            frames.Add(TestPackets.Ipv4Udp(10, tos: 0xB8 | 0x2, df: innerDf)); // DSCP EF, ECT(0)
            engine.Encapsulate(frames.Batch, o);
            byte[] w = frames.Data(0);
            Assert.Equal(hide ? 0x02 : 0xBA, w[1]);
            bool outerDf = (w[6] & 0x40) != 0;
            Assert.Equal(df == DfBitMode.Set || (df == DfBitMode.Copy && innerDf), outerDf);
            Assert.Equal(64, w[8]);
        }
    }

    [Fact]
    public void Rfc6040DecapsulationPropagatesCongestionAndDropsCeOnNotEct()
    {
        using var frames = new Frames();
        var engine = new EspProcessor();
        foreach (int innerEcn in new[] { 0, 1, 2, 3 })
        {
            var (o, i) = SaPairs.Create("aes128gcm16");
            var sad = new SadTable();
            sad.Install(i);
            frames.Reset();
            frames.Add(TestPackets.Ipv4Udp(30, tos: (byte)innerEcn));
            engine.Encapsulate(frames.Batch, o);
            // A router on the path marks congestion: outer ECN = CE (and fixes the header checksum).
            ref Packet p = ref frames.Batch[0];
            var w = p.Span;
            ushort old = BinaryPrimitives.ReadUInt16BigEndian(w);
            w[1] |= 3;
            BinaryPrimitives.WriteUInt16BigEndian(w[10..], Checksum.Update(BinaryPrimitives.ReadUInt16BigEndian(w[10..]), old, BinaryPrimitives.ReadUInt16BigEndian(w)));
            engine.Decapsulate(frames.Batch, sad);
            if (innerEcn == 0)
            {
                Assert.Equal(PacketVerdict.Drop, frames.Batch[0].Verdict);
                Assert.Equal(DropReason.EcnMismatch, frames.Batch[0].Drop);
                continue;
            }
            Assert.Equal(PacketVerdict.Forward, frames.Batch[0].Verdict);
            byte[] inner = frames.Data(0);
            Assert.Equal(3, inner[1] & 3);
            Assert.Equal(0, Checksum.Compute(inner.AsSpan(0, 20)));
        }
    }
}
