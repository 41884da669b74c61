using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using FastPath.Ike.Engine;
using FastPath.Ike.Messages;
using FastPath.Ike.Transport;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Ike.Tests.EngineRuns;

// Receive on the engine thread (IkeEngine.Polled.cs, UdpIkeTransport polled mode) on loopback with kernel-chosen ports.
// Establishment through it is covered by IkeFloodTests (the flooded responder), the charon interop tests (CharonTestbed)
// and every daemon test (FastPathGateway); here: the transport's non-blocking receive step, and that an idle polled engine
// answers API calls at once (the eventfd wake-up, not the 500 ms safety net), handles datagrams and shuts down promptly.
public class PolledReceiveTests(ITestOutputHelper output)
{
    private static byte[] IkeLike(byte fill) => UdpTransportTests.IkeLike(fill);

    [Fact]
    public void ReceiveOneNeverBlocksAndCountsWhatItDrops()
    {
        using var t = new UdpIkeTransport([IPAddress.Loopback], 0, 0, new ListLogger("udp", output));
        int handled = 0;
        byte last = 0;
        t.StartPolled((m, l, r) => { handled++; last = m[^1]; });
        Assert.Throws<InvalidOperationException>(() => t.Start((m, l, r) => { }));
        var sw = Stopwatch.StartNew();
        Assert.False(t.ReceiveOne(0)); // nothing waiting: returns at once
        Assert.False(t.ReceiveOne(1));
        Assert.True(sw.ElapsedMilliseconds < 100, $"ReceiveOne on an empty socket took {sw.ElapsedMilliseconds} ms");
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        peer.SendTo(IkeLike(7), new IPEndPoint(IPAddress.Loopback, t.IkePort));
        peer.SendTo(NatT.Keepalive(), new IPEndPoint(IPAddress.Loopback, t.NatTPort));
        peer.SendTo(NatT.AddNonEspMarker(IkeLike(8)), new IPEndPoint(IPAddress.Loopback, t.NatTPort));
        Assert.True(SpinWait.SpinUntil(() => t.ReceiveOne(0), 5000));
        Assert.Equal((1, (byte)7), (handled, last));
        Assert.True(SpinWait.SpinUntil(() => t.ReceiveOne(1), 5000)); // the keepalive: read, counted, not handed on
        Assert.Equal(1, handled);
        Assert.Equal(1, t.Counters.Keepalives);
        Assert.True(SpinWait.SpinUntil(() => t.ReceiveOne(1), 5000));
        Assert.Equal((2, (byte)8), (handled, last));
        Assert.False(t.ReceiveOne(1));
        t.Dispose();
        Assert.False(t.ReceiveOne(0)); // closed: false, no exception
    }

    [Fact]
    public void IdlePolledEngineAnswersAtOnceHandlesDatagramsAndStopsPromptly()
    {
        var log = new ListLogger("polled", output);
        using var t = new UdpIkeTransport([IPAddress.Loopback], 0, 0, log);
        var engine = new IkeEngine(new IkeEngineOptions(), t, new RecordingSink(), log);
        engine.ReceiveOnEngineThread(t);
        Assert.Throws<InvalidOperationException>(() => engine.ReceiveOnEngineThread(t));
        engine.Start();
        Thread.Sleep(700); // past the 500 ms safety-net timeout: the engine thread sleeps in poll(2)
        // API calls wake it through the eventfd: 20 status calls, each far below the 500 ms poll timeout.
        long worst = 0;
        for (int i = 0; i < 20; i++)
        {
            Thread.Sleep(30);
            var sw = Stopwatch.StartNew();
            _ = engine.GetStatus();
            worst = Math.Max(worst, sw.ElapsedMilliseconds);
        }
        Assert.True(worst < 250, $"an idle polled engine took {worst} ms to answer GetStatus (the eventfd wake-up failed?)");
        // Datagrams reach the engine without any receive thread: garbage is parsed and counted invalid.
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        for (int i = 0; i < 10; i++) peer.SendTo(new byte[40], new IPEndPoint(IPAddress.Loopback, t.IkePort));
        Assert.True(SpinWait.SpinUntil(() => engine.GetStatus().Counters.InvalidMessages == 10, 5000),
            $"invalid messages counted: {engine.GetStatus().Counters.InvalidMessages}");
        Assert.Equal(10, t.Counters.Received);
        var stop = Stopwatch.StartNew();
        engine.Dispose();
        Assert.True(stop.ElapsedMilliseconds < 2000, $"Dispose took {stop.ElapsedMilliseconds} ms");
    }
}
