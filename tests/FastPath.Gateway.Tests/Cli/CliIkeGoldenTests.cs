using System;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace FastPath.Gateway.Tests.Cli;

/// <summary>The pair of IKEv2 daemons shared by the tests of <see cref="CliIkeGoldenTests"/>: west also has
/// a second, routed conn (IPv6 subnets, auto=route) that nothing triggers, so the listings show %trap too.</summary>
public sealed class IkePairFixture : IDisposable
{
    public const string WestV6 = """

        conn west-east-v6
            ikev2=insist
            authby=secret
            ike=aes128gcm16-prfsha256-x25519
            esp=aes128gcm16
            left=203.0.113.1
            leftid=203.0.113.1
            leftsubnet=2001:db8:1::/64
            right=203.0.113.2
            rightid=203.0.113.2
            rightsubnet=2001:db8:2::/64
            auto=route

        """;

    public IkeDaemonPair Pair { get; } = new(westConns: WestV6);
    public void Dispose() => Pair.Dispose();
}

/// <summary>
/// Issue 7's CLI tests with IKE: two `fastpath start` daemons (west, east; one namespace each) bring up
/// an IKEv2 PSK tunnel; `status`, `trafficstatus`, `eroute` and `spi` of the running daemon are compared
/// with golden text in which only the variable parts are masked — SPIs, serials, counters, times, each by
/// its own regex below; every --json is parsed and checked against the text and against the other
/// daemon (west's outbound SPI is east's inbound SPI). `down`/`up` over the control socket delete and
/// re-create the CHILD_SA and the IKE SA on both sides.
/// </summary>
[Collection("netns")]
public sealed partial class CliIkeGoldenTests : IClassFixture<IkePairFixture>
{
    private readonly IkeDaemonPair _p;
    public CliIkeGoldenTests(IkePairFixture fixture) => _p = fixture.Pair;

    internal const string GoldenStatusWest = """
        FastPath gateway: CONF (libreswan), up since TIME
        Connections (2):
          "west-east": 192.0.2.0/25===203.0.113.1...203.0.113.2===192.0.2.128/25; ike tunnel; up; auto=start; 1 eroutes, 2 SAs
          "west-east-v6": 2001:db8:1::/64===203.0.113.1...203.0.113.2===2001:db8:2::/64; ike tunnel; routed; auto=route; 1 eroutes, 0 SAs
        Security Associations (0 manual, 1 IKE SAs, 1 CHILD_SAs):
          "west-east" #N: ESTABLISHED, 203.0.113.1:500[203.0.113.1]...203.0.113.2:500[203.0.113.2]
            IKEv2 SPIs: SPI_i* SPI_r, IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519
            #N: INSTALLED, reqid 1, ESP tunnel, ESP:AES_GCM_16_128/NO_EXT_SEQ {ESP=>0xSPI <0xSPI}
              192.0.2.0/25 === 192.0.2.128/25; in N bytes, N packets; out N bytes, N packets

        """;

    internal const string GoldenStatusEast = """
        FastPath gateway: CONF (libreswan), up since TIME
        Connections (1):
          "west-east": 192.0.2.128/25===203.0.113.2...203.0.113.1===192.0.2.0/25; ike tunnel; up; auto=add; 1 eroutes, 2 SAs
        Security Associations (0 manual, 1 IKE SAs, 1 CHILD_SAs):
          "west-east" #N: ESTABLISHED, 203.0.113.2:500[203.0.113.2]...203.0.113.1:500[203.0.113.1]
            IKEv2 SPIs: SPI_i SPI_r*, IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519
            #N: INSTALLED, reqid 1, ESP tunnel, ESP:AES_GCM_16_128/NO_EXT_SEQ {ESP=>0xSPI <0xSPI}
              192.0.2.128/25 === 192.0.2.0/25; in N bytes, N packets; out N bytes, N packets

        """;

    internal const string GoldenTraffic = """
        "west-east": type=ESP, keying=ike, inBytes=N, inPackets=N, outBytes=N, outPackets=N, peer=203.0.113.2

        """;

    internal const string GoldenEroute = """
        N          192.0.2.0/25       -> 192.0.2.128/25     => tun0xSPI@203.0.113.2
        N          2001:db8:1::/64    -> 2001:db8:2::/64    => %trap

        """;

