using System;
using System.Linq;
using FastPath.Ike.Engine;
using FastPath.Ike.Tests.Engine;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Ike.Tests.Interop;

// FastPath's IkeEngine against a real strongSwan charon 5.9.8 (CharonTestbed: two netns, one veth,
// charon with kernel-libipsec in -a, the engine's sockets in -b). Checks what charon itself says
// (swanctl --list-sas: IKE SA ESTABLISHED, CHILD_SA INSTALLED with the SPIs the engine reported)
// and that charon's CHILD_SA keys (filelog chd=4) equal the ones the engine handed to the sink.
// Needs root, iproute2 and strongSwan: FAILS when they are missing.
[Collection("netns")]
public class CharonInteropTests(ITestOutputHelper output)
{
    private static ChildSaInstall OneChild(CharonTestbed tb)
    {
        Assert.True(CharonTestbed.WaitFor(() => tb.Sink.Inbound.Count == 1 && tb.Sink.Outbound.Count == 1, TimeSpan.FromSeconds(20)),
            "no CHILD_SA installed by the engine; charon log:\n" + tb.CharonLogTail());
        return tb.Sink.Inbound.Values.Single();
    }

    private void AssertCharonHas(CharonTestbed tb, ChildSaInstall child)
    {
        string sas = "";
        Assert.True(CharonTestbed.WaitFor(() =>
        {
            sas = tb.Swanctl("--list-sas");
            return sas.Contains("INSTALLED", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10)), "charon lists no INSTALLED CHILD_SA:\n" + sas);
        output.WriteLine(sas);
        Assert.Contains("ESTABLISHED", sas, StringComparison.Ordinal);
        Assert.Contains("TUNNEL-in-UDP", sas, StringComparison.Ordinal);
        // charon's inbound SA is our outbound one and vice versa.
        Assert.Matches($@"in\s+{child.OutboundSpi:x8}", sas);
        Assert.Matches($@"out\s+{child.InboundSpi:x8}", sas);
    }

    private static void AssertKeysMatch(CharonTestbed tb, ChildSaInstall child, bool fastPathInitiated)
    {
        var ei = tb.CharonDumps("encryption initiator key");
        var er = tb.CharonDumps("encryption responder key");
        var ai = tb.CharonDumps("integrity initiator key");
        var ar = tb.CharonDumps("integrity responder key");
        Assert.NotEmpty(ei);
        Assert.NotEmpty(er);
        // IKE_AUTH initiator's keys (i→r) protect what the initiator sends.
        var (ourOutE, ourInE) = fastPathInitiated ? (ei[^1], er[^1]) : (er[^1], ei[^1]);
        Assert.Equal(Convert.ToHexString(ourOutE), Convert.ToHexString(child.OutboundEncryptionKey));
        Assert.Equal(Convert.ToHexString(ourInE), Convert.ToHexString(child.InboundEncryptionKey));
        if (child.OutboundIntegrityKey.Length > 0)
        {
            var (ourOutA, ourInA) = fastPathInitiated ? (ai[^1], ar[^1]) : (ar[^1], ai[^1]);
            Assert.Equal(Convert.ToHexString(ourOutA), Convert.ToHexString(child.OutboundIntegrityKey));
            Assert.Equal(Convert.ToHexString(ourInA), Convert.ToHexString(child.InboundIntegrityKey));
        }
    }

    [Theory]
    [InlineData("aes128gcm16-prfsha256-x25519", "aes128gcm16")]
    [InlineData("aes128-sha256-modp2048", "aes128-sha256")]
    public void FastPathInitiatesToCharon(string ike, string esp)
    {
        using var tb = new CharonTestbed(output);
        tb.StartCharon(new CharonTestbed.CharonConn(ike, esp));
        var engine = tb.StartEngine();
        engine.AddConnection(CharonTestbed.FastPathConn(ike, esp));
        engine.Initiate("west-east");
        var child = OneChild(tb);
        Assert.True(child.UdpEncapsulation);
        Assert.Equal(4500, child.RemotePort);
        Assert.Equal("192.0.2.128/25", FastPath.Ike.Exchanges.TrafficSelectors.Format(child.LocalTs));
        Assert.Equal("192.0.2.0/25", FastPath.Ike.Exchanges.TrafficSelectors.Format(child.RemoteTs));
        AssertCharonHas(tb, child);
        AssertKeysMatch(tb, child, fastPathInitiated: true);
        Assert.Contains(tb.Log.Lines, l => l.Contains("\"west-east\" #1: IKE SA established {auth=PSK", StringComparison.Ordinal));

        // Delete from FastPath: charon drops both SAs.
        engine.Terminate("west-east");
        Assert.True(CharonTestbed.WaitFor(() => !tb.Swanctl("--list-sas").Contains("ESTABLISHED", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
            "charon still lists the IKE SA after our delete");
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().IkeSas.Count == 0 && tb.Sink.Inbound.IsEmpty && tb.Sink.Outbound.IsEmpty, TimeSpan.FromSeconds(10)));
        Assert.Contains("received DELETE for IKE_SA fp", tb.CharonLog, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("aes128gcm16-prfsha256-x25519", "aes128gcm16")]
    [InlineData("aes128-sha256-modp2048", "aes128-sha256")]
    public void CharonInitiatesToFastPath(string ike, string esp)
    {
        using var tb = new CharonTestbed(output);
        tb.StartCharon(new CharonTestbed.CharonConn(ike, esp));
        var engine = tb.StartEngine();
        engine.AddConnection(CharonTestbed.FastPathConn(ike, esp));
        string init = tb.Swanctl("--initiate --child net --timeout 20", 30);
        output.WriteLine(init);
        Assert.Contains("initiate completed successfully", init, StringComparison.Ordinal);
        var child = OneChild(tb);
        AssertCharonHas(tb, child);
        AssertKeysMatch(tb, child, fastPathInitiated: false);
        var st = engine.GetStatus().IkeSas.Single();
        Assert.False(st.Initiator);
        Assert.Equal("203.0.113.1", st.RemoteId);

        // Delete from charon: the engine removes both SAs.
        string term = tb.Swanctl("--terminate --ike fp --timeout 10", 20);
        output.WriteLine(term);
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().IkeSas.Count == 0 && tb.Sink.Inbound.IsEmpty && tb.Sink.Outbound.IsEmpty, TimeSpan.FromSeconds(10)),
            "engine still has SAs after charon's delete");
        Assert.Contains(tb.Log.Lines, l => l.Contains("peer deleted the IKE SA", StringComparison.Ordinal));
    }

