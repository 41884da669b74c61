using System;
using System.Buffers.Binary;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;
using FastPath.Dataplane.Tests.Support;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>Every way a packet can fail is one counted drop (worker and SA counters), never an exception.</summary>
public class EspDropTests
{
    private static readonly IpAddress16 West = IpAddress16.Parse("203.0.113.1");
    private static readonly IpAddress16 East = IpAddress16.Parse("203.0.113.2");

    /// <summary>An authentic ESP packet with an arbitrary (possibly malformed) plaintext payload.</summary>
    internal static byte[] SealRaw(OutboundSa o, uint seq, ReadOnlySpan<byte> payload, uint seqHigh = 0)
    {
        var esp = new byte[8 + o.IvLength + payload.Length + o.IcvLength];
        BinaryPrimitives.WriteUInt32BigEndian(esp, o.Spi);
        BinaryPrimitives.WriteUInt32BigEndian(esp.AsSpan(4), seq);
        new Random((int)seq).NextBytes(esp.AsSpan(8, o.IvLength));
        payload.CopyTo(esp.AsSpan(8 + o.IvLength));
        o.Transform.Seal(esp, seqHigh);
        return esp;
    }

    private static byte[] Trailer(ReadOnlySpan<byte> inner, int alignment, byte nextHeader, Func<int, byte>? padByte = null, int extraPad = 0)
    {
        int padded = (inner.Length + 2 + alignment - 1) / alignment * alignment + extraPad;
        int pad = padded - inner.Length - 2;
        var b = new byte[padded];
        inner.CopyTo(b);
        for (int k = 0; k < pad; k++) b[inner.Length + k] = padByte?.Invoke(k) ?? (byte)(k + 1);
        b[^2] = (byte)pad;
        b[^1] = nextHeader;
        return b;
    }

    private sealed class Rig : IDisposable
    {
        public readonly Frames Frames = new();
        public readonly EspProcessor Engine = new();
        public readonly SadTable Sad = new();
        public readonly OutboundSa Out;
        public readonly InboundSa In;
        public readonly SaEventQueue Events = new(64);

        public Rig(string suite = "aes128gcm16", bool esn = false, SaLifetime lifetime = default, IpPrefix? src = null, IpPrefix? dst = null, int window = 64)
        {
            (Out, In) = SaPairs.Create(suite, esn, lifetime: lifetime, events: Events, innerSource: src, innerDestination: dst, window: window);
            Sad.Install(In);
        }

        public PacketVerdict Decap(byte[] wire, out DropReason reason)
        {
            Frames.Reset();
            Frames.Add(wire);
            Engine.Decapsulate(Frames.Batch, Sad);
            reason = Frames.Batch[0].Drop;
            return Frames.Batch[0].Verdict;
        }

        public byte[] Encap(byte[] inner)
        {
            Frames.Reset();
            Frames.Add(inner);
            Engine.Encapsulate(Frames.Batch, Out);
            Assert.Equal(PacketVerdict.Forward, Frames.Batch[0].Verdict);
            return Frames.Data(0);
        }

        public void Dispose()
        {
            Frames.Dispose();
            Out.Dispose();
            In.Dispose();
        }
    }

    private static void AssertDrop(Rig rig, byte[] wire, DropReason expected)
    {
        long before = rig.Engine.Counters[expected];
        Assert.Equal(PacketVerdict.Drop, rig.Decap(wire, out DropReason r));
        Assert.Equal(expected, r);
        Assert.Equal(before + 1, rig.Engine.Counters[expected]);
    }

