using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using FastPath.Gateway.Tests.Netns;

namespace FastPath.Gateway.Tests.Cli;

/// <summary>
/// Two real `fastpath start` daemons, west and east, each in its own namespace of one Testbed (gateway
/// mode), keyed by IKEv2 with a PSK: west initiates "west-east" (auto=start), east answers (auto=add).
/// Both are started the way an operator does it (`fastpath start --config --secrets --rundir`, which
/// re-executes itself in the background) and stopped with `fastpath stop`; Dispose stops them (by the
/// pid file, SIGKILL only when `stop` failed) and deletes the namespaces and files, also after a failure.
/// </summary>
public sealed class IkeDaemonPair : IDisposable
{
    public const string Psk = "fastpath cli test key, not a secret";
    public Testbed Bed { get; }
    public string Dir { get; }
    public string WestConf => Path.Combine(Dir, "west.conf");
    public string EastConf => Path.Combine(Dir, "east.conf");
    /// <summary>`--rundir` arguments of the two daemons.</summary>
    public string W => $"--rundir {Dir}/west";
    public string E => $"--rundir {Dir}/east";

    /// <param name="westExtra">lines added to west's conn west-east (leftupdown=, keylife=, ...).</param>
    /// <param name="eastExtra">the same for east.</param>
    /// <param name="westConns">whole conns appended to west's ipsec.conf.</param>
    /// <param name="eastConns">whole conns appended to east's ipsec.conf.</param>
    public IkeDaemonPair(string westExtra = "", string eastExtra = "", string westConns = "", string eastConns = "")
    {
        Bed = new Testbed("gateway");
        Dir = $"/tmp/fp-{Bed.Tag}-cli";
        try
        {
            Directory.CreateDirectory(Dir);
            File.WriteAllText(WestConf, Conf("west", westExtra) + westConns);
            File.WriteAllText(EastConf, Conf("east", eastExtra) + eastConns);
            foreach (string side in new[] { "west", "east" })
            {
                string secrets = Path.Combine(Dir, side + ".secrets");
                File.WriteAllText(secrets, $"203.0.113.1 203.0.113.2 : PSK \"{Psk}\"\n");
                Testbed.Sh($"chmod 600 {secrets}");
            }
            // The responder first: west's first IKE_SA_INIT then finds east listening.
            Start("east", Bed.East, EastConf);
            Start("west", Bed.West, WestConf);
            WaitEstablished();
            if (!Bed.Warm("192.0.2.138")) throw new InvalidOperationException("no ping through the IKE tunnel\n" + Diagnose());
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>An ipsec.conf of one side (Libreswan dialect, IKEv2 PSK, 192.0.2.0/25 ↔ 192.0.2.128/25).</summary>
    public static string Conf(string side, string extra = "")
    {
        bool west = side == "west";
        string me = west ? "203.0.113.1" : "203.0.113.2", peer = west ? "203.0.113.2" : "203.0.113.1";
        string mine = west ? "192.0.2.0/25" : "192.0.2.128/25", theirs = west ? "192.0.2.128/25" : "192.0.2.0/25";
        return $"""
            version 2

            config setup
                uniqueids=yes

            conn west-east
                ikev2=insist
                authby=secret
                ike=aes128gcm16-prfsha256-x25519
                esp=aes128gcm16
                left={me}
                leftid={me}
                leftsubnet={mine}
                right={peer}
                rightid={peer}
                rightsubnet={theirs}
                auto={(west ? "start" : "add")}
            {extra}

            """.Replace("\r", "", StringComparison.Ordinal);
    }

    private void Start(string side, string ns, string conf)
    {
        var r = CliRunner.Run($"start --config {conf} --secrets {Dir}/{side}.secrets --rundir {Dir}/{side}", ns);
        if (r.Exit != 0 || !r.Out.StartsWith("FastPath daemon started (pid ", StringComparison.Ordinal))
            throw new InvalidOperationException($"fastpath start ({side}): exit {r.Exit}\n{r.Out}{r.Err}");
    }

    /// <summary>`fastpath VERB --json` against one daemon, parsed.</summary>
    public JsonDocument Json(string args)
    {
        var r = CliRunner.Run(args);
        if (r.Exit != 0) throw new InvalidOperationException($"fastpath {args}: exit {r.Exit}: {r.Err}");
        return JsonDocument.Parse(r.Out);
    }

    /// <summary>The established IKE SAs of a conn in `status --json` that carry an installed CHILD_SA.</summary>
    public static JsonElement[] EstablishedIkeSas(JsonDocument status, string conn = "west-east") =>
        status.RootElement.GetProperty("ike").GetProperty("ike_sas").EnumerateArray()
            .Where(a => a.GetProperty("connection").GetString() == conn && a.GetProperty("state").GetString() == "ESTABLISHED"
                        && a.GetProperty("children").EnumerateArray().Any(c => c.GetProperty("state").GetString() == "INSTALLED"))
            .ToArray();

    /// <summary>Polls both daemons' `status --json` until each has an ESTABLISHED IKE SA with an INSTALLED CHILD_SA.</summary>
    public void WaitEstablished(TimeSpan? timeout = null) => WaitFor(() =>
    {
        using var w = Json($"status --json {W}");
        using var e = Json($"status --json {E}");
        return EstablishedIkeSas(w).Length == 1 && EstablishedIkeSas(e).Length == 1;
    }, timeout ?? TimeSpan.FromSeconds(30), "an established IKE SA with a CHILD_SA on both sides");

    public void WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (condition()) return;
            }
            catch (InvalidOperationException) when (sw.Elapsed < timeout) { } // control socket not there yet
            if (sw.Elapsed > timeout) throw new TimeoutException($"no {what} after {timeout.TotalSeconds:0} s\n" + Diagnose());
            Thread.Sleep(200);
        }
    }

    public string Log(string side) => IkeInterop.Tail(Path.Combine(Dir, side, "fastpath.log"), 40);

    public string Diagnose() =>
        $"--- west log ---\n{Log("west")}\n--- east log ---\n{Log("east")}\n--- west status ---\n{CliRunner.Run($"status {W}").Out}\n--- east status ---\n{CliRunner.Run($"status {E}").Out}";

    public void Dispose()
    {
        foreach (string side in new[] { "west", "east" })
        {
            string pidFile = Path.Combine(Dir, side, "pid");
            try
            {
                if (!File.Exists(pidFile)) continue;
                int pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                if (CliRunner.Run($"stop --rundir {Dir}/{side}").Exit != 0 && File.Exists($"/proc/{pid}/cmdline")
                    && File.ReadAllText($"/proc/{pid}/cmdline").Contains(Dir, StringComparison.Ordinal))
                    Testbed.Sh($"kill -KILL {pid}", check: false);
            }
            catch (Exception e) when (e is IOException or FormatException or TimeoutException or InvalidOperationException) { }
        }
        Bed.Dispose();
        try { if (Directory.Exists(Dir)) Directory.Delete(Dir, true); }
        catch (IOException) { }
    }
}
