using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading;
using FastPath.Ike.Engine;
using FastPath.Ike.Tests.EngineRuns;
using FastPath.Ike.Transport;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Ike.Tests.Interop;

// A real Libreswan 4.10 pluto in netns fp-lsw-TAG-a (203.0.113.1) and a FastPath IkeEngine whose
// sockets live in fp-lsw-TAG-b (203.0.113.2), one veth between them: the CharonTestbed model
// (setns(2) on a helper thread to create the UdpIkeTransport sockets in -b; CharonTestbed.FastPathConn,
// WaitFor, Psk). Libreswan conflicts with strongSwan in Debian, so perf-scripts/lib/libreswan.sh
// unpacks the .deb into /opt/fp-libreswan and runs pluto from there with its own config, secrets,
// NSS db and run dir (docs/libreswan.md). Dispose stops pluto by its PID and deletes both
// namespaces, also after a failure.
public sealed partial class LibreswanTestbed : IDisposable
{
    private static readonly IPAddress FastPathIp = CharonTestbed.FastPathIp;

    private readonly ITestOutputHelper _out;
    public string Tag { get; } = Guid.NewGuid().ToString("N")[..6];
    public string NsA => $"fp-lsw-{Tag}-a";
    public string NsB => $"fp-lsw-{Tag}-b";
    private string VethA => $"fpl{Tag}a";
    private string VethB => $"fpl{Tag}b";
    public string Dir { get; }
    private Process? _pluto;
    public RecordingSink Sink { get; } = new();
    public ListLogger Log { get; }
    public IkeEngine? Engine { get; private set; }
    public UdpIkeTransport? Transport { get; private set; }

    private static string Script => Path.Combine(FindRoot(), "perf-scripts", "lib", "libreswan.sh");

