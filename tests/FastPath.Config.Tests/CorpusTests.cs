// The corpus: every malformed file under Corpus/bad gives exactly the errors in its .expected
// file; every real-world file under Corpus/good loads and means what it says.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using FastPath.Config;
using Xunit;

namespace FastPath.Config.Tests;

public class BadCorpusTests
{
    public static IEnumerable<object[]> BadFiles()
    {
        string dir = Path.Combine(TestUtil.CorpusDir, "bad");
        foreach (string f in Directory.EnumerateFiles(dir, "*.conf").Order(StringComparer.Ordinal)) yield return new object[] { Path.GetFileName(f) };
        foreach (string d in Directory.EnumerateDirectories(dir).Where(d => File.Exists(Path.Combine(d, "ipsec.conf"))).Order(StringComparer.Ordinal))
            yield return new object[] { Path.GetFileName(d) + "/ipsec.conf" };
    }

    [Fact]
    public void Corpus_has_at_least_30_malformed_files_each_with_its_expected_message()
    {
        var files = BadFiles().Select(o => (string)o[0]).ToList();
        Assert.True(files.Count >= 30, $"{files.Count} bad files");
        foreach (string f in files)
        {
            string exp = ExpectedPath(f);
            Assert.True(File.Exists(exp), exp);
            Assert.Contains(File.ReadAllLines(exp), l => l.Length > 0);
        }
    }

    private static string ExpectedPath(string file)
    {
        string full = Path.Combine(TestUtil.CorpusDir, "bad", file);
        return file.EndsWith("/ipsec.conf", StringComparison.Ordinal) ? Path.GetDirectoryName(full) + ".expected" : Path.ChangeExtension(full, ".expected");
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Malformed_file_gives_exactly_the_expected_errors(string file)
    {
        string full = Path.Combine(TestUtil.CorpusDir, "bad", file);
        ConfigLoadResult r = IpsecConfLoader.TryLoad(full);
        Assert.False(r.Success);
        string[] expected = File.ReadAllLines(ExpectedPath(file)).Where(l => l.Length > 0).ToArray();
        Assert.Equal(expected, r.Errors.Select(e => e.ToString()).ToArray());
        // Load throws the one exception type, carrying the same list.
        var ex = Assert.Throws<ConfigException>(() => IpsecConfLoader.Load(full));
        Assert.Equal(expected, ex.Errors.Select(e => e.ToString()).ToArray());
        Assert.Equal(string.Join(Environment.NewLine, expected), ex.Message);
    }
}

public class GoodCorpusTests
{
    private static IpsecConfig Load(string name) => IpsecConfLoader.Load(TestUtil.Good(name));
    private static IPNetwork Net(string s) => IPNetwork.Parse(s);
    private static IPAddress Ip(string s) => IPAddress.Parse(s);

    [Fact]
    public void Seed_double_nat_net_to_net()
    {
        IpsecConfig cfg = Load("freeswan-double-nat.conf");
        Assert.Equal(ConfigDialect.FreeSwan, cfg.Dialect);
        Assert.Equal("2", cfg.Version);
        Connection c = cfg["net-to-net"];
        Assert.False(c.IsImplicit);
        Assert.Equal(Ip("198.51.100.1"), c.Left.Host.Address);
        Assert.Equal(new[] { Net("10.0.1.0/24") }, c.Left.Subnets);
        Assert.Equal(Ip("198.51.100.254"), c.Left.NextHop.Address);
        Assert.True(c.Left.Firewall);
        Assert.Equal(new Identity(IdentityKind.Fqdn, "firewall.netone.nl"), c.Left.Id);
        Assert.Equal(PublicKeySource.Literal, c.Left.RsaSigKey.Source);
        Assert.Equal(Ip("203.0.113.2"), c.Right.Host.Address);
        Assert.Equal(new[] { Net("10.0.0.0/24") }, c.Right.Subnets);
        Assert.Equal(Ip("203.0.113.254"), c.Right.NextHop.Address);
        Assert.Equal("firewall.nettwo.nl", c.Right.Id!.Value);
        Assert.Equal(AutoAction.Add, c.Auto);
        // 2.x defaults (seed 002:403-407): authby=rsasig; keys given here, so no %dnsondemand.
        Assert.Equal(AuthMethods.RsaSig, c.AuthBy);
        Assert.Equal(IkeVersion.IkeV1, c.KeyExchange);
        Assert.Equal(new SourceLocation("freeswan-double-nat.conf", 22, 14), c.LocationOf("auto"));
    }

