using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Proposals;
using FastPath.Ike.Tests.EngineRuns;
using FastPath.Ike.Transport;
using Xunit.Abstractions;

namespace FastPath.Ike.Tests.Interop;

// A real strongSwan charon 5.9.8 (kernel-libipsec, ESP-in-UDP only, /work/shared/PEERS.md) in
// netns fp-ike-TAG-a (203.0.113.1) and a FastPath IkeEngine whose UDP sockets live in
// fp-ike-TAG-b (203.0.113.2), joined by one veth. The test process stays in its own namespace:
// a helper thread setns(2)es into -b, creates the UdpIkeTransport sockets there (a socket belongs
// to the namespace it was created in) and returns. Adapted from perf-scripts/lib/strongswan.sh
// (per-instance /run bind mount, STRONGSWAN_CONF, SWANCTL_DIR, vici socket). charon's filelog runs
// at ike=4/chd=4 so the test can compare charon's CHILD_SA keys with what the engine installed
// (test keys only). Everything is bounded by timeouts; Dispose stops charon by its PID and
// deletes both namespaces, also after a failure.
public sealed partial class CharonTestbed : IDisposable
{
    public const string Psk = "fastpath-interop-psk-0123456789";
    public static readonly IPAddress CharonIp = IPAddress.Parse("203.0.113.1"), FastPathIp = IPAddress.Parse("203.0.113.2");

    private readonly ITestOutputHelper _out;
    public string Tag { get; } = (Environment.GetEnvironmentVariable("FASTPATH_NETNS_TAG") ?? "") + Guid.NewGuid().ToString("N")[..6];
    public string NsA => $"fp-ike-{Tag}-a";
    public string NsB => $"fp-ike-{Tag}-b";
    private string VethA => $"fpi{Tag}a";
    private string VethB => $"fpi{Tag}b";
    public string Dir { get; }
    private Process? _charon;
    public RecordingSink Sink { get; } = new();
    public ListLogger Log { get; }
    public IkeEngine? Engine { get; private set; }
    public UdpIkeTransport? Transport { get; private set; }

