using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Adversarial;

/// <summary>
/// Rekey under load (seed 000 #6, docs/security.md §Rekey): two real FastPath IKEv2 daemons (IkeBed),
/// west's CHILD_SAs with the shortest lifetimes ipsec.conf allows (whole seconds: keylife=3s or 2s,
/// rekeymargin=1s, rekeyfuzz=0%, so west rekeys every child every 2 s / 1 s; east's longer keylife
/// means east never starts one, so there are no collisions), while iperf3 sends UDP at a fixed rate
/// over IPv4 (every datagram counted: loss is exact) and TCP at a capped rate over IPv6, through both
/// children at once. Figures: CREATE_CHILD_SA rekeys (west's child_rekeys: west starts every one; east counts the same exchanges again as responder), UDP datagrams lost,
/// TCP retransmits, drops by reason on both gateways (any NoState/Replay/IntegrityFailed/PolicyMismatch/
/// NoPolicy/LifetimeExpired drop would be a rekey fault: those are what a broken make-before-break
/// order produces), RX ring drops (load: counted, not a rekey fault), and each daemon's RSS and GC heap
/// (status memory) after the warm-up vs at the end.
/// </summary>
[Collection("netns")]
public sealed class RekeyUnderLoadTests
{
    private readonly ITestOutputHelper _out;
    public RekeyUnderLoadTests(ITestOutputHelper output) => _out = output;

    private static readonly string[] RekeyFaultReasons = ["NoState", "Replay", "IntegrityFailed", "PolicyMismatch", "NoPolicy", "LifetimeExpired", "ShuntHold", "CleartextOnProtected", "SeqCycled"];