    internal const string GoldenSpi = """
        src 203.0.113.2 dst 203.0.113.1
        	proto esp spi 0xSPI mode tunnel dir in conn "west-east" keying ike
        	replay-window 128 seq 0xSEQ worker 0
        	suite aes128gcm16 key 0x[masked]
        	current: N(bytes), N(packets), N(drops)
        src 203.0.113.1 dst 203.0.113.2
        	proto esp spi 0xSPI mode tunnel dir out conn "west-east" keying ike
        	replay-window 128 seq 0xSEQ worker 0
        	suite aes128gcm16 key 0x[masked]
        	current: N(bytes), N(packets), N(drops)

        """;

    // The masks: every variable part of the IKE listings, by name (CliRunner.Normalise does counters,
    // sequence numbers, times and the eroute hit counts).
    [GeneratedRegex(@"#\d+")]
    private static partial Regex SerialMask();
    [GeneratedRegex(@"\b[0-9a-f]{16}_(?<role>[ir]\*?)")]
    private static partial Regex IkeSpiMask();
    [GeneratedRegex(@"(?<=ESP=>|<|spi )0x[0-9a-f]{8}\b")]
    private static partial Regex EspSpiMask();
    [GeneratedRegex(@"tun0x[0-9a-f]+@")]
    private static partial Regex TunSpiMask();
    [GeneratedRegex(@"\b(?<what>(in|out)(Bytes|Packets))=\d+")]
    private static partial Regex TrafficMask();

    internal static string Mask(string text)
    {
        text = CliRunner.Normalise(text);
        text = SerialMask().Replace(text, "#N");
        text = IkeSpiMask().Replace(text, "SPI_${role}");
        text = EspSpiMask().Replace(text, "0xSPI");
        text = TunSpiMask().Replace(text, "tun0xSPI@");
        return TrafficMask().Replace(text, "${what}=N");
    }

    [GeneratedRegex(@"\{ESP=>0x(?<out>[0-9a-f]{8}) <0x(?<in>[0-9a-f]{8})\}")]
    private static partial Regex EspPair();
    [GeneratedRegex(@"spi 0x(?<spi>[0-9a-f]{8}) mode tunnel dir (?<dir>in|out)")]
    private static partial Regex SpiLine();

