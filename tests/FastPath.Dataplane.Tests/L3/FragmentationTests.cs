using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Linq;
using System.Text;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Dataplane.Tests.L3;

public sealed unsafe class FragmentationTests
{
    private readonly ITestOutputHelper _out;
    public FragmentationTests(ITestOutputHelper output) => _out = output;

    /// <summary>Checks every RFC 791 property of a fragment set and returns the reassembled payload.</summary>
    private static byte[] CheckFragments(in Packet original, int link, Span<Packet> frags, int count, int mtu)
    {
        byte* oip = original.Data + link;
        int oihl = Ipv4Header.At(oip).HeaderLength;
        int total = Ipv4Header.At(oip).TotalLength;
        var payload = new byte[total - oihl];
        int expectOffset = 0;
        for (int i = 0; i < count; i++)
        {
            ref Packet f = ref frags[i];
            Assert.True(new ReadOnlySpan<byte>(f.Data, link).SequenceEqual(new ReadOnlySpan<byte>(original.Data, link)), "link header copied");
            byte* ip = f.Data + link;
            ref Ipv4Header h = ref Ipv4Header.At(ip);
            Assert.Equal(f.Length - link, h.TotalLength);
            Assert.True(h.TotalLength <= mtu, $"fragment {i}: {h.TotalLength} > mtu {mtu}");
            Assert.True(Checksum.Ipv4HeaderValid(ip, h.HeaderLength));
            Assert.Equal(0, L3TestSupport.Rfc1071(new ReadOnlySpan<byte>(ip, h.HeaderLength)));
            Assert.Equal(Ipv4Header.At(oip).Identification, h.Identification);
            Assert.Equal(Ipv4Header.At(oip).SourceRaw, h.SourceRaw);
            Assert.Equal(Ipv4Header.At(oip).DestinationRaw, h.DestinationRaw);
            Assert.Equal(Ipv4Header.At(oip).Protocol, h.Protocol);
            int off = (h.FlagsFragment & Ipv4Header.FragmentOffsetMask) * 8;
            Assert.Equal(expectOffset, off);
            bool last = i == count - 1;
            Assert.Equal(!last, (h.FlagsFragment & Ipv4Header.MoreFragments) != 0);
            int len = h.TotalLength - h.HeaderLength;
            if (!last) Assert.Equal(0, len % 8);
            new ReadOnlySpan<byte>(ip + h.HeaderLength, len).CopyTo(payload.AsSpan(off));
            expectOffset += len;
        }
        Assert.Equal(payload.Length, expectOffset);
        return payload;
    }

    [Fact]
    public void RandomPacketsFragmentPerRfc791AndReassembleExactly()
    {
        var rng = new Random(791);
        using var slab = new FrameSlab(128, 2048);
        var frags = new Packet[64];
        using var re = new Reassembler(new ReassemblerOptions { Slots = 4 });
        for (int iter = 0; iter < 500; iter++)
        {
            int link = rng.Next(2) == 0 ? 0 : 14;
            int total = rng.Next(100, 1900 - link);
            int mtu = rng.Next(68, total + 50);
            Assert.True(slab.TryRent(out Packet p));
            L3TestSupport.WriteIpv4(ref p, rng, total, (ushort)iter, IpProtocol.Esp, df: false, linkHeader: link);
            var r = Ipv4Fragmenter.Fragment(p, link, mtu, slab, frags, out int n);
            if (total <= mtu)
            {
                Assert.Equal(FragmentResult.NotNeeded, r);
                slab.Return(p);
                continue;
            }
            Assert.Equal(FragmentResult.Fragmented, r);
            Assert.Equal(Ipv4Fragmenter.FragmentCount(total, 20, 20, mtu), n);
            byte[] payload = CheckFragments(p, link, frags, n, mtu);
            Assert.True(payload.AsSpan().SequenceEqual(new ReadOnlySpan<byte>(p.Data + link + 20, total - 20)));
            // And the Reassembler, in reverse order, rebuilds the original packet byte for byte.
            Packet whole = default;
            for (int i = n - 1; i >= 0; i--)
            {
                frags[i].Offset += link;
                frags[i].Length -= link;
                var rr = re.Add(ref frags[i], slab, Stopwatch.GetTimestamp(), out var d);
                Assert.Equal(i == 0 ? ReassemblyResult.Complete : ReassemblyResult.Held, rr);
                if (rr == ReassemblyResult.Complete) whole = d;
                slab.Return(frags[i]);
            }
            Assert.True(whole.Span.SequenceEqual(new ReadOnlySpan<byte>(p.Data + link, total)));
            slab.Return(whole);
            slab.Return(p);
        }
        Assert.Equal(128, slab.FreeCount);
        Assert.Equal(0, re.ActiveSlots);
    }

