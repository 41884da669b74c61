using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using FastPath.Dataplane.Policy;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>Shunts, inbound policy checks, %trap hold/ACQUIRE, %reject rate limit and the listing.</summary>
public class PolicyShuntTests
{
    private static uint A(string s) => KeyBits<uint>.ParseAddress(s);
    private static ErouteSelector<uint> Sel(string src, string dst) => ErouteSelector<uint>.Parse(src, dst);

    // West's view (DESIGN.md §5): sunset 192.0.2.0/25 behind us, sunrise 192.0.2.128/25 behind east.
    private static readonly ErouteSelector<uint> WestEast = Sel("192.0.2.0/25", "192.0.2.128/25");
    private static readonly FlowKey<uint> SunsetToSunrise = new(A("192.0.2.10"), A("192.0.2.138"), 1);

    [Theory]
    [InlineData(ErouteActionKind.Pass, true, (DropReason)0)]
    [InlineData(ErouteActionKind.Passthrough, true, (DropReason)0)]
    [InlineData(ErouteActionKind.Drop, false, DropReason.ShuntDrop)]
    [InlineData(ErouteActionKind.Reject, false, DropReason.ShuntReject)]
    [InlineData(ErouteActionKind.Hold, false, DropReason.ShuntHold)]
    [InlineData(ErouteActionKind.Trap, false, DropReason.ShuntHold)]
    [InlineData(ErouteActionKind.Sa, true, (DropReason)0)]
    public void EachShuntDecidesAsFreeSwanDid(ErouteActionKind kind, bool accept, DropReason reason)
    {
        var t = new ErouteTable<uint>();
        ErouteAction action = kind == ErouteActionKind.Sa ? ErouteAction.Sa(0x1002) : new ErouteAction((byte)kind);
        int id = t.Add(WestEast, action);
        PolicyVerdict v = t.Current.DecideOutbound(SunsetToSunrise);
        Assert.Equal(id, v.Match.Id);
        Assert.Equal(kind, v.Match.Action.Kind);
        Assert.Equal(accept, v.Accept);
        if (!accept) Assert.Equal(reason, v.Reason);
        // Outside the eroute: no policy → drop (fail closed, "no eroute!").
        PolicyVerdict miss = t.Current.DecideOutbound(new FlowKey<uint>(A("192.0.2.10"), A("198.51.100.1")));
        Assert.False(miss.Accept);
        Assert.Equal(DropReason.NoPolicy, miss.Reason);
    }

    [Fact]
    public void DecryptedPacketMustMatchTheSelectorsOfItsSa()
    {
        // Seed 000 bug #7. Two tunnels to east; a packet decrypted on SA group 0x1002 must be
        // sunrise→sunset traffic, not traffic of the other tunnel and not unprotected traffic.
        var t = new ErouteTable<uint>();
        t.Add(WestEast, ErouteAction.Sa(0x1002), IPAddress.Parse("203.0.113.2"));
        t.Add(Sel("192.0.2.0/25", "198.51.100.0/24"), ErouteAction.Sa(0x2002), IPAddress.Parse("203.0.113.2"));
        t.Add(Sel("0.0.0.0/0", "0.0.0.0/0"), ErouteAction.Pass);
        ErouteSnapshot<uint> s = t.Current;
        var inner = new FlowKey<uint>(A("192.0.2.138"), A("192.0.2.10"), 6, 443, 40000);
        Assert.True(s.CheckDecrypted(inner, 0x1002).Accept);
        PolicyVerdict wrongSa = s.CheckDecrypted(inner, 0x2002);
        Assert.False(wrongSa.Accept);
        Assert.Equal(DropReason.PolicyMismatch, wrongSa.Reason);
        PolicyVerdict spoofed = s.CheckDecrypted(new FlowKey<uint>(A("8.8.8.8"), A("192.0.2.10")), 0x1002);
        Assert.Equal(DropReason.PolicyMismatch, spoofed.Reason);
        PolicyVerdict wrongInside = s.CheckDecrypted(new FlowKey<uint>(A("192.0.2.138"), A("10.9.9.9")), 0x1002);
        Assert.Equal(DropReason.PolicyMismatch, wrongInside.Reason);
        // Against explicit SA selectors (outbound orientation).
        Assert.True(ErouteSnapshot<uint>.CheckDecrypted(inner, WestEast).Accept);
        Assert.Equal(DropReason.PolicyMismatch, ErouteSnapshot<uint>.CheckDecrypted(new FlowKey<uint>(A("192.0.2.1"), A("192.0.2.10")), WestEast).Reason);
    }