    public CharonTestbed(ITestOutputHelper output)
    {
        _out = output;
        Log = new ListLogger("fastpath", output);
        Dir = Path.Combine("/tmp", $"fp-ike-{Tag}");
        if (!File.Exists("/usr/lib/ipsec/charon") || !File.Exists("/usr/sbin/swanctl"))
            throw new InvalidOperationException("strongSwan charon/swanctl are not installed (apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins): this interop test needs the real peer");
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
            // kernel-libipsec routes the remote subnet into its TUN device with a source address from
            // the local selector: charon's side of 192.0.2.0/25 needs one.
            Sh($"ip -n {NsA} addr add 192.0.2.1/32 dev lo");
            Sh($"ip -n {NsB} link set lo up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public sealed record CharonConn(string Ike = "aes128gcm16-prfsha256-x25519", string Esp = "aes128gcm16", string DpdDelay = "0s", string Fragmentation = "no",
        bool Certificates = false, int FragmentSize = 1280);

    /// <summary>For CharonConn.Certificates: the CA charon trusts and charon's own certificate and key (swanctl x509ca/, x509/, private/).</summary>
    public void WriteCharonCredentials(System.Security.Cryptography.X509Certificates.X509Certificate2 ca, System.Security.Cryptography.X509Certificates.X509Certificate2 cert,
        System.Security.Cryptography.AsymmetricAlgorithm key)
    {
        foreach (var sub in new[] { "x509ca", "x509", "private" }) Directory.CreateDirectory(Path.Combine(Dir, "swanctl", sub));
        File.WriteAllText(Path.Combine(Dir, "swanctl", "x509ca", "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(Dir, "swanctl", "x509", "charon.pem"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(Dir, "swanctl", "private", "charon.pem"), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Starts charon in -a with one connection "fp" (charon = "west", 192.0.2.0/25; FastPath = "east", 192.0.2.128/25).</summary>
    public void StartCharon(CharonConn c)
    {
        Directory.CreateDirectory(Path.Combine(Dir, "run"));
        foreach (var sub in new[] { "x509", "x509ca", "x509ocsp", "x509aa", "x509ac", "x509crl", "pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12", "conf.d" })
            Directory.CreateDirectory(Path.Combine(Dir, "swanctl", sub));
        File.WriteAllText(Path.Combine(Dir, "strongswan.conf"), $$"""
            charon {
              load_modular = no
              load = random nonce openssl aes sha1 sha2 md5 hmac gcm gmp curve25519 kdf pem pkcs1 pkcs8 pubkey x509 constraints kernel-libipsec kernel-netlink socket-default vici updown
              install_routes = yes
              port = 500
              port_nat_t = 4500
              retransmit_timeout = 1
              retransmit_tries = 3
              fragment_size = {{c.FragmentSize}}
              plugins {
                vici { socket = unix://{{Dir}}/run/charon.vici }
                kernel-libipsec { allow_peer_ts = no }
              }
              filelog {
                log { path = {{Dir}}/charon.log
                      flush_line = yes
                      default = 1
                      ike = 4
                      chd = 4
                      cfg = 2
                      net = 2
                      esp = 0 }
              }
            }
            """);
        File.WriteAllText(Path.Combine(Dir, "swanctl", "swanctl.conf"), $$"""
            connections {
              fp {
                version = 2
                local_addrs = 203.0.113.1
                remote_addrs = 203.0.113.2
                encap = yes
                mobike = no
                fragmentation = {{c.Fragmentation}}
                proposals = {{c.Ike}}
                dpd_delay = {{c.DpdDelay}}
                {{(c.Certificates ? CertSections : PskSections)}}
                children {
                  net {
                    local_ts = 192.0.2.0/25
                    remote_ts = 192.0.2.128/25
                    esp_proposals = {{c.Esp}}
                    start_action = none
                  }
                }
              }
            }
            secrets {
              ike-1 {
                id-1 = 203.0.113.1
                id-2 = 203.0.113.2
                secret = "{{Psk}}"
              }
            }
            """);
        var psi = new ProcessStartInfo("/usr/sbin/ip", ["netns", "exec", NsA, "sh", "-c", $"mount --bind '{Dir}/run' /run && exec /usr/lib/ipsec/charon"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["STRONGSWAN_CONF"] = Path.Combine(Dir, "strongswan.conf");
        _charon = Process.Start(psi)!;
        _charon.OutputDataReceived += (_, _) => { };
        _charon.ErrorDataReceived += (_, _) => { };
        _charon.BeginOutputReadLine();
        _charon.BeginErrorReadLine();
        string vici = Path.Combine(Dir, "run", "charon.vici");
        for (int i = 0; i < 100 && !File.Exists(vici); i++) Thread.Sleep(100);
        if (!File.Exists(vici)) throw new InvalidOperationException("charon did not start: " + CharonLogTail());
        Swanctl("--load-all");
    }

    private const string PskSections = """
        local {
                  auth = psk
                  id = 203.0.113.1
                }
                remote {
                  auth = psk
                  id = 203.0.113.2
                }
        """;

    private const string CertSections = """
        send_cert = always
                local {
                  auth = pubkey
                  certs = charon.pem
                  id = charon.fastpath.test
                }
                remote {
                  auth = pubkey
                  id = fastpath.fastpath.test
                }
        """;

    public string Swanctl(string args, int timeoutSeconds = 30)
    {
        var psi = new ProcessStartInfo("/usr/sbin/ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "netns", "exec", NsA, "timeout", timeoutSeconds.ToString(), "swanctl" }) psi.ArgumentList.Add(a);
        foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--uri");
        psi.ArgumentList.Add($"unix://{Dir}/run/charon.vici");
        psi.Environment["SWANCTL_DIR"] = Path.Combine(Dir, "swanctl");
        using var p = Process.Start(psi)!;
        string o = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return o;
    }

    /// <summary>Creates the engine with sockets inside -b.</summary>
    public IkeEngine StartEngine(IkeEngineOptions? options = null)
    {
        try { Transport = NetnsThread.Run(NsB, () => new UdpIkeTransport([FastPathIp], 500, 4500, Log)); }
        catch (InvalidOperationException e) { throw new InvalidOperationException("creating the IKE sockets in " + NsB + ": " + e.Message, e); }
        Engine = new IkeEngine(options ?? new IkeEngineOptions { LogSensitive = true }, Transport!, Sink, Log);
        Engine.ReceiveOnEngineThread(Transport!); // as the daemon; IkeFloodTests and LibreswanTestbed keep the receive threads
        return Engine;
    }

    public static IkeConnection FastPathConn(string ike = "aes128gcm16-prfsha256-x25519", string esp = "aes128gcm16", Func<IkeConnection, IkeConnection>? edit = null)
    {
        var c = new IkeConnection
        {
            Name = "west-east",
            LocalAddress = FastPathIp,
            RemoteAddress = CharonIp,
            IkeProposals = ProposalParser.Parse(ike + "!", ProposalProtocol.Ike),
            EspProposals = ProposalParser.Parse(esp + "!", ProposalProtocol.Esp),
            LocalTs = [TrafficSelectors.FromPrefix("192.0.2.128/25")],
            RemoteTs = [TrafficSelectors.FromPrefix("192.0.2.0/25")],
            LocalCredentials = new IkeCredentials { Psk = Encoding.ASCII.GetBytes(Psk) },
            Encapsulation = EncapsulationMode.Force,
            KeyingTries = 1,
        };
        return edit is null ? c : edit(c);
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the time is up.</summary>
    public static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < end)
        {
            if (condition()) return true;
            Thread.Sleep(100);
        }
        return condition();
    }

    public string CharonLog => File.Exists(Path.Combine(Dir, "charon.log")) ? File.ReadAllText(Path.Combine(Dir, "charon.log")) : "";

    public string CharonLogTail(int lines = 60) => string.Join("\n", CharonLog.Split('\n').TakeLast(lines));

    /// <summary>charon's "%B" hex dumps with <paramref name="label"/> (e.g. "encryption initiator key"), in log order.</summary>
    public List<byte[]> CharonDumps(string label)
    {
        var result = new List<byte[]>();
        List<byte>? cur = null;
        foreach (var line in CharonLog.Split('\n'))
        {
            var m = DumpHeader().Match(line);
            if (m.Success)
            {
                if (m.Groups[1].Value.Trim() == label) { cur = []; result.Add([]); }
                else cur = null;
                continue;
            }
            var d = DumpLine().Match(line);
            if (d.Success && cur is not null)
            {
                cur.AddRange(Convert.FromHexString(d.Groups[1].Value.Replace(" ", "", StringComparison.Ordinal)));
                result[^1] = cur.ToArray();
                continue;
            }
            cur = null;
        }
        return result;
    }

    [GeneratedRegex(@"^\d+\[\w+\] (.*?) => \d+ bytes @ 0x[0-9a-f]+$")]
    private static partial Regex DumpHeader();

    [GeneratedRegex(@"^\d+\[\w+\]\s+\d+: ((?:[0-9A-F]{2} ?)+)")]
    private static partial Regex DumpLine();

    public void LinkDown() => Sh($"ip -n {NsB} link set {VethB} down");

    /// <summary>The link back after <see cref="LinkDown"/> (addresses and routes come back with it).</summary>
    public void LinkUp() => Sh($"ip -n {NsB} link set {VethB} up");

    private void Sh(string cmd)
    {
        var parts = cmd.Split(' ');
        var psi = new ProcessStartInfo("/usr/sbin/" + parts[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in parts.Skip(1)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(20000)) { p.Kill(); throw new TimeoutException(cmd); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{cmd}: {err}");
    }

    public void Dispose()
    {
        try { Engine?.Dispose(); } catch (ObjectDisposedException) { }
        Transport?.Dispose();
        if (_charon is not null)
        {
            try
            {
                if (!_charon.HasExited)
                {
                    _charon.Kill(); // the PID we started: ip netns exec → sh → exec charon, one process
                    _charon.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException) { }
            _out.WriteLine("---- charon log tail ----\n" + CharonLogTail(40));
            _charon.Dispose();
        }
        foreach (var ns in new[] { NsA, NsB })
        {
            try { Sh($"ip netns del {ns}"); } catch (InvalidOperationException) { } catch (TimeoutException) { }
        }
        try { if (Directory.Exists(Dir)) Directory.Delete(Dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

}