    [Fact]
    public void DontFragmentIsRefusedAndSmallMtuAndMalformedAreReported()
    {
        var rng = new Random(1);
        using var slab = new FrameSlab(16);
        var frags = new Packet[8];
        Assert.True(slab.TryRent(out Packet p));
        L3TestSupport.WriteIpv4(ref p, rng, 1400, 7, IpProtocol.Udp, df: true);
        Assert.Equal(FragmentResult.DontFragment, Ipv4Fragmenter.Fragment(p, 0, 1000, slab, frags, out int n));
        Assert.Equal(0, n);
        L3TestSupport.WriteIpv4(ref p, rng, 1400, 7, IpProtocol.Udp, df: false);
        Assert.Equal(FragmentResult.MtuTooSmall, Ipv4Fragmenter.Fragment(p, 0, 67, slab, frags, out _));
        Assert.Equal(FragmentResult.TooManyFragments, Ipv4Fragmenter.Fragment(p, 0, 68, slab, frags, out _));   // 1380/48 = 29 > 8
        p.Flags = PacketFlags.ChecksumNotReady;
        Assert.Equal(FragmentResult.ChecksumNotReady, Ipv4Fragmenter.Fragment(p, 0, 1000, slab, frags, out _));
        p.Flags = 0;
        p.Data[0] = 0x65;
        Assert.Equal(FragmentResult.Malformed, Ipv4Fragmenter.Fragment(p, 0, 1000, slab, frags, out _));
        Assert.Equal(15, slab.FreeCount);   // nothing leaked
    }

    [Fact]
    public void SlabExhaustionReturnsEveryRentedFrame()
    {
        var rng = new Random(2);
        using var slab = new FrameSlab(3);
        var frags = new Packet[8];
        Assert.True(slab.TryRent(out Packet p));
        L3TestSupport.WriteIpv4(ref p, rng, 1800, 7, IpProtocol.Udp, df: false);
        Assert.Equal(FragmentResult.NoFrames, Ipv4Fragmenter.Fragment(p, 0, 576, slab, frags, out int n));   // needs 4 frames, 2 free
        Assert.Equal(0, n);
        Assert.Equal(2, slab.FreeCount);
    }