    [Fact]
    public void CleartextOnTheOutsideMatchingAProtectedErouteIsDropped()
    {
        var t = new ErouteTable<uint>();
        t.Add(WestEast, ErouteAction.Sa(0x1002), IPAddress.Parse("203.0.113.2"));
        t.Add(Sel("192.0.2.0/25", "198.51.100.0/24"), ErouteAction.Trap);
        t.Add(Sel("192.0.2.0/25", "198.51.101.0/24"), ErouteAction.Hold);
        t.Add(Sel("192.0.2.0/25", "198.51.102.0/24"), ErouteAction.Drop);
        t.Add(Sel("192.0.2.0/25", "198.51.103.0/24"), ErouteAction.Reject);
        t.Add(Sel("192.0.2.0/25", "203.0.113.0/24"), ErouteAction.Pass);
        t.Add(Sel("192.0.2.0/25", "203.0.114.0/24"), ErouteAction.Passthrough);
        ErouteSnapshot<uint> s = t.Current;
        DropReason? Verdict(string from)
        {
            PolicyVerdict v = s.CheckCleartextFromOutside(new FlowKey<uint>(A(from), A("192.0.2.10")));
            return v.Accept ? null : v.Reason;
        }
        Assert.Equal(DropReason.CleartextOnProtected, Verdict("192.0.2.138")); // claims to be sunrise
        Assert.Equal(DropReason.CleartextOnProtected, Verdict("198.51.100.5")); // %trap: should be encrypted
        Assert.Equal(DropReason.CleartextOnProtected, Verdict("198.51.101.5")); // %hold
        Assert.Equal(DropReason.ShuntDrop, Verdict("198.51.102.5"));
        Assert.Equal(DropReason.ShuntReject, Verdict("198.51.103.5"));
        Assert.Null(Verdict("203.0.113.2"));
        Assert.Null(Verdict("203.0.114.2"));
        Assert.Equal(DropReason.NoPolicy, Verdict("8.8.8.8"));
    }

    private struct Sink : IHeldPacketSink<int>
    {
        public List<int> Released;
        public List<(int Packet, DropReason Reason)> Dropped;
        public void Release(int packet, int erouteId) => Released.Add(packet);
        public void Drop(int packet, int erouteId, DropReason reason) => Dropped.Add((packet, reason));
    }

    [Fact]
    public void TrapHoldsPacketsSendsOneAcquireAndReleasesWhenTheSaArrives()
    {
        var t = new ErouteTable<uint>();
        var broker = new AcquireBroker<uint>(16);
        t.Register(broker);
        int id = t.Add(WestEast, ErouteAction.Trap);
        var q1 = new TrapHoldQueue<int, uint>(broker, capacity: 16, perEroute: 4); // worker 1
        var q2 = new TrapHoldQueue<int, uint>(broker, capacity: 16, perEroute: 4); // worker 2
        long now = Stopwatch.GetTimestamp();
        ErouteMatch m = t.Current.Lookup(SunsetToSunrise);
        Assert.Equal(ErouteActionKind.Trap, m.Action.Kind);
        for (int p = 0; p < 4; p++) Assert.True(q1.Hold(m.Id, p, SunsetToSunrise, now));
        Assert.False(q1.Hold(m.Id, 99, SunsetToSunrise, now)); // per-eroute bound → caller drops ShuntHold
        Assert.True(q2.Hold(m.Id, 10, SunsetToSunrise, now));
        // One ACQUIRE for the eroute, whatever the number of packets and workers.
        Assert.True(broker.TryTakeAcquire(out AcquireEvent<uint> acq));
        Assert.Equal(id, acq.ErouteId);
        Assert.Equal(SunsetToSunrise, acq.Trigger);
        Assert.False(broker.TryTakeAcquire(out _));
        var sink = new Sink { Released = [], Dropped = [] };
        Assert.Equal(0, q1.Poll(ref sink, now, long.MaxValue)); // unresolved: still held
        Assert.Equal(4, q1.Count);
        // The SA arrives: control plane replaces the action, then resolves.
        t.Replace(WestEast, ErouteAction.Sa(0x1002), IPAddress.Parse("203.0.113.2"));
        broker.Resolve(id, success: true);
        Assert.Equal(4, q1.Poll(ref sink, now, long.MaxValue));
        Assert.Equal(1, q2.Poll(ref sink, now, long.MaxValue));
        Assert.Equal([0, 1, 2, 3, 10], sink.Released);
        Assert.Empty(sink.Dropped);
        Assert.Equal(ErouteActionKind.Sa, t.Current.Lookup(SunsetToSunrise).Action.Kind);
    }

