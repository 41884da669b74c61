using System;
using System.Diagnostics;
using System.Text.Json;
using System.Threading;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.Packets;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Dataplane.Tests.Io;

/// <summary>A forwarder with no crypto, AF_XDP vs AF_PACKET (indicative; the machine is shared):
///
///   ns a: AfXdpIo sender, flat out ──veth──> ns b: forwarder thread, RX on IfB, TX on IfB2
///   ──veth──> ns c: the kernel counts (rx_packets of IfC) and drops (not its MAC)
///
/// 0.3 s warm-up, 2 s measured per case; prints one "FORWARD" line per case (perf-scripts/io-forward.sh
/// collects them). Asserts only that frames were forwarded and arrived.</summary>
[Trait("Category", "Perf")]
public sealed class AfXdpForwardPerfTests
{
    private readonly ITestOutputHelper _out;

    public AfXdpForwardPerfTests(ITestOutputHelper output)
    {
        _out = output;
        XdpNetns.RequireShim();
    }

    private static long RxPacketsOf(string ns, string ifname)
    {
        string json = XdpNetns.Ip($"-n {ns} -s -j link show {ifname}");
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement[0].GetProperty("stats64").GetProperty("rx").GetProperty("packets").GetInt64();
    }

    private sealed class Fwd
    {
        public long Forwarded;   // Volatile
        public volatile bool Stop;
        // CPU-time samples of the forwarder thread (/proc/thread-self/schedstat: ns on CPU,
        // including softirq work done in its context), taken by the forwarder when asked.
        public volatile int SampleAsked, SampleDone;
        public long CpuNs;
    }

