using System;
using System.IO;
using System.Linq;
using System.Net;
using FastPath.Config;
using FastPath.Dataplane.Policy;
using FastPath.Gateway.Daemon;
using FastPath.Ike.Engine;
using Xunit;

namespace FastPath.Gateway.Tests.Daemon;

/// <summary>ipsec.conf (+ secrets + policy files) → eroutes, manual SAs and IkeConnections, without a dataplane.</summary>
public sealed class GatewayPlanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fp-dmn-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly PlanContext West = new()
    {
        LocalAddresses = [IPAddress.Parse("203.0.113.1"), IPAddress.Parse("192.0.2.1")],
        OutsideAddresses = [IPAddress.Parse("203.0.113.1")],
    };

    private GatewayPlan Plan(string conf, string? secrets = null, PlanContext? ctx = null)
    {
        string path = Path.Combine(_dir, "ipsec.conf");
        File.WriteAllText(path, conf);
        IpsecConfig config = IpsecConfLoader.Load(path);
        IpsecSecrets? s = secrets is null ? null : IpsecSecrets.Parse(secrets, Path.Combine(_dir, "ipsec.secrets"));
        return GatewayPlan.Build(config, s, ctx ?? West);
    }

    [Fact]
    public void Shunt_conns_become_pass_drop_reject_eroutes_from_local_to_remote_subnets()
    {
        GatewayPlan p = Plan("""
            version 2
            conn pass
                type=passthrough
                authby=never
                left=203.0.113.1
                leftsubnet=192.0.2.0/25
                right=%any
                rightsubnets={198.51.100.0/25,198.51.100.128/25}
                auto=route
            conn deny
                type=reject
                authby=never
                left=%defaultroute
                right=198.51.100.7
                auto=route
            """);
        Assert.Empty(p.Errors);
        PlannedConnection pass = p.Find("pass")!;
        Assert.Equal(PlannedKind.Shunt, pass.Kind);
        Assert.Equal(["192.0.2.0/25 -> 198.51.100.0/25 => %pass", "192.0.2.0/25 -> 198.51.100.128/25 => %pass"], pass.Eroutes.Select(e => e.ToString()).ToArray());
        PlannedConnection deny = p.Find("deny")!;
        // left=%defaultroute: the outside interface's address, as a /32 source.
        Assert.Equal("203.0.113.1/32 -> 198.51.100.7/32 => %reject", Assert.Single(deny.Eroutes).ToString());
    }

    [Fact]
    public void Manual_conn_becomes_the_spi_and_eroute_lines_of_ipsec_manual_for_the_local_side()
    {
        const string conf = """
            version 2
            conn west-east
                left=203.0.113.1
                leftsubnet=192.0.2.0/25
                right=203.0.113.2
                rightsubnet=192.0.2.128/25
                spibase=0x200
                esp=3des-md5-96
                espenckey=0x01234567_89abcdef_02468ace_13579bdf_12345678_9abcdef0
                espauthkey=0x12345678_9abcdef0_12345678_9abcdef0
            """;
        PlannedConnection w = Plan(conf).Find("west-east")!;
        Assert.Equal(PlannedKind.Manual, w.Kind);
        // Toward right (the peer, from west): esp 0x202; toward left (west itself): esp 0x203.
        var outSa = w.Manual!.Sas.Single(s => s.Destination.Equals(IPAddress.Parse("203.0.113.2")));
        var inSa = w.Manual.Sas.Single(s => s.Destination.Equals(IPAddress.Parse("203.0.113.1")));
        Assert.Equal(0x202u, outSa.Spi);
        Assert.Equal(0x203u, inSa.Spi);
        Assert.Equal("3des-md5", GatewayPlan.ManualSuite("3des-md5-96"));
        Assert.Equal(64, inSa.ReplayWindow); // espreplay_window=0 (off in KLIPS) → the dataplane's window
        Assert.Equal("192.0.2.0/25 -> 192.0.2.128/25 => tun0x202@203.0.113.2", Assert.Single(w.Eroutes).ToString());

        // The same file on east: the ends swap.
        PlannedConnection e = Plan(conf, ctx: new PlanContext { LocalAddresses = [IPAddress.Parse("203.0.113.2")] }).Find("west-east")!;
        Assert.False(e.LeftIsLocal);
        Assert.Equal("192.0.2.128/25 -> 192.0.2.0/25 => tun0x203@203.0.113.1", Assert.Single(e.Eroutes).ToString());
    }

    [Fact]
    public void Ike_conn_maps_every_setting_to_the_IkeConnection()
    {
        GatewayPlan p = Plan("""
            config setup
                uniqueids=yes
            conn sunset-sunrise
                keyexchange=ikev2
                left=203.0.113.1
                leftsubnet=192.0.2.0/25
                leftid=@west.example
                right=203.0.113.2
                rightsubnet=192.0.2.128/25
                rightid=@east.example
                authby=secret
                ike=aes256-sha256-modp2048
                esp=aes128gcm16-x25519
                ikelifetime=2h
                keylife=20m
                rekeymargin=3m
                rekeyfuzz=50%
                keyingtries=5
                dpddelay=10s
                dpdtimeout=30s
                dpdaction=restart
                forceencaps=yes
                replay_window=128
                auto=route
            """, "@west.example @east.example : PSK \"correct horse battery staple\"\n");
        Assert.Empty(p.Errors);
        IkeConnection ike = p.Find("sunset-sunrise")!.Ike!;
        Assert.Equal(IPAddress.Parse("203.0.113.1"), ike.LocalAddress);
        Assert.Equal(IPAddress.Parse("203.0.113.2"), ike.RemoteAddress);
        Assert.Equal("@west.example", ike.LocalId!.ToString());
        Assert.Equal("@east.example", ike.RemoteId!.ToString());
        Assert.Equal(IkeAuthKind.Psk, ike.LocalAuth);
        Assert.Equal("correct horse battery staple", System.Text.Encoding.ASCII.GetString(ike.LocalCredentials.Psk!));
        Assert.Equal(TimeSpan.FromHours(2), ike.IkeLifetime);
        Assert.Equal(TimeSpan.FromMinutes(20), ike.ChildLifetime);
        Assert.Equal(TimeSpan.FromMinutes(3), ike.RekeyMargin);
        Assert.Equal(50, ike.RekeyFuzzPercent);
        Assert.Equal(5, ike.KeyingTries);
        Assert.Equal(TimeSpan.FromSeconds(10), ike.DpdDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), ike.DpdTimeout);
        Assert.Equal(FastPath.Ike.Engine.DpdAction.Restart, ike.DpdAction);
        Assert.Equal(ConnectionStartAction.Route, ike.StartAction);
        Assert.Equal(EncapsulationMode.Force, ike.Encapsulation);
        Assert.Equal(128, ike.ReplayWindow);
        Assert.Equal("192.0.2.0/25", FastPath.Ike.Exchanges.TrafficSelectors.Format(Assert.Single(ike.LocalTs)).Split(' ')[0]);
        Assert.Single(ike.RemoteTs);
        Assert.NotEmpty(ike.IkeProposals.ToString()!);
    }

    [Fact]
    public void Ike_conn_without_its_psk_is_refused_with_the_conn_location()
    {
        GatewayPlan p = Plan("""
            config setup
            conn a
                keyexchange=ikev2
                left=203.0.113.1
                right=203.0.113.2
                authby=secret
                auto=add
            """, "203.0.113.9 203.0.113.2 : PSK \"other\"\n");
        PlanError e = Assert.Single(p.Errors);
        Assert.Equal("a", e.Connection);
        Assert.Contains("no PSK for 203.0.113.1 203.0.113.2", e.Message, StringComparison.Ordinal);
        Assert.Matches(@"ipsec\.conf:2:1: conn ""a"": ", e.ToString());
    }

    [Fact]
    public void A_keyed_conn_with_no_local_end_is_refused()
    {
        GatewayPlan p = Plan("""
            config setup
            conn far
                keyexchange=ikev2
                left=198.51.100.1
                right=198.51.100.2
                authby=secret
            """, "198.51.100.1 198.51.100.2 : PSK \"x\"\n");
        Assert.Contains("neither left=198.51.100.1 nor right=198.51.100.2 is an address of this gateway", Assert.Single(p.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_groups_become_pass_reject_and_trap_eroutes_to_their_file_entries()
    {
        string pol = Path.Combine(_dir, "ipsec.d", "policies");
        Directory.CreateDirectory(pol);
        File.WriteAllText(Path.Combine(pol, "clear"), "198.51.100.0/24\n");
        File.WriteAllText(Path.Combine(pol, "block"), "203.0.113.128/25\n");
        File.WriteAllText(Path.Combine(pol, "private"), "192.0.2.128/25\n");
        GatewayPlan p = Plan("version 2\nconfig setup\n\tinterfaces=%defaultroute\n");
        Assert.Empty(p.Errors);
        Assert.Equal("203.0.113.1/32 -> 198.51.100.0/24 => %pass", Assert.Single(p.Find("clear")!.Eroutes).ToString());
        Assert.Equal("203.0.113.1/32 -> 203.0.113.128/25 => %reject", Assert.Single(p.Find("block")!.Eroutes).ToString());
        PlannedConnection priv = p.Find("private")!;
        Assert.Equal(ErouteActionKind.Trap, Assert.Single(priv.Eroutes).Action.Kind);
        Assert.Equal(ErouteAction.Drop, priv.FailureShunt); // private: failureshunt=drop (never clear)
        Assert.Equal(ErouteAction.Pass, p.Find("private-or-clear")!.FailureShunt);
    }

    [Fact]
    public void Unchanged_conn_keeps_its_fingerprint_and_a_changed_one_does_not()
    {
        const string a = "version 2\nconn x\n\ttype=passthrough\n\tauthby=never\n\tleft=203.0.113.1\n\tright=198.51.100.1\n\tauto=route\n";
        string f1 = Plan(a).Find("x")!.Fingerprint;
        Assert.Equal(f1, Plan("# comment moves lines\n" + a).Find("x")!.Fingerprint);
        Assert.NotEqual(f1, Plan(a.Replace("198.51.100.1", "198.51.100.2", StringComparison.Ordinal)).Find("x")!.Fingerprint);
    }
}
