using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using FastPath.Gateway.Tests.Netns;
using Xunit;

namespace FastPath.Gateway.Tests.Cli;

/// <summary>
/// Two real `fastpath start` daemons in the west/east namespaces of the Testbed, configured with
/// ipsec.conf files (a FreeS/WAN manually keyed conn on both, shunt conns on west); every verb run
/// through the real CLI; golden text for eroute/status/spi (counters and times normalised); every
/// --json output parsed and checked; traffic sunset → sunrise through the tunnel, across down/up and
/// a reload that adds a conn (the tunnel keeps its SAs: counters continue).
/// </summary>
[Collection("netns")]
public sealed class CliGoldenTests
{
    private const string Manual = """
        conn west-east
                left=203.0.113.1
                leftsubnet=192.0.2.0/25
                right=203.0.113.2
                rightsubnet=192.0.2.128/25
                spibase=0x1000
                esp=aes128gcm16
                leftespenckey=0x0102030405060708090a0b0c0d0e0f1011121314
                rightespenckey=0x2122232425262728292a2b2c2d2e2f3031323334
                auto=start

        """;

    private const string WestShunts = """
        conn pass-doc
                type=passthrough
                authby=never
                left=203.0.113.1
                leftsubnet=192.0.2.0/25
                right=%any
                rightsubnet=198.51.100.0/24
                auto=route

        conn drop-doc
                type=drop
                authby=never
                left=203.0.113.1
                leftsubnet=192.0.2.0/25
                right=%any
                rightsubnet=198.51.100.64/26
                auto=route

        """;

    internal const string GoldenEroute = """
        N          192.0.2.0/25       -> 192.0.2.128/25     => tun0x1002@203.0.113.2
        N          192.0.2.0/25       -> 198.51.100.0/24    => %pass
        N          192.0.2.0/25       -> 198.51.100.64/26   => %drop

        """;

    internal const string GoldenStatus = """
        FastPath gateway: CONF (freeswan), up since TIME
        Connections (8):
          "drop-doc": 192.0.2.0/25===203.0.113.1...%any===198.51.100.64/26; shunt drop; routed; auto=route; 1 eroutes, 0 SAs
          "pass-doc": 192.0.2.0/25===203.0.113.1...%any===198.51.100.0/24; shunt passthrough; routed; auto=route; 1 eroutes, 0 SAs
          "west-east": 192.0.2.0/25===203.0.113.1...203.0.113.2===192.0.2.128/25; manual tunnel; up; auto=start; 1 eroutes, 2 SAs
          "block": 203.0.113.1...%group[0 policy entries]; policygroup reject; routed; auto=route; 0 eroutes, 0 SAs
          "clear": 203.0.113.1...%group[0 policy entries]; policygroup passthrough; routed; auto=route; 0 eroutes, 0 SAs
          "clear-or-private": 203.0.113.1...%opportunisticgroup[0 policy entries]; policygroup passthrough; routed; auto=route; 0 eroutes, 0 SAs
          "private": 203.0.113.1...%opportunisticgroup[0 policy entries]; policygroup tunnel; routed; auto=route; 0 eroutes, 0 SAs
          "private-or-clear": 203.0.113.1...%opportunisticgroup[0 policy entries]; policygroup tunnel; routed; auto=route; 0 eroutes, 0 SAs
        Security Associations (1 manual, 0 IKE SAs, 0 CHILD_SAs):
          "west-east": manual keys, ESP tunnel, aes128gcm16
            {ESP=>0x00001002 <0x00001003} 203.0.113.1...203.0.113.2
            in  N bytes, N packets; out N bytes, N packets

        """;

    internal const string GoldenSpi = """
        src 203.0.113.2 dst 203.0.113.1
        	proto esp spi 0x00001003 mode tunnel dir in conn "west-east" keying manual
        	replay-window 64 seq 0xSEQ worker 0
        	suite aes128gcm16 key 0x[masked]
        	current: N(bytes), N(packets), N(drops)
        src 203.0.113.1 dst 203.0.113.2
        	proto esp spi 0x00001002 mode tunnel dir out conn "west-east" keying manual
        	replay-window 64 seq 0xSEQ worker 0
        	suite aes128gcm16 key 0x[masked]
        	current: N(bytes), N(packets), N(drops)

        """;

