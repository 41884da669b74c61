using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Threading;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
using FastPath.Dataplane.Tests.Support;
using Xunit;

namespace FastPath.Dataplane.Tests.Pipeline;

using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>
/// SA ownership with two workers on west (as with fanout ports: traffic of one tunnel reaches
/// both workers): the tunnel's SAs live on worker 1; what reaches worker 0 is handed to worker 1
/// over the handoff rings, encrypted or decrypted there and sent on worker 1's ports.
/// </summary>
public sealed class PipelineHandoffTests : IDisposable
{
    private readonly (InMemoryIo A, InMemoryIo B)[] _westIn = [InMemoryIo.CreatePair(), InMemoryIo.CreatePair()];
    private readonly (InMemoryIo A, InMemoryIo B)[] _westOut = [InMemoryIo.CreatePair(), InMemoryIo.CreatePair()];
    private readonly (InMemoryIo A, InMemoryIo B) _eastIn = InMemoryIo.CreatePair();
    private readonly (InMemoryIo A, InMemoryIo B) _eastOut = InMemoryIo.CreatePair();
    private readonly Dataplane _west, _east;
    private readonly GatewayPairTools _t = new();

    public PipelineHandoffTests()
    {
        _west = new Dataplane(new DataplaneOptions { WorkerCount = 2, LocalAddresses = [IPAddress.Parse("203.0.113.1")] },
            i => (_westIn[i].B, _westOut[i].A));
        _east = new Dataplane(new DataplaneOptions { LocalAddresses = [IPAddress.Parse("203.0.113.2")] }, _ => (_eastIn.A, _eastOut.B));
        var suite = EspSuite.Parse("aes128gcm16");
        byte[] k1 = GatewayPair.Keys(suite, 1), k2 = GatewayPair.Keys(suite, 2);
        Assert.Equal(1, _west.InstallOutbound(GatewayPair.Params(0x1001, suite, k1, "203.0.113.1", "203.0.113.2"), worker: 1).Worker);
        Assert.Equal(1, _west.InstallInbound(GatewayPair.Params(0x2001, suite, k2, "203.0.113.1", "203.0.113.2"), policyGroup: 0x1001, worker: 1).Worker);
        _east.InstallOutbound(GatewayPair.Params(0x2001, suite, k2, "203.0.113.2", "203.0.113.1"));
        _east.InstallInbound(GatewayPair.Params(0x1001, suite, k1, "203.0.113.2", "203.0.113.1"), policyGroup: 0x2001);
        _west.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.0/25", "192.0.2.128/25"), ErouteAction.Sa(0x1001));
        _east.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.128/25", "192.0.2.0/25"), ErouteAction.Sa(0x2001));
        _west.NextHops.Set(IPAddress.Parse("203.0.113.2"), new NextHop(2, GatewayPair.EastOutMac, GatewayPair.WestOutMac, 1500));
        _west.NextHops.Set(IPAddress.Parse("192.0.2.10"), new NextHop(1, GatewayPair.SunsetMac, GatewayPair.WestInMac, 1500));
        _east.NextHops.Set(IPAddress.Parse("203.0.113.1"), new NextHop(2, GatewayPair.WestOutMac, GatewayPair.EastOutMac, 1500));
        _east.NextHops.Set(IPAddress.Parse("192.0.2.138"), new NextHop(1, GatewayPair.SunriseMac, GatewayPair.EastInMac, 1500));
    }

    /// <summary>West's outside frames (from either worker) go to east; east's replies always reach
    /// west's worker 0, which does not own the inbound SA.</summary>
    private int Relay()
    {
        int n = 0;
        foreach (var port in _westOut)
            foreach (byte[] f in _t.Drain(port.B)) { _t.Send(_eastOut.A, f); n++; }
        foreach (byte[] f in _t.Drain(_eastOut.A)) { _t.Send(_westOut[0].B, f); n++; }
        return n;
    }

    [Fact]
    public void PacketsOfAnSaOwnedByAnotherWorkerAreHandedToItBothWays()
    {
        byte[] there = TestPackets.Ipv4Udp(300, 1);
        _t.Send(_westIn[0].A, GatewayPair.Frame(GatewayPair.WestInMac, GatewayPair.SunsetMac, there));
        _west.Step(); // worker 0: eroute → SA 0x1001 owned by worker 1 → handoff; worker 1 drains and encrypts
        Assert.Empty(_t.Drain(_westOut[0].B)); // nothing left on worker 0's outside port
        List<byte[]> onWire = _t.Drain(_westOut[1].B);
        Assert.Single(onWire);
        Assert.Equal(50, onWire[0][14 + 9]);
        _t.Send(_eastOut.A, onWire[0]);
        _east.Step();
        Assert.Equal(GatewayPair.AfterHops(there, 2), Assert.Single(_t.Drain(_eastIn.B))[14..]);

        byte[] back = TestPackets.Ipv4Udp(200, 2, src: "192.0.2.138", dst: "192.0.2.10");
        _t.Send(_eastIn.B, GatewayPair.Frame(GatewayPair.EastInMac, GatewayPair.SunriseMac, back));
        _east.Step();
        Relay(); // east's ESP goes to west worker 0's outside port
        _west.Step(); // worker 0: SPI 0x2001 owned by worker 1 → handoff; worker 1 decrypts → its inside port
        Assert.Empty(_t.Drain(_westIn[0].A));
        Assert.Equal(GatewayPair.AfterHops(back, 2), Assert.Single(_t.Drain(_westIn[1].A))[14..]);

        Assert.Equal(2, _west.Workers[0].Counters.HandedOff);
        Assert.Equal(2, _west.Workers[1].Counters.HandoffReceived);
        Assert.Equal(1, _west.Workers[1].EspCounters.Encapsulated);
        Assert.Equal(1, _west.Workers[1].EspCounters.Decapsulated);
        Assert.Equal(0, _west.Totals.Drops + _east.Totals.Drops);
    }

    [Fact]
    public void RunningWorkersHandOffUnderLoadWithoutLoss()
    {
        _west.Start();
        _east.Start();
        try
        {
            byte[][] frames = Enumerable.Range(0, 2).Select(i => GatewayPair.Frame(GatewayPair.WestInMac, GatewayPair.SunsetMac, TestPackets.Ipv4Udp(100, i))).ToArray();
            const int Count = 6000;
            int sent = 0, got = 0;
            var sw = Stopwatch.StartNew();
            while (got < Count && sw.Elapsed < TimeSpan.FromSeconds(30))
            {
                while (sent < Count && sent - got < 200)
                {
                    _t.Send(_westIn[sent % 2].A, frames[sent % 2]); // both workers' inside ports
                    sent++;
                }
                int moved = Relay();
                int n = _t.Drain(_eastIn.B).Count;
                got += n;
                if (n + moved == 0) Thread.Sleep(1);
            }
            Assert.Equal(Count, got);
            Assert.True(_west.Workers[0].Counters.HandedOff >= Count / 2);
            Assert.Equal(_west.Workers[0].Counters.HandedOff, _west.Workers[1].Counters.HandoffReceived);
        }
        finally
        {
            _west.Stop();
            _east.Stop();
        }
        Assert.Equal(0, _west.Totals.Drops + _east.Totals.Drops);
    }

    public void Dispose()
    {
        _west.Dispose();
        _east.Dispose();
        foreach (var p in _westIn) p.A.Dispose();
        foreach (var p in _westOut) p.B.Dispose();
        _eastIn.B.Dispose();
        _eastOut.A.Dispose();
        _t.Dispose();
    }
}