    [Fact]
    public void Seed_subnet_to_subnet_abc_xyz()
    {
        Connection c = Load("freeswan-abc-xyz.conf")["abc-xyz"];
        Assert.Equal("\"abc-xyz\": 198.51.100.0/24===192.0.2.8...203.0.113.0/24===192.0.2.11", c.ToString());
        Assert.Equal(AutoAction.Ignore, c.Auto); // FreeS/WAN default
        Assert.Equal(ConnectionType.Tunnel, c.Type);
    }

    [Fact]
    public void Seed_net_to_net_with_host_left()
    {
        Connection c = Load("freeswan-net-to-net.conf")["net-to-net"];
        Assert.Empty(c.Left.Subnets);
        Assert.Equal(new[] { Net("192.0.2.2/32") }, c.Left.EffectiveSubnets); // "left/32" (ipsec.conf(5))
        Assert.Equal(new[] { Net("192.0.2.96/27") }, c.Right.EffectiveSubnets);
        Assert.Equal(new Identity(IdentityKind.Address, "192.0.2.2", Ip("192.0.2.2")), c.Left.Id); // leftid defaults to left
    }

    [Fact]
    public void Seed_exclude_lo_passthrough()
    {
        Connection c = Load("freeswan-exclude-lo.conf")["exclude-lo"];
        Assert.Equal(ConnectionType.Passthrough, c.Type);
        Assert.Equal(AuthMethods.Never, c.AuthBy);
        Assert.Equal(AutoAction.Route, c.Auto);
        Assert.Equal(new[] { Net("127.0.0.0/8") }, c.Left.Subnets);
        Assert.Equal(new[] { Net("127.0.0.0/8") }, c.Right.Subnets);
    }

    [Fact]
    public void Seed_disable_oe_sets_every_implicit_conn_to_ignore()
    {
        IpsecConfig cfg = Load("freeswan-disable-oe.conf");
        foreach (string n in new[] { "block", "private", "private-or-clear", "clear-or-private", "clear", "packetdefault" })
        {
            Connection c = cfg[n];
            Assert.Equal(AutoAction.Ignore, c.Auto);
            Assert.False(c.IsImplicit); // written by the user, merged with the implicit definition
        }
        // The implicit definitions still supply the rest: block is a reject shunt to %group.
        Assert.Equal(ConnectionType.Reject, cfg["block"].Type);
        Assert.Equal(HostKind.Group, cfg["block"].Right.Host.Kind);
        Assert.Equal(ConnectionType.Drop, cfg["private"].FailureShunt);
        Assert.Empty(cfg.PolicyGroups); // all disabled
    }

    [Fact]
    public void Seed_keyingtries_and_keylife_from_percent_default()
    {
        Connection c = Load("freeswan-keyingtries.conf")["west-east"];
        Assert.Equal(3, c.KeyingTries);
        Assert.Equal(TimeSpan.FromMinutes(30), c.KeyLife);
        Assert.Equal("conn %default", c.Settings["keylife"].FromSection);
        Assert.Equal(new SourceLocation("freeswan-keyingtries.conf", 8, 17), c.LocationOf("keylife"));
        Assert.Equal(AuthMethods.Secret, c.AuthBy);
        Assert.Equal(AutoAction.Start, c.Auto);
    }