    [Fact]
    public void ChildRekeysUnderUdpAndTcpLoadLoseNothingAndMemoryStaysFlat()
    {
        int seconds = (int)Profile.Size(20, 660);
        int wantRekeys = Profile.Long ? 1000 : 10;
        string westLife = Profile.Long ? "keylife=2s\nrekeymargin=1s\nrekeyfuzz=0%" : "keylife=3s\nrekeymargin=1s\nrekeyfuzz=0%";
        const string eastLife = "keylife=10m\nrekeymargin=1m\nrekeyfuzz=0%";
        using var ike = new IkeBed();
        var bed = ike.Bed;
        var tb = ike.Tb;
        ike.Write(IkeBed.Conf("west", westLife), IkeBed.Conf("east", eastLife));
        ike.Start(["west-east", "west-east-v6"]);
        Assert.True(tb.Warm("192.0.2.138") && tb.Warm("2001:db8:2::138"), "IKE tunnel does not carry traffic");

        int westPid = ike.Pid("west"), eastPid = ike.Pid("east");
        var r0 = ike.IkeCounters("west")["child_rekeys"];
        var c0 = new[] { bed.Counters("west"), bed.Counters("east") };
        // UDP: 4 Mbit/s of 1000-byte datagrams (500/s) over IPv4; TCP capped at 100 Mbit/s over IPv6.
        var udp = Background.Run(() => bed.Iperf("192.0.2.138", "-u -b 4M -l 1000", seconds));
        var tcp = Background.Run(() => bed.Iperf("2001:db8:2::138", "-b 100M", seconds));
        // Memory: the first sample after the warm-up (JIT, first rekeys, buffers: not a leak), then every
        // ~10% of the run (the trend), the last one just before the traffic ends.
        int warm = Math.Max(5, seconds / 10);
        Thread.Sleep(warm * 1000);
        var samples = new List<(double T, long RssW, long RssE, long HeapW, long HeapE, long LiveW, long LiveE, long Rekeys)>();
        var clock = Stopwatch.StartNew();
        void Sample()
        {
            var mw = ike.Memory("west");
            var me = ike.Memory("east");
            long rk = ike.IkeCounters("west")["child_rekeys"] - r0;
            samples.Add((warm + clock.Elapsed.TotalSeconds, IkeBed.RssKiB(westPid), IkeBed.RssKiB(eastPid), mw["gc_heap_bytes"], me["gc_heap_bytes"],
                mw["gc_heap_after_last_full_gc_bytes"], me["gc_heap_after_last_full_gc_bytes"], rk));
            var s = samples[^1];
            _out.WriteLine($"t={s.T:F0}s rekeys={s.Rekeys} rss west={s.RssW} KiB east={s.RssE} KiB; gc heap west={s.HeapW / 1024} KiB east={s.HeapE / 1024} KiB; after last gen2 west={s.LiveW / 1024} east={s.LiveE / 1024} KiB; gen2 west={mw["gen2_collections"]} east={me["gen2_collections"]}; " +
                $"gc committed west={mw["gc_committed_bytes"] / 1024} east={me["gc_committed_bytes"] / 1024} KiB; malloc in use west={mw["malloc_in_use_bytes"] / 1024} east={me["malloc_in_use_bytes"] / 1024} KiB, " +
                $"free west={mw["malloc_free_bytes"] / 1024} east={me["malloc_free_bytes"] / 1024} KiB, arenas west={mw["malloc_arena_bytes"] / 1024} east={me["malloc_arena_bytes"] / 1024} KiB; " +
                $"key buffers west={mw["native_key_buffers"]} east={me["native_key_buffers"]}; threads west={mw["threads"]} east={me["threads"]}; jit methods west={mw["jit_compiled_methods"]} east={me["jit_compiled_methods"]}");
        }
        Sample();
        double step = Math.Max(4, (seconds - warm - 4) / 10.0);
        while (clock.Elapsed.TotalSeconds + warm + step < seconds - 2) { Thread.Sleep(TimeSpan.FromSeconds(step)); Assert.True(ike.Alive("west") && ike.Alive("east"), "a daemon died"); Sample(); }
        Sample();
        using JsonDocument u = udp.Join();
        using JsonDocument t = tcp.Join();
        var d = new[] { bed.Counters("west").Minus(c0[0]), bed.Counters("east").Minus(c0[1]) };
        long rekeys = ike.IkeCounters("west")["child_rekeys"] - r0;

        JsonElement us = u.RootElement.GetProperty("end").GetProperty("sum");
        long udpPackets = us.GetProperty("packets").GetInt64(), udpLost = us.GetProperty("lost_packets").GetInt64();
        JsonElement ts = t.RootElement.GetProperty("end").GetProperty("sum_sent");
        long retransmits = ts.GetProperty("retransmits").GetInt64();
        double tcpMbps = t.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble() / 1e6;
        long faultDrops = d.Sum(x => RekeyFaultReasons.Sum(x.Drop));
        long ringDrops = d.Sum(x => x.OutsideRingDrops + x.InsideRingDrops) + d.Sum(x => x.Drop("TxFull"));
        var first = samples[0];
        var last = samples[^1];
        double Growth(long a, long b) => a > 0 ? (double)(b - a) / a : 0;
        double rssW = Growth(first.RssW, last.RssW), rssE = Growth(first.RssE, last.RssE);
        // The live heap after a gen2 collection when both samples saw one, else the heap as it stands.
        bool live = first.LiveW > 0 && first.LiveE > 0 && last.LiveW > first.LiveW / 2 && last.LiveE > first.LiveE / 2;
        double heapW = live ? Growth(first.LiveW, last.LiveW) : Growth(first.HeapW, last.HeapW);
        double heapE = live ? Growth(first.LiveE, last.LiveE) : Growth(first.HeapE, last.HeapE);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        _out.WriteLine($"west: {d[0].Describe()}");
        _out.WriteLine($"east: {d[1].Describe()}");
        Profile.Figure(_out, "rekey-load", string.Create(inv,
            $"seconds={seconds} rekeys={rekeys} udp_packets={udpPackets} udp_lost={udpLost} tcp_mbps={tcpMbps:F0} tcp_retransmits={retransmits} rekey_fault_drops={faultDrops} load_drops={ringDrops} " +
            $"rss_west_kib={first.RssW}->{last.RssW} rss_east_kib={first.RssE}->{last.RssE} rss_growth_max={Math.Max(rssW, rssE):F4} " +
            $"gc_heap_kind={(live ? "after_gen2" : "total")} gc_west_kib={(live ? first.LiveW : first.HeapW) / 1024}->{(live ? last.LiveW : last.HeapW) / 1024} gc_east_kib={(live ? first.LiveE : first.HeapE) / 1024}->{(live ? last.LiveE : last.HeapE) / 1024} gc_growth_max={Math.Max(heapW, heapE):F4}"));

        Assert.True(rekeys >= wantRekeys, $"only {rekeys} child rekeys in {seconds} s (want >= {wantRekeys})");
        Assert.True(faultDrops == 0, $"drops a rekey fault would cause: west {d[0].Describe()} / east {d[1].Describe()}");
        // Every UDP datagram lost must be one the gateways counted as a load drop (RX ring full, TX full);
        // anything beyond that was lost at a rekey.
        Assert.True(udpLost <= ringDrops, $"{udpLost} of {udpPackets} UDP datagrams lost across {rekeys} rekeys; load drops counted {ringDrops}");
        Assert.True(udpPackets > seconds * 400, $"UDP sent only {udpPackets}");
        Assert.True(tcpMbps > 1, $"TCP over IPv6 carried {tcpMbps:F1} Mbit/s");
        double bar = Profile.Long ? 0.05 : 0.15; // the short run is mostly warm-up; the long run is the issue's bar
        Assert.True(Math.Max(rssW, rssE) < bar, $"RSS grew {rssW:P1} (west) / {rssE:P1} (east) over {rekeys} rekeys (bar {bar:P0})");
        Assert.True(Math.Max(heapW, heapE) < (live ? bar : 1.0), $"GC heap grew {heapW:P1} (west) / {heapE:P1} (east) over {rekeys} rekeys");
    }
}

/// <summary>A value computed on a thread of its own (iperf3 runs side by side with the sampling; xUnit forbids blocking on Tasks).</summary>
public sealed class Background<T>
{
    private readonly Thread _thread;
    private T? _value;
    private Exception? _error;

    public Background(Func<T> f)
    {
        _thread = new Thread(() => { try { _value = f(); } catch (Exception e) { _error = e; } }) { IsBackground = true };
        _thread.Start();
    }

    public T Join()
    {
        _thread.Join();
        if (_error is not null) throw new InvalidOperationException("background step failed: " + _error.Message, _error);
        return _value!;
    }
}

public static class Background
{
    public static Background<T> Run<T>(Func<T> f) => new(f);
}