    [Fact]
    public void OnlyCopiedOptionsAppearInLaterFragmentsAndAFragmentCanBeRefragmented()
    {
        var rng = new Random(3);
        using var slab = new FrameSlab(32);
        var frags = new Packet[16];
        // Options: record route (7, not copied, 7 bytes) + NOP + security-like copied option 0x82 len 4 (copied).
        byte[] opts = [7, 7, 4, 0, 0, 0, 0, 1, 0x82, 4, 0xAB, 0xCD];
        Assert.True(slab.TryRent(out Packet p));
        L3TestSupport.WriteIpv4(ref p, rng, 1032, 9, IpProtocol.Udp, df: false, options: opts);
        Assert.Equal(FragmentResult.Fragmented, Ipv4Fragmenter.Fragment(p, 0, 500, slab, frags, out int n));
        Assert.Equal(32, Ipv4Header.At(frags[0].Data).HeaderLength);
        for (int i = 1; i < n; i++)
        {
            Assert.Equal(24, Ipv4Header.At(frags[i].Data).HeaderLength);
            Assert.True(new ReadOnlySpan<byte>(frags[i].Data + 20, 4).SequenceEqual(new byte[] { 0x82, 4, 0xAB, 0xCD }));
        }
        CheckFragments(p, 0, frags, n, 500);
        // Re-fragment the middle fragment (MF set, offset > 0) to 200: offsets continue, MF stays on the last piece.
        var inner = new Packet[8];
        Packet mid = frags[1];
        int midOffset = Ipv4Header.At(mid.Data).FlagsFragment & Ipv4Header.FragmentOffsetMask;
        Assert.Equal(FragmentResult.Fragmented, Ipv4Fragmenter.Fragment(mid, 0, 200, slab, inner, out int m));
        Assert.Equal(midOffset, Ipv4Header.At(inner[0].Data).FlagsFragment & Ipv4Header.FragmentOffsetMask);
        for (int i = 0; i < m; i++) Assert.True((Ipv4Header.At(inner[i].Data).FlagsFragment & Ipv4Header.MoreFragments) != 0);
        for (int i = 0; i < m; i++) slab.Return(inner[i]);
        for (int i = 0; i < n; i++) slab.Return(frags[i]);
    }

