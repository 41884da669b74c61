using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using FastPath.Gateway.Tests.Netns;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Cli;

/// <summary>
/// leftupdown= with IKE: a real shell script (written here) appends its PLUTO_* environment to a file on
/// every call. Both daemons run it; west's CHILD_SA is rekeyed (keylife 8 s, rekeymargin 5 s: a rekey
/// every ~3 s) before `fastpath down`, `fastpath up` and `fastpath stop`. Expected, as Pluto did it:
/// up-client when the CHILD_SA is installed, nothing on a rekey (the tunnel stays up), down-client when
/// it is deleted — by `down` on west, by the peer's DELETE on east, and at `stop` (before the daemon exits).
/// </summary>
[Collection("netns")]
public sealed partial class CliUpdownTests
{
    private readonly ITestOutputHelper _out;
    public CliUpdownTests(ITestOutputHelper output) => _out = output;

    private static string Script(string log) => $"""
        #!/bin/sh
        # fastpath test updown: one record per call, every PLUTO_* variable
        {'{'} echo "--- $PLUTO_VERB"; env | grep '^PLUTO_' | sort; {'}'} >> {log}

        """;

    [Fact]
    public void Updown_script_runs_with_the_pluto_environment_on_up_and_down_but_not_on_rekey()
    {
        string tmp = Directory.CreateTempSubdirectory("fp-cli-updown-").FullName;
        try
        {
            string westLog = Path.Combine(tmp, "west.log"), eastLog = Path.Combine(tmp, "east.log");
            foreach (var (side, file) in new[] { ("west", westLog), ("east", eastLog) })
            {
                File.WriteAllText(Path.Combine(tmp, side + ".sh"), Script(file));
                Testbed.Sh($"chmod 700 {tmp}/{side}.sh");
            }
            using var p = new IkeDaemonPair(
                westExtra: $"    leftupdown={tmp}/west.sh\n    keylife=8s\n    rekeymargin=5s\n    rekeyfuzz=0%\n",
                eastExtra: $"    leftupdown={tmp}/east.sh\n");

            p.WaitFor(() => Records(westLog).Count >= 1 && Records(eastLog).Count >= 1, TimeSpan.FromSeconds(10), "up-client on both sides");

            // Rekeys under traffic: the tunnel carries on, no updown call.
            p.WaitFor(() => ChildRekeys(p) >= 2, TimeSpan.FromSeconds(20), "two CHILD_SA rekeys");
            Assert.Equal(3, p.Bed.Ping(p.Bed.Sunset, "192.0.2.138", count: 3).Received);
            Assert.Single(Records(westLog));
            Assert.Single(Records(eastLog));

            Assert.Equal(0, CliRunner.Run($"down west-east {p.W}").Exit);
            p.WaitFor(() => Records(westLog).Count >= 2 && Records(eastLog).Count >= 2, TimeSpan.FromSeconds(15), "down-client on both sides");
            Assert.Equal(0, CliRunner.Run($"up west-east {p.W}").Exit);
            p.WaitEstablished(TimeSpan.FromSeconds(20));
            p.WaitFor(() => Records(westLog).Count >= 3 && Records(eastLog).Count >= 3, TimeSpan.FromSeconds(10), "up-client after `up`");
            Assert.Equal(0, CliRunner.Run($"stop {p.W}").Exit);
            p.WaitFor(() => Records(eastLog).Count >= 4, TimeSpan.FromSeconds(15), "east's down-client after west stopped");

            var west = Records(westLog);
            var east = Records(eastLog);
            _out.WriteLine(File.ReadAllText(westLog));
            Assert.Equal(new[] { "up-client", "down-client", "up-client", "down-client" }, west.Select(r => r["PLUTO_VERB"]).ToArray());
            Assert.Equal(new[] { "up-client", "down-client", "up-client", "down-client" }, east.Select(r => r["PLUTO_VERB"]).ToArray());

            // Every record: the conn, both ends and both clients, as the conn says (west's view, east's mirror).
            foreach (var r in west)
            {
                Assert.Equal("west-east", r["PLUTO_CONNECTION"]);
                Assert.Equal("203.0.113.1", r["PLUTO_ME"]);
                Assert.Equal("203.0.113.2", r["PLUTO_PEER"]);
                Assert.Equal("192.0.2.0/25", r["PLUTO_MY_CLIENT"]);
                Assert.Equal("192.0.2.0", r["PLUTO_MY_CLIENT_NET"]);
                Assert.Equal("255.255.255.128", r["PLUTO_MY_CLIENT_MASK"]);
                Assert.Equal("192.0.2.128/25", r["PLUTO_PEER_CLIENT"]);
                Assert.Equal("192.0.2.128", r["PLUTO_PEER_CLIENT_NET"]);
                Assert.Equal("255.255.255.128", r["PLUTO_PEER_CLIENT_MASK"]);
                Assert.Equal("203.0.113.1", r["PLUTO_MY_ID"]);
                Assert.Equal("203.0.113.2", r["PLUTO_PEER_ID"]);
                Assert.Equal("outside", r["PLUTO_INTERFACE"]);
                Assert.Equal("TUNNEL", r["PLUTO_CONN_POLICY"]);
                Assert.Equal("2.0", r["PLUTO_VERSION"]);
            }
            foreach (var r in east)
            {
                Assert.Equal("west-east", r["PLUTO_CONNECTION"]);
                Assert.Equal("203.0.113.2", r["PLUTO_ME"]);
                Assert.Equal("203.0.113.1", r["PLUTO_PEER"]);
                Assert.Equal("192.0.2.128/25", r["PLUTO_MY_CLIENT"]);
                Assert.Equal("192.0.2.0/25", r["PLUTO_PEER_CLIENT"]);
            }
            // The SPIs name the CHILD_SA each call is about, as west's own log lines say: the first one
            // established; the one `down` deleted (a rekeyed one: not the first); the first one after that
            // (`up`); the one deleted at shutdown. East's SPIs are west's reversed.
            var log = ChildEvents(File.ReadAllText(Path.Combine(p.Dir, "west", "fastpath.log")));
            var firstUp = log.First(e => e.Established);
            var downed = log.First(e => !e.Established && e.Reason != "rekeyed");
            var upAgain = log.Skip(log.IndexOf(downed)).First(e => e.Established);
            var atStop = log.Last(e => !e.Established);
            Assert.Equal("shutdown", atStop.Reason);
            Assert.True(log.Count(e => e.Reason == "rekeyed" && log.IndexOf(e) < log.IndexOf(downed)) >= 2, "fewer than 2 rekeys before `down`:\n" + string.Join("\n", log));
            Assert.NotEqual(firstUp.Out, downed.Out);
            foreach (var (record, ev) in new[] { (west[0], firstUp), (west[1], downed), (west[2], upAgain), (west[3], atStop) })
            {
                Assert.Equal(ev.In, record["PLUTO_INBOUND_SPI"]);
                Assert.Equal(ev.Out, record["PLUTO_OUTBOUND_SPI"]);
            }
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(west[i]["PLUTO_INBOUND_SPI"], east[i]["PLUTO_OUTBOUND_SPI"]);
                Assert.Equal(west[i]["PLUTO_OUTBOUND_SPI"], east[i]["PLUTO_INBOUND_SPI"]);
            }
            Assert.Equal(west[0]["PLUTO_SA_REQID"], west[1]["PLUTO_SA_REQID"]); // the reqid survives the rekeys
        }
        finally
        {
            Directory.Delete(tmp, true);
        }
    }

    private sealed record ChildEvent(bool Established, string Out, string In, string? Reason);

    // `"west-east" #2: IPsec SA established tunnel mode {ESP=>0x.. <0x.. xfrm=..}` and `... IPsec SA deleted {ESP=>0x.. <0x..}: REASON`
    [System.Text.RegularExpressions.GeneratedRegex(@"IPsec SA (?<what>established|deleted)[^{]*\{ESP[^=]*=>(?<out>0x[0-9a-f]{8}) <(?<in>0x[0-9a-f]{8})[^}]*\}(: (?<reason>.*))?")]
    private static partial System.Text.RegularExpressions.Regex ChildEventLine();

    private static List<ChildEvent> ChildEvents(string log) =>
        ChildEventLine().Matches(log).Select(m => new ChildEvent(m.Groups["what"].Value == "established", m.Groups["out"].Value, m.Groups["in"].Value,
            m.Groups["reason"].Success ? m.Groups["reason"].Value.Trim() : null)).ToList();

    private static long ChildRekeys(IkeDaemonPair p)
    {
        using var j = p.Json($"status --json {p.W}");
        return j.RootElement.GetProperty("ike").GetProperty("counters").GetProperty("child_rekeys").GetInt64();
    }

    /// <summary>The script's records: "--- VERB" then NAME=value lines.</summary>
    private static List<Dictionary<string, string>> Records(string log)
    {
        var list = new List<Dictionary<string, string>>();
        if (!File.Exists(log)) return list;
        foreach (string line in File.ReadAllLines(log))
        {
            if (line.StartsWith("--- ", StringComparison.Ordinal)) list.Add(new Dictionary<string, string>(StringComparer.Ordinal));
            else if (list.Count > 0 && line.IndexOf('=', StringComparison.Ordinal) is int eq and > 0) list[^1][line[..eq]] = line[(eq + 1)..];
        }
        return list;
    }
}