    [Fact]
    public void Daemons_run_ipsec_conf_conns_and_every_verb_answers()
    {
        using var tb = new Testbed("gateway");
        string dir = $"/tmp/fp-dmn-{tb.Tag}";
        Directory.CreateDirectory(dir);
        string westConf = Path.Combine(dir, "west.conf"), eastConf = Path.Combine(dir, "east.conf");
        File.WriteAllText(westConf, "version 2\n\n" + Manual + WestShunts);
        File.WriteAllText(eastConf, "version 2\n\n" + Manual);
        string W = $"--rundir {dir}/west", E = $"--rundir {dir}/east";
        try
        {
            var sw = CliRunner.Run($"start --config {westConf} --secrets {dir}/none {W}", tb.West);
            Assert.True(sw.Exit == 0, sw.Err + sw.Out);
            Assert.StartsWith("FastPath daemon started (pid ", sw.Out, StringComparison.Ordinal);
            var se = CliRunner.Run($"start --config {eastConf} --secrets {dir}/none {E}", tb.East);
            Assert.True(se.Exit == 0, se.Err + se.Out);
            Assert.Equal(1, CliRunner.Run($"start --config {westConf} {W}", tb.West).Exit); // already running

            Assert.True(tb.Warm("192.0.2.138"), "no ping through the manually keyed tunnel");
            Assert.Equal(5, tb.Ping(tb.Sunset, "192.0.2.138").Received);

            // Golden text.
            var er = CliRunner.Run($"eroute {W}");
            Assert.Equal(0, er.Exit);
            Assert.Equal(GoldenEroute, CliRunner.Normalise(er.Out));
            var st = CliRunner.Run($"status {W}");
            Assert.Equal(0, st.Exit);
            Assert.Equal(GoldenStatus.Replace("CONF", westConf, StringComparison.Ordinal), CliRunner.Normalise(st.Out));
            var spi = CliRunner.Run($"spi {W}");
            Assert.Equal(0, spi.Exit);
            Assert.Equal(GoldenSpi, CliRunner.Normalise(spi.Out));
            Assert.Equal(st.Out.Split('\n')[1..], CliRunner.Run($"auto --status {W}").Out.Split('\n')[1..]); // FreeS/WAN alias

            // JSON of every listing.
            using (var j = Json($"status --json {W}"))
            {
                var conn = j.RootElement.GetProperty("connections").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "west-east");
                Assert.Equal("up", conn.GetProperty("state").GetString());
                Assert.Equal("manual", conn.GetProperty("kind").GetString());
                var sas = j.RootElement.GetProperty("sas").EnumerateArray().ToArray();
                Assert.Equal(2, sas.Length);
                Assert.True(sas.Single(s => s.GetProperty("direction").GetString() == "out").GetProperty("packets").GetInt64() >= 5);
                Assert.True(sas.Single(s => s.GetProperty("direction").GetString() == "in").GetProperty("packets").GetInt64() >= 5);
            }
            using (var j = Json($"eroute --json {W}"))
            {
                var tun = j.RootElement.EnumerateArray().Single(e => e.GetProperty("action").GetString() == "tun0x1002@203.0.113.2");
                Assert.Equal("west-east", tun.GetProperty("connection").GetString());
                Assert.True(tun.GetProperty("hits").GetInt64() >= 5);
                Assert.Equal(3, j.RootElement.GetArrayLength());
            }
            using (var j = Json($"spi --json {W}"))
                Assert.Equal(new[] { 0x1003L, 0x1002L }, j.RootElement.EnumerateArray().Select(s => s.GetProperty("spi").GetInt64()).ToArray());
            using (var j = Json($"trafficstatus --json {W}"))
                Assert.All(j.RootElement.EnumerateArray(), s => Assert.Equal("west-east", s.GetProperty("connection").GetString()));
            Assert.Matches("\"west-east\": type=ESP, keying=manual, inBytes=[1-9]\\d*, inPackets=[1-9]\\d*, outBytes=[1-9]\\d*", CliRunner.Run($"trafficstatus {W}").Out);
            using (var j = Json($"look --json {W}"))
                Assert.Contains(j.RootElement.GetProperty("routes").EnumerateArray(), r => r.GetString()!.StartsWith("192.0.2.0/25", StringComparison.Ordinal));
            using (var j = Json($"counters --json {W}"))
                Assert.True(j.RootElement.GetProperty("totals").GetProperty("Encapsulated").GetInt64() >= 5);
            var barf = CliRunner.Run($"barf {W}");
            Assert.Equal(0, barf.Exit);
            Assert.Contains("leftespenckey=[masked]", barf.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("0102030405060708", barf.Out, StringComparison.Ordinal);
            Assert.Contains("+ nft list ruleset", barf.Out, StringComparison.Ordinal);
            Assert.Contains("+ recent log", barf.Out, StringComparison.Ordinal);
            using (var j = Json($"barf --json {W}")) Assert.True(j.RootElement.TryGetProperty("status", out _));
            var prom = CliRunner.Run($"metrics {W}");
            Assert.Matches("fastpath_child_sa_bytes_total\\{conn=\"west-east\",direction=\"out\",spi=\"0x00001002\"\\} [1-9]", prom.Out);

            // Conn verbs.
            var unknown = CliRunner.Run($"up nosuch {W}");
            Assert.Equal(5, unknown.Exit);
            Assert.Contains("no connection \"nosuch\" is loaded (loaded: block, clear,", unknown.Err, StringComparison.Ordinal);
            Assert.Equal(0, CliRunner.Run($"down west-east {W}").Exit);
            Assert.DoesNotContain("tun0x1002", CliRunner.Run($"eroute {W}").Out, StringComparison.Ordinal);
            Assert.Equal(0, tb.Ping(tb.Sunset, "192.0.2.138", count: 3).Received); // no eroute: dropped, never clear
            Assert.Equal(0, CliRunner.Run($"auto --up west-east {W}").Exit);
            // Manual keys restart at sequence 1: east's inbound replay window must restart too.
            Assert.Equal(0, CliRunner.Run($"auto --down west-east {E}").Exit);
            Assert.Equal(0, CliRunner.Run($"up west-east {E}").Exit);
            Assert.True(tb.Warm("192.0.2.138"));
            Assert.Equal(0, CliRunner.Run($"unroute pass-doc {W}").Exit);
            Assert.DoesNotContain("%pass", CliRunner.Run($"eroute {W}").Out, StringComparison.Ordinal);
            Assert.Equal(0, CliRunner.Run($"route pass-doc {W}").Exit);
            Assert.Contains("%pass", CliRunner.Run($"eroute {W}").Out, StringComparison.Ordinal);
            Assert.Equal("\"west-east\": unchanged\n", CliRunner.Run($"replace west-east {W}").Out);

            // Reload with one more conn: the tunnel is not touched (its SA counters keep counting).
            long before = OutPackets(W);
            File.AppendAllText(westConf, "\nconn reject-doc\n\ttype=reject\n\tauthby=never\n\tleft=203.0.113.1\n\tleftsubnet=192.0.2.0/25\n\tright=203.0.113.77\n\tauto=route\n");
            var rl = CliRunner.Run($"reload {W}");
            Assert.True(rl.Exit == 0, rl.Err);
            Assert.Contains("8 unchanged, 0 replaced, 1 added, 0 deleted", rl.Out, StringComparison.Ordinal);
            Assert.Matches(@"(?m)192\.0\.2\.0/25 +-> 203\.0\.113\.77/32 +=> %reject$", CliRunner.Run($"eroute {W}").Out);
            Assert.Equal(3, tb.Ping(tb.Sunset, "192.0.2.138", count: 3).Received);
            Assert.True(OutPackets(W) >= before + 3, "the reload reset the tunnel's SA");
            Assert.Equal(0, CliRunner.Run($"rereadsecrets {W}").Exit);
            Assert.Equal(0, CliRunner.Run($"rereadgroups {W}").Exit);

            // A broken config: the daemon keeps running what it has and says where the error is.
            File.AppendAllText(westConf, "\nconn broken\n\tleft=203.0.113.1\n\tright=203.0.113.2\n\tkeylife=forever\n");
            var bad = CliRunner.Run($"replace west-east {W}");
            Assert.Equal(6, bad.Exit);
            Assert.Matches(@"west\.conf:\d+:\d+: ", bad.Err);
            Assert.Contains("tun0x1002", CliRunner.Run($"eroute {W}").Out, StringComparison.Ordinal);

            Assert.Equal(0, CliRunner.Run($"stop {W}").Exit);
            Assert.Equal(3, CliRunner.Run($"status {W}").Exit);
            Assert.False(File.Exists($"{dir}/west/fastpath.ctl"));
        }
        finally
        {
            CliRunner.Run($"stop {W}");
            CliRunner.Run($"stop {E}");
            Directory.Delete(dir, true);
        }
    }

    private static long OutPackets(string rundir)
    {
        using var j = Json($"spi --json {rundir}");
        return j.RootElement.EnumerateArray().Single(s => s.GetProperty("direction").GetString() == "out").GetProperty("packets").GetInt64();
    }

    private static JsonDocument Json(string args)
    {
        var r = CliRunner.Run(args);
        Assert.True(r.Exit == 0, $"fastpath {args}: exit {r.Exit}: {r.Err}");
        return JsonDocument.Parse(r.Out);
    }
}
