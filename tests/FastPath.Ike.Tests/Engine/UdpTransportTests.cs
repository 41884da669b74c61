using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using FastPath.Ike.Messages;
using FastPath.Ike.Transport;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Ike.Tests.EngineRuns;

// The UDP transport on loopback with kernel-chosen ports: framing on both ports, the local address
// reported, keepalives/ESP/garbage counted, and a receive thread that survives a throwing handler.
public class UdpTransportTests(ITestOutputHelper output)
{
    internal static byte[] IkeLike(byte fill)
    {
        var h = IkeHeader.Create(0x1122334455667788, 0, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0);
        var b = IkeMessageBuilder.Build(h, [new NoncePayload(Enumerable.Repeat(fill, 32).ToArray())]);
        return b;
    }

    [Fact]
    public void FramingCountersAndSurvival()
    {
        using var t = new UdpIkeTransport([IPAddress.Loopback], 0, 0, new ListLogger("udp", output));
        var got = new ConcurrentQueue<(byte[] Msg, IPEndPoint Local, IPEndPoint Remote)>();
        int calls = 0;
        t.Start((m, l, r) =>
        {
            Interlocked.Increment(ref calls);
            if (m[^1] == 1) throw new InvalidOperationException("handler bug");
            got.Enqueue((m.ToArray(), l, r));
        });
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        peer.ReceiveTimeout = 5000;
        var ike = new IPEndPoint(IPAddress.Loopback, t.IkePort);
        var natt = new IPEndPoint(IPAddress.Loopback, t.NatTPort);
        peer.SendTo(IkeLike(1), ike);                    // handler throws: counted, thread lives on
        peer.SendTo(IkeLike(2), ike);                    // delivered as is
        peer.SendTo(NatT.AddNonEspMarker(IkeLike(3)), natt); // marker stripped
        peer.SendTo(NatT.Keepalive(), natt);             // keepalive
        peer.SendTo(new byte[] { 0, 0, 1, 0, 0, 0, 0, 1, 9, 9 }, natt); // ESP
        peer.SendTo(new byte[] { 1, 2, 3 }, ike);        // runt
        Assert.True(SpinWait.SpinUntil(() => got.Count == 2 && t.Counters.Keepalives == 1 && t.Counters.EspDropped == 1 && t.Counters.Invalid == 1, 5000),
            $"got {got.Count}, counters {t.Counters}");
        var two = got.Single(g => g.Msg[^1] == 2);
        var three = got.Single(g => g.Msg[^1] == 3);
        Assert.Equal(IkeLike(2), two.Msg);
        Assert.Equal(IkeLike(3), three.Msg);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, t.IkePort), two.Local);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, t.NatTPort), three.Local);
        Assert.Equal(peer.LocalEndPoint, two.Remote);
        Assert.Equal(1, t.Counters.Errors);
        // Sending: from the IKE port as is, from the NAT-T port with the marker.
        var buf = new byte[2048];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        t.Send(IkeLike(4), new IPEndPoint(IPAddress.Loopback, t.IkePort), (IPEndPoint)peer.LocalEndPoint!);
        int n = peer.ReceiveFrom(buf, ref from);
        Assert.Equal(IkeLike(4), buf[..n]);
        Assert.Equal(t.IkePort, ((IPEndPoint)from).Port);
        t.Send(IkeLike(5), new IPEndPoint(IPAddress.Loopback, t.NatTPort), (IPEndPoint)peer.LocalEndPoint!);
        n = peer.ReceiveFrom(buf, ref from);
        Assert.Equal(NatT.AddNonEspMarker(IkeLike(5)), buf[..n]);
        Assert.Equal(t.NatTPort, ((IPEndPoint)from).Port);
        t.SendKeepalive(new IPEndPoint(IPAddress.Loopback, t.NatTPort), (IPEndPoint)peer.LocalEndPoint!);
        n = peer.ReceiveFrom(buf, ref from);
        Assert.Equal(new byte[] { 0xFF }, buf[..n]);
    }

    [Fact]
    public void WildcardBindReportsTheArrivalAddress()
    {
        using var t = new UdpIkeTransport([IPAddress.Any], 0, 0, new ListLogger("udp", output));
        var got = new ConcurrentQueue<IPEndPoint>();
        t.Start((m, l, r) => got.Enqueue(l));
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peer.SendTo(IkeLike(1), new IPEndPoint(IPAddress.Parse("127.0.0.2"), t.IkePort));
        Assert.True(SpinWait.SpinUntil(() => got.Count == 1, 5000));
        Assert.Equal(IPAddress.Parse("127.0.0.2"), got.Single().Address); // IP_PKTINFO, not 0.0.0.0
    }
}