    [Fact]
    public void Manual_keying_spibase_assigns_spis_as_ipsec_manual_did()
    {
        IpsecConfig cfg = Load("freeswan-manual.conf");
        Assert.Equal("%defaultroute", Assert.Single(cfg.Setup.Interfaces));
        Connection c = cfg["west-east-manual"];
        ManualKeying m = Assert.IsType<ManualKeying>(c.Manual);
        Assert.Equal(0x200u, m.SpiBase);
        Assert.Equal("3des-md5-96", m.EspAlgorithm);
        Assert.Equal(16, m.EspReplayWindow);
        // toward right: tun 0x200, esp 0x202; toward left: tun 0x201, esp 0x203.
        Assert.Equal(0x200u, m.ToRight.TunnelSpi);
        Assert.Equal(0x202u, m.ToRight.EspSpi);
        Assert.Equal(0x201u, m.ToLeft.TunnelSpi);
        Assert.Equal(0x203u, m.ToLeft.EspSpi);
        byte[] enc = Convert.FromHexString("0123456789abcdef02468ace13579bdf123456789abcdef0");
        Assert.Equal(enc, m.ToLeft.EspEncKey!.ToArray());
        Assert.Equal(enc, m.ToRight.EspEncKey!.ToArray());
        Assert.Equal(16, m.ToRight.EspAuthKey!.Length);
        Assert.DoesNotContain("0123", m.ToLeft.EspEncKey.ToString());

        ManualKeying g = cfg["west-east-manual-gcm"].Manual!;
        Assert.Equal(0x1002u, g.ToLeft.EspSpi);
        Assert.Equal(0x2001u, g.ToRight.EspSpi); // rightespspi overrides
        Assert.Equal(0x01, g.ToLeft.EspEncKey!.Span[0]);
        Assert.Equal(0x11, g.ToRight.EspEncKey!.Span[0]);
        Assert.Null(g.ToLeft.EspAuthKey);
    }

    [Fact]
    public void StrongSwan_sunset_sunrise_net_to_net()
    {
        IpsecConfig cfg = Load("strongswan-net-net.conf");
        Assert.Equal(ConfigDialect.StrongSwan, cfg.Dialect);
        Assert.Equal(UniqueIdsPolicy.Never, cfg.Setup.UniqueIds);
        Assert.Equal("ike 1, knl 1, cfg 0", cfg.Setup.CharonDebug);
        Assert.DoesNotContain(cfg.Connections, c => c.IsImplicit); // no OE conns outside FreeS/WAN
        Connection c = cfg["sunset-sunrise"];
        Assert.Equal(new[] { Net("192.0.2.0/25") }, c.Left.Subnets);
        Assert.Equal(new[] { Net("192.0.2.128/25") }, c.Right.Subnets);
        Assert.Equal(Ip("203.0.113.1"), c.Left.Host.Address);
        Assert.Equal(Ip("203.0.113.2"), c.Right.Host.Address);
        Assert.Equal(IkeVersion.IkeV2, c.KeyExchange);
        Assert.Equal(AuthMethods.Secret, c.AuthBy);
        Assert.Equal(new[] { "aes128gcm16-prfsha256-x25519!" }, c.IkeProposals);
        Assert.Equal(new[] { "aes128gcm16-x25519!" }, c.EspProposals);
        Assert.Equal(TimeSpan.FromMinutes(60), c.IkeLifetime);
        Assert.Equal(TimeSpan.FromMinutes(20), c.KeyLife);
        Assert.Equal(TimeSpan.FromMinutes(3), c.RekeyMargin);
        Assert.Equal(1, c.KeyingTries);
        Assert.Equal(DpdAction.Restart, c.DpdAction);
        Assert.Equal(TimeSpan.FromSeconds(10), c.DpdDelay);
        Assert.Equal(TimeSpan.FromSeconds(60), c.DpdTimeout);
        Assert.Equal(64, c.ReplayWindow);
        Assert.Equal(Encapsulation.Yes, c.Encapsulation);
        Assert.False(c.Mobike);
        Assert.Equal(AutoAction.Start, c.Auto);
    }

