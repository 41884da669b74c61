using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Tests.Support;
using Xunit;

namespace FastPath.Dataplane.Tests.Pipeline;

using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>Zero allocation over 1M packets, threaded Start/Stop with traffic and commands, pinning.</summary>
public class PipelineRuntimeTests
{
    /// <summary>
    /// 1M packets through both gateways in both directions (IPv4 and IPv6 inner, plus NoPolicy
    /// drops), all on this thread: the test's own sends and receives, both workers' iterations.
    /// Warm-up by time first (tiered JIT / OSR would otherwise allocate during the measurement).
    /// </summary>
    [Fact]
    public unsafe void OneMillionPacketsThroughAGatewayPairAllocateNothing()
    {
        using var g = new GatewayPair(directLink: true);
        g.Tunnel("aes128gcm16");
        using var slab = new FrameSlab(512);
        var eastbound = new PacketBatch(64);
        var westbound = new PacketBatch(16);
        var rx = new PacketBatch(256);
        for (int k = 0; k < 64; k++)
        {
            byte[] l3 = k % 16 == 15 ? TestPackets.Ipv4Udp(64, k, dst: "198.51.100.1") // no eroute: NoPolicy
                : k % 4 == 3 ? TestPackets.Ipv6Udp(64, k) : TestPackets.Ipv4Udp(64, k);
            Load(slab, eastbound, GatewayPair.Frame(GatewayPair.WestInMac, GatewayPair.SunsetMac, l3));
        }
        for (int k = 0; k < 16; k++)
            Load(slab, westbound, GatewayPair.Frame(GatewayPair.EastInMac, GatewayPair.SunriseMac, TestPackets.Ipv4Udp(64, k, src: "192.0.2.138", dst: "192.0.2.10")));

        long received = 0;
        void Round()
        {
            g.Sunset.Transmit(eastbound.Packets);
            g.Sunrise.Transmit(westbound.Packets);
            g.West.Step();
            g.East.Step();
            g.West.Step();
            received += Drain(g.Sunrise, rx, slab) + Drain(g.Sunset, rx, slab);
        }

        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 500) Round();
        long receivedBefore = received;
        long dropsBefore = g.West.Drops(DropReason.NoPolicy);
        const int Rounds = 1_000_000 / 80 + 1;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < Rounds; r++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal((long)Rounds * (60 + 16), received - receivedBefore);
        Assert.Equal((long)Rounds * 4, g.West.Drops(DropReason.NoPolicy) - dropsBefore);
        Assert.Equal(g.West.Drops(DropReason.NoPolicy), g.West.Totals.Drops);
        Assert.Equal(0, g.East.Totals.Drops);
    }

    private static unsafe void Load(FrameSlab slab, PacketBatch batch, byte[] frame)
    {
        Assert.True(slab.TryRent(out Packet p));
        frame.CopyTo(new Span<byte>(p.Frame + p.Offset, frame.Length));
        p.Length = frame.Length;
        Assert.True(batch.TryAdd(p));
    }

    private static int Drain(InMemoryIo io, PacketBatch batch, FrameSlab slab)
    {
        int total = 0;
        int n;
        while ((n = io.Receive(batch, slab)) > 0)
        {
            total += n;
            slab.ReturnAll(batch.Packets);
            batch.Clear();
        }
        return total;
    }

    [Fact]
    public void ThreadedGatewaysCarryTrafficApplyCommandsAndStopClosed()
    {
        using var g = new GatewayPair(directLink: true);
        g.Tunnel("aes128gcm16");
        g.West.Start();
        g.East.Start();
        Assert.True(g.West.IsRunning);
        Assert.Throws<InvalidOperationException>(() => g.West.Step());
        Assert.Throws<InvalidOperationException>(() => g.West.Start());

        int got = SendAndCollect(g, 20_000, TimeSpan.FromSeconds(30));
        Assert.Equal(20_000, got);

        // Commands while running: a rekey (new SA pair, eroute switch) applied by the running workers.
        var suite = FastPath.Crypto.Esp.EspSuite.Parse("aes128gcm16");
        byte[] keys = GatewayPair.Keys(suite, 77);
        g.East.InstallInbound(GatewayPair.Params(0x1077, suite, keys, g.WestPeer, g.EastPeer), policyGroup: GatewayPair.EastSpi);
        var h = g.West.InstallOutbound(GatewayPair.Params(0x1077, suite, keys, g.EastPeer, g.WestPeer));
        Assert.True(g.West.WaitForCommands(TimeSpan.FromSeconds(5)));
        Assert.True(g.East.WaitForCommands(TimeSpan.FromSeconds(5)));
        g.West.ErouteV4.Replace(ErouteSelector<uint>.Parse("192.0.2.0/25", "192.0.2.128/25"), ErouteAction.Sa(0x1077));
        Assert.Equal(2_000, SendAndCollect(g, 2_000, TimeSpan.FromSeconds(20)));
        Assert.True(h.Counters.Packets >= 2_000);

        g.West.Stop();
        g.East.Stop();
        Assert.False(g.West.IsRunning);
        // Stopped: nothing is taken from the inside port, nothing crosses (fail closed).
        long rxBefore = g.West.Workers[0].InsideIo.RxPackets;
        for (int i = 0; i < 10; i++) g.FromSunset(TestPackets.Ipv4Udp(64, i));
        Thread.Sleep(100);
        Assert.Empty(g.AtSunrise());
        Assert.Equal(rxBefore, g.West.Workers[0].InsideIo.RxPackets);

        // Restart: the waiting packets go through.
        g.West.Start();
        g.East.Start();
        var sw = Stopwatch.StartNew();
        int late = 0;
        while (late < 10 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            late += g.AtSunrise().Count;
            Thread.Sleep(1);
        }
        Assert.Equal(10, late);
        g.West.Stop();
        g.East.Stop();
        Assert.Equal(0, g.West.Totals.Drops + g.East.Totals.Drops);
    }

    /// <summary>Sends <paramref name="count"/> packets from sunset at most 1024 ahead of what sunrise
    /// received; returns how many arrived before the deadline.</summary>
    private static int SendAndCollect(GatewayPair g, int count, TimeSpan limit)
    {
        byte[] frame = GatewayPair.Frame(GatewayPair.WestInMac, GatewayPair.SunsetMac, TestPackets.Ipv4Udp(200, 1));
        int sent = 0, got = 0;
        var sw = Stopwatch.StartNew();
        while (got < count && sw.Elapsed < limit)
        {
            while (sent < count && sent - got < 1024)
            {
                g.Send(g.Sunset, frame);
                sent++;
            }
            int n = g.AtSunrise().Count;
            got += n;
            if (n == 0) Thread.Sleep(1);
        }
        return got;
    }

    [Fact]
    public void WorkerIsPinnedToItsCpu()
    {
        var (a, b) = InMemoryIo.CreatePair();
        var (c, d) = InMemoryIo.CreatePair();
        using var dp = new Dataplane(new DataplaneOptions { Cpus = [0] }, _ => (b, c));
        dp.Start();
        try
        {
            Assert.Equal(0, dp.Workers[0].PinError);
            // The kernel's view of the worker thread: its comm is the thread name (15 chars).
            string? status = null;
            var sw = Stopwatch.StartNew();
            while (status is null && sw.Elapsed < TimeSpan.FromSeconds(5))
            {
                foreach (string task in Directory.GetDirectories("/proc/self/task"))
                {
                    string comm;
                    try { comm = File.ReadAllText(Path.Combine(task, "comm")).Trim(); } catch (IOException) { continue; }
                    if (comm.StartsWith("fastpath-worker", StringComparison.Ordinal)) status = File.ReadAllText(Path.Combine(task, "status"));
                }
                if (status is null) Thread.Sleep(10);
            }
            Assert.NotNull(status);
            string allowed = status!.Split('\n').Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
            Assert.Equal("0", allowed.Split(':')[1].Trim());
        }
        finally
        {
            dp.Stop();
            a.Dispose();
            d.Dispose();
        }
    }

    [Fact]
    public void PinningToACpuThatDoesNotExistFailsStart()
    {
        var (a, b) = InMemoryIo.CreatePair();
        var (c, d) = InMemoryIo.CreatePair();
        using var dp = new Dataplane(new DataplaneOptions { Cpus = [1000] }, _ => (b, c));
        var e = Assert.Throws<IOException>(() => dp.Start());
        Assert.Contains("sched_setaffinity", e.Message);
        Assert.False(dp.IsRunning);
        Assert.Equal(0, dp.Step()); // not running: Step is allowed again
        a.Dispose();
        d.Dispose();
    }

    [Theory]
    [InlineData(0, 64, "WorkerCount")]
    [InlineData(1, 0, "BatchSize")]
    public void BadOptionsAreRefusedWithTheirName(int workers, int batch, string name)
    {
        var e = Assert.Throws<ArgumentException>(() => new Dataplane(new DataplaneOptions { WorkerCount = workers, BatchSize = batch }, _ => throw new InvalidOperationException()));
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void SpscRingKeepsOrderAcrossThreadsAndRefusesWhenFull()
    {
        var ring = new SpscRing<long>(64);
        for (int i = 0; i < 64; i++) Assert.True(ring.TryEnqueue(i));
        Assert.False(ring.TryEnqueue(64));
        for (int i = 0; i < 64; i++)
        {
            Assert.True(ring.TryDequeue(out long v));
            Assert.Equal(i, v);
        }
        Assert.False(ring.TryDequeue(out _));

        // Both sides bounded in time: on a loaded machine the consumer may give up, and then the
        // producer must not spin on a full ring forever.
        const long N = 500_000;
        var deadline = Stopwatch.StartNew();
        var producer = new Thread(() =>
        {
            for (long i = 0; i < N && deadline.Elapsed < TimeSpan.FromSeconds(30);)
            {
                if (ring.TryEnqueue(i)) i++;
                else Thread.Yield();
            }
        });
        producer.Start();
        long expected = 0;
        while (expected < N && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (ring.TryDequeue(out long v))
            {
                Assert.Equal(expected, v);
                expected++;
            }
            else
            {
                Thread.Yield();
            }
        }
        producer.Join();
        Assert.Equal(N, expected);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpscRing<int>(100));
    }
}
