using System;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FastPath.Ike.Crypto;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Ike.Tests.EngineRuns;

// Engine ↔ engine over the in-memory wire with a fake clock: both sides are the real IkeEngine.
public class EngineTests(ITestOutputHelper output)
{
    private static IkeConnection WithPsk(IkeConnection c, string? local = null, string? remote = null) => new()
    {
        Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
        LocalTs = c.LocalTs, RemoteTs = c.RemoteTs, Encapsulation = c.Encapsulation, KeyingTries = c.KeyingTries,
        LocalCredentials = new IkeCredentials { Psk = local is null ? null : System.Text.Encoding.ASCII.GetBytes(local) },
        RemoteCredentials = new IkeCredentials { Psk = remote is null ? null : System.Text.Encoding.ASCII.GetBytes(remote) },
    };

    private static void AssertChildPair(EnginePair p, string xfrmName)
    {
        Assert.Single(p.WestSink.Inbound);
        Assert.Single(p.WestSink.Outbound);
        Assert.Single(p.EastSink.Inbound);
        Assert.Single(p.EastSink.Outbound);
        var w = p.WestSink.Inbound.Values.Single();
        var e = p.EastSink.Inbound.Values.Single();
        // Crosswise: west's inbound SA is east's outbound SA, with the same keys.
        Assert.Equal(w.InboundSpi, e.OutboundSpi);
        Assert.Equal(w.OutboundSpi, e.InboundSpi);
        Assert.Equal(Convert.ToHexString(w.InboundEncryptionKey), Convert.ToHexString(e.OutboundEncryptionKey));
        Assert.Equal(Convert.ToHexString(w.InboundIntegrityKey), Convert.ToHexString(e.OutboundIntegrityKey));
        Assert.Equal(Convert.ToHexString(w.OutboundEncryptionKey), Convert.ToHexString(e.InboundEncryptionKey));
        Assert.Equal(Convert.ToHexString(w.OutboundIntegrityKey), Convert.ToHexString(e.InboundIntegrityKey));
        Assert.NotEqual(Convert.ToHexString(w.InboundEncryptionKey), Convert.ToHexString(w.OutboundEncryptionKey));
        Assert.True(w.UdpEncapsulation && e.UdpEncapsulation);
        Assert.Equal(4500, w.RemotePort);
        Assert.Contains(xfrmName, w.Suite.ToString(), StringComparison.Ordinal);
        Assert.Equal(w.IkeSerial, p.West.GetStatus().IkeSas.Single().Serial);
    }