    [Fact]
    public void Listings_of_an_IKE_tunnel_match_the_golden_text_and_their_json()
    {
        var pings = _p.Bed.Ping(_p.Bed.Sunset, "192.0.2.138", count: 5);
        FastPath.Gateway.Tests.Netns.Expect.True(pings.Received == 5, () => pings.Output + _p.Diagnose());

        var st = CliRunner.Run($"status {_p.W}");
        Assert.True(st.Exit == 0, st.Err);
        Assert.Equal(GoldenStatusWest.Replace("CONF", _p.WestConf, StringComparison.Ordinal), Mask(st.Out));
        var ste = CliRunner.Run($"status {_p.E}");
        Assert.Equal(GoldenStatusEast.Replace("CONF", _p.EastConf, StringComparison.Ordinal), Mask(ste.Out));
        var tr = CliRunner.Run($"trafficstatus {_p.W}");
        Assert.Equal(0, tr.Exit);
        Assert.Equal(GoldenTraffic, Mask(tr.Out));
        var er = CliRunner.Run($"eroute {_p.W}");
        Assert.Equal(0, er.Exit);
        Assert.Equal(GoldenEroute, Mask(er.Out));
        var spi = CliRunner.Run($"spi {_p.W}");
        Assert.Equal(0, spi.Exit);
        Assert.Equal(GoldenSpi, Mask(spi.Out));

        // The SPIs of the texts agree with each other and with east's (reversed).
        Match pair = EspPair().Match(st.Out), pairEast = EspPair().Match(ste.Out);
        uint outSpi = Convert.ToUInt32(pair.Groups["out"].Value, 16), inSpi = Convert.ToUInt32(pair.Groups["in"].Value, 16);
        Assert.Equal(pair.Groups["out"].Value, pairEast.Groups["in"].Value);
        Assert.Equal(pair.Groups["in"].Value, pairEast.Groups["out"].Value);
        var spiLines = SpiLine().Matches(spi.Out).ToDictionary(m => m.Groups["dir"].Value, m => Convert.ToUInt32(m.Groups["spi"].Value, 16));
        Assert.Equal(inSpi, spiLines["in"]);
        Assert.Equal(outSpi, spiLines["out"]);
        Assert.Contains($"tun0x{outSpi:x}@203.0.113.2", er.Out, StringComparison.Ordinal);

        // status --json: the IKE SA and its CHILD_SA, the conn states, the SA list.
        using (var j = _p.Json($"status --json {_p.W}"))
        {
            var root = j.RootElement;
            Assert.Equal(_p.WestConf, root.GetProperty("config").GetString());
            Assert.Equal("libreswan", root.GetProperty("dialect").GetString());
            var conns = root.GetProperty("connections").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
            Assert.Equal("up", conns["west-east"].GetProperty("state").GetString());
            Assert.Equal("ike", conns["west-east"].GetProperty("kind").GetString());
            Assert.Equal(2, conns["west-east"].GetProperty("sas").GetInt32());
            Assert.Equal(1, conns["west-east"].GetProperty("eroutes").GetInt32());
            Assert.NotEqual(JsonValueKind.Null, conns["west-east"].GetProperty("up_since").ValueKind);
            Assert.Equal("routed", conns["west-east-v6"].GetProperty("state").GetString());
            var ikeSa = Assert.Single(root.GetProperty("ike").GetProperty("ike_sas").EnumerateArray());
            Assert.Equal("ESTABLISHED", ikeSa.GetProperty("state").GetString());
            Assert.True(ikeSa.GetProperty("initiator").GetBoolean());
            Assert.Equal("203.0.113.2", ikeSa.GetProperty("remote_id").GetString());
            Assert.NotEqual(0UL, ikeSa.GetProperty("spi_i").GetUInt64());
            Assert.NotEqual(0UL, ikeSa.GetProperty("spi_r").GetUInt64());
            Assert.Contains($"{ikeSa.GetProperty("spi_i").GetUInt64():x16}_i*", st.Out, StringComparison.Ordinal);
            var child = Assert.Single(ikeSa.GetProperty("children").EnumerateArray());
            Assert.Equal("INSTALLED", child.GetProperty("state").GetString());
            Assert.Equal(inSpi, child.GetProperty("inbound_spi").GetUInt32());
            Assert.Equal(outSpi, child.GetProperty("outbound_spi").GetUInt32());
            Assert.Equal("192.0.2.0/25", child.GetProperty("local_ts").GetString());
            Assert.Equal("192.0.2.128/25", child.GetProperty("remote_ts").GetString());
            Assert.True(child.GetProperty("packets_out").GetInt64() >= 5);
            Assert.True(child.GetProperty("packets_in").GetInt64() >= 5);
            Assert.True(root.GetProperty("ike").GetProperty("counters").GetProperty("ike_sas_established").GetInt64() >= 1);
            var sas = root.GetProperty("sas").EnumerateArray().ToArray();
            Assert.Equal(new[] { ("in", inSpi), ("out", outSpi) }, sas.Select(s => (s.GetProperty("direction").GetString()!, s.GetProperty("spi").GetUInt32())).ToArray());
        }
        using (var j = _p.Json($"status --json {_p.E}"))
        {
            var ikeSa = Assert.Single(j.RootElement.GetProperty("ike").GetProperty("ike_sas").EnumerateArray());
            Assert.False(ikeSa.GetProperty("initiator").GetBoolean());
            var child = Assert.Single(ikeSa.GetProperty("children").EnumerateArray());
            Assert.Equal(outSpi, child.GetProperty("inbound_spi").GetUInt32());
            Assert.Equal(inSpi, child.GetProperty("outbound_spi").GetUInt32());
        }

        // spi --json and trafficstatus --json: the same two SAs, with the dataplane's fields.
        foreach (string verb in new[] { "spi", "trafficstatus" })
        {
            using var j = _p.Json($"{verb} --json {_p.W}");
            var sas = j.RootElement.EnumerateArray().ToDictionary(s => s.GetProperty("direction").GetString()!);
            Assert.Equal(2, sas.Count);
            Assert.Equal(inSpi, sas["in"].GetProperty("spi").GetUInt32());
            Assert.Equal(outSpi, sas["out"].GetProperty("spi").GetUInt32());
            Assert.Equal("203.0.113.2", sas["in"].GetProperty("source").GetString());
            Assert.Equal("203.0.113.1", sas["in"].GetProperty("destination").GetString());
            Assert.Equal("203.0.113.2", sas["out"].GetProperty("destination").GetString());
            foreach (var s in sas.Values)
            {
                Assert.Equal("west-east", s.GetProperty("connection").GetString());
                Assert.Equal("ike", s.GetProperty("keying").GetString());
                Assert.Equal("aes128gcm16", s.GetProperty("suite").GetString());
                Assert.Equal("tunnel", s.GetProperty("mode").GetString());
                Assert.Equal(128, s.GetProperty("replay_window").GetInt32());
                Assert.Equal(0, s.GetProperty("worker").GetInt32());
                Assert.Equal(0, s.GetProperty("drops").GetInt64());
                Assert.True(s.GetProperty("packets").GetInt64() >= 5, s.ToString());
                Assert.True(s.GetProperty("bytes").GetInt64() >= 5 * 84, s.ToString());
            }
            Assert.True(sas["out"].GetProperty("sequence").GetUInt64() >= 5); // outbound: the last sequence number sent
        }

        // eroute --json: the SA eroute and the %trap of the routed conn, each with its conn.
        using (var j = _p.Json($"eroute --json {_p.W}"))
        {
            var e = j.RootElement.EnumerateArray().ToArray();
            Assert.Equal(2, e.Length);
            Assert.Equal($"tun0x{outSpi:x}@203.0.113.2", e[0].GetProperty("action").GetString());
            Assert.Equal("west-east", e[0].GetProperty("connection").GetString());
            Assert.True(e[0].GetProperty("hits").GetInt64() >= 5);
            Assert.Equal("%trap", e[1].GetProperty("action").GetString());
            Assert.Equal("west-east-v6", e[1].GetProperty("connection").GetString());
        }
    }