    // Once per test run: the first call may download and install (tens of seconds), later ones check (~1 s).
    private static readonly Lazy<(int Rc, string Text)> Ensure = new(() => Run("/bin/bash", [Script, "ensure"], 300));

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "FastPath.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root (FastPath.sln) not found above " + AppContext.BaseDirectory);
    }

    public LibreswanTestbed(ITestOutputHelper output)
    {
        _out = output;
        Log = new ListLogger("fastpath", output);
        Dir = Path.Combine("/tmp", $"fp-lsw-{Tag}");
        // Installs what is missing (apt-get download + dpkg -x, library deps with apt): fails, never skips.
        var (rc, text) = Ensure.Value;
        if (rc != 0) throw new InvalidOperationException($"perf-scripts/lib/libreswan.sh ensure failed (exit {rc}): this interop test needs the real Libreswan pluto:\n{text}");
        try
        {
            Sh($"ip netns add {NsA}");
            Sh($"ip netns add {NsB}");
            Sh($"ip link add {VethA} type veth peer name {VethB}");
            Sh($"ip link set {VethA} netns {NsA}");
            Sh($"ip link set {VethB} netns {NsB}");
            Sh($"ip -n {NsA} addr add 203.0.113.1/24 dev {VethA}");
            Sh($"ip -n {NsB} addr add 203.0.113.2/24 dev {VethB}");
            Sh($"ip -n {NsA} link set {VethA} up");
            Sh($"ip -n {NsB} link set {VethB} up");
            Sh($"ip -n {NsA} link set lo up");
            Sh($"ip -n {NsB} link set lo up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Starts pluto in -a with one connection "fp" (pluto = left 192.0.2.0/25; FastPath = right 192.0.2.128/25).</summary>
    public void StartPluto(string ike, string esp)
    {
        var (rc, text) = Run("/bin/bash", [Script, "init", Dir], 30);
        if (rc != 0) throw new InvalidOperationException("libreswan.sh init: " + text);
        // plutodebug crypt+private: pluto logs its derived keys (test keys only), as charon's chd=4.
        // encapsulation=yes forces NAT-T as the engine's Encapsulation=Force does (UDP 4500 after
        // IKE_SA_INIT); leftupdown=%disabled: the default `ipsec _updown` would be strongSwan's ipsec.
        File.WriteAllText(Path.Combine(Dir, "ipsec.conf"), $"""
            config setup
            	plutodebug="base crypt private"
            conn fp
            	ikev2=insist
            	authby=secret
            	left=203.0.113.1
            	leftid=203.0.113.1
            	leftsubnet=192.0.2.0/25
            	right=203.0.113.2
            	rightid=203.0.113.2
            	rightsubnet=192.0.2.128/25
            	ike={ike}
            	esp={esp}
            	encapsulation=yes
            	mobike=no
            	fragmentation=no
            	retransmit-timeout=10s
            	leftupdown=%disabled
            	auto=add
            """);
        File.WriteAllText(Path.Combine(Dir, "ipsec.secrets"), $"203.0.113.1 203.0.113.2 : PSK \"{CharonTestbed.Psk}\"\n");
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Script, "pluto", NsA, Dir }) psi.ArgumentList.Add(a);
        _pluto = Process.Start(psi)!;
        _pluto.OutputDataReceived += (_, e) => { if (e.Data is not null) PlutoOutput.Enqueue(e.Data); };
        _pluto.ErrorDataReceived += (_, e) => { if (e.Data is not null) PlutoOutput.Enqueue(e.Data); };
        _pluto.BeginOutputReadLine();
        _pluto.BeginErrorReadLine();
        // Ready when the connection is added (addconn ran), the UDP interfaces are up and the PSK is read.
        if (!CharonTestbed.WaitFor(() => PlutoLog.Contains("added IKEv2 connection", StringComparison.Ordinal) && PlutoLog.Contains("loading secrets from", StringComparison.Ordinal)
                && File.Exists(Path.Combine(Dir, "run", "pluto.ctl")) || _pluto.HasExited, TimeSpan.FromSeconds(20)) || _pluto.HasExited)
            throw new InvalidOperationException("pluto did not start: " + string.Join("\n", PlutoOutput) + "\n" + PlutoLogTail());
    }

    public System.Collections.Concurrent.ConcurrentQueue<string> PlutoOutput { get; } = new();

    public string Whack(params string[] args) => Whack(30, args);

    public string Whack(int timeoutSeconds, params string[] args)
    {
        var (rc, text) = Run("/bin/bash", [Script, "whack", Dir, .. args], timeoutSeconds);
        _out.WriteLine($"$ whack {string.Join(' ', args)} (exit {rc})\n{text}");
        return text;
    }

    /// <summary>Creates the engine with sockets inside -b.</summary>
    public IkeEngine StartEngine(IkeEngineOptions? options = null)
    {
        try { Transport = NetnsThread.Run(NsB, () => new UdpIkeTransport([FastPathIp], 500, 4500, Log)); }
        catch (InvalidOperationException e) { throw new InvalidOperationException("creating the IKE sockets in " + NsB + ": " + e.Message, e); }
        Engine = new IkeEngine(options ?? new IkeEngineOptions { LogSensitive = true }, Transport!, Sink, Log);
        Transport!.Start(Engine.OnDatagram);
        return Engine;
    }

    public string PlutoLog
    {
        get
        {
            string p = Path.Combine(Dir, "pluto.log");
            try { return File.Exists(p) ? File.ReadAllText(p) : ""; }
            catch (IOException) { return ""; }
        }
    }

    /// <summary>pluto's own (non-debug) log lines: debug lines ("| ") and echoed whack output ("|] ") carry a bar after the timestamp.</summary>
    public IEnumerable<string> PlutoEvents => PlutoLog.Split('\n').Where(l => !l.Contains(": |", StringComparison.Ordinal) && l.Length > 0);

    public string PlutoLogTail(int lines = 60) => string.Join("\n", PlutoEvents.TakeLast(lines));

    /// <summary>
    /// pluto's plutodebug=crypt+private hex dumps, in log order: the dump lines that follow a line
    /// "| HEADER" (exactly), each "|   xx xx xx xx  xx xx xx xx  … (16 bytes in a 50-column field)   ascii".
    /// With <paramref name="after"/>, only where the line before HEADER contains it.
    /// </summary>
    public List<byte[]> PlutoDump(string header, string? after = null)
    {
        var result = new List<byte[]>();
        var lines = PlutoLog.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].EndsWith(": | " + header, StringComparison.Ordinal)) continue;
            if (after is not null && (i == 0 || !lines[i - 1].Contains(after, StringComparison.Ordinal))) continue;
            var bytes = new List<byte>();
            for (int j = i + 1; j < lines.Length; j++)
            {
                int bar = lines[j].IndexOf(": |   ", StringComparison.Ordinal);
                if (bar < 0) break;
                string field = lines[j][(bar + 6)..];
                field = field[..Math.Min(50, field.Length)];
                var tokens = field.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (tokens.Length == 0 || !tokens.All(t => t.Length == 2 && Uri.IsHexDigit(t[0]) && Uri.IsHexDigit(t[1]))) break;
                foreach (var t in tokens) bytes.Add(Convert.ToByte(t, 16));
            }
            result.Add([.. bytes]);
        }
        return result;
    }

    private static (int Rc, string Text) Run(string file, string[] args, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(5000);
            return (-1, $"timed out after {timeoutSeconds} s: {file} {string.Join(' ', args)}\n{so.Result}{se.Result}");
        }
        return (p.ExitCode, so.Result + se.Result);
    }

    private void Sh(string cmd)
    {
        var parts = cmd.Split(' ');
        var (rc, text) = Run("/usr/sbin/" + parts[0], parts[1..], 20);
        if (rc != 0) throw new InvalidOperationException($"{cmd}: {text}");
    }

    public void Dispose()
    {
        try { Engine?.Dispose(); } catch (ObjectDisposedException) { }
        Transport?.Dispose();
        if (_pluto is not null)
        {
            try
            {
                if (!_pluto.HasExited)
                {
                    // The PID we started: bash -> exec ip netns exec -> sh -> exec pluto, one process.
                    // SIGTERM lets pluto shut down (it removes its XFRM policies); SIGKILL if it hangs.
                    Run("/bin/kill", ["-TERM", _pluto.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], 5);
                    if (!_pluto.WaitForExit(3000)) _pluto.Kill();
                    _pluto.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException) { }
            _out.WriteLine("---- pluto log tail ----\n" + PlutoLogTail(80));
            // FP_LSW_KEEP_LOG=DIR keeps pluto's full debug log (test keys only) for a failed run.
            if (Environment.GetEnvironmentVariable("FP_LSW_KEEP_LOG") is { Length: > 0 } keep && File.Exists(Path.Combine(Dir, "pluto.log")))
            {
                Directory.CreateDirectory(keep);
                File.Copy(Path.Combine(Dir, "pluto.log"), Path.Combine(keep, $"pluto-{Tag}.log"), overwrite: true);
            }
            _pluto.Dispose();
        }
        foreach (var ns in new[] { NsA, NsB })
        {
            try { Sh($"ip netns del {ns}"); } catch (InvalidOperationException) { } catch (TimeoutException) { }
        }
        try { if (Directory.Exists(Dir)) Directory.Delete(Dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

}

// FastPath's IkeEngine against a real Libreswan 4.10 pluto, IKEv2 PSK, both directions, two suites
// (AES-CBC/HMAC-SHA2-256 with ECP-256; AES-GCM-16 with Curve25519, which Libreswan 4.10 spells
// dh31 or curve25519, not x25519). This kernel has XFRM but no ESP, so pluto's XFRM_MSG_NEWSA for
// the CHILD_SA fails with EPROTONOSUPPORT: the tests assert what is real — IKE_AUTH completed on
// both sides (pluto's "established IKE SA", the engine's ESTABLISHED IKE SA), the same SK_pi/SK_pr
// in pluto's crypt debug dump and the engine's, the CHILD_SA KEYMAT pluto derived equal to the
// keys the engine installed (when the engine is the responder), and pluto's exact reaction to the
// failed install in each role (docs/libreswan.md). Needs root, iproute2 and apt
// (perf-scripts/lib/libreswan.sh ensure): FAILS when they are missing.
[Collection("netns")]
public partial class LibreswanInteropTests(ITestOutputHelper output)
{
    // pluto ike=, pluto esp=, FastPath ike, FastPath esp, and the kernel's answer to pluto's
    // XFRM_MSG_NEWSA on this kernel (no CONFIG_INET_ESP): EPROTONOSUPPORT for the ESP type with
    // encryption + auth algorithms, ENOSYS for an AEAD algorithm.
    public static TheoryData<string, string, string, string, string> Suites => new()
    {
        { "aes128-sha2_256;dh19", "aes128-sha2_256", "aes128-sha256-ecp256", "aes128-sha256", "Protocol not supported (errno 93)" },
        { "aes_gcm128-sha2_256;dh31", "aes_gcm128", "aes128gcm16-prfsha256-x25519", "aes128gcm16", "Function not implemented (errno 38)" },
    };

    /// <summary>The engine's SK_pi/SK_pr of IKE SA #serial (IkeEngineOptions.LogSensitive).</summary>
    private static (string Pi, string Pr) OurAuthKeys(LibreswanTestbed tb, int serial)
    {
        var m = tb.Log.Lines.Select(l => SkLine().Match(l)).LastOrDefault(m => m.Success && m.Groups[1].Value == serial.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(m is not null, "the engine logged no SK_* for #" + serial);
        return (m!.Groups[2].Value.ToUpperInvariant(), m.Groups[3].Value.ToUpperInvariant());
    }

    [GeneratedRegex(@"#(\d+): SK_d=[0-9a-f]+ SK_ei=[0-9a-f]* SK_er=[0-9a-f]* SK_ai=[0-9a-f]* SK_ar=[0-9a-f]* SK_pi=([0-9a-f]+) SK_pr=([0-9a-f]+)")]
    private static partial Regex SkLine();

    [Theory]
    [MemberData(nameof(Suites))]
    public void FastPathInitiatesToLibreswan(string plutoIke, string plutoEsp, string ike, string esp, string kernelError)
    {
        using var tb = new LibreswanTestbed(output);
        tb.StartPluto(plutoIke, plutoEsp);
        var engine = tb.StartEngine();
        engine.AddConnection(CharonTestbed.FastPathConn(ike, esp));
        engine.Initiate("west-east");

        // IKE_AUTH completes; pluto (responder) cannot add its ESP SA to the kernel, deletes its child
        // state and answers IKE_AUTH with IDr, AUTH and N(TS_UNACCEPTABLE): the IKE SA stays, childless
        // on both sides (RFC 7296 §1.2: a failed first CHILD_SA does not fail the IKE SA).
        Assert.True(CharonTestbed.WaitFor(() => tb.Log.Lines.Any(l => l.Contains("CHILD_SA not established, IKE SA kept: TsUnacceptable", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20)), "the engine did not finish IKE_AUTH; pluto log:\n" + tb.PlutoLogTail());
        Assert.Contains(tb.Log.Lines, l => l.Contains("\"west-east\" #1: IKE SA established {auth=PSK", StringComparison.Ordinal));
        var events = tb.PlutoEvents.ToList();
        Assert.Contains(events, l => l.Contains("\"fp\" #1: responder established IKE SA; authenticated peer using authby=secret and ID_IPV4_ADDR '203.0.113.2'", StringComparison.Ordinal));
        Assert.Contains(events, l => l.Contains("\"fp\" #2: netlink response for Add SA esp.", StringComparison.Ordinal) && l.Contains($"@203.0.113.2: {kernelError}", StringComparison.Ordinal));
        Assert.Contains("Notify Message Type: v2N_TS_UNACCEPTABLE", tb.PlutoLog, StringComparison.Ordinal);

        var sa = engine.GetStatus().IkeSas.Single();
        Assert.Equal("ESTABLISHED", sa.State);
        Assert.True(sa.Initiator);
        Assert.Equal("203.0.113.1", sa.RemoteId);
        Assert.Empty(sa.Children);
        Assert.True(tb.Sink.Inbound.IsEmpty && tb.Sink.Outbound.IsEmpty);
        string status = tb.Whack("--status");
        Assert.Contains("#1: \"fp\":4500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA)", status, StringComparison.Ordinal);
        Assert.Contains("IPsec SAs: total(0)", status, StringComparison.Ordinal);
        Assert.DoesNotContain("type=ESP", tb.Whack("--trafficstatus"), StringComparison.Ordinal);

        // Same SK_pi/SK_pr: both sides derived the same prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) stream.
        var (pi, pr) = OurAuthKeys(tb, sa.Serial);
        Assert.Equal(pi, Convert.ToHexString(tb.PlutoDump("unwrapped:", after: "chunk_SK_pi extracted len").Last()));
        Assert.Equal(pr, Convert.ToHexString(tb.PlutoDump("unwrapped:", after: "chunk_SK_pr extracted len").Last()));

        // An INFORMATIONAL exchange started by pluto (empty: a liveness probe, RFC 7296 §1.4), answered
        // by the engine under the same SK_e/SK_a.
        long inBefore = engine.GetStatus().Counters.MessagesIn;
        tb.Whack("--impair", "initiate-v2-liveness:1");
        Assert.True(CharonTestbed.WaitFor(() => tb.PlutoLog.Contains("| received an INFORMATIONAL liveness check response", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
            "pluto got no answer to its liveness probe:\n" + tb.PlutoLogTail());
        Assert.Contains(tb.PlutoEvents, l => l.Contains("\"fp\" #1: initiating liveness for #1", StringComparison.Ordinal));
        Assert.True(engine.GetStatus().Counters.MessagesIn > inBefore);

        // Delete from FastPath (D(IKE)): pluto deletes its IKE SA (its answer is the empty response,
        // hence "NOT sending notification") and the engine removes its own on that answer.
        engine.Terminate("west-east");
        Assert.True(CharonTestbed.WaitFor(() => tb.PlutoEvents.Any(l => l.Contains("\"fp\" #1: deleting state (STATE_V2_ESTABLISHED_IKE_SA)", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10)), "pluto did not act on our delete:\n" + tb.PlutoLogTail());
        Assert.DoesNotContain("STATE_V2_ESTABLISHED_IKE_SA", tb.Whack("--status"), StringComparison.Ordinal);
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().IkeSas.Count == 0, TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void LibreswanInitiatesToFastPath(string plutoIke, string plutoEsp, string ike, string esp, string kernelError)
    {
        using var tb = new LibreswanTestbed(output);
        tb.StartPluto(plutoIke, plutoEsp);
        // Short retransmits: the engine's Delete for the IKE SA pluto abandons (below) times out in ~8 s.
        var engine = tb.StartEngine(new IkeEngineOptions { LogSensitive = true, RetransmitBase = TimeSpan.FromSeconds(1), RetransmitFactor = 1.5, RetransmitTries = 3 });
        engine.AddConnection(CharonTestbed.FastPathConn(ike, esp));
        // Without this pluto revives the connection at once after the failure below and loops
        // (connect, fail, delete, revive): one attempt per whack --initiate keeps the test exact.
        tb.Whack("--impair", "revival");
        string init = tb.Whack(40, "--name", "fp", "--initiate");

        // The engine (responder) completed IKE_AUTH and installed its CHILD_SA.
        Assert.True(CharonTestbed.WaitFor(() => tb.Sink.Inbound.Count == 1 && tb.Sink.Outbound.Count == 1, TimeSpan.FromSeconds(10)),
            "no CHILD_SA installed by the engine; pluto log:\n" + tb.PlutoLogTail());
        var child = tb.Sink.Inbound.Values.Single();
        Assert.True(child.UdpEncapsulation);
        Assert.Equal("192.0.2.128/25", FastPath.Ike.Exchanges.TrafficSelectors.Format(child.LocalTs));
        Assert.Equal("192.0.2.0/25", FastPath.Ike.Exchanges.TrafficSelectors.Format(child.RemoteTs));
        var sa = engine.GetStatus().IkeSas.Single();
        Assert.False(sa.Initiator);
        Assert.Equal("ESTABLISHED", sa.State);
        Assert.Equal("203.0.113.1", sa.RemoteId);

        // pluto (initiator) established the IKE SA, then its outbound ESP SA (SPI = our inbound SPI;
        // pluto prints it without leading zeros)
        // is refused by the kernel, and pluto treats that as fatal for the whole IKE SA: it deletes it
        // WITHOUT sending a Delete, so the engine's SAs stay until DPD or a new IKE SA replaces them.
        Assert.Contains("\"fp\" #1: initiator established IKE SA; authenticated peer using authby=secret and ID_IPV4_ADDR '203.0.113.2'", init, StringComparison.Ordinal);
        Assert.Contains($"\"fp\" #2: netlink response for Add SA esp.{child.InboundSpi:x}@203.0.113.2: {kernelError}", init, StringComparison.Ordinal);
        Assert.Contains("\"fp\" #2: CHILD SA encountered fatal error", init, StringComparison.Ordinal);
        Assert.Contains("\"fp\" #1: deleting state (STATE_V2_ESTABLISHED_IKE_SA)", init, StringComparison.Ordinal);
        Assert.Contains("NOT sending notification", init, StringComparison.Ordinal);
        Assert.DoesNotContain("STATE_V2_ESTABLISHED_IKE_SA (established IKE SA)", tb.Whack("--status"), StringComparison.Ordinal);

        // Keys: SK_pi/SK_pr, and the CHILD_SA KEYMAT pluto derived (encr | integ per direction,
        // RFC 7296 §2.17; for AES-GCM key | 4-byte salt, RFC 4106) equals what the engine installed.
        var (pi, pr) = OurAuthKeys(tb, sa.Serial);
        Assert.Equal(pi, Convert.ToHexString(tb.PlutoDump("unwrapped:", after: "chunk_SK_pi extracted len").Last()));
        Assert.Equal(pr, Convert.ToHexString(tb.PlutoDump("unwrapped:", after: "chunk_SK_pr extracted len").Last()));
        // pluto's "our keymat" keys its inbound SA (r→i here: our outbound), "peer keymat" its outbound.
        Assert.Equal(Convert.ToHexString([.. child.InboundEncryptionKey, .. child.InboundIntegrityKey]), Convert.ToHexString(tb.PlutoDump("peer keymat").Last()));
        Assert.Equal(Convert.ToHexString([.. child.OutboundEncryptionKey, .. child.OutboundIntegrityKey]), Convert.ToHexString(tb.PlutoDump("our  keymat").Last()));

        // pluto comes back (a new IKE SA, same identities; it fails the same way): the engine
        // replaces the stale SA (uniqueids). Its Delete for it goes unanswered (pluto: "INFORMATIONAL
        // request has no corresponding IKE SA; message dropped"), so the stale SA and its CHILD_SA
        // stay (DELETING) until the retransmits run out; then exactly the new IKE SA and its
        // CHILD_SA pair are left.
        uint staleSpi = child.InboundSpi;
        tb.Whack(40, "--name", "fp", "--initiate");
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().IkeSas is { Count: 1 } l && l[0].Serial != sa.Serial && l[0].State == "ESTABLISHED"
            && tb.Sink.Inbound.Count == 1 && tb.Sink.Outbound.Count == 1 && !tb.Sink.Inbound.ContainsKey(staleSpi), TimeSpan.FromSeconds(20)),
            "the engine did not replace the IKE SA pluto abandoned: " + string.Join(", ", engine.GetStatus().IkeSas.Select(s => $"#{s.Serial} {s.State}")));
        Assert.Contains(tb.Log.Lines, l => l.Contains($"#{sa.Serial}: replaced by #", StringComparison.Ordinal));
        Assert.Contains(tb.Log.Lines, l => l.Contains("no response to the delete", StringComparison.Ordinal));
        Assert.Contains("INFORMATIONAL request has no corresponding IKE SA; message dropped", tb.PlutoLog, StringComparison.Ordinal);
    }

    // A PSK pluto does not share: pluto's AUTH check fails, it answers IKE_AUTH with an encrypted
    // AUTHENTICATION_FAILED (RFC 7296 §2.21.2) and the engine gives the SA up (keyingtries=1).
    [Fact]
    public void WrongPskIsRefusedByLibreswan()
    {
        using var tb = new LibreswanTestbed(output);
        tb.StartPluto("aes128-sha2_256;dh19", "aes128-sha2_256");
        var engine = tb.StartEngine();
        engine.AddConnection(CharonTestbed.FastPathConn("aes128-sha256-ecp256", "aes128-sha256", c => new IkeConnection
        {
            Name = c.Name, LocalAddress = c.LocalAddress, RemoteAddress = c.RemoteAddress, IkeProposals = c.IkeProposals, EspProposals = c.EspProposals,
            LocalTs = c.LocalTs, RemoteTs = c.RemoteTs, Encapsulation = c.Encapsulation, KeyingTries = 1,
            LocalCredentials = new IkeCredentials { Psk = System.Text.Encoding.ASCII.GetBytes("not-the-interop-psk-0123") },
        }));
        engine.Initiate("west-east");
        Assert.True(CharonTestbed.WaitFor(() => tb.Log.Lines.Any(l => l.Contains("peer sent AUTHENTICATION_FAILED", StringComparison.Ordinal)), TimeSpan.FromSeconds(15)),
            "no AUTHENTICATION_FAILED from pluto:\n" + tb.PlutoLogTail());
        Assert.True(CharonTestbed.WaitFor(() => engine.GetStatus().IkeSas.Count == 0, TimeSpan.FromSeconds(5)));
        Assert.True(tb.Sink.Inbound.IsEmpty && tb.Sink.Outbound.IsEmpty);
        var events = tb.PlutoEvents.ToList();
        Assert.Contains(events, l => l.Contains("\"fp\" #1: authentication failed: computed hash does not match hash received from peer ID_IPV4_ADDR '203.0.113.2'", StringComparison.Ordinal));
        Assert.Contains(events, l => l.Contains("with encrypted notification AUTHENTICATION_FAILED", StringComparison.Ordinal));
        Assert.DoesNotContain(events, l => l.Contains("established IKE SA", StringComparison.Ordinal));
    }
}