    [Fact]
    public void WrongPskIsRefusedByCharon()
    {
        using var tb = new CharonTestbed(output);
        tb.StartCharon(new CharonTestbed.CharonConn());
        var engine = tb.StartEngine();
        engine.AddConnection(CharonTestbed.FastPathConn(edit: c => new IkeConnection
        {
            Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
            LocalTs = c.LocalTs, RemoteTs = c.RemoteTs, Encapsulation = c.Encapsulation, KeyingTries = 1,
            LocalCredentials = new IkeCredentials { Psk = System.Text.Encoding.ASCII.GetBytes("not-the-interop-psk-0123") },
        }));
        engine.Initiate("west-east");
        Assert.True(CharonTestbed.WaitFor(() => tb.Log.Lines.Any(l => l.Contains("peer sent AUTHENTICATION_FAILED", StringComparison.Ordinal)), TimeSpan.FromSeconds(15)),
            "no AUTHENTICATION_FAILED from charon");
        Assert.Empty(tb.Sink.Inbound);
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().IkeSas.Count == 0, TimeSpan.FromSeconds(5)));
        Assert.Contains("tried 1 shared key", tb.CharonLog, StringComparison.Ordinal);
    }

    [Fact]
    public void DeadPeerDetectionWhenTheLinkGoesDown()
    {
        using var tb = new CharonTestbed(output);
        tb.StartCharon(new CharonTestbed.CharonConn());
        var engine = tb.StartEngine(new IkeEngineOptions { RetransmitBase = TimeSpan.FromSeconds(1), RetransmitFactor = 1.5, RetransmitTries = 3 });
        engine.AddConnection(CharonTestbed.FastPathConn(edit: c => new IkeConnection
        {
            Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
            LocalTs = c.LocalTs, RemoteTs = c.RemoteTs, Encapsulation = c.Encapsulation, KeyingTries = 1, LocalCredentials = c.LocalCredentials,
            DpdDelay = TimeSpan.FromSeconds(2), DpdTimeout = TimeSpan.FromSeconds(8), DpdAction = DpdAction.Clear,
        }));
        engine.Initiate("west-east");
        var child = OneChild(tb);
        AssertCharonHas(tb, child);
        // Liveness checks answered by charon for a few rounds.
        System.Threading.Thread.Sleep(5000);
        Assert.Single(engine.GetStatus().IkeSas);
        Assert.Contains(tb.Log.Lines, l => l.Contains("DPD: sending liveness check", StringComparison.Ordinal));
        tb.LinkDown();
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().IkeSas.Count == 0, TimeSpan.FromSeconds(25)), "DPD did not clear the SA");
        Assert.Equal(1, engine.GetStatus().Counters.DpdTimeouts);
        Assert.True(tb.Sink.Inbound.IsEmpty && tb.Sink.Outbound.IsEmpty);
        Assert.Contains(tb.Log.Lines, l => l.Contains("dpdaction=clear", StringComparison.Ordinal));
    }
}