    [Fact]
    public void StrongSwan_road_warrior_with_ca_section_and_dual_stack_subnets()
    {
        IpsecConfig cfg = Load("strongswan-roadwarrior.conf");
        Assert.Equal(ConfigDialect.StrongSwan, cfg.Dialect);
        Assert.Null(cfg.Version);
        Assert.Equal("caCert.pem", cfg.CaSections["strongswan"]["cacert"].Value);
        Connection c = cfg["rw"];
        Assert.Equal(HostKind.Any, c.Right.Host.Kind);
        Assert.Equal(new[] { Net("192.0.2.0/25"), Net("2001:db8:1::/64") }, c.Left.Subnets);
        Assert.Equal("westCert.pem", c.Left.Cert);
        Assert.Equal("10.3.0.0/28", c.Right.SourceIp);
        Assert.Equal(AuthMethods.PubKey, c.AuthBy); // strongSwan default
        Assert.Equal(new[] { "aes256-sha256-modp3072", "aes128-sha256-ecp256" }, c.IkeProposals);
        Assert.Equal(3, c.KeyingTries); // strongSwan default
        Assert.Equal(TimeSpan.FromHours(3), c.IkeLifetime);
        Assert.Equal(TimeSpan.FromHours(1), c.KeyLife);
    }

    [Fact]
    public void StrongSwan_host_to_host_transport_ikev1()
    {
        Connection c = Load("strongswan-host-host.conf")["host-host"];
        Assert.Equal(ConnectionType.Transport, c.Type);
        Assert.Equal(IkeVersion.IkeV1, c.KeyExchange);
        Assert.Equal(AuthMethods.Secret, c.AuthBy); // psk
        Assert.Equal(TimeSpan.FromMinutes(30), c.KeyLife); // lifetime= is keylife
        Assert.Equal(TimeSpan.FromMinutes(2), c.RekeyMargin); // margintime= is rekeymargin
        Assert.Equal(50, c.RekeyFuzzPercent);
        Assert.Equal(Connection.KeyingTriesForever, c.KeyingTries);
        Assert.Equal(AutoAction.Route, c.Auto);
        Assert.Equal(new[] { Net("203.0.113.1/32") }, c.Left.EffectiveSubnets);
    }

    [Fact]
    public void Libreswan_test_suite_westnet_eastnet_with_glob_include_and_also_chain()
    {
        IpsecConfig cfg = Load("libreswan/ipsec.conf");
        Assert.Equal(ConfigDialect.Libreswan, cfg.Dialect);
        Assert.Equal(3, cfg.Files.Count); // ipsec.conf + baseconfigs/*.conf (sorted)
        Assert.EndsWith("west-east.conf", cfg.Files[1]);
        Assert.True(cfg["west-east-base"].IsTemplate);
        Assert.True(cfg["westnet-eastnet"].IsTemplate);
        Connection v2 = cfg["westnet-eastnet-ikev2"];
        Assert.False(v2.IsTemplate);
        Assert.Equal(new[] { "westnet-eastnet", "west-east-base" }, v2.Also);
        Assert.Equal(new[] { Net("192.0.2.0/26"), Net("192.0.2.64/26") }, v2.Left.Subnets);
        Assert.Equal(new[] { Net("192.0.2.128/25") }, v2.Right.Subnets);
        Assert.Equal(Ip("203.0.113.2"), v2.Left.NextHop.Address);
        Assert.Equal(IkeVersion.IkeV2, v2.KeyExchange);
        Assert.Equal(new[] { "aes_gcm128-null" }, v2.EspProposals); // phase2alg
        Assert.Equal(256, v2.ReplayWindow);
        Assert.Equal(Encapsulation.Yes, v2.Encapsulation);
        Assert.Equal(TimeSpan.FromSeconds(5), v2.DpdDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), v2.DpdTimeout);
        Assert.Equal(DpdAction.Hold, v2.DpdAction); // Libreswan default
        Assert.Equal(AuthMethods.Secret, v2.AuthBy);
        Assert.Equal("baseconfigs/west-east.conf", v2.LocationOf("authby")!.Value.File);
        Assert.Equal(AutoAction.Add, v2.Auto);