    [Theory]
    [InlineData("aes128gcm16-prfsha256-x25519!", "aes128gcm16!", "AES_GCM_16_128", "CURVE25519")]
    [InlineData("aes256gcm16-prfsha384-ecp384!", "aes256gcm16!", "AES_GCM_16_256", "ECP384")]
    [InlineData("aes128-sha256-modp2048!", "aes128-sha256!", "AES_CBC_128", "MODP2048")]
    [InlineData("3des-sha1-modp2048!", "3des-sha1!", "3DES_CBC", "MODP2048")]
    [InlineData("aes256-sha512-ecp256!", "aes256-sha512!", "AES_CBC_256", "ECP256")]
    public void PskEstablishesIkeAndChildSa(string ike, string esp, string cipher, string group)
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("west-east", EnginePair.WestIp, EnginePair.EastIp, ike, esp, "192.0.2.0/25", "192.0.2.128/25"));
        p.East.AddConnection(EnginePair.Conn("west-east", EnginePair.EastIp, EnginePair.WestIp, ike, esp, "192.0.2.128/25", "192.0.2.0/25"));
        p.West.Initiate("west-east");
        p.Run(TimeSpan.FromSeconds(2));
        var ws = p.West.GetStatus();
        var es = p.East.GetStatus();
        Assert.Equal("ESTABLISHED", ws.IkeSas.Single().State);
        Assert.Equal("ESTABLISHED", es.IkeSas.Single().State);
        Assert.True(ws.IkeSas[0].Initiator);
        Assert.False(es.IkeSas[0].Initiator);
        Assert.Equal(ws.IkeSas[0].SpiR, es.IkeSas[0].SpiR);
        AssertChildPair(p, cipher[..7]);
        var w = p.WestSink.Inbound.Values.Single();
        Assert.Equal("192.0.2.0/25", TrafficSelectors.Format(w.LocalTs));
        Assert.Contains(p.WestLog.Lines, l => l.Contains("\"west-east\" #1: initiating IKEv2 connection", StringComparison.Ordinal));
        Assert.Contains(p.WestLog.Lines, l => l.Contains($"\"west-east\" #1: IKE SA established {{auth=PSK cipher={cipher}", StringComparison.Ordinal) && l.Contains($"group={group}}}", StringComparison.Ordinal));
        Assert.Contains(p.WestLog.Lines, l => l.Contains("\"west-east\" #2: IPsec SA established tunnel mode {ESP/NAT=>0x", StringComparison.Ordinal));
        // Floated: everything after IKE_SA_INIT is on 4500.
        Assert.All(p.Wire.Sent.Where(d => d.Header.Exchange != ExchangeType.IkeSaInit), d => Assert.Equal(4500, d.To.Port));
        Assert.DoesNotContain(p.WestLog.Lines, l => l.Contains("SK_d=", StringComparison.Ordinal));
        Assert.Equal(1, ws.Counters.ChildSasEstablished);
    }

    [Fact]
    public void WrongPskIsAuthenticationFailedAtTheResponder()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(WithPsk(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp), "psk-of-west-0123456789"));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(5));
        Assert.Empty(p.West.GetStatus().IkeSas);
        Assert.Empty(p.East.GetStatus().IkeSas);
        Assert.Equal(1, p.East.GetStatus().Counters.AuthFailures);
        Assert.Equal(1, p.West.GetStatus().Counters.AuthFailures);
        Assert.Contains(p.WestLog.Lines, l => l.Contains("peer sent AUTHENTICATION_FAILED", StringComparison.Ordinal));
        Assert.Contains(p.EastLog.Lines, l => l.Contains("AUTHENTICATION_FAILED for peer 203.0.113.1", StringComparison.Ordinal));
        Assert.Empty(p.WestSink.Inbound);
        Assert.Empty(p.EastSink.Inbound);
    }

    [Fact]
    public void BadResponderAuthIsAuthenticationFailedAtTheInitiator()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp));
        // East verifies west with the right key but signs with a wrong one.
        p.East.AddConnection(WithPsk(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp), "not-the-psk-0123456789", EnginePair.Psk));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(5));
        Assert.Empty(p.West.GetStatus().IkeSas);
        Assert.Empty(p.East.GetStatus().IkeSas); // deleted on the initiator's AUTHENTICATION_FAILED notify
        Assert.Contains(p.WestLog.Lines, l => l.Contains("AUTHENTICATION_FAILED for peer 203.0.113.2", StringComparison.Ordinal));
        Assert.Contains(p.EastLog.Lines, l => l.Contains("peer sent AUTHENTICATION_FAILED", StringComparison.Ordinal));
        Assert.Empty(p.WestSink.Inbound);
        Assert.Empty(p.EastSink.Inbound);
        Assert.Empty(p.EastSink.Outbound);
    }

    [Fact]
    public void IkeProposalMismatchIsNoProposalChosen()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp, "aes128gcm16-prfsha256-x25519!"));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp, "aes256-sha256-modp2048!"));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(5));
        Assert.Empty(p.West.GetStatus().IkeSas);
        Assert.Empty(p.East.GetStatus().IkeSas);
        Assert.Contains(p.WestLog.Lines, l => l.Contains("IKE_SA_INIT refused: NoProposalChosen", StringComparison.Ordinal));
        Assert.Contains(p.EastLog.Lines, l => l.Contains("NO_PROPOSAL_CHOSEN", StringComparison.Ordinal));
    }

    [Fact]
    public void EspProposalMismatchKeepsTheIkeSa()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp, esp: "aes128gcm16!"));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp, esp: "aes256-sha256!"));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(3));
        Assert.Equal("ESTABLISHED", p.West.GetStatus().IkeSas.Single().State);
        Assert.Equal("ESTABLISHED", p.East.GetStatus().IkeSas.Single().State);
        Assert.Empty(p.WestSink.Inbound);
        Assert.Empty(p.EastSink.Inbound);
        Assert.Contains(p.WestLog.Lines, l => l.Contains("CHILD_SA not established, IKE SA kept: NoProposalChosen", StringComparison.Ordinal));
    }

    [Fact]
    public void DisjointTrafficSelectorsAreTsUnacceptable()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp, localTs: "192.0.2.0/25", remoteTs: "198.51.100.0/24"));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp, localTs: "192.0.2.128/25", remoteTs: "192.0.2.0/25"));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(3));
        Assert.Equal("ESTABLISHED", p.West.GetStatus().IkeSas.Single().State);
        Assert.Empty(p.WestSink.Inbound);
        Assert.Empty(p.EastSink.Inbound);
        Assert.Contains(p.WestLog.Lines, l => l.Contains("IKE SA kept: TsUnacceptable", StringComparison.Ordinal));
        Assert.Contains(p.EastLog.Lines, l => l.Contains("refusing CHILD_SA with TS_UNACCEPTABLE", StringComparison.Ordinal));
    }

    [Fact]
    public void ResponderNarrowsTrafficSelectors()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp, localTs: "192.0.2.0/24", remoteTs: "198.51.100.0/24"));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp, localTs: "198.51.100.0/25", remoteTs: "192.0.2.0/26"));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(3));
        var w = p.WestSink.Inbound.Values.Single();
        Assert.Equal("192.0.2.0/26", TrafficSelectors.Format(w.LocalTs));
        Assert.Equal("198.51.100.0/25", TrafficSelectors.Format(w.RemoteTs));
    }

    [Fact]
    public void InvalidKePayloadMakesTheInitiatorRetryWithTheAskedGroup()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp, "aes128gcm16-prfsha256-x25519-ecp256!"));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp, "aes128gcm16-prfsha256-ecp256!"));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(3));
        var sa = p.West.GetStatus().IkeSas.Single();
        Assert.Equal("ESTABLISHED", sa.State);
        Assert.Contains("ECP_256", sa.Suite, StringComparison.Ordinal);
        Assert.Contains(p.WestLog.Lines, l => l.Contains("INVALID_KE_PAYLOAD: retrying with ECP_256 instead of CURVE_25519", StringComparison.Ordinal));
        AssertChildPair(p, "AES_GCM");
    }

    [Fact]
    public void LostMessagesAreRetransmitted()
    {
        using var p = new EnginePair(output);
        int initRequests = 0, authResponses = 0;
        p.Wire.Filter = d =>
        {
            var h = d.Header;
            if (h.Exchange == ExchangeType.IkeSaInit && !h.IsResponse && initRequests++ == 0) return WireAction.Drop;
            if (h.Exchange == ExchangeType.IkeAuth && h.IsResponse && authResponses++ < 2) return WireAction.Drop;
            return WireAction.Deliver;
        };
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(500));
        AssertChildPair(p, "AES_GCM");
        Assert.Equal(3, p.West.GetStatus().Counters.Retransmits); // 1 IKE_SA_INIT + 2 IKE_AUTH
        Assert.Single(p.EastSink.Inbound); // the retransmitted IKE_AUTH got the cached response, no second child
        Assert.Contains(p.EastLog.Lines, l => l.Contains("resending our response", StringComparison.Ordinal));
    }

    [Fact]
    public void DuplicatedAndReplayedMessagesChangeNothing()
    {
        using var p = new EnginePair(output);
        p.Wire.Filter = _ => WireAction.Duplicate;
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(3));
        AssertChildPair(p, "AES_GCM");
        Assert.Single(p.East.GetStatus().IkeSas);
        // Replay the whole conversation west→east again later: nothing new comes of it.
        p.Wire.Filter = _ => WireAction.Deliver;
        var fromWest = p.Wire.Sent.Where(d => d.From.Address.Equals(EnginePair.WestIp)).ToList();
        foreach (var d in fromWest) p.East.OnDatagram(d.Bytes, d.To, d.From);
        var fromEast = p.Wire.Sent.Where(d => d.From.Address.Equals(EnginePair.EastIp)).ToList();
        foreach (var d in fromEast) p.West.OnDatagram(d.Bytes, d.To, d.From);
        p.Run(TimeSpan.FromSeconds(2));
        AssertChildPair(p, "AES_GCM");
        Assert.Single(p.East.GetStatus().IkeSas);
        Assert.Single(p.West.GetStatus().IkeSas);
        Assert.True(p.West.DropCounters.Stale > 0);
    }

    [Fact]
    public void DeleteFromTheInitiator()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        AssertChildPair(p, "AES_GCM");
        p.West.Terminate("c");
        p.Run(TimeSpan.FromSeconds(2));
        Assert.Empty(p.West.GetStatus().IkeSas);
        Assert.Empty(p.East.GetStatus().IkeSas);
        Assert.Empty(p.WestSink.Inbound);
        Assert.Empty(p.WestSink.Outbound);
        Assert.Empty(p.EastSink.Inbound);
        Assert.Empty(p.EastSink.Outbound);
        Assert.Contains(p.EastLog.Lines, l => l.Contains("peer deleted the IKE SA", StringComparison.Ordinal));
    }

    [Fact]
    public void DeleteFromTheResponder()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        p.East.Terminate("c");
        p.Run(TimeSpan.FromSeconds(2));
        Assert.Empty(p.West.GetStatus().IkeSas);
        Assert.Empty(p.East.GetStatus().IkeSas);
        Assert.Empty(p.WestSink.Inbound);
        Assert.Empty(p.EastSink.Outbound);
        Assert.Contains(p.WestLog.Lines, l => l.Contains("peer deleted the IKE SA", StringComparison.Ordinal));
    }

    private static IkeConnection WithDpd(IkeConnection c, DpdAction action) => new()
    {
        Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
        LocalCredentials = c.LocalCredentials, Encapsulation = c.Encapsulation, KeyingTries = 0,
        DpdDelay = TimeSpan.FromSeconds(30), DpdTimeout = TimeSpan.FromSeconds(60), DpdAction = action,
    };

    [Theory]
    [InlineData(DpdAction.Clear)]
    [InlineData(DpdAction.Restart)]
    public void DeadPeerDetectionAppliesTheAction(DpdAction action)
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(WithDpd(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp), action));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        AssertChildPair(p, "AES_GCM");
        // Alive peer: DPD probes are answered, nothing changes over 2 minutes.
        p.Run(TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(5));
        Assert.Single(p.West.GetStatus().IkeSas);
        Assert.Contains(p.Wire.Sent, d => d.Header.Exchange == ExchangeType.Informational && d.From.Address.Equals(EnginePair.WestIp));
        // ESP arriving counts as liveness: no probe while the inbound counter moves.
        int informationalBefore = p.Wire.Sent.Count(d => d.Header.Exchange == ExchangeType.Informational);
        uint inSpi = p.WestSink.Inbound.Keys.Single();
        for (int i = 0; i < 6; i++)
        {
            p.WestSink.InboundPackets[inSpi] = 100 * (i + 1);
            p.Run(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5));
        }
        Assert.Equal(informationalBefore, p.Wire.Sent.Count(d => d.Header.Exchange == ExchangeType.Informational));
        // The link dies.
        p.Wire.Filter = _ => WireAction.Drop;
        p.Run(TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(2));
        Assert.Equal(1, p.West.GetStatus().Counters.DpdTimeouts);
        Assert.Empty(p.WestSink.Inbound);
        Assert.Empty(p.WestSink.Outbound);
        Assert.Contains(p.WestLog.Lines, l => l.Contains($"dpdaction={action.ToString().ToLowerInvariant()}", StringComparison.Ordinal));
        if (action == DpdAction.Restart)
        {
            Assert.Single(p.West.GetStatus().IkeSas); // connecting again
            p.Wire.Filter = _ => WireAction.Deliver;
            p.Run(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(2));
            var up = p.West.GetStatus().IkeSas.Where(s => s.State == "ESTABLISHED").ToList();
            Assert.Single(up);
            Assert.Single(p.WestSink.Inbound);
        }
        else
        {
            Assert.Empty(p.West.GetStatus().IkeSas);
        }
    }

    [Fact]
    public void CookiesUnderASpoofedFlood()
    {
        using var p = new EnginePair(output, eastOptions: new IkeEngineOptions { CookieThreshold = 5 });
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp));
        var any = EnginePair.Conn("any", EnginePair.EastIp, null);
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.East.AddConnection(any);
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        AssertChildPair(p, "AES_GCM");
        // 200 IKE_SA_INITs from spoofed 198.51.100.x sources.
        var offer = ProposalWire.ToSaPayload(ProposalParser.Parse("aes128gcm16-prfsha256-x25519!", ProposalProtocol.Ike).Proposals, []);
        for (int i = 0; i < 200; i++)
        {
            using var ke = KeyExchange.Create(DhGroup.Curve25519);
            var h = IkeHeader.Create((ulong)(0x1000 + i), 0, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0);
            byte[] m = IkeMessageBuilder.Build(h, [offer, new KePayload(31, ke.PublicValue), new NoncePayload(RandomNumberGenerator.GetBytes(32))]);
            p.East.OnDatagram(m, new IPEndPoint(EnginePair.EastIp, 500), new IPEndPoint(IPAddress.Parse($"198.51.100.{1 + i % 250}"), 500 + i));
        }
        p.Settle();
        var st = p.East.GetStatus();
        Assert.Equal(5, st.Counters.HalfOpen);
        Assert.Equal(195, st.Counters.CookiesSent);
        Assert.Equal("ESTABLISHED", st.IkeSas.Single(s => s.Connection == "c").State);
        // A real initiator still gets in (it echoes the cookie), and the old SA keeps working.
        p.West.Terminate("c");
        p.Run(TimeSpan.FromSeconds(2));
        Assert.Empty(p.EastSink.Inbound);
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(3));
        Assert.Contains(p.WestLog.Lines, l => l.Contains("responder asks for a COOKIE", StringComparison.Ordinal));
        AssertChildPair(p, "AES_GCM");
        // Half-open SAs expire (30 s).
        p.Run(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(5));
        Assert.Equal(0, p.East.GetStatus().Counters.HalfOpen);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FragmentationWhenBothSupportIt(bool enabled)
    {
        var small = new IkeEngineOptions { FragmentSize = 300 };
        using var p = new EnginePair(output, small, small);
        var ts = string.Join(",", Enumerable.Range(0, 1));
        _ = ts;
        IkeConnection Big(IkeConnection c, bool frag) => new()
        {
            Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
            LocalCredentials = c.LocalCredentials, Encapsulation = c.Encapsulation, KeyingTries = 1, Fragmentation = frag,
            LocalTs = Enumerable.Range(0, 20).Select(i => TrafficSelectors.FromPrefix($"10.{i}.0.0/16")).ToList(),
            RemoteTs = Enumerable.Range(0, 20).Select(i => TrafficSelectors.FromPrefix($"10.{100 + i}.0.0/16")).ToList(),
        };
        p.West.AddConnection(Big(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp), enabled));
        var east = EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp);
        p.East.AddConnection(new IkeConnection
        {
            Name = "c", LocalAddress = east.LocalAddress, RemoteAddress = east.RemoteAddress, IkeProposals = east.IkeProposals, EspProposals = east.EspProposals,
            LocalCredentials = east.LocalCredentials, Encapsulation = east.Encapsulation,
            LocalTs = [TrafficSelectors.FromPrefix("10.0.0.0/8")], RemoteTs = [TrafficSelectors.FromPrefix("10.0.0.0/8")],
        });
        // Reverse the order of fragments on the way (they are verified one by one and joined in order).
        p.Wire.Filter = d => d.IsFragment ? WireAction.Hold : WireAction.Deliver;
        p.West.Initiate("c");
        for (int i = 0; i < 10; i++)
        {
            p.Settle();
            p.Wire.ReleaseHeld(reverse: true);
        }
        p.Run(TimeSpan.FromSeconds(2));
        var frags = p.Wire.Sent.Where(d => d.IsFragment).ToList();
        if (enabled)
        {
            Assert.True(frags.Count >= 4, $"{frags.Count} fragments");
            Assert.All(frags, f => Assert.True(f.Bytes.Length <= 300 - 4));
            Assert.Contains(p.EastLog.Lines, l => l.Contains("reassembled from", StringComparison.Ordinal));
        }
        else
        {
            Assert.Empty(frags);
            Assert.Contains(p.Wire.Sent, d => d.Header.Exchange == ExchangeType.IkeAuth && d.Bytes.Length > 300);
        }
        var w = p.WestSink.Inbound.Values.Single();
        Assert.Equal(20, w.LocalTs.Count);
        AssertChildPair(p, "AES_GCM");
    }

    [Fact]
    public void CharonStyleResponderWithAnyPeer()
    {
        // East accepts %any with PSK; west has no local address configured for the TS (defaults to its address).
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp));
        p.East.AddConnection(EnginePair.Conn("roadwarrior", EnginePair.EastIp, null));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        AssertChildPair(p, "AES_GCM");
        var e = p.EastSink.Inbound.Values.Single();
        Assert.Equal("roadwarrior", e.Connection);
        Assert.Equal("203.0.113.1/32", TrafficSelectors.Format(e.RemoteTs));
    }

    [Fact]
    public void GarbageNeverBreaksTheEngine()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        var rnd = new Random(7);
        var real = p.Wire.Sent.Select(d => d.Bytes).ToList();
        for (int i = 0; i < 20000; i++)
        {
            byte[] m = (byte[])real[rnd.Next(real.Count)].Clone();
            int flips = 1 + rnd.Next(4);
            for (int f = 0; f < flips; f++) m[rnd.Next(m.Length)] ^= (byte)(1 << rnd.Next(8));
            if (rnd.Next(4) == 0) m = m.AsSpan(0, rnd.Next(m.Length)).ToArray();
            var target = rnd.Next(2) == 0 ? p.East : p.West;
            target.OnDatagram(m, new IPEndPoint(rnd.Next(2) == 0 ? EnginePair.EastIp : EnginePair.WestIp, 4500), new IPEndPoint(EnginePair.WestIp, 4500));
        }
        p.Run(TimeSpan.FromSeconds(2));
        Assert.DoesNotContain(p.WestLog.Lines.Concat(p.EastLog.Lines), l => l.Contains("internal error", StringComparison.Ordinal));
        AssertChildPair(p, "AES_GCM");
        // Still fully working: delete goes through.
        p.West.Terminate("c");
        p.Run(TimeSpan.FromSeconds(2));
        // (Mutated IKE_SA_INIT requests with other SPIs legitimately leave half-open SAs behind.)
        Assert.DoesNotContain(p.East.GetStatus().IkeSas, s => s.State == "ESTABLISHED");
        Assert.Empty(p.EastSink.Inbound);
    }

    [Fact]
    public void AcquireInitiatesWithThePacketAsFirstSelector()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp, localTs: "192.0.2.0/25", remoteTs: "192.0.2.128/25"));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp, localTs: "192.0.2.128/25", remoteTs: "192.0.2.0/25"));
        p.West.OnAcquire("c", IPAddress.Parse("192.0.2.10"), IPAddress.Parse("192.0.2.200"), 6, 40000, 80);
        p.Run(TimeSpan.FromSeconds(2));
        var req = p.Wire.Sent.First(d => d.Header.Exchange == ExchangeType.IkeAuth);
        Assert.NotNull(req);
        var w = p.WestSink.Inbound.Values.Single();
        Assert.Equal("192.0.2.0/25", TrafficSelectors.Format(w.LocalTs));
        Assert.Contains(p.WestLog.Lines, l => l.Contains("acquire for 192.0.2.10", StringComparison.Ordinal));
    }

    [Fact]
    public void KeyingTriesRetryUntilThePeerAnswers()
    {
        using var p = new EnginePair(output, new IkeEngineOptions { RetransmitTries = 1, RetransmitBase = TimeSpan.FromSeconds(1) });
        var c = EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp);
        p.West.AddConnection(new IkeConnection
        {
            Name = "c", LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
            LocalCredentials = c.LocalCredentials, Encapsulation = c.Encapsulation, KeyingTries = 0, StartAction = ConnectionStartAction.Start,
        });
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.Wire.Filter = _ => WireAction.Drop;
        p.West.Start();
        p.Run(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
        Assert.True(p.WestLog.Lines.Count(l => l.Contains("initiating IKEv2 connection", StringComparison.Ordinal)) >= 4);
        p.Wire.Filter = _ => WireAction.Deliver;
        p.Run(TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
        AssertChildPair(p, "AES_GCM");
    }

    // ---- certificates / raw public keys ----

    private static (X509Certificate2 Ca, ECDsa CaKey) MakeCa()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=FastPath Test CA, O=FastPath", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var ca = req.CreateSelfSigned(DateTimeOffset.Parse("2026-01-01T00:00:00Z"), DateTimeOffset.Parse("2028-01-01T00:00:00Z"));
        return (ca, key);
    }

    private static (X509Certificate2 Cert, IkePrivateKey Key) MakeEe(X509Certificate2 ca, ECDsa caKey, string cn, string dns, bool rsa)
    {
        AsymmetricAlgorithm k = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var req = rsa
            ? new CertificateRequest($"CN={cn}, O=FastPath", (RSA)k, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest($"CN={cn}, O=FastPath", (ECDsa)k, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dns);
        req.CertificateExtensions.Add(san.Build());
        var serial = RandomNumberGenerator.GetBytes(8);
        var cert = req.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), DateTimeOffset.Parse("2026-02-01T00:00:00Z"), DateTimeOffset.Parse("2027-12-01T00:00:00Z"), serial);
        return (cert, rsa ? IkePrivateKey.FromRsa((RSA)k) : IkePrivateKey.FromEcdsa((ECDsa)k));
    }

    private static IkeConnection PubKey(IkeConnection c, IkeIdentity localId, IkeIdentity remoteId, IkeCredentials local, IkeCredentials remote) => new()
    {
        Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
        Encapsulation = c.Encapsulation, KeyingTries = 1, LocalId = localId, RemoteId = remoteId,
        LocalAuth = IkeAuthKind.PublicKey, RemoteAuth = IkeAuthKind.PublicKey, LocalCredentials = local, RemoteCredentials = remote,
    };

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void CertificateAuthentication(bool rsa, bool dnIds)
    {
        using var p = new EnginePair(output);
        var (ca, caKey) = MakeCa();
        var (wc, wk) = MakeEe(ca, caKey, "west", "west.fastpath.test", rsa);
        var (ec, ek) = MakeEe(ca, caKey, "east", "east.fastpath.test", rsa);
        var trust = new X509Certificate2Collection(ca);
        var wid = dnIds ? IkeIdentity.Parse("CN=west, O=FastPath") : IkeIdentity.Parse("@west.fastpath.test");
        var eid = dnIds ? IkeIdentity.Parse("CN=east, O=FastPath") : IkeIdentity.Parse("@east.fastpath.test");
        p.West.AddConnection(PubKey(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp), wid, eid,
            new IkeCredentials { PrivateKey = wk, Certificate = wc }, new IkeCredentials { TrustedCas = trust }));
        p.East.AddConnection(PubKey(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp), eid, wid,
            new IkeCredentials { PrivateKey = ek, Certificate = ec }, new IkeCredentials { TrustedCas = trust }));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        AssertChildPair(p, "AES_GCM");
        Assert.Contains(p.WestLog.Lines, l => l.Contains("IKE SA established {auth=DIGITAL_SIGNATURE", StringComparison.Ordinal));
        Assert.Contains(p.Wire.Sent, d => d.Header.Exchange == ExchangeType.IkeSaInit); // (CERT travels inside SK)
        Assert.Equal(wid.ToString(), p.East.GetStatus().IkeSas.Single().RemoteId);
    }

    [Fact]
    public void CertificateFromAnUntrustedCaFails()
    {
        using var p = new EnginePair(output);
        var (ca, caKey) = MakeCa();
        var (other, otherKey) = MakeCa();
        var (wc, wk) = MakeEe(other, otherKey, "west", "west.fastpath.test", false);
        var (ec, ek) = MakeEe(ca, caKey, "east", "east.fastpath.test", false);
        var wid = IkeIdentity.Parse("@west.fastpath.test");
        var eid = IkeIdentity.Parse("@east.fastpath.test");
        p.West.AddConnection(PubKey(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp), wid, eid,
            new IkeCredentials { PrivateKey = wk, Certificate = wc }, new IkeCredentials { TrustedCas = new X509Certificate2Collection(ca) }));
        p.East.AddConnection(PubKey(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp), eid, wid,
            new IkeCredentials { PrivateKey = ek, Certificate = ec }, new IkeCredentials { TrustedCas = new X509Certificate2Collection(ca) }));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(3));
        Assert.Empty(p.East.GetStatus().IkeSas);
        Assert.Empty(p.West.GetStatus().IkeSas);
        Assert.Equal(1, p.East.GetStatus().Counters.AuthFailures);
    }

    [Fact]
    public void RawEd25519PublicKeys()
    {
        using var p = new EnginePair(output);
        var wk = IkePrivateKey.GenerateEd25519();
        var ek = IkePrivateKey.GenerateEd25519();
        var wid = IkeIdentity.Parse("@west");
        var eid = IkeIdentity.Parse("@east");
        p.West.AddConnection(PubKey(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp), wid, eid,
            new IkeCredentials { PrivateKey = wk }, new IkeCredentials { PublicKey = ek.PublicKey }));
        p.East.AddConnection(PubKey(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp), eid, wid,
            new IkeCredentials { PrivateKey = ek }, new IkeCredentials { PublicKey = wk.PublicKey }));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        AssertChildPair(p, "AES_GCM");
        // A different key for west at east: AUTHENTICATION_FAILED.
        using var q = new EnginePair(output);
        q.West.AddConnection(PubKey(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp), wid, eid,
            new IkeCredentials { PrivateKey = wk }, new IkeCredentials { PublicKey = ek.PublicKey }));
        q.East.AddConnection(PubKey(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp), eid, wid,
            new IkeCredentials { PrivateKey = ek }, new IkeCredentials { PublicKey = IkePrivateKey.GenerateEd25519().PublicKey }));
        q.West.Initiate("c");
        q.Run(TimeSpan.FromSeconds(2));
        Assert.Empty(q.East.GetStatus().IkeSas);
        Assert.Equal(1, q.East.GetStatus().Counters.AuthFailures);
    }
}