    [Fact]
    public void TrapDropsHeldPacketsWhenNegotiationFailsOrTimesOut()
    {
        var t = new ErouteTable<uint>();
        var broker = new AcquireBroker<uint>(16);
        t.Register(broker);
        int id = t.Add(WestEast, ErouteAction.Trap);
        var q = new TrapHoldQueue<int, uint>(broker, capacity: 3, perEroute: 8);
        long now = 1000;
        Assert.True(q.Hold(id, 1, SunsetToSunrise, now));
        Assert.True(q.Hold(id, 2, SunsetToSunrise, now));
        broker.Resolve(id, success: false);
        var sink = new Sink { Released = [], Dropped = [] };
        Assert.Equal(2, q.Poll(ref sink, now, long.MaxValue));
        Assert.Equal([(1, DropReason.ShuntHold), (2, DropReason.ShuntHold)], sink.Dropped);
        // The eroute is still %trap: the next packet starts a new negotiation (a second ACQUIRE).
        Assert.True(broker.TryTakeAcquire(out AcquireEvent<uint> first));
        Assert.True(q.Hold(id, 3, SunsetToSunrise, now));
        Assert.True(broker.TryTakeAcquire(out AcquireEvent<uint> second));
        Assert.True(second.Generation > first.Generation);
        // Total bound and hold timeout.
        Assert.True(q.Hold(id, 4, SunsetToSunrise, now));
        Assert.True(q.Hold(id, 5, SunsetToSunrise, now + 10));
        Assert.False(q.Hold(id, 6, SunsetToSunrise, now + 10));
        sink.Dropped.Clear();
        Assert.Equal(2, q.Poll(ref sink, now + 20, maxHoldTicks: 15));
        Assert.Equal([(3, DropReason.ShuntHold), (4, DropReason.ShuntHold)], sink.Dropped);
        Assert.Equal(1, q.Count);
    }

    [Fact]
    public void AcquireRingFullLetsALaterPacketRetry()
    {
        var t = new ErouteTable<uint>();
        var broker = new AcquireBroker<uint>(2);
        t.Register(broker);
        int[] ids = new int[3];
        for (int i = 0; i < 3; i++) ids[i] = t.Add(Sel("192.0.2.0/25", $"198.51.100.{i * 8}/29"), ErouteAction.Trap);
        var q = new TrapHoldQueue<int, uint>(broker);
        for (int i = 0; i < 3; i++) q.Hold(ids[i], i, SunsetToSunrise, 0);
        Assert.Equal(2, broker.PendingEvents); // the third did not fit
        Assert.True(broker.TryTakeAcquire(out _));
        q.Hold(ids[2], 7, SunsetToSunrise, 0); // retried: now posted
        Assert.True(broker.TryTakeAcquire(out _));
        Assert.True(broker.TryTakeAcquire(out AcquireEvent<uint> third));
        Assert.Equal(ids[2], third.ErouteId);
    }