    /// <summary>`fastpath rekey NAME` / `fastpath rekey-ike NAME` through the control socket: a new CHILD_SA pair (new
    /// SPIs on both sides), then a new IKE SA that keeps that child; pings cross after each; a manual or unknown conn is refused.</summary>
    [Fact]
    public void Rekey_verbs_rekey_the_child_and_the_IKE_SA()
    {
        // west-east's outbound SPIs (spi --json) and IKE SPIs (status --json); west-east-v6 is left alone.
        uint[] OutSpis()
        {
            using var j = _p.Json($"spi --json {_p.W}");
            return j.RootElement.EnumerateArray().Where(s => s.GetProperty("direction").GetString() == "out" && s.GetProperty("connection").GetString() == "west-east")
                .Select(s => s.GetProperty("spi").GetUInt32()).ToArray();
        }
        string IkeSpis()
        {
            using var j = _p.Json($"status --json west-east {_p.W}");
            return string.Join(",", j.RootElement.GetProperty("ike").GetProperty("ike_sas").EnumerateArray()
                .Select(s => $"{s.GetProperty("spi_i").GetUInt64():x16}/{s.GetProperty("spi_r").GetUInt64():x16}/{s.GetProperty("state").GetString()}"));
        }
        uint before = Assert.Single(OutSpis());
        var rekey = CliRunner.Run($"rekey west-east {_p.W}");
        Assert.True(rekey.Exit == 0, rekey.Err);
        Assert.Equal("\"west-east\": rekeying its CHILD_SAs (fastpath status shows the new SAs)\n", rekey.Out);
        _p.WaitFor(() => OutSpis() is [var only] && only != before, TimeSpan.FromSeconds(15), "one new outbound SA after `rekey`");
        Assert.Equal(3, _p.Bed.Ping(_p.Bed.Sunset, "192.0.2.138", count: 3).Received);

        uint child = Assert.Single(OutSpis());
        string ike = IkeSpis();
        var rekeyIke = CliRunner.Run($"rekey-ike west-east {_p.W}");
        Assert.True(rekeyIke.Exit == 0, rekeyIke.Err);
        Assert.Equal("\"west-east\": rekeying its IKE SA (fastpath status shows the new SAs)\n", rekeyIke.Out);
        _p.WaitFor(() => IkeSpis() is var now && now != ike && !now.Contains(',', StringComparison.Ordinal) && now.EndsWith("/ESTABLISHED", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "one new IKE SA after `rekey-ike`");
        Assert.Equal(child, Assert.Single(OutSpis())); // an IKE SA rekey does not rekey the children (RFC 7296 §2.18)
        Assert.Equal(3, _p.Bed.Ping(_p.Bed.Sunset, "192.0.2.138", count: 3).Received);

        var unknown = CliRunner.Run($"rekey nosuch {_p.W}");
        Assert.Equal(5, unknown.Exit);
        var missing = CliRunner.Run($"rekey-ike {_p.W}");
        Assert.NotEqual(0, missing.Exit);
        // The daemons are shared with the golden listings: leave them with one SA pair each, as found (the rekeyed
        // inbound SAs linger ~2 s after their delete).
        int Sas(string side)
        {
            using var j = _p.Json($"spi --json {side}");
            return j.RootElement.EnumerateArray().Count(s => s.GetProperty("connection").GetString() == "west-east");
        }
        _p.WaitFor(() => Sas(_p.W) == 2 && Sas(_p.E) == 2, TimeSpan.FromSeconds(15), "one SA pair per side after the rekeys");
    }

    [Fact]
    public void Down_deletes_the_child_and_IKE_SA_on_both_sides_and_up_brings_the_tunnel_back()
    {
        uint oldOut;
        using (var j = _p.Json($"spi --json {_p.W}"))
            oldOut = j.RootElement.EnumerateArray().Single(s => s.GetProperty("direction").GetString() == "out").GetProperty("spi").GetUInt32();

        var down = CliRunner.Run($"down west-east {_p.W}");
        Assert.True(down.Exit == 0, down.Err);
        Assert.Equal("\"west-east\": down\n", down.Out);
        // West deleted its SAs at once; east when the INFORMATIONAL DELETE arrived.
        _p.WaitFor(() =>
        {
            using var w = _p.Json($"status --json {_p.W}");
            using var e = _p.Json($"status --json {_p.E}");
            return w.RootElement.GetProperty("ike").GetProperty("ike_sas").GetArrayLength() == 0
                && e.RootElement.GetProperty("ike").GetProperty("ike_sas").GetArrayLength() == 0;
        }, TimeSpan.FromSeconds(15), "IKE SA gone on both sides after `down`");
        string st = Mask(CliRunner.Run($"status {_p.W}").Out);
        Assert.Contains("\"west-east\": 192.0.2.0/25===203.0.113.1...203.0.113.2===192.0.2.128/25; ike tunnel; loaded; auto=start; 0 eroutes, 0 SAs\n", st, StringComparison.Ordinal);
        Assert.Contains("Security Associations (0 manual, 0 IKE SAs, 0 CHILD_SAs):\n", st, StringComparison.Ordinal);
        Assert.Equal("no SAs\n", CliRunner.Run($"spi {_p.W}").Out);
        Assert.Equal("no SAs\n", CliRunner.Run($"trafficstatus {_p.E}").Out);
        Assert.DoesNotContain("tun0x", CliRunner.Run($"eroute {_p.W}").Out, StringComparison.Ordinal);
        Assert.Equal(0, _p.Bed.Ping(_p.Bed.Sunset, "192.0.2.138", count: 3).Received); // no eroute: dropped, never clear

        var up = CliRunner.Run($"auto --up west-east {_p.W}"); // the FreeS/WAN spelling of `up`
        Assert.True(up.Exit == 0, up.Err);
        Assert.Equal("\"west-east\": initiating (fastpath status shows the IKE SA)\n", up.Out);
        _p.WaitEstablished(TimeSpan.FromSeconds(20));
        using (var j = _p.Json($"spi --json {_p.W}"))
            Assert.NotEqual(oldOut, j.RootElement.EnumerateArray().Single(s => s.GetProperty("direction").GetString() == "out").GetProperty("spi").GetUInt32());
        FastPath.Gateway.Tests.Netns.Expect.True(_p.Bed.Warm("192.0.2.138"), () => "no ping after `up`\n" + _p.Diagnose());
        Assert.Equal(GoldenStatusWest.Replace("CONF", _p.WestConf, StringComparison.Ordinal), Mask(CliRunner.Run($"status {_p.W}").Out));

        var unknown = CliRunner.Run($"down nosuch {_p.W}");
        Assert.Equal(5, unknown.Exit);
        Assert.Contains("no connection \"nosuch\" is loaded (loaded: west-east, west-east-v6)", unknown.Err, StringComparison.Ordinal);
    }
}
