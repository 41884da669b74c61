using System;
using System.Linq;
using FastPath.Ike.Crypto;
using FastPath.Ike.Engine;
using FastPath.Ike.Tests.EngineRuns;
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

    /// <summary>RFC 7296 §2.4 with dpdaction=restart: the link to charon goes down → the dead peer is detected within
    /// dpddelay + dpdtimeout (+ one probe interval of slack), the SAs are cleared and the engine re-initiates (keyingtries
    /// %forever) while the link is still down; the link comes back → a new IKE SA and CHILD_SA with charon, new SPIs.</summary>
    [Fact]
    public void DeadPeerDetectionRestartsTheTunnelWhenThePeerComesBack()
    {
        using var tb = new CharonTestbed(output);
        tb.StartCharon(new CharonTestbed.CharonConn());
        var engine = tb.StartEngine(new IkeEngineOptions { RetransmitBase = TimeSpan.FromSeconds(1), RetransmitFactor = 1.5, RetransmitTries = 3 });
        TimeSpan dpdDelay = TimeSpan.FromSeconds(2), dpdTimeout = TimeSpan.FromSeconds(6);
        engine.AddConnection(CharonTestbed.FastPathConn(edit: c => new IkeConnection
        {
            Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
            LocalTs = c.LocalTs, RemoteTs = c.RemoteTs, Encapsulation = c.Encapsulation, KeyingTries = 0, LocalCredentials = c.LocalCredentials,
            DpdDelay = dpdDelay, DpdTimeout = dpdTimeout, DpdAction = DpdAction.Restart,
        }));
        engine.Initiate("west-east");
        var first = OneChild(tb);
        AssertCharonHas(tb, first);
        tb.LinkDown();
        var down = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().Counters.DpdTimeouts == 1, TimeSpan.FromSeconds(30)), "DPD did not detect the dead peer");
        var detected = down.Elapsed;
        output.WriteLine($"dead peer detected {detected.TotalSeconds:F1} s after the link went down (dpddelay {dpdDelay.TotalSeconds} s + dpdtimeout {dpdTimeout.TotalSeconds} s)");
        Assert.True(detected <= dpdDelay + dpdTimeout + dpdDelay + TimeSpan.FromSeconds(1), $"detected after {detected.TotalSeconds:F1} s");
        Assert.True(CharonTestbed.WaitFor(() => !tb.Sink.Inbound.ContainsKey(first.InboundSpi) && !tb.Sink.Outbound.ContainsKey(first.OutboundSpi), TimeSpan.FromSeconds(5)),
            "the dead peer's CHILD_SA is still installed");
        Assert.Contains(tb.Log.Lines, l => l.Contains("dpdaction=restart", StringComparison.Ordinal));
        System.Threading.Thread.Sleep(2000); // the restart's IKE_SA_INIT goes into the void for a while
        Assert.Empty(tb.Sink.Inbound);
        tb.LinkUp();
        var up = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(CharonTestbed.WaitFor(() => tb.Sink.Inbound.Count == 1 && tb.Sink.Outbound.Count == 1, TimeSpan.FromSeconds(60)),
            "no new CHILD_SA after the link came back; charon log:\n" + tb.CharonLogTail());
        output.WriteLine($"tunnel re-established {up.Elapsed.TotalSeconds:F1} s after the link came back");
        var second = tb.Sink.Inbound.Values.Single();
        Assert.NotEqual(first.InboundSpi, second.InboundSpi);
        AssertCharonHas(tb, second);
        Assert.Single(engine.GetStatus().IkeSas);
    }

    private static (IkeConnection Conn, Action<CharonTestbed> CharonSide) Certificates()
    {
        var caKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var caReq = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=FastPath Interop CA, O=FastPath", caKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        caReq.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509KeyUsageExtension(
            System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyCertSign | System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        var ca = caReq.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        (System.Security.Cryptography.X509Certificates.X509Certificate2, System.Security.Cryptography.ECDsa) Ee(string dns)
        {
            var k = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            var r = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={dns}, O=FastPath", k, System.Security.Cryptography.HashAlgorithmName.SHA256);
            var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
            san.AddDnsName(dns);
            r.CertificateExtensions.Add(san.Build());
            var c = r.Create(ca.SubjectName, System.Security.Cryptography.X509Certificates.X509SignatureGenerator.CreateForECDsa(caKey), now.AddHours(-1), now.AddDays(20),
                System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
            return (c, k);
        }
        var (charonCert, charonKey) = Ee("charon.fastpath.test");
        var (ourCert, ourKey) = Ee("fastpath.fastpath.test");
        var conn = CharonTestbed.FastPathConn(edit: c => new IkeConnection
        {
            Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
            LocalTs = c.LocalTs, RemoteTs = c.RemoteTs, Encapsulation = c.Encapsulation, KeyingTries = 1,
            LocalAuth = IkeAuthKind.PublicKey, RemoteAuth = IkeAuthKind.PublicKey,
            LocalId = IkeIdentity.Parse("@fastpath.fastpath.test"), RemoteId = IkeIdentity.Parse("@charon.fastpath.test"),
            LocalCredentials = new IkeCredentials { PrivateKey = FastPath.Ike.Crypto.IkePrivateKey.FromEcdsa(ourKey), Certificate = ourCert },
            RemoteCredentials = new IkeCredentials { TrustedCas = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection(ca) },
        });
        return (conn, tb => tb.WriteCharonCredentials(ca, charonCert, charonKey));
    }

    [Fact]
    public void CertificatesFastPathInitiates()
    {
        using var tb = new CharonTestbed(output);
        var (conn, charonSide) = Certificates();
        charonSide(tb);
        tb.StartCharon(new CharonTestbed.CharonConn(Certificates: true));
        var engine = tb.StartEngine();
        engine.AddConnection(conn);
        engine.Initiate("west-east");
        var child = OneChild(tb);
        AssertCharonHas(tb, child);
        AssertKeysMatch(tb, child, fastPathInitiated: true);
        Assert.Contains(tb.Log.Lines, l => l.Contains("IKE SA established {auth=DIGITAL_SIGNATURE", StringComparison.Ordinal));
        Assert.Contains("authentication of 'fastpath.fastpath.test' with ECDSA_WITH_SHA256_DER successful", tb.CharonLog, StringComparison.Ordinal);
        Assert.Equal("@charon.fastpath.test", engine.GetStatus().IkeSas.Single().RemoteId);
    }

    [Fact]
    public void CertificatesCharonInitiates()
    {
        using var tb = new CharonTestbed(output);
        var (conn, charonSide) = Certificates();
        charonSide(tb);
        tb.StartCharon(new CharonTestbed.CharonConn(Certificates: true));
        var engine = tb.StartEngine();
        engine.AddConnection(conn);
        string init = tb.Swanctl("--initiate --child net --timeout 20", 30);
        output.WriteLine(init);
        Assert.Contains("initiate completed successfully", init, StringComparison.Ordinal);
        var child = OneChild(tb);
        AssertCharonHas(tb, child);
        AssertKeysMatch(tb, child, fastPathInitiated: false);
    }

    [Fact]
    public void FragmentedIkeAuthBothWays()
    {
        // Certificates make IKE_AUTH ~1 KB; with 400-byte limits on both sides each IKE_AUTH goes as RFC 7383 fragments.
        using var tb = new CharonTestbed(output);
        var (conn, charonSide) = Certificates();
        charonSide(tb);
        tb.StartCharon(new CharonTestbed.CharonConn(Certificates: true, Fragmentation: "yes", FragmentSize: 400));
        var engine = tb.StartEngine(new IkeEngineOptions { LogSensitive = true, FragmentSize = 400 });
        engine.AddConnection(conn);
        engine.Initiate("west-east");
        var child = OneChild(tb);
        AssertCharonHas(tb, child);
        AssertKeysMatch(tb, child, fastPathInitiated: true);
        Assert.Contains(tb.Log.Lines, l => l.Contains("IKE_AUTH of", StringComparison.Ordinal) && l.Contains("fragments (RFC 7383)", StringComparison.Ordinal));
        Assert.Contains(tb.Log.Lines, l => l.Contains("reassembled from", StringComparison.Ordinal));
        Assert.Contains("received fragment #1 of", tb.CharonLog, StringComparison.Ordinal);
    }

    [Fact]
    public void CharonRekeysChildWithPfsAndIkeSa()
    {
        using var tb = new CharonTestbed(output);
        tb.StartCharon(new CharonTestbed.CharonConn(Esp: "aes128gcm16-x25519"));
        var engine = tb.StartEngine();
        engine.AddConnection(CharonTestbed.FastPathConn(esp: "aes128gcm16-x25519"));
        engine.Initiate("west-east");
        var first = OneChild(tb);
        AssertCharonHas(tb, first);
        // Child rekey driven by charon (FastPath responds: new inbound first, outbound after charon's delete).
        output.WriteLine(tb.Swanctl("--rekey --child net"));
        Assert.True(CharonTestbed.WaitFor(() => tb.Sink.Inbound.Count == 1 && tb.Sink.Outbound.Count == 1 && !tb.Sink.Inbound.ContainsKey(first.InboundSpi)
            && !tb.Sink.Outbound.ContainsKey(first.OutboundSpi), TimeSpan.FromSeconds(15)), "child rekey did not complete in the engine");
        var second = tb.Sink.Inbound.Values.Single();
        Assert.Equal(DhGroup.Curve25519, second.Suite.Dh);
        AssertCharonHas(tb, second);
        AssertKeysMatch(tb, second, fastPathInitiated: false);
        Assert.Equal(first.ReqId, second.ReqId);
        // IKE SA rekey driven by charon: the child stays, the IKE SPIs change.
        var ikeBefore = engine.GetStatus().IkeSas.Single();
        output.WriteLine(tb.Swanctl("--rekey --ike fp"));
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().IkeSas is { Count: 1 } l && l[0].SpiI != ikeBefore.SpiI && l[0].State == "ESTABLISHED",
            TimeSpan.FromSeconds(15)), "IKE rekey did not complete in the engine");
        var ikeAfter = engine.GetStatus().IkeSas.Single();
        Assert.Equal(second.InboundSpi, ikeAfter.Children.Single().InboundSpi);
        string sas = tb.Swanctl("--list-sas");
        Assert.Contains($"{ikeAfter.SpiI:x16}", sas, StringComparison.Ordinal);
        // The new IKE SA carries the next exchanges: a child rekey from FastPath, then a delete from charon.
        engine.OnChildLifetime(second.InboundSpi, inbound: true, hard: false);
        Assert.True(CharonTestbed.WaitFor(() => tb.Sink.Inbound.Count == 1 && !tb.Sink.Inbound.ContainsKey(second.InboundSpi), TimeSpan.FromSeconds(15)));
        var third = tb.Sink.Inbound.Values.Single();
        AssertCharonHas(tb, third);
        AssertKeysMatch(tb, third, fastPathInitiated: true);
        output.WriteLine(tb.Swanctl("--terminate --ike fp --timeout 10", 20));
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().IkeSas.Count == 0 && tb.Sink.Inbound.IsEmpty && tb.Sink.Outbound.IsEmpty, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void FastPathRekeysIkeSaOnItsSchedule()
    {
        using var tb = new CharonTestbed(output);
        tb.StartCharon(new CharonTestbed.CharonConn());
        var engine = tb.StartEngine();
        engine.AddConnection(CharonTestbed.FastPathConn(edit: c => new IkeConnection
        {
            Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
            LocalTs = c.LocalTs, RemoteTs = c.RemoteTs, Encapsulation = c.Encapsulation, KeyingTries = 1, LocalCredentials = c.LocalCredentials,
            IkeLifetime = TimeSpan.FromSeconds(20), RekeyMargin = TimeSpan.FromSeconds(8), RekeyFuzzPercent = 0,
        }));
        engine.Initiate("west-east");
        var child = OneChild(tb);
        var before = engine.GetStatus().IkeSas.Single();
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().Counters.IkeRekeys >= 1, TimeSpan.FromSeconds(25)), "no IKE rekey");
        var after = engine.GetStatus().IkeSas.Single(s => s.State == "ESTABLISHED");
        Assert.NotEqual(before.SpiI, after.SpiI);
        Assert.True(CharonTestbed.WaitFor(() =>
        {
            string sas = tb.Swanctl("--list-sas");
            return sas.Contains($"{after.SpiI:x16}", StringComparison.Ordinal) && !sas.Contains($"{before.SpiI:x16}", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10)), "charon does not show exactly the new IKE SA");
        AssertCharonHas(tb, child);
        Assert.Contains(tb.Log.Lines, l => l.Contains("IKE SA rekeyed as #", StringComparison.Ordinal));
    }
}
