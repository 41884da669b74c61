using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using FastPath.Dataplane;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Ike.Engine;
using Xunit;

namespace FastPath.Gateway.Tests.Ike;

// The IChildSaSink contract on two real dataplanes over in-memory ports (no engine: the tests hand
// the sink what the engine would — ChildSaInstall values with keys from SaKeyFactory.CreateChildSa).
public sealed class DataplaneChildSaSinkTests
{
    private const string Sunset = "192.0.2.10", Sunrise = "192.0.2.138";

    /// <summary>Sends <paramref name="n"/> packets each way, steps each gateway once (so they are encrypted and on
    /// the wire), runs <paramref name="between"/> (a sink operation) with those packets in flight, then pumps.</summary>
    private static void Tick(SinkPair g, ref uint seq, int n, List<uint> sentEast, List<uint> sentWest, Action? between = null)
    {
        for (int i = 0; i < n; i++)
        {
            uint s = seq++;
            g.FromSunset(SinkPair.Udp(Sunset, Sunrise, s));
            g.FromSunrise(SinkPair.Udp(Sunrise, Sunset, s));
            sentEast.Add(s);
            sentWest.Add(s);
        }
        g.West.Step();
        g.East.Step();
        between?.Invoke();
        g.Pump();
    }

    [Theory]
    [InlineData("aes128gcm16")]
    [InlineData("aes256gcm16")]
    [InlineData("aes128-sha256")]
    [InlineData("aes256-sha384")]
    [InlineData("3des-sha1")]
    [InlineData("chacha20poly1305")]
    [InlineData("aes128ctr-sha1")]
    public void ChildSa_installed_through_the_sinks_carries_traffic_both_ways(string suite)
    {
        using var g = new SinkPair();
        g.Up(SinkPair.Child(suite, 0xc1000001, 0xc2000001));
        for (uint i = 0; i < 20; i++)
        {
            g.FromSunset(SinkPair.Udp(Sunset, Sunrise, i, size: 200 + (int)i * 50));
            g.FromSunrise(SinkPair.Udp(Sunrise, Sunset, 1000 + i, size: 200 + (int)i * 50));
        }
        g.Pump();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (uint)i), SinkPair.Sequences(g.Drain(g.Sunrise)));
        Assert.Equal(Enumerable.Range(1000, 20).Select(i => (uint)i), SinkPair.Sequences(g.Drain(g.Sunset)));
        Assert.DoesNotContain(g.WireLog, SinkPair.IsCleartext);
        Assert.Empty(g.West.DropsByReason());
        Assert.Empty(g.East.DropsByReason());

        // The eroute names the outbound SA and the peer, FreeS/WAN style.
        Assert.Contains("192.0.2.0/25", g.West.ErouteV4.Format());
        Assert.Contains("=> tun0xc2000001@203.0.113.2", g.West.ErouteV4.Format());
        ChildSaUsage u = g.WestSink.Usage(0xc2000001, inbound: false);
        Assert.True(u.Exists);
        Assert.Equal(20, u.Packets);
        Assert.True(u.Bytes > 20 * 200);
        Assert.True(u.LastUsedTicks != 0);
        Assert.Equal(20, g.WestSink.Usage(0xc1000001, inbound: true).Packets);
        Assert.False(g.WestSink.Usage(0xdeadbeef, inbound: true).Exists);
    }

    [Fact]
    public void Make_before_break_rekey_under_continuous_traffic_loses_nothing_and_never_drops_PolicyMismatch()
    {
        using var g = new SinkPair();
        var sentEast = new List<uint>();
        var sentWest = new List<uint>();
        uint seq = 0;
        uint wIn = 0xa0000001, eIn = 0xb0000001;
        g.Up(SinkPair.Child("aes128gcm16", wIn, eIn));
        Tick(g, ref seq, 16, sentEast, sentWest);

        for (int rekey = 1; rekey <= 12; rekey++)
        {
            uint wNew = 0xa0000001 + (uint)rekey, eNew = 0xb0000001 + (uint)rekey;
            // Alternate which side initiates the rekey (and so switches its outbound first).
            bool westFirst = rekey % 2 == 1;
            var c = SinkPair.Child(rekey % 3 == 0 ? "aes256-sha384" : "aes128gcm16", wNew, eNew, serial: 2 + rekey, westReplaces: eIn, eastReplaces: wIn);
            // 1. the new inbound SA on both sides (responder first, as the exchange orders them)
            Tick(g, ref seq, 8, sentEast, sentWest, () => (westFirst ? g.EastSink : g.WestSink).InstallInbound(westFirst ? c.East : c.West));
            Tick(g, ref seq, 8, sentEast, sentWest, () => (westFirst ? g.WestSink : g.EastSink).InstallInbound(westFirst ? c.West : c.East));
            // 2. one side switches its outbound (packets of its old SA still in flight), then the other
            Tick(g, ref seq, 8, sentEast, sentWest, () => (westFirst ? g.WestSink : g.EastSink).InstallOutbound(westFirst ? c.West : c.East));
            Tick(g, ref seq, 8, sentEast, sentWest);
            Tick(g, ref seq, 8, sentEast, sentWest, () => (westFirst ? g.EastSink : g.WestSink).InstallOutbound(westFirst ? c.East : c.West));
            Tick(g, ref seq, 8, sentEast, sentWest);
            // 3. the old inbound SAs go (after the peer's DELETE; their last packets were still in flight a tick ago)
            Tick(g, ref seq, 8, sentEast, sentWest, () =>
            {
                g.WestSink.DeleteInbound(wIn);
                g.EastSink.DeleteInbound(eIn);
            });
            // The replaced outbound SAs were deleted by the switch.
            Assert.False(g.WestSink.Usage(eIn, inbound: false).Exists);
            Assert.False(g.EastSink.Usage(wIn, inbound: false).Exists);
            Assert.True(g.WestSink.Usage(eNew, inbound: false).Exists);
            wIn = wNew;
            eIn = eNew;
        }
        Tick(g, ref seq, 16, sentEast, sentWest);

        Assert.Equal(sentEast, SinkPair.Sequences(g.Drain(g.Sunrise)));
        Assert.Equal(sentWest, SinkPair.Sequences(g.Drain(g.Sunset)));
        Assert.Equal(0, g.West.Drops(DropReason.PolicyMismatch));
        Assert.Equal(0, g.East.Drops(DropReason.PolicyMismatch));
        Assert.Empty(g.West.DropsByReason());
        Assert.Empty(g.East.DropsByReason());
        Assert.DoesNotContain(g.WireLog, SinkPair.IsCleartext);
        // One eroute, naming the last SA: the group id stayed, the SPI moved.
        ErouteEntry<uint> e = Assert.Single(g.West.ErouteV4.List());
        Assert.Equal(eIn, e.Action.SaHandle);
        Assert.Equal(g.WestSink.PolicyGroupOf(1), e.Action.Group);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rekey_on_running_multi_worker_dataplanes_loses_nothing(bool asynchronous)
    {
        // Workers on their own threads, SAs spread over two workers per side (handoff rings): the sink
        // must wait for the owner to have the new SA before the eroute names it, and for a grace period
        // before it deletes the replaced one. Asynchronous: the calls return at once; each next step of the
        // exchange (the other side acting on our message) waits for the barrier, as IkeEngine.Transmit does.
        using var g = new SinkPair(workers: 2, asynchronous: asynchronous);
        void Barrier(FastPath.Gateway.Ike.DataplaneChildSaSink s)
        {
            if (asynchronous) Assert.True(s.WaitApplied(TimeSpan.FromSeconds(5)));
        }
        uint wIn = 0xa1000001, eIn = 0xb1000001;
        g.Up(SinkPair.Child("aes128gcm16", wIn, eIn));
        g.West.Start();
        g.East.Start();
        var sent = new List<uint>();
        using var stop = new System.Threading.CancellationTokenSource();
        var received = new List<uint>();
        var relay = new System.Threading.Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (g.Relay() == 0) System.Threading.Thread.Sleep(0);
                var got = SinkPair.Sequences(g.AtSunrise());
                lock (received) received.AddRange(got);
            }
        }) { IsBackground = true };
        relay.Start();
        uint seq = 0;
        void Send(int n)
        {
            for (int i = 0; i < n; i++)
            {
                g.FromSunset(SinkPair.Udp(Sunset, Sunrise, seq));
                sent.Add(seq++);
                if (i % 16 == 15) System.Threading.Thread.Sleep(1);
            }
        }
        Send(100);
        for (int rekey = 1; rekey <= 5; rekey++)
        {
            uint wNew = wIn + 1, eNew = eIn + 1;
            var c = SinkPair.Child("aes128gcm16", wNew, eNew, serial: 2 + rekey, westReplaces: eIn, eastReplaces: wIn);
            g.EastSink.InstallInbound(c.East);
            Barrier(g.EastSink);
            Send(50);
            g.WestSink.InstallInbound(c.West);
            Send(50);
            g.WestSink.InstallOutbound(c.West);
            Barrier(g.WestSink);
            Send(50);
            g.EastSink.InstallOutbound(c.East);
            Barrier(g.EastSink);
            Send(50);
            g.WestSink.DeleteInbound(wIn);
            g.EastSink.DeleteInbound(eIn);
            wIn = wNew;
            eIn = eNew;
        }
        Send(100);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            lock (received) if (received.Count >= sent.Count) break;
            System.Threading.Thread.Sleep(10);
        }
        stop.Cancel();
        relay.Join();
        Barrier(g.WestSink);
        Barrier(g.EastSink);
        // The replaced outbound SAs were retired (asynchronous: through the grace-period queue): one pair left per side.
        Assert.Equal(2, g.WestSink.SaCount("west-east"));
        Assert.Equal(2, g.EastSink.SaCount("west-east"));
        g.West.Stop();
        g.East.Stop();
        // Two workers per side: order across workers is not kept, loss and duplicates are what count.
        received.Sort();
        Assert.Equal(sent, received);
        Assert.Empty(g.West.DropsByReason());
        Assert.Empty(g.East.DropsByReason());
    }

    [Fact]
    public void Deleting_the_outbound_SA_of_an_unrouted_connection_fails_closed_NoPolicy()
    {
        using var g = new SinkPair();
        g.Up(SinkPair.Child("aes128gcm16", 0xc1000001, 0xc2000001));
        g.FromSunset(SinkPair.Udp(Sunset, Sunrise, 1));
        g.Pump();
        Assert.Single(g.Drain(g.Sunrise));

        g.WestSink.DeleteOutbound(0xc2000001);
        Assert.Empty(g.West.ErouteV4.List());
        int before = g.WireLog.Count;
        for (uint i = 0; i < 5; i++) g.FromSunset(SinkPair.Udp(Sunset, Sunrise, 10 + i));
        g.Pump();
        Assert.Empty(g.Drain(g.Sunrise));
        Assert.Equal(before, g.WireLog.Count); // nothing on the wire, cleartext or not
        Assert.Equal(5, g.West.Drops(DropReason.NoPolicy));
        Assert.False(g.WestSink.Usage(0xc2000001, inbound: false).Exists);
    }

    [Fact]
    public void Deleting_the_outbound_SA_of_a_routed_connection_falls_back_to_trap()
    {
        using var g = new SinkPair();
        var conn = Connection("west-east");
        g.WestSink.Route(conn);
        Assert.Contains("%trap", g.West.ErouteV4.Format());
        g.Up(SinkPair.Child("aes128gcm16", 0xc1000001, 0xc2000001));
        Assert.Contains("tun0xc2000001@203.0.113.2", g.West.ErouteV4.Format());

        g.WestSink.DeleteOutbound(0xc2000001);
        ErouteEntry<uint> e = Assert.Single(g.West.ErouteV4.List());
        Assert.Equal(ErouteActionKind.Trap, e.Action.Kind);
        int before = g.WireLog.Count;
        g.FromSunset(SinkPair.Udp(Sunset, Sunrise, 7));
        g.Pump();
        Assert.Equal(before, g.WireLog.Count);
        Assert.True(g.West.TryReadEvent(out DataplaneEvent ev));
        Assert.Equal(DataplaneEventKind.Acquire, ev.Kind);
        var fake = new FakeIkeTarget();
        Assert.True(g.WestSink.Dispatch(ev, fake));
        Assert.Equal("west-east", Assert.Single(fake.Acquires).Connection);

        // unroute: the %trap goes, nothing is left (NoPolicy), the held packet is dropped.
        g.WestSink.Unroute("west-east");
        Assert.Empty(g.West.ErouteV4.List());
        Assert.False(g.WestSink.IsRouted("west-east"));
    }

    [Fact]
    public void Trap_acquire_is_dispatched_to_the_connection_and_held_packets_are_delivered_after_install()
    {
        using var g = new SinkPair();
        g.WestSink.Route(Connection("west-east"));
        g.WestSink.Route(Connection("other", local: "192.0.2.0/26", remote: "198.51.100.0/24"));
        for (uint i = 0; i < 3; i++) g.FromSunset(SinkPair.Udp(Sunset, Sunrise, i, sport: 40001, dport: 5201));
        g.Pump();
        Assert.Empty(g.Drain(g.Sunrise));
        Assert.Empty(g.WireLog);
        Assert.Equal(3, g.West.Totals.Held);

        var fake = new FakeIkeTarget();
        var events = new List<DataplaneEvent>();
        while (g.West.TryReadEvent(out DataplaneEvent ev)) events.Add(ev);
        DataplaneEvent acquire = Assert.Single(events, e => e.Kind == DataplaneEventKind.Acquire);
        Assert.True(g.WestSink.Dispatch(acquire, fake));
        var a = Assert.Single(fake.Acquires); // one ACQUIRE per eroute, not per packet
        Assert.Equal("west-east", a.Connection);
        Assert.Equal(IPAddress.Parse(Sunset), a.Source);
        Assert.Equal(IPAddress.Parse(Sunrise), a.Destination);
        Assert.Equal(17, a.Protocol);
        Assert.Equal(40001, a.SourcePort);
        Assert.Equal(5201, a.DestinationPort);

        // The engine negotiates (narrowed to the trigger's hosts, as strongSwan's responder might), installs: held packets go out.
        g.Up(SinkPair.Child("aes256gcm16", 0xd1000001, 0xd2000001, westTs: SinkPair.Ts("192.0.2.10/32"), eastTs: SinkPair.Ts("192.0.2.138/32")));
        g.Pump();
        Assert.Equal(new uint[] { 0, 1, 2 }, SinkPair.Sequences(g.Drain(g.Sunrise)));
        Assert.Equal(0, g.West.Drops(DropReason.ShuntHold));
        // The narrowed SA eroute sits inside the still-routed %trap of the whole subnets.
        string listing = g.West.ErouteV4.Format();
        Assert.Contains("192.0.2.10/32", listing);
        Assert.Contains("%trap", listing);
        Assert.DoesNotContain(g.WireLog, SinkPair.IsCleartext);
    }

    [Fact]
    public void Acquire_that_is_never_answered_is_failed_so_the_next_packet_asks_again()
    {
        using var g = new SinkPair(holdTimeout: TimeSpan.FromMilliseconds(50));
        var time = new ManualTime();
        using var sink = new FastPath.Gateway.Ike.DataplaneChildSaSink(g.West, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, time)
        {
            AcquireTimeout = TimeSpan.FromSeconds(5),
            ExpiryInterval = System.Threading.Timeout.InfiniteTimeSpan, // the test drives expiry
        };
        sink.Route(Connection("west-east"));
        var fake = new FakeIkeTarget();
        g.FromSunset(SinkPair.Udp(Sunset, Sunrise, 1));
        g.Pump();
        Assert.True(g.West.TryReadEvent(out DataplaneEvent ev));
        Assert.True(sink.Dispatch(ev, fake));
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(1, sink.ExpireAcquires());
        System.Threading.Thread.Sleep(60);
        g.Pump(); // the held packet is dropped (negotiation failed)
        Assert.Equal(1, g.West.Drops(DropReason.ShuntHold));
        g.FromSunset(SinkPair.Udp(Sunset, Sunrise, 2));
        g.Pump();
        Assert.True(g.West.TryReadEvent(out DataplaneEvent again));
        Assert.Equal(DataplaneEventKind.Acquire, again.Kind);
    }

    [Fact]
    public void Pending_acquire_expires_on_the_timer_without_further_events()
    {
        using var g = new SinkPair(holdTimeout: TimeSpan.FromMilliseconds(50));
        using var sink = new FastPath.Gateway.Ike.DataplaneChildSaSink(g.West, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
        {
            AcquireTimeout = TimeSpan.FromMilliseconds(100),
            ExpiryInterval = TimeSpan.FromMilliseconds(50),
        };
        sink.Route(Connection("west-east"));
        g.FromSunset(SinkPair.Udp(Sunset, Sunrise, 1));
        g.Pump();
        Assert.True(g.West.TryReadEvent(out DataplaneEvent ev));
        Assert.True(sink.Dispatch(ev, new FakeIkeTarget()));
        // No Dispatch, no ExpireAcquires call: only the sink's timer (100 ms timeout, 50 ms period) can resolve
        // it. Poll for up to 3 s rather than guess one sleep: the timer thread is scheduled by a loaded machine.
        DataplaneEvent again = default;
        bool reacquired = false;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (uint seq = 2; !reacquired && sw.Elapsed < TimeSpan.FromSeconds(3); seq++)
        {
            System.Threading.Thread.Sleep(100);
            g.Pump();
            g.FromSunset(SinkPair.Udp(Sunset, Sunrise, seq));
            g.Pump();
            reacquired = g.West.TryReadEvent(out again);
        }
        Assert.True(reacquired, "no new ACQUIRE within 3 s after the pending one should have expired on the timer");
        Assert.Equal(DataplaneEventKind.Acquire, again.Kind);
    }

    [Fact]
    public void Volume_lifetimes_are_dispatched_to_the_engine_soft_then_hard()
    {
        using var g = new SinkPair();
        var c = SinkPair.Child("aes128gcm16", 0xc1000001, 0xc2000001, tuneWest: w => w with { SoftLifePackets = 5, HardLifePackets = 10 });
        g.Up(c);
        var fake = new FakeIkeTarget();
        for (uint i = 0; i < 12; i++)
        {
            g.FromSunset(SinkPair.Udp(Sunset, Sunrise, i));
            g.Pump();
            while (g.West.TryReadEvent(out DataplaneEvent e)) Assert.True(g.WestSink.Dispatch(e, fake), e.ToString());
        }
        Assert.Contains((0xc2000001u, false, false), fake.Lifetimes);
        Assert.Contains((0xc2000001u, false, true), fake.Lifetimes);
        Assert.True(fake.Lifetimes.IndexOf((0xc2000001u, false, false)) < fake.Lifetimes.IndexOf((0xc2000001u, false, true)));
        // The inbound SA on west has the same limits (the ChildSaInstall's): 0 packets in, no event.
        Assert.DoesNotContain(fake.Lifetimes, l => l.Inbound);
        // Past the hard limit the SA carries nothing.
        Assert.Equal(10, SinkPair.Sequences(g.Drain(g.Sunrise)).Count);
        // Not IKE's: a next-hop request.
        Assert.False(g.WestSink.Dispatch(new DataplaneEvent(DataplaneEventKind.ResolveNextHop), fake));
    }

    [Fact]
    public void Decrypted_packets_outside_the_child_selectors_are_dropped_PolicyMismatch()
    {
        using var g = new SinkPair();
        // West negotiated two host selectors on the far side; east (misbehaving) sends from the whole /25.
        var c = SinkPair.Child("aes128gcm16", 0xc1000001, 0xc2000001, eastTs: SinkPair.Ts("192.0.2.138/32", "192.0.2.140/32"));
        var eastWide = c.East with { LocalTs = SinkPair.Ts("192.0.2.128/25") };
        g.WestSink.InstallInbound(c.West);
        g.EastSink.InstallInbound(eastWide);
        g.WestSink.InstallOutbound(c.West);
        g.EastSink.InstallOutbound(eastWide);
        g.FromSunrise(SinkPair.Udp("192.0.2.138", Sunset, 1));
        g.FromSunrise(SinkPair.Udp("192.0.2.139", Sunset, 2));
        g.FromSunrise(SinkPair.Udp("192.0.2.140", Sunset, 3));
        g.Pump();
        Assert.Equal(new uint[] { 1, 3 }, SinkPair.Sequences(g.Drain(g.Sunset)));
        Assert.Equal(1, g.West.Drops(DropReason.PolicyMismatch));
        Assert.Equal(2, g.West.ErouteV4.List().Count);
    }

    [Fact]
    public void Two_children_of_one_connection_keep_their_own_groups()
    {
        using var g = new SinkPair();
        g.Up(SinkPair.Child("aes128gcm16", 0xc1000001, 0xc2000001, reqId: 1, westTs: SinkPair.Ts("192.0.2.10/32"), eastTs: SinkPair.Ts("192.0.2.138/32")));
        g.Up(SinkPair.Child("aes128gcm16", 0xc1000002, 0xc2000002, reqId: 2, westTs: SinkPair.Ts("192.0.2.10/32"), eastTs: SinkPair.Ts("192.0.2.140/32")));
        Assert.NotEqual(g.WestSink.PolicyGroupOf(1), g.WestSink.PolicyGroupOf(2));
        g.FromSunset(SinkPair.Udp(Sunset, "192.0.2.138", 1));
        g.FromSunset(SinkPair.Udp(Sunset, "192.0.2.140", 2));
        g.Pump();
        Assert.Equal(new uint[] { 1, 2 }, SinkPair.Sequences(g.Drain(g.Sunrise)));
        Assert.Equal(1, g.WestSink.Usage(0xc2000001, false).Packets);
        Assert.Equal(1, g.WestSink.Usage(0xc2000002, false).Packets);
        // Deleting one child leaves the other's eroute alone.
        g.WestSink.DeleteOutbound(0xc2000001);
        Assert.Equal("tun0xc2000002@203.0.113.2", Assert.Single(g.West.ErouteV4.List()).ActionText);
    }

    internal static IkeConnection Connection(string name, string local = "192.0.2.0/25", string remote = "192.0.2.128/25") => new()
    {
        Name = name,
        LocalAddress = SinkPair.WestOutside,
        RemoteAddress = SinkPair.EastOutside,
        IkeProposals = FastPath.Ike.Proposals.ProposalParser.Parse("aes128gcm16-prfsha256-x25519", FastPath.Ike.Proposals.ProposalProtocol.Ike),
        EspProposals = FastPath.Ike.Proposals.ProposalParser.Parse("aes128gcm16", FastPath.Ike.Proposals.ProposalProtocol.Esp),
        LocalTs = SinkPair.Ts(local),
        RemoteTs = SinkPair.Ts(remote),
        StartAction = ConnectionStartAction.Route,
    };

    private sealed class ManualTime : TimeProvider
    {
        private long _now = 1_000_000;
        public override long GetTimestamp() => _now;
        public override long TimestampFrequency => 1_000_000;
        public void Advance(TimeSpan t) => _now += (long)(t.TotalSeconds * 1_000_000);
    }
}