    private static long ThreadCpuNs() =>
        long.Parse(System.IO.File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    private static long SampleCpu(Fwd f)
    {
        int ask = f.SampleAsked + 1;
        f.SampleAsked = ask;
        long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        while (f.SampleDone != ask && Stopwatch.GetTimestamp() < until) Thread.Sleep(1);
        Assert.Equal(ask, f.SampleDone);
        return Volatile.Read(ref f.CpuNs);
    }

    private static void ForwardLoop(IPacketIo rx, IPacketIo tx, Fwd f)
    {
        using var slab = new FrameSlab(1024);
        var batch = new PacketBatch(256);
        long fwd = 0;
        int sampled = 0;
        while (!f.Stop)
        {
            if (f.SampleAsked != sampled)
            {
                sampled = f.SampleAsked;
                Volatile.Write(ref f.CpuNs, ThreadCpuNs());
                f.SampleDone = sampled;
            }
            if (!rx.WaitForReceive(2)) continue;
            int n = rx.Receive(batch, slab);
            if (n == 0) continue;
            fwd += tx.Transmit(batch);
            slab.ReturnAll(batch.Packets);
            Volatile.Write(ref f.Forwarded, fwd);
        }
    }

    /// <summary>rate 0: the sender goes flat out (throughput, with the excess dropped and counted);
    /// rate &gt; 0: it is paced to that many frames per second, the same offered load for both kinds, and
    /// the forwarder's CPU time per forwarded frame is the comparison.</summary>
    [Theory]
    [InlineData(PacketIoKind.AfXdp, 64, 0)]
    [InlineData(PacketIoKind.AfPacket, 64, 0)]
    [InlineData(PacketIoKind.AfXdp, 1400, 0)]
    [InlineData(PacketIoKind.AfPacket, 1400, 0)]
    [InlineData(PacketIoKind.AfXdp, 64, 200_000)]
    [InlineData(PacketIoKind.AfPacket, 64, 200_000)]
    [InlineData(PacketIoKind.AfXdp, 1400, 200_000)]
    [InlineData(PacketIoKind.AfPacket, 1400, 200_000)]
    public void ForwardWithoutCrypto(PacketIoKind kind, int length, int rate)
    {
        using var ns = new XdpNetns(3);
        // Frame sizes as on the wire: no GRO aggregation at the forwarder's RX.
        XdpNetns.Run("ip", $"netns exec {ns.NsB} ethtool -K {ns.IfB} gro off", check: false);
        using var sender = NetworkNamespace.Run(ns.NsA, () => new AfXdpIo(new AfXdpOptions { Interface = ns.IfA }));
        PacketIoOpenResult rx = NetworkNamespace.Run(ns.NsB, () => PacketIoFactory.Open(ns.IfB, kind));
        PacketIoOpenResult tx = kind == PacketIoKind.AfXdp
            ? NetworkNamespace.Run(ns.NsB, () => PacketIoFactory.Open(ns.IfB2, kind))
            : new PacketIoOpenResult(NetworkNamespace.Run(ns.NsB, () => new AfPacketIo(new AfPacketOptions { Interface = ns.IfB2, Receive = false })), PacketIoKind.AfPacket, $"AF_PACKET {ns.IfB2} (TX only)", null);
        using var rxIo = rx.Io;
        using var txIo = tx.Io;
        Assert.Equal(kind, rx.Kind);
        Assert.Equal(kind, tx.Kind);

        var f = new Fwd();
        var fwdThread = new Thread(() => ForwardLoop(rxIo, txIo, f)) { IsBackground = true, Name = "fwd" };
        fwdThread.Start();

        using var slab = new FrameSlab(64);
        var batch = new PacketBatch(64);
        for (int i = 0; i < 64; i++)
        {
            Assert.True(slab.TryRent(out Packet p));
            XdpFrames.Udp4(ref p, (uint)i, length);
            batch.TryAdd(p);
        }
        try
        {
            long paceStart = Stopwatch.GetTimestamp();
            long paced = 0;
            void Send()
            {
                if (rate > 0)
                {
                    // next batch when its time has come: paced / rate seconds after the start
                    long due = paceStart + (long)(paced * (double)Stopwatch.Frequency / rate);
                    while (Stopwatch.GetTimestamp() < due) Thread.SpinWait(20);
                }
                paced += sender.Transmit(batch);
            }
            long warm = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 3 / 10;
            while (Stopwatch.GetTimestamp() < warm) Send();
            rxIo.RefreshCounters();
            long sent0 = sender.Counters.TxPackets, fwd0 = Volatile.Read(ref f.Forwarded), rx0 = rxIo.Counters.RxPackets;
            long drops0 = rxIo.Counters.RxRingDrops, sink0 = RxPacketsOf(ns.NsC, ns.IfC);
            long cpu0 = SampleCpu(f);
            fwd0 = Volatile.Read(ref f.Forwarded);
            long t0 = Stopwatch.GetTimestamp();
            long end = t0 + Stopwatch.Frequency * 2;
            while (Stopwatch.GetTimestamp() < end) Send();
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            long cpu1 = SampleCpu(f);
            long sent = sender.Counters.TxPackets - sent0, fwd = Volatile.Read(ref f.Forwarded) - fwd0, got = rxIo.Counters.RxPackets - rx0;
            double nsPerFrame = fwd > 0 ? (double)(cpu1 - cpu0) / fwd : 0;
            double busy = (cpu1 - cpu0) / (s * 1e9);
            Thread.Sleep(50);
            long sink = RxPacketsOf(ns.NsC, ns.IfC) - sink0;
            rxIo.RefreshCounters();
            long drops = rxIo.Counters.RxRingDrops - drops0;
            string line = $"FORWARD {(kind == PacketIoKind.AfXdp ? "AF_XDP" : "AF_PACKET")} {length} B {(rate > 0 ? $"paced {rate / 1e6:F2} Mpps" : "flat out")}: " +
                          $"forwarder CPU {nsPerFrame:F0} ns/frame (busy {busy * 100:F0} %), forwarded {fwd / s / 1e6:F3} Mpps ({fwd * length * 8 / s / 1e9:F2} Gbit/s), " +
                          $"offered {sent / s / 1e6:F3} Mpps, forwarder rx {got / s / 1e6:F3} Mpps, sink rx {sink / s / 1e6:F3} Mpps, rx drops {drops}; rx {rx.Description}; tx {tx.Description}";
            _out.WriteLine(line);
            Console.WriteLine(line);
            Assert.True(fwd > 0, "nothing forwarded");
            Assert.True(sink >= fwd * 9 / 10, $"sink got {sink} of {fwd} forwarded");
        }
        finally
        {
            f.Stop = true;
            Assert.True(fwdThread.Join(TimeSpan.FromSeconds(5)));
        }
    }
}