// CREATE_CHILD_SA in the engine: scheduled and volume-triggered child rekeys, IKE SA rekey, make-before-break order.
public class EngineRekeyTests(ITestOutputHelper output)
{
    private static IkeConnection Life(IkeConnection c, TimeSpan child, TimeSpan ike, TimeSpan margin, string? esp = null) => new()
    {
        Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals,
        EspProposals = esp is null ? c.EspProposals : ProposalParser.Parse(esp, ProposalProtocol.Esp),
        LocalTs = c.LocalTs, RemoteTs = c.RemoteTs, LocalCredentials = c.LocalCredentials, Encapsulation = c.Encapsulation, KeyingTries = 1,
        ChildLifetime = child, IkeLifetime = ike, RekeyMargin = margin, RekeyFuzzPercent = 0,
    };

    private static void AssertPair(EnginePair p)
    {
        var w = p.WestSink.Inbound.Values.Single();
        var e = p.EastSink.Inbound.Values.Single();
        Assert.Single(p.WestSink.Outbound);
        Assert.Single(p.EastSink.Outbound);
        Assert.Equal(w.InboundSpi, e.OutboundSpi);
        Assert.Equal(w.OutboundSpi, e.InboundSpi);
        Assert.Equal(Convert.ToHexString(w.InboundEncryptionKey), Convert.ToHexString(e.OutboundEncryptionKey));
        Assert.Equal(Convert.ToHexString(w.OutboundEncryptionKey), Convert.ToHexString(e.InboundEncryptionKey));
        Assert.Equal(Convert.ToHexString(w.OutboundIntegrityKey), Convert.ToHexString(e.InboundIntegrityKey));
    }