    [Fact]
    public void RejectIsRateLimitedByATokenBucket()
    {
        long f = Stopwatch.Frequency;
        var limiter = new RejectRateLimiter(perSecond: 10, burst: 3, nowTimestamp: 0);
        int sent = 0;
        for (int i = 0; i < 100; i++) if (limiter.ShouldSendUnreachable(0)) sent++;
        Assert.Equal(3, sent); // burst
        Assert.False(limiter.ShouldSendUnreachable(f / 20)); // 0.05 s → half a token
        Assert.True(limiter.ShouldSendUnreachable(f / 10)); // 0.1 s → one token
        sent = 0;
        for (long tick = f / 10; tick < f * 11 / 10; tick += f / 1000) if (limiter.ShouldSendUnreachable(tick)) sent++;
        Assert.InRange(sent, 9, 11); // ~10 per second sustained
    }

    [Fact]
    public void ListingHasTheFreeSwanColumnsAndHitCounts()
    {
        var t = new ErouteTable<uint>();
        HitCounters w1 = t.CreateHitCounters(), w2 = t.CreateHitCounters();
        t.Add(WestEast, ErouteAction.Sa(0x1002), IPAddress.Parse("203.0.113.2"));
        t.Add(Sel("192.0.2.0/25", "198.51.100.0/24"), ErouteAction.Trap);
        t.Add(Sel("0.0.0.0/0", "0.0.0.0/0"), ErouteAction.Drop);
        t.Add(Sel("192.0.2.11/32", "192.0.2.8/32"), ErouteAction.Pass);
        var keys = new FlowKey<uint>[12];
        Array.Fill(keys, SunsetToSunrise);
        var results = new ErouteMatch[keys.Length];
        t.Current.Lookup(keys.AsSpan(0, 7), results, w1);
        t.Current.Lookup(keys.AsSpan(0, 5), results, w2);
        t.Current.Lookup([new FlowKey<uint>(A("1.2.3.4"), A("5.6.7.8"))], results, w1);
        string expected =
            "1          0.0.0.0/0          -> 0.0.0.0/0          => %drop\n" +
            "12         192.0.2.0/25       -> 192.0.2.128/25     => tun0x1002@203.0.113.2\n" +
            "0          192.0.2.0/25       -> 198.51.100.0/24    => %trap\n" +
            "0          192.0.2.11/32      -> 192.0.2.8/32       => %pass\n";
        Assert.Equal(expected, t.Format());
    }

    [Fact]
    public void Ipv6ListingAndLookup()
    {
        var t = new ErouteTable<UInt128>();
        var sel = ErouteSelector<UInt128>.Parse("2001:db8:1::/64", "2001:db8:2::/64");
        int id = t.Add(sel, ErouteAction.Sa(0x1002), IPAddress.Parse("2001:db8:ffff::2"));
        t.Add(ErouteSelector<UInt128>.Parse("::/0", "::/0"), ErouteAction.Reject);
        var k = new FlowKey<UInt128>(KeyBits<UInt128>.ParseAddress("2001:db8:1::10"), KeyBits<UInt128>.ParseAddress("2001:db8:2::20"));
        Assert.Equal(id, t.Current.Lookup(k).Id);
        Assert.Equal(DropReason.ShuntReject, t.Current.DecideOutbound(k with { Dst = KeyBits<UInt128>.ParseAddress("2001:db8:3::1") }).Reason);
        Assert.Equal(
            "0          ::/0               -> ::/0               => %reject\n" +
            "0          2001:db8:1::/64    -> 2001:db8:2::/64    => tun0x1002@2001:db8:ffff::2\n", t.Format());
    }

    [Fact]
    public void AddRejectsDuplicatesAndSelectorsAreCanonical()
    {
        var t = new ErouteTable<uint>();
        t.Add(Sel("192.0.2.77/25", "192.0.2.200/25"), ErouteAction.Pass);
        Assert.Throws<InvalidOperationException>(() => t.Add(WestEast, ErouteAction.Drop));
        Assert.True(t.TryGet(WestEast, out ErouteEntry<uint> e));
        Assert.Equal("192.0.2.0/25", e.Selector.SrcText);
        Assert.Throws<ArgumentException>(() => new ErouteSelector<uint>(0, 0, 0, 0, 0, dstPortLo: 80, dstPortHi: 80));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ErouteSelector<uint>(0, 33, 0, 0));
        Assert.False(t.Delete(Sel("10.0.0.0/8", "10.0.0.0/8")));
    }
}