        Connection v1 = cfg["westnet-eastnet-ikev1"];
        Assert.Equal(IkeVersion.IkeV1, v1.KeyExchange);
        Assert.Equal(new[] { "aes128-sha1;modp2048" }, v1.IkeProposals);
        Assert.Equal(TimeSpan.FromHours(1), v1.KeyLife); // salifetime
        Assert.Equal(0, v1.RekeyFuzzPercent);
        Assert.Equal(TimeSpan.FromHours(8), v1.IkeLifetime); // Libreswan default
        Assert.Equal(128, v1.ReplayWindow); // Libreswan default
        Assert.Equal(AutoAction.Start, v1.Auto);
    }

    [Fact]
    public void Libreswan_host_to_host_rsa_ikev1()
    {
        Connection c = Load("libreswan-host-to-host.conf")["west-east"];
        Assert.Equal(IkeVersion.IkeV1, c.KeyExchange); // ikev2=no
        Assert.Equal(AuthMethods.RsaSig, c.AuthBy);
        Assert.Equal(PublicKeySource.Literal, c.Right.RsaSigKey.Source);
        Assert.True(c.Right.RsaSigKey.KeyBytes!.Length > 20);
        Assert.Equal(TimeSpan.FromHours(24), c.IkeLifetime);
    }

    [Fact]
    public void Libreswan_road_warrior_client()
    {
        Connection c = Load("libreswan-roadwarrior.conf")["road-west"];
        Assert.Equal(HostKind.DefaultRoute, c.Left.Host.Kind);
        Assert.Equal(new Identity(IdentityKind.Fqdn, "road.example.com"), c.Left.Id);
        Assert.Empty(c.Left.EffectiveSubnets); // filled in at runtime from the default route
        Assert.Equal(new[] { Net("192.0.2.0/25") }, c.Right.Subnets);
        Assert.Equal(IkeVersion.IkeV2, c.KeyExchange);
    }

    [Fact]
    public void Seed_policy_groups_example_4_subnet_groups_and_files()
    {
        IpsecConfig cfg = Load("freeswan-policygroups/ipsec.conf");
        Assert.Equal(new Identity(IdentityKind.Fqdn, "xy.example.com"), cfg.Setup.MyId);
        Connection pn = cfg["private-net"];
        Assert.Equal(new[] { "private" }, pn.Also);
        Assert.True(pn.IsPolicyGroup);
        Assert.Equal(AutoAction.Route, pn.Auto); // "inherits settings (eg. auto=start) from built in conn"
        Assert.Equal(new[] { Net("192.0.2.128/29") }, pn.Left.Subnets);
        Assert.Equal(cfg.Setup.MyId, pn.Left.Id); // leftid=%myid
        Assert.Equal(ConnectionType.Drop, pn.FailureShunt);
        Assert.Equal(ConnectionType.Reject, cfg["block-net"].Type);

        PolicyGroup priv = cfg.PolicyGroups.Single(g => g.Name == "private");
        Assert.Equal(new[] { "192.0.2.96/27", "192.0.2.192/29", "192.0.2.12/32", "irc.private.example.com" }, priv.Entries.Select(e => e.ToString()));
        Assert.Equal(new SourceLocation("ipsec.d/policies/private", 3, 2), priv.Entries[2].Location);
        Assert.Equal("0.0.0.0/0", Assert.Single(cfg.PolicyGroups.Single(g => g.Name == "private-or-clear").Entries).ToString());
        Assert.Equal("192.0.2.128/29", cfg.PolicyGroups.Single(g => g.Name == "private-net").Source);
        PolicyGroup cop = cfg.PolicyGroups.Single(g => g.Name == "clear-or-private");
        Assert.False(cop.FileExists); // "a missing policy group file is equivalent to a file with no entries"
        Assert.Empty(cop.Entries);
        // Host names are kept, with a warning that they are not resolved.
        Assert.Contains(cfg.Warnings, w => w.Message.Contains("spamsource.example.com"));
    }
}