    [Theory]
    [InlineData("aes128gcm16")]
    [InlineData("aes128-sha1")]
    [InlineData("3des-sha1")]
    public void MalformedInputIsDroppedWithItsReason(string suite)
    {
        using var rig = new Rig(suite);
        byte[] good = rig.Encap(TestPackets.Ipv4Udp(100));

        AssertDrop(rig, good.AsSpan(0, 19).ToArray(), DropReason.Runt);              // truncated IP header
        byte[] shortened = good.AsSpan(0, good.Length - 40).ToArray();                 // IP total length > frame
        AssertDrop(rig, shortened, DropReason.BadHeader);
        byte[] badChecksum = (byte[])good.Clone(); badChecksum[10] ^= 1;
        AssertDrop(rig, badChecksum, DropReason.BadHeader);
        AssertDrop(rig, EspVectorTests.Ipv4(IpProtocol.Esp, new byte[7], "203.0.113.1", "203.0.113.2"), DropReason.Runt); // ESP header cut
        AssertDrop(rig, EspVectorTests.Ipv4(IpProtocol.Esp, good.AsSpan(20, 8 + rig.Out.IvLength + rig.Out.IcvLength).ToArray(), "203.0.113.1", "203.0.113.2"), DropReason.Runt);
        byte[] ragged = EspVectorTests.Ipv4(IpProtocol.Esp, good.AsSpan(20, good.Length - 21).ToArray(), "203.0.113.1", "203.0.113.2");
        AssertDrop(rig, ragged, DropReason.BadLength);                                  // not a multiple of the block / 4 bytes
        byte[] unknownSpi = EspVectorTests.Ipv4(IpProtocol.Esp, good.AsSpan(20).ToArray(), "203.0.113.1", "203.0.113.2");
        unknownSpi[20] ^= 0x40;
        AssertDrop(rig, unknownSpi, DropReason.NoState);
        byte[] wrongDst = EspVectorTests.Ipv4(IpProtocol.Esp, good.AsSpan(20).ToArray(), "203.0.113.1", "203.0.113.9");
        AssertDrop(rig, wrongDst, DropReason.NoState);
        byte[] badIcv = (byte[])good.Clone(); badIcv[^1] ^= 0x01;
        AssertDrop(rig, badIcv, DropReason.IntegrityFailed);
        byte[] fragment = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(6), 0x2000);
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(10), Checksum.Compute(fragment.AsSpan(0, 20)));
        AssertDrop(rig, fragment, DropReason.Fragment);

        int align = rig.Out.Alignment;
        byte[] inner = TestPackets.Ipv4Udp(30);
        AssertDrop(rig, Wrap(SealRaw(rig.Out, 50, Trailer(inner, align, 4, k => 0xEE, extraPad: align))), DropReason.BadPadding);        // padding not 1,2,3,...
        byte[] padTooLong = Trailer(inner, align, 4); padTooLong[^2] = 250;
        AssertDrop(rig, Wrap(SealRaw(rig.Out, 51, padTooLong)), DropReason.BadPadding);                                  // pad length past the payload
        AssertDrop(rig, Wrap(SealRaw(rig.Out, 52, Trailer(inner, align, IpProtocol.NoNextHeader))), DropReason.DummyPacket); // TFC dummy (RFC 4303 §2.6)
        AssertDrop(rig, Wrap(SealRaw(rig.Out, 53, Trailer(inner, align, IpProtocol.Tcp))), DropReason.BadNextHeader);    // tunnel SA carries only IP
        byte[] notIp = (byte[])inner.Clone(); notIp[0] = 0x55;
        AssertDrop(rig, Wrap(SealRaw(rig.Out, 54, Trailer(notIp, align, 4))), DropReason.BadHeader);
        // Valid with more (still 1,2,3...) padding than needed, and with TFC padding after the inner packet (§2.7).
        Assert.Equal(PacketVerdict.Forward, rig.Decap(Wrap(SealRaw(rig.Out, 55, Trailer(inner, align, 4, extraPad: align * 3))), out _));
        Assert.Equal(inner, rig.Frames.Data(0));
        byte[] tfc = [.. inner, .. new byte[40]];
        Assert.Equal(PacketVerdict.Forward, rig.Decap(Wrap(SealRaw(rig.Out, 56, Trailer(tfc, align, 4))), out _));
        Assert.Equal(inner, rig.Frames.Data(0));

        // Every SA-attributable drop is also in the SA's counters.
        Assert.Equal(rig.In.Counters[DropReason.BadPadding], rig.Engine.Counters[DropReason.BadPadding]);
        Assert.Equal(1, rig.In.Counters[DropReason.IntegrityFailed]);
    }

    private static byte[] Wrap(byte[] esp) => EspVectorTests.Ipv4(IpProtocol.Esp, esp, "203.0.113.1", "203.0.113.2");

    [Fact]
    public void NatTraversalClassification()
    {
        using var rig = new Rig();
        byte[] Udp(ushort dport, byte[] payload)
        {
            var u = new byte[8 + payload.Length];
            BinaryPrimitives.WriteUInt16BigEndian(u, 4500);
            BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(2), dport);
            BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(4), (ushort)u.Length);
            payload.CopyTo(u, 8);
            return EspVectorTests.Ipv4(IpProtocol.Udp, u, "203.0.113.1", "203.0.113.2");
        }
        AssertDrop(rig, Udp(4500, [0xFF]), DropReason.NatKeepalive);
        Assert.Equal(PacketVerdict.ToControlPlane, rig.Decap(Udp(4500, [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]), out _));
        Assert.Equal(1, rig.Engine.Counters.ToControlPlane);
        Assert.Equal(PacketVerdict.NotEsp, rig.Decap(Udp(53, [1, 2, 3]), out _));
        Assert.Equal(PacketVerdict.NotEsp, rig.Decap(EspVectorTests.Ipv4(IpProtocol.Tcp, new byte[20]), out _));
        AssertDrop(rig, Udp(4500, [1, 2]), DropReason.Runt);
    }

    [Fact]
    public void ReplayedAndForgedPacketsNeverMoveTheWindow()
    {
        using var rig = new Rig("aes128gcm16", window: 32);
        var wires = Enumerable.Range(0, 40).Select(k => rig.Encap(TestPackets.Ipv4Udp(k, k))).ToArray();
        Assert.Equal(PacketVerdict.Forward, rig.Decap(wires[0], out _));
        AssertDrop(rig, wires[0], DropReason.Replay); // duplicate
        Assert.Equal(PacketVerdict.Forward, rig.Decap(wires[39], out _));
        AssertDrop(rig, wires[5], DropReason.Replay); // seq 6 is left of a 32-window at top 40
        Assert.Equal(PacketVerdict.Forward, rig.Decap(wires[20], out _)); // inside the window, new
        // A forged packet claiming a far-ahead sequence number fails its ICV and leaves the window alone.
        byte[] forged = (byte[])wires[39].Clone();
        BinaryPrimitives.WriteUInt32BigEndian(forged.AsSpan(24), 1_000_000);
        AssertDrop(rig, forged, DropReason.IntegrityFailed);
        Assert.Equal(40UL, rig.In.Replay.Top);
        Assert.Equal(PacketVerdict.Forward, rig.Decap(wires[30], out _));

        // Two copies of one packet in one batch: exactly one is accepted.
        var more = Enumerable.Range(0, 3).Select(k => rig.Encap(TestPackets.Ipv4Udp(10, k))).ToArray();
        rig.Frames.Reset();
        rig.Frames.Add(more[0]); rig.Frames.Add(more[0]); rig.Frames.Add(more[1]);
        rig.Engine.Decapsulate(rig.Frames.Batch, rig.Sad);
        Assert.Equal(PacketVerdict.Forward, rig.Frames.Batch[0].Verdict);
        Assert.Equal(DropReason.Replay, rig.Frames.Batch[1].Drop);
        Assert.Equal(PacketVerdict.Forward, rig.Frames.Batch[2].Verdict);
    }

    [Fact]
    public void EsnEndToEndAcrossTheThirtyTwoBitBoundary()
    {
        using var rig = new Rig("aes128-sha1", esn: true);
        rig.Out.SetSequenceForTest(0xFFFF_FFF0);
        rig.In.Replay.Reset(0xFFFF_FFF0);
        for (int k = 0; k < 40; k++)
        {
            byte[] inner = TestPackets.Ipv4Udp(k, k);
            byte[] wire = rig.Encap(inner);
            Assert.Equal(PacketVerdict.Forward, rig.Decap(wire, out DropReason r));
            Assert.Equal(inner, rig.Frames.Data(0));
        }
        Assert.Equal(0xFFFF_FFF0UL + 40, rig.In.Replay.Top);
        Assert.Equal(0, rig.Engine.Counters.TotalDrops);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SequenceExhaustionStopsTheSaAndRaisesOneEvent(bool esn)
    {
        using var rig = new Rig("aes128gcm16", esn);
        rig.Out.SetSequenceForTest(esn ? ulong.MaxValue - 1 : uint.MaxValue - 1);
        rig.Encap(TestPackets.Ipv4Udp(10));
        for (int k = 0; k < 3; k++)
        {
            rig.Frames.Reset();
            rig.Frames.Add(TestPackets.Ipv4Udp(10));
            rig.Engine.Encapsulate(rig.Frames.Batch, rig.Out);
            Assert.Equal(DropReason.SeqCycled, rig.Frames.Batch[0].Drop);
        }
        Assert.True(rig.Out.SequenceExhausted);
        Assert.Equal(3, rig.Out.Counters[DropReason.SeqCycled]);
        Assert.True(rig.Events.TryDequeue(out SaEvent e));
        Assert.Equal(SaEventKind.SequenceExhausted, e.Kind);
        Assert.Equal(rig.Out.Spi, e.Spi);
        Assert.False(rig.Events.TryDequeue(out _));
    }

    [Fact]
    public void LifetimesRaiseSoftThenHardAndHardStopsTraffic()
    {
        using var rig = new Rig(lifetime: new SaLifetime(SoftBytes: 0, HardBytes: 0, SoftPackets: 5, HardPackets: 10));
        int forwarded = 0;
        for (int k = 0; k < 15; k++)
        {
            rig.Frames.Reset();
            rig.Frames.Add(TestPackets.Ipv4Udp(10));
            rig.Engine.Encapsulate(rig.Frames.Batch, rig.Out);
            if (rig.Frames.Batch[0].Verdict == PacketVerdict.Forward) forwarded++;
            else Assert.Equal(DropReason.LifetimeExpired, rig.Frames.Batch[0].Drop);
        }
        Assert.Equal(10, forwarded);
        Assert.True(rig.Events.TryDequeue(out SaEvent soft));
        Assert.Equal(SaEventKind.SoftLifetime, soft.Kind);
        Assert.Equal(5UL, soft.Packets);
        Assert.True(rig.Events.TryDequeue(out SaEvent hard));
        Assert.Equal(SaEventKind.HardLifetime, hard.Kind);
        Assert.Equal(SaDirection.Outbound, hard.Direction);
        Assert.False(rig.Events.TryDequeue(out _));

        using var bytes = new Rig(lifetime: new SaLifetime(SoftBytes: 1000, HardBytes: 0, SoftPackets: 0, HardPackets: 0));
        for (int k = 0; k < 30; k++) bytes.Decap(bytes.Encap(TestPackets.Ipv4Udp(100)), out _);
        Assert.True(bytes.Events.TryDequeue(out SaEvent a));
        Assert.True(bytes.Events.TryDequeue(out SaEvent b));
        Assert.Equal([SaDirection.Inbound, SaDirection.Outbound], new[] { a.Direction, b.Direction }.Order().ToArray());
        Assert.All(new[] { a, b }, ev => Assert.Equal(SaEventKind.SoftLifetime, ev.Kind));
    }

    [Fact]
    public void DecryptedPacketsMustMatchTheSaSelectors()
    {
        using var rig = new Rig(src: IpPrefix.Parse("192.0.2.0/25"), dst: IpPrefix.Parse("192.0.2.128/25"));
        Assert.Equal(PacketVerdict.Forward, rig.Decap(rig.Encap(TestPackets.Ipv4Udp(10, 1, "192.0.2.10", "192.0.2.138")), out _));
        AssertDrop(rig, rig.Encap(TestPackets.Ipv4Udp(10, 2, "192.0.2.200", "192.0.2.138")), DropReason.PolicyMismatch);
        AssertDrop(rig, rig.Encap(TestPackets.Ipv4Udp(10, 3, "192.0.2.10", "198.51.100.1")), DropReason.PolicyMismatch);
        AssertDrop(rig, rig.Encap(TestPackets.Ipv6Udp(10, 4)), DropReason.PolicyMismatch);
    }

    [Fact]
    public void OutboundDropsForBadInnerPacketsAndMissingRoom()
    {
        using var rig = new Rig();
        using var tight = new Frames(4, 256, 16);
        tight.Add(TestPackets.Ipv4Udp(10));                      // 16 bytes headroom: no room for outer + ESP
        tight.Add(TestPackets.Ipv4Udp(10), headroom: 128);
        tight.Batch[1].Length = 20;                              // total length > data length
        tight.Add(new byte[10], headroom: 128);                  // runt
        rig.Engine.Encapsulate(tight.Batch, rig.Out);
        Assert.Equal(DropReason.NoTailSpace, tight.Batch[0].Drop);
        Assert.Equal(DropReason.BadHeader, tight.Batch[1].Drop);
        Assert.Equal(DropReason.Runt, tight.Batch[2].Drop);
        using var noTail = new Frames(1, 256, 128);
        noTail.Add(TestPackets.Ipv4Udp(256 - 128 - 28 - 4));     // fills the frame: no tailroom for the ICV
        rig.Engine.Encapsulate(noTail.Batch, rig.Out);
        Assert.Equal(DropReason.NoTailSpace, noTail.Batch[0].Drop);
        Assert.Equal(0UL, rig.Out.Sequence); // no sequence number consumed by a dropped packet
    }

    [Fact]
    public void EthernetPaddingBehindAShortInnerPacketIsNotEncrypted()
    {
        using var rig = new Rig();
        byte[] inner = TestPackets.Ipv4Udp(0);               // 28 bytes, padded to 46 on Ethernet
        byte[] padded = [.. inner, .. new byte[18]];
        byte[] wire = rig.Encap(padded);
        Assert.Equal(PacketVerdict.Forward, rig.Decap(wire, out _));
        Assert.Equal(inner, rig.Frames.Data(0));
    }

    [Fact]
    public async Task SadSnapshotsAreConsistentForConcurrentReaders()
    {
        var sad = new SadTable();
        var sas = Enumerable.Range(1, 300).Select(k => SaPairs.Create("aes128gcm16", spi: (uint)(0x1000 + k)).In).ToArray();
        foreach (var sa in sas.Take(100)) sad.Install(sa);
        using var stop = new CancellationTokenSource();
        long misses = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var snap = sad.Current;
                for (int k = 0; k < 100; k++) if (!ReferenceEquals(snap.Find(sas[k].Spi), sas[k])) Interlocked.Increment(ref misses);
                if (snap.Find(0) is not null || snap.Find(0xDEAD) is not null) Interlocked.Increment(ref misses);
            }
        });
        foreach (var sa in sas.Skip(100)) sad.Install(sa);
        foreach (var sa in sas.Skip(200)) Assert.Same(sa, sad.Remove(sa.Spi));
        stop.Cancel();
        await reader;
        Assert.Equal(0, misses);
        Assert.Equal(200, sad.Count);
        Assert.Null(sad.Find(sas[250].Spi));
        Assert.Same(sas[150], sad.Find(sas[150].Spi));
        foreach (var sa in sas) sa.Dispose();
    }

    [Fact]
    public void EventQueueIsBoundedAndMultiProducer()
    {
        var q = new SaEventQueue(1024);
        Parallel.For(0, 4, t =>
        {
            for (int k = 0; k < 200; k++) Assert.True(q.TryEnqueue(new SaEvent(SaEventKind.SoftLifetime, SaDirection.Inbound, (uint)(t * 1000 + k), 0, 0)));
        });
        var seen = new System.Collections.Generic.HashSet<uint>();
        while (q.TryDequeue(out SaEvent e)) Assert.True(seen.Add(e.Spi));
        Assert.Equal(800, seen.Count);
        for (int k = 0; k < 1024; k++) Assert.True(q.TryEnqueue(default));
        Assert.False(q.TryEnqueue(default));
        Assert.Equal(1, q.Overflows);
    }
}