    [Fact]
    public void ScapyDefragmentsOurFragmentsToTheOriginal()
    {
        var rng = new Random(4);
        using var slab = new FrameSlab(512);
        var frags = new Packet[64];
        var input = new StringBuilder();
        for (int k = 0; k < 40; k++)
        {
            Assert.True(slab.TryRent(out Packet p));
            int total = rng.Next(600, 1900);
            L3TestSupport.WriteIpv4(ref p, rng, total, (ushort)(1000 + k), IpProtocol.Udp, df: false);
            // A real UDP header so scapy dissects it (checksum 0 = none, RFC 768).
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(p.Data + 24, 2), (ushort)(total - 20));
            p.Data[26] = p.Data[27] = 0;
            int mtu = rng.Next(200, total);
            Assert.Equal(FragmentResult.Fragmented, Ipv4Fragmenter.Fragment(p, 0, mtu, slab, frags, out int n));
            input.Append(L3TestSupport.Hex(p));
            for (int i = 0; i < n; i++) { input.Append(' ').Append(L3TestSupport.Hex(frags[i])); slab.Return(frags[i]); }
            input.Append('\n');
            slab.Return(p);
        }
        const string Script = """
import sys
from scapy.all import IP, defragment, raw
ok = 0
for line in sys.stdin:
    parts = line.split()
    if not parts: continue
    orig = bytes.fromhex(parts[0])
    frags = [IP(bytes.fromhex(h)) for h in parts[1:]]
    for f in frags:
        c = f.chksum; del f.chksum
        assert IP(raw(f)).chksum == c, "header checksum"
    frags = [IP(bytes.fromhex(h)) for h in parts[1:]]
    out = defragment(frags)
    assert len(out) == 1, "scapy did not reassemble"
    assert raw(out[0]) == orig, "reassembled != original"
    ok += 1
print(ok)
""";
        string result = L3TestSupport.RunPython(Script, input.ToString()).Trim();
        Assert.Equal("40", result);
    }

    [Fact]
    public void InnerFragmenterDecidesWithTheEspOverheadAndEveryPieceFitsAfterEsp()
    {
        Assert.Equal(1446, EspOverhead.AesGcm16Ipv4.MaxInnerLength(1500));
        Assert.Equal(1438, EspOverhead.AesCbcSha1Ipv4.MaxInnerLength(1500));
        Assert.Equal(1446, EspOverhead.TripleDesSha1Ipv4.MaxInnerLength(1500));
        Assert.Equal(1500, EspOverhead.AesGcm16Ipv4.EncapsulatedLength(1446));
        Assert.Equal(1504, EspOverhead.AesGcm16Ipv4.EncapsulatedLength(1447));
        Assert.Equal(1496, EspOverhead.AesCbcSha1Ipv4.EncapsulatedLength(1438));   // 44 + 1440 + 12
        Assert.Equal(1512, EspOverhead.AesCbcSha1Ipv4.EncapsulatedLength(1439));   // one more block
        var natT6 = EspOverhead.Create(outerIpv6: true, natT: true, ivLength: 8, alignment: 4, icvLength: 16);
        Assert.Equal(1418, natT6.MaxInnerLength(1500));   // 1500 − 40 − 8 − 8 − 8 − 16 = 1420 → −2

        var rng = new Random(5);
        using var slab = new FrameSlab(64);
        var frags = new Packet[16];
        foreach (var ov in new[] { EspOverhead.AesGcm16Ipv4, EspOverhead.AesCbcSha1Ipv4, EspOverhead.TripleDesSha1Ipv4, natT6 })
        {
            var inner = new InnerFragmenter(ov, 1500);
            Assert.True(slab.TryRent(out Packet p));
            L3TestSupport.WriteIpv4(ref p, rng, inner.InnerMtu, 1, IpProtocol.Udp, df: true);
            Assert.Equal(InnerMtuDecision.Fits, inner.Decide(p.Data, p.Length));
            L3TestSupport.WriteIpv4(ref p, rng, inner.InnerMtu + 1, 1, IpProtocol.Udp, df: true);
            Assert.Equal(InnerMtuDecision.TooBig, inner.Decide(p.Data, p.Length));
            L3TestSupport.WriteIpv4(ref p, rng, 1900, 2, IpProtocol.Udp, df: false);
            Assert.Equal(InnerMtuDecision.FragmentInner, inner.Decide(p.Data, p.Length));
            Assert.Equal(FragmentResult.Fragmented, inner.Fragment(p, slab, frags, out int n));
            Assert.Equal(2, n);
            for (int i = 0; i < n; i++)
            {
                Assert.True(ov.EncapsulatedLength(frags[i].Length) <= 1500, $"{ov}: piece {frags[i].Length} → {ov.EncapsulatedLength(frags[i].Length)}");
                Assert.True(frags[i].Headroom >= ov.FixedHeader + 14, "room for ESP + outer + Ethernet in front");
                slab.Return(frags[i]);
            }
            L3TestSupport.WriteIpv6(ref p, rng, 1460, IpProtocol.Udp);
            Assert.Equal(InnerMtuDecision.TooBig, inner.Decide(p.Data, p.Length));
            slab.Return(p);
        }
        // A tunnel whose inner MTU is below 1280 must still carry 1280-byte IPv6 (RFC 8200 §5): fragment outer.
        var small = new InnerFragmenter(EspOverhead.AesGcm16Ipv4, 1300);
        Assert.True(slab.TryRent(out Packet q));
        L3TestSupport.WriteIpv6(ref q, rng, 1280, IpProtocol.Udp);
        Assert.Equal(InnerMtuDecision.FragmentOuter, small.Decide(q.Data, q.Length));
        slab.Return(q);
    }

    [Fact]
    public void FragmentingAllocatesNothing()
    {
        var rng = new Random(6);
        using var slab = new FrameSlab(64);
        var frags = new Packet[16];
        Assert.True(slab.TryRent(out Packet p));
        L3TestSupport.WriteIpv4(ref p, rng, 1900, 1, IpProtocol.Esp, df: false, linkHeader: 14);
        var inner = new InnerFragmenter(EspOverhead.AesCbcSha1Ipv4, 1500);
        void Round()
        {
            var r = Ipv4Fragmenter.Fragment(p, 14, 576, slab, frags, out int n);
            if (r != FragmentResult.Fragmented) throw new InvalidOperationException(r.ToString());
            for (int i = 0; i < n; i++) slab.Return(frags[i]);
        }
        long warm = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 4 / 10;
        while (Stopwatch.GetTimestamp() < warm) Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100_000; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        _out.WriteLine($"allocated {allocated} B over 100k fragmentations (4 fragments each)");
        Assert.Equal(0, allocated);
    }
}
