using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Threading;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Ike.Engine;
using FastPath.Ike.Proposals;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace FastPath.Gateway.Tests.Ike;

// The real IKE engine on both sides, each feeding a DataplaneChildSaSink on a real dataplane; IKE
// datagrams go over an in-memory wire, ESP over the dataplanes' in-memory ports. Proves the seam end
// to end without sockets: negotiated CHILD_SAs carry traffic, and %trap → ACQUIRE → Dispatch →
// engine → CHILD_SA → the held packets.
public sealed class EngineOverDataplaneTests
{
    private static IkeConnection Conn(string name, IPAddress local, IPAddress remote, string localTs, string remoteTs) =>
        InMemoryIkeWire.PskConn(name, local, remote, localTs, remoteTs, "aes256gcm16", "engine-over-dataplane-psk-0123456789");

    private sealed class Engines : IDisposable
    {
        public readonly SinkPair G = new();
        public readonly InMemoryIkeWire Wire = new();
        public readonly IkeEngine West, East;

        public Engines()
        {
            West = new IkeEngine(new IkeEngineOptions(), Wire.For(SinkPair.WestOutside), G.WestSink, NullLogger.Instance);
            East = new IkeEngine(new IkeEngineOptions(), Wire.For(SinkPair.EastOutside), G.EastSink, NullLogger.Instance);
            Wire.Attach(SinkPair.WestOutside, West);
            Wire.Attach(SinkPair.EastOutside, East);
            West.AddConnection(Conn("west-east", SinkPair.WestOutside, SinkPair.EastOutside, "192.0.2.0/25", "192.0.2.128/25"));
            East.AddConnection(Conn("east-west", SinkPair.EastOutside, SinkPair.WestOutside, "192.0.2.128/25", "192.0.2.0/25"));
            West.Start();
            East.Start();
        }

        public void WaitForSa(FastPath.Dataplane.Pipeline.Dataplane dp)
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(15))
            {
                if (dp.ErouteV4.List().Any(e => e.Action.Kind == ErouteActionKind.Sa)) return;
                Thread.Sleep(5);
            }
            throw new TimeoutException($"no SA eroute after 15 s ({Wire.Messages} IKE messages)");
        }

        public void Dispose()
        {
            West.Dispose();
            East.Dispose();
            G.Dispose();
        }
    }

    [Fact]
    public void Engine_negotiated_child_sa_carries_traffic_through_both_dataplanes()
    {
        using var e = new Engines();
        e.West.Initiate("west-east");
        e.WaitForSa(e.G.West);
        e.WaitForSa(e.G.East);
        for (uint i = 0; i < 10; i++)
        {
            e.G.FromSunset(SinkPair.Udp("192.0.2.10", "192.0.2.138", i));
            e.G.FromSunrise(SinkPair.Udp("192.0.2.138", "192.0.2.10", 100 + i));
        }
        e.G.Pump();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (uint)i), SinkPair.Sequences(e.G.AtSunrise()));
        Assert.Equal(Enumerable.Range(100, 10).Select(i => (uint)i), SinkPair.Sequences(e.G.AtSunset()));
        Assert.Empty(e.G.West.DropsByReason());
        Assert.Empty(e.G.East.DropsByReason());
        // The engine's status reads the dataplane's counters through the sink.
        ChildSaStatus child = e.West.GetStatus().IkeSas.Single().Children.Single();
        Assert.Equal(10, child.PacketsOut);
        Assert.Equal(10, child.PacketsIn);

        // down: the engine deletes the SAs, west's eroutes go (not routed): NoPolicy, nothing in clear.
        e.West.Terminate("west-east");
        var sw = Stopwatch.StartNew();
        while (e.G.West.ErouteV4.List().Count > 0 && sw.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(5);
        Assert.Empty(e.G.West.ErouteV4.List());
        int wire = e.G.WireLog.Count;
        e.G.FromSunset(SinkPair.Udp("192.0.2.10", "192.0.2.138", 99));
        e.G.Pump();
        Assert.Equal(wire, e.G.WireLog.Count);
        Assert.Equal(1, e.G.West.Drops(FastPath.Dataplane.DropReason.NoPolicy));
    }

    [Fact]
    public void Trap_acquire_reaches_the_engine_and_the_held_packets_cross_once_it_negotiated()
    {
        using var e = new Engines();
        e.G.WestSink.Route(Conn("west-east", SinkPair.WestOutside, SinkPair.EastOutside, "192.0.2.0/25", "192.0.2.128/25"));
        for (uint i = 0; i < 3; i++) e.G.FromSunset(SinkPair.Udp("192.0.2.10", "192.0.2.138", i));
        e.G.Pump();
        Assert.Equal(3, e.G.West.Totals.Held);
        Assert.True(e.G.West.TryReadEvent(out DataplaneEvent ev));
        Assert.True(e.G.WestSink.Dispatch(ev, e.West)); // the real engine: OnAcquire → IKE_SA_INIT
        e.WaitForSa(e.G.West);
        e.WaitForSa(e.G.East);
        // The engine thread is still inside the sink when the SA eroute shows (it releases the held packets right
        // after): pump until they crossed, bounded.
        var crossed = new System.Collections.Generic.List<uint>();
        var sw = Stopwatch.StartNew();
        do
        {
            e.G.Pump();
            crossed.AddRange(SinkPair.Sequences(e.G.AtSunrise()));
            if (crossed.Count >= 3) break;
            Thread.Sleep(5);
        } while (sw.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal(new uint[] { 0, 1, 2 }, crossed);
        Assert.Equal(0, e.G.West.Drops(FastPath.Dataplane.DropReason.ShuntHold));
        Assert.DoesNotContain(e.G.WireLog, SinkPair.IsCleartext);
    }
}