    [Theory]
    [InlineData(true, "aes128gcm16!")]
    [InlineData(false, "aes128-sha256-modp2048!")]
    public void ScheduledChildRekeyIsMakeBeforeBreak(bool westRekeys, string esp)
    {
        using var p = new EnginePair(output);
        var shortLife = TimeSpan.FromMinutes(10);
        var longLife = TimeSpan.FromMinutes(60);
        p.West.AddConnection(Life(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp, localTs: "192.0.2.0/25", remoteTs: "192.0.2.128/25"),
            westRekeys ? shortLife : longLife, TimeSpan.FromHours(3), TimeSpan.FromMinutes(2), esp));
        p.East.AddConnection(Life(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp, localTs: "192.0.2.128/25", remoteTs: "192.0.2.0/25"),
            westRekeys ? longLife : shortLife, TimeSpan.FromHours(3), TimeSpan.FromMinutes(2), esp));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        AssertPair(p);
        uint wIn0 = p.WestSink.Inbound.Keys.Single(), eIn0 = p.EastSink.Inbound.Keys.Single();
        while (p.WestSink.Events.TryDequeue(out _)) { }
        while (p.EastSink.Events.TryDequeue(out _)) { }
        p.Run(TimeSpan.FromMinutes(9), TimeSpan.FromSeconds(20)); // rekey at 10 - 2 = 8 min
        AssertPair(p);
        uint wIn1 = p.WestSink.Inbound.Keys.Single(), eIn1 = p.EastSink.Inbound.Keys.Single();
        Assert.NotEqual(wIn0, wIn1);
        Assert.NotEqual(eIn0, eIn1);
        var (ini, res, iniOld, resOld, iniNew, resNew) = westRekeys
            ? (p.WestSink, p.EastSink, wIn0, eIn0, wIn1, eIn1) : (p.EastSink, p.WestSink, eIn0, wIn0, eIn1, wIn1);
        // Initiator: new inbound, new outbound (replacing the old), then the old inbound goes.
        Assert.Equal([$"in+ {iniNew:x8}", $"out+ {resNew:x8}", $"in- {iniOld:x8}"], ini.Events.ToArray());
        // Responder: new inbound first; new outbound only once the old SA was deleted; then the old inbound.
        Assert.Equal([$"in+ {resNew:x8}", $"out+ {iniNew:x8}", $"in- {resOld:x8}"], res.Events.ToArray());
        var installed = (westRekeys ? p.WestSink : p.EastSink).Outbound.Values.Single();
        Assert.Equal(resOld, installed.ReplacesOutboundSpi);
        Assert.Equal(1, p.West.GetStatus().Counters.ChildRekeys);
        Assert.Equal(1, p.East.GetStatus().Counters.ChildRekeys);
        Assert.Equal("192.0.2.0/25", TrafficSelectors.Format(p.WestSink.Inbound.Values.Single().LocalTs));
        // And again: the rekeyed SA rekeys on its own schedule.
        p.Run(TimeSpan.FromMinutes(9), TimeSpan.FromSeconds(20));
        AssertPair(p);
        Assert.Equal(2, p.West.GetStatus().Counters.ChildRekeys);
    }

    [Fact]
    public void SoftVolumeLimitRekeysAndHardLimitDeletes()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        uint old = p.WestSink.Inbound.Keys.Single();
        p.West.OnChildLifetime(old, inbound: true, hard: false);
        p.Run(TimeSpan.FromSeconds(2));
        AssertPair(p);
        Assert.NotEqual(old, p.WestSink.Inbound.Keys.Single());
        p.East.OnChildLifetime(p.EastSink.Outbound.Keys.Single(), inbound: false, hard: true);
        p.Run(TimeSpan.FromSeconds(2));
        Assert.Empty(p.WestSink.Inbound);
        Assert.Empty(p.EastSink.Inbound);
        var ike = p.West.GetStatus().IkeSas.Single();
        // `up` on the childless IKE SA: a CREATE_CHILD_SA over it, not a second IKE SA (§1.3.1).
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        AssertPair(p);
        Assert.Equal(ike.SpiI, p.West.GetStatus().IkeSas.Single().SpiI);
        Assert.Single(p.East.GetStatus().IkeSas);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IkeSaRekeyMovesTheChildren(bool westRekeys)
    {
        using var p = new EnginePair(output);
        var shortIke = TimeSpan.FromMinutes(20);
        p.West.AddConnection(Life(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp), TimeSpan.FromHours(1), westRekeys ? shortIke : TimeSpan.FromHours(3), TimeSpan.FromMinutes(2)));
        p.East.AddConnection(Life(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp), TimeSpan.FromHours(1), westRekeys ? TimeSpan.FromHours(3) : shortIke, TimeSpan.FromMinutes(2)));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        var before = p.West.GetStatus().IkeSas.Single();
        uint child = p.WestSink.Inbound.Keys.Single();
        p.Run(TimeSpan.FromMinutes(19), TimeSpan.FromSeconds(30));
        var w = p.West.GetStatus().IkeSas.Single();
        var e = p.East.GetStatus().IkeSas.Single();
        Assert.NotEqual(before.SpiI, w.SpiI);
        Assert.Equal(w.SpiI, e.SpiI);
        Assert.Equal(w.SpiR, e.SpiR);
        Assert.Equal(westRekeys, w.Initiator); // the rekey initiator is the new SA's original initiator (§2.18)
        Assert.Equal("ESTABLISHED", w.State);
        Assert.Equal(child, w.Children.Single().InboundSpi);
        Assert.Equal(child, p.WestSink.Inbound.Keys.Single()); // no dataplane change
        Assert.Equal(1, p.West.GetStatus().Counters.IkeRekeys);
        // The new IKE SA works: a child rekey and then a delete run over it.
        p.West.OnChildLifetime(child, inbound: true, hard: false);
        p.Run(TimeSpan.FromSeconds(2));
        AssertPair(p);
        p.East.Terminate("c");
        p.Run(TimeSpan.FromSeconds(2));
        Assert.Empty(p.West.GetStatus().IkeSas);
        Assert.Empty(p.WestSink.Inbound);
        Assert.Empty(p.EastSink.Outbound);
    }

    [Fact]
    public void SimultaneousChildRekeyLeavesOnePair()
    {
        using var p = new EnginePair(output);
        p.West.AddConnection(EnginePair.Conn("c", EnginePair.WestIp, EnginePair.EastIp));
        p.East.AddConnection(EnginePair.Conn("c", EnginePair.EastIp, EnginePair.WestIp));
        p.West.Initiate("c");
        p.Run(TimeSpan.FromSeconds(2));
        // Both requests cross on the wire: hold everything, trigger both rekeys, then release.
        p.Wire.Filter = _ => WireAction.Hold;
        p.West.OnChildLifetime(p.WestSink.Inbound.Keys.Single(), inbound: true, hard: false);
        p.East.OnChildLifetime(p.EastSink.Inbound.Keys.Single(), inbound: true, hard: false);
        p.Settle();
        // Requests delivered with the answers still held: each side answers the other's rekey before it sees its own answer.
        p.Wire.ReleaseHeld();
        p.Settle();
        p.Wire.Filter = _ => WireAction.Deliver;
        p.Wire.ReleaseHeld();
        p.Run(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
        AssertPair(p);
        Assert.Contains(p.WestLog.Lines.Concat(p.EastLog.Lines), l => l.Contains("simultaneous rekey", StringComparison.Ordinal));
    }
}
