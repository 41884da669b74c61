// Every keyword of the table parses with a valid value in a dialect that has it, and its
// effective value keeps the place it was written; then each keyword the issue lists is checked
// for what it means in the model.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using FastPath.Config;
using Xunit;

namespace FastPath.Config.Tests;

public class KeywordTests
{
    private static readonly ConfigDialect[] Order = { ConfigDialect.FreeSwan, ConfigDialect.Libreswan, ConfigDialect.StrongSwan };

    internal static string Sample(Keyword kw, ConfigDialect d) => kw.Kind switch
    {
        Kind.Host => kw.Name == "right" ? "192.0.2.2" : "192.0.2.1",
        Kind.Subnet or Kind.SubnetWithin => "198.51.100.0/24",
        Kind.SubnetList => "{198.51.100.0/25 198.51.100.128/25}",
        Kind.NextHop => "192.0.2.254",
        Kind.Id => "@west.example.com",
        Kind.RsaKey => "0sAQOF8tZ2NZt9aVFJ4r8ZdhAFumBU",
        Kind.Str => "x-value",
        Kind.Bool => "yes",
        Kind.Enum => kw.EnumValues().First(v => (v.Dialects & Keywords.Of(d)) != 0).Value,
        Kind.Time => "30m",
        Kind.Percent => "50%",
        Kind.Int => "5",
        Kind.KeyingTries => "%forever",
        Kind.AuthBy => d == ConfigDialect.StrongSwan ? "psk" : "secret",
        Kind.Proposal => "aes128-sha256",
        Kind.Spi => "0x300",
        Kind.SpiBase => "0x400",
        Kind.Key => "0x0102030405060708",
        Kind.ReplayWindow => "64",
        Kind.Interfaces => "%defaultroute",
        _ => throw new ArgumentException(kw.Name),
    };

    public static IEnumerable<object[]> ConnKeywords() =>
        Keywords.Conn.Values.Where(k => k.Kind != Kind.Also).Select(k => new object[] { k.Name });

    public static IEnumerable<object[]> SetupKeywords() => Keywords.Setup.Values.Select(k => new object[] { k.Name });

    private static ConfigDialect DialectFor(Keyword kw) =>
        Order.First(d => (kw.Dialects & Keywords.Of(d)) != 0 && !(kw.Obsolete != null && (kw.ObsoleteIn & Keywords.Of(d)) != 0 && (kw.AliasOf != null || kw.Section == Sec.Setup)));

    [Theory]
    [MemberData(nameof(ConnKeywords))]
    public void Every_conn_keyword_parses_and_keeps_its_location(string name)
    {
        Keyword kw = Keywords.Conn[name];
        ConfigDialect d = DialectFor(kw);
        var settings = new Dictionary<string, string> { ["left"] = "192.0.2.1", ["right"] = "192.0.2.2" };
        bool manual = kw.Dialects == Dia.F && (kw.Kind is Kind.Spi or Kind.SpiBase or Kind.Key || name is "ah" or "espreplay_window" or "ahreplay_window");
        if (manual)
        {
            settings["spi"] = "0x200";
            settings["esp"] = "3des-md5-96";
            settings["espenckey"] = "0x0102030405060708090a0b0c0d0e0f101112131415161718";
            if (name == "spibase") settings.Remove("spi");
            if (name == "ah" || name.EndsWith("ahkey", StringComparison.Ordinal)) settings["ahkey"] = "0x0102030405060708090a0b0c0d0e0f10";
            if (name == "ahreplay_window" || name.EndsWith("ahspi", StringComparison.Ordinal) || name.EndsWith("ahkey", StringComparison.Ordinal))
            {
                settings["ah"] = "hmac-md5-96";
                if (!name.EndsWith("ahkey", StringComparison.Ordinal)) settings["ahkey"] = "0x0102030405060708090a0b0c0d0e0f10";
            }
            if (name.StartsWith("left", StringComparison.Ordinal) || name.StartsWith("right", StringComparison.Ordinal))
            {
                string other = name.StartsWith("left", StringComparison.Ordinal) ? "right" + name[4..] : "left" + name[5..];
                settings[other] = Sample(Keywords.Conn[other], d);
            }
        }
        settings.Remove(name);
        var lines = new List<string> { d == ConfigDialect.StrongSwan ? "version 2.0" : "version 2", "", "conn test" };
        lines.AddRange(settings.Select(p => $"    {p.Key}={p.Value}"));
        lines.Add($"    {name}={Sample(kw, d)}");
        ConfigLoadResult r = IpsecConfLoader.TryParse(string.Join("\n", lines) + "\n", "/nonexistent-fp/ipsec.conf", new IpsecConfigOptions { Dialect = d, LoadPolicyGroups = false });
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        Connection c = r.Config!["test"];
        Assert.Equal(new SourceLocation("ipsec.conf", lines.Count, 5 + name.Length + 1), c.LocationOf(kw.Canonical));
        Assert.Equal(name, c.Settings[kw.Canonical].Keyword);
    }

    [Theory]
    [MemberData(nameof(SetupKeywords))]
    public void Every_setup_keyword_parses_and_keeps_its_location(string name)
    {
        Keyword kw = Keywords.Setup[name];
        if (kw.Obsolete != null && kw.ObsoleteIn == kw.Dialects)
        {
            // Obsolete everywhere it exists: refused with the reason.
            string e = TestUtil.OneError($"version 2\nconfig setup\n    {name}=x\n", ConfigDialect.FreeSwan);
            Assert.Equal($"ipsec.conf:3:5: parameter \"{name}\" is obsolete since FreeS/WAN 2.0 (seed 002:385-392); remove it", e);
            return;
        }
        ConfigDialect d = DialectFor(kw);
        string text = $"config setup\n    {name}={Sample(kw, d)}\n";
        IpsecConfig cfg = TestUtil.Parse(text, d);
        Assert.Equal(new SourceLocation("ipsec.conf", 2, 5 + name.Length + 1), cfg.Setup.LocationOf(kw.Canonical));
    }

    [Fact]
    public void Keyword_only_in_another_dialect_is_refused_with_the_dialects_that_have_it()
    {
        string e = TestUtil.OneError("conn a\n    left=192.0.2.1\n    right=192.0.2.2\n    dpddelay=30s\n", ConfigDialect.FreeSwan);
        Assert.Equal("ipsec.conf:4:5: parameter \"dpddelay\" is not part of the FreeS/WAN 2.x dialect (it is Libreswan, strongSwan; dialect FreeS/WAN 2.x)", e);
    }

    private static Connection Conn(string body, ConfigDialect d = ConfigDialect.Auto) =>
        TestUtil.Parse("conn c\n    left=192.0.2.1\n    right=192.0.2.2\n" + body, d)["c"];

    [Theory]
    [InlineData("%defaultroute", HostKind.DefaultRoute)]
    [InlineData("%any", HostKind.Any)]
    [InlineData("%any6", HostKind.Any)]
    [InlineData("%opportunistic", HostKind.Opportunistic)]
    [InlineData("%opportunisticgroup", HostKind.OpportunisticGroup)]
    [InlineData("%group", HostKind.Group)]
    [InlineData("2001:db8:ffff::1", HostKind.Address)]
    [InlineData("west.example.com", HostKind.Hostname)]
    public void Left_values(string value, HostKind kind)
    {
        Connection c = TestUtil.Parse($"conn c\n    left={value}\n    right=%any\n    leftsubnet=2001:db8:1::/64\n    rightsubnet=2001:db8:2::/64\n")["c"];
        Assert.Equal(kind, c.Left.Host.Kind);
    }

    [Theory]
    [InlineData("192.0.2.089")]
    [InlineData("192.0.2.010")]
    [InlineData("192.0.2")]
    [InlineData("192.0.2.1.5")]
    public void Malformed_dotted_quads_are_refused_not_misread(string value)
    {
        Assert.Equal($"ipsec.conf:2:10: invalid value \"{value}\" for left=; allowed: an IPv4/IPv6 address, a host name, %defaultroute, %any, %opportunistic, %opportunisticgroup, %group",
            TestUtil.OneError($"conn c\n    left={value}\n    right=192.0.2.2\n"));
    }

    [Fact]
    public void Subnets_and_subnet_lists()
    {
        Assert.Equal(new[] { IPNetwork.Parse("192.0.2.0/25") }, Conn("    leftsubnet=192.0.2.0/25\n").Left.Subnets);
        Assert.Equal(new[] { IPNetwork.Parse("192.0.2.0/24") }, Conn("    leftsubnet=192.0.2.0/255.255.255.0\n").Left.Subnets); // dotted mask (FreeS/WAN)
        Assert.Equal(2, Conn("    rightsubnets={192.0.2.0/26,192.0.2.64/26}\n", ConfigDialect.Libreswan).Right.Subnets.Count);
        Assert.Equal(2, Conn("    leftsubnet=192.0.2.0/26,192.0.2.64/26\n", ConfigDialect.StrongSwan).Left.Subnets.Count);
    }

    [Theory]
    [InlineData("@west.example.com", IdentityKind.Fqdn, "west.example.com")]
    [InlineData("west@example.com", IdentityKind.UserFqdn, "west@example.com")]
    [InlineData("\"C=CH, O=Example, CN=west\"", IdentityKind.Dn, "C=CH, O=Example, CN=west")]
    [InlineData("@#0123abcd", IdentityKind.KeyId, "0123abcd")]
    [InlineData("203.0.113.1", IdentityKind.Address, "203.0.113.1")]
    [InlineData("%any", IdentityKind.Any, "%any")]
    [InlineData("%fromcert", IdentityKind.FromCert, "%fromcert")]
    public void Leftid_forms(string value, IdentityKind kind, string normalized)
    {
        Connection c = Conn($"    leftid={value}\n");
        Assert.Equal(kind, c.Left.Id!.Kind);
        Assert.Equal(normalized, c.Left.Id.Value);
    }

    [Theory]
    [InlineData("secret", ConfigDialect.FreeSwan, AuthMethods.Secret)]
    [InlineData("rsasig", ConfigDialect.FreeSwan, AuthMethods.RsaSig)]
    [InlineData("secret|rsasig", ConfigDialect.FreeSwan, AuthMethods.Secret | AuthMethods.RsaSig)]
    [InlineData("never", ConfigDialect.FreeSwan, AuthMethods.Never)]
    [InlineData("pubkey", ConfigDialect.StrongSwan, AuthMethods.PubKey)]
    [InlineData("psk", ConfigDialect.StrongSwan, AuthMethods.Secret)]
    [InlineData("rsasig,ecdsa", ConfigDialect.Libreswan, AuthMethods.RsaSig | AuthMethods.Ecdsa)]
    [InlineData("null", ConfigDialect.Libreswan, AuthMethods.Null)]
    public void Authby(string value, ConfigDialect d, AuthMethods expected) => Assert.Equal(expected, Conn($"    authby={value}\n", d).AuthBy);

    [Theory]
    [InlineData("add", AutoAction.Add, ConfigDialect.FreeSwan)]
    [InlineData("start", AutoAction.Start, ConfigDialect.FreeSwan)]
    [InlineData("route", AutoAction.Route, ConfigDialect.FreeSwan)]
    [InlineData("ignore", AutoAction.Ignore, ConfigDialect.FreeSwan)]
    [InlineData("ondemand", AutoAction.Route, ConfigDialect.Libreswan)]
    [InlineData("up", AutoAction.Start, ConfigDialect.Libreswan)]
    public void Auto(string value, AutoAction expected, ConfigDialect d) => Assert.Equal(expected, Conn($"    auto={value}\n", d).Auto);

    [Fact]
    public void Auto_error_lists_what_the_dialect_allows()
    {
        Assert.Equal("ipsec.conf:4:10: invalid value \"strat\" for auto=; allowed: add|start|route|ondemand|up|keep|ignore; did you mean \"start\"?",
            TestUtil.OneError("conn c\n    left=192.0.2.1\n    right=192.0.2.2\n    auto=strat\n", ConfigDialect.Libreswan));
    }

    [Theory]
    [InlineData("tunnel", ConnectionType.Tunnel)]
    [InlineData("transport", ConnectionType.Transport)]
    [InlineData("passthrough", ConnectionType.Passthrough)]
    [InlineData("drop", ConnectionType.Drop)]
    [InlineData("reject", ConnectionType.Reject)]
    public void Type(string value, ConnectionType expected) => Assert.Equal(expected, Conn($"    type={value}\n", ConfigDialect.FreeSwan).Type);

    [Theory]
    [InlineData("keyexchange=ikev2", ConfigDialect.StrongSwan, IkeVersion.IkeV2)]
    [InlineData("keyexchange=ikev1", ConfigDialect.StrongSwan, IkeVersion.IkeV1)]
    [InlineData("keyexchange=ike", ConfigDialect.StrongSwan, IkeVersion.Any)]
    [InlineData("keyexchange=ike", ConfigDialect.FreeSwan, IkeVersion.IkeV1)]
    [InlineData("ikev2=insist", ConfigDialect.Libreswan, IkeVersion.IkeV2)]
    [InlineData("ikev2=no", ConfigDialect.Libreswan, IkeVersion.IkeV1)]
    public void Keyexchange(string setting, ConfigDialect d, IkeVersion expected) => Assert.Equal(expected, Conn($"    {setting}\n", d).KeyExchange);

    [Fact]
    public void Lifetimes_are_timespans_and_synonyms_agree()
    {
        Connection c = Conn("    ikelifetime=2h\n    keylife=45m\n    rekeymargin=4m\n    rekeyfuzz=20%\n    keyingtries=5\n");
        Assert.Equal(TimeSpan.FromHours(2), c.IkeLifetime);
        Assert.Equal(TimeSpan.FromMinutes(45), c.KeyLife);
        Assert.Equal(TimeSpan.FromMinutes(4), c.RekeyMargin);
        Assert.Equal(20, c.RekeyFuzzPercent);
        Assert.Equal(5, c.KeyingTries);
        Assert.Equal(TimeSpan.FromMinutes(90), Conn("    keylife=1.5h\n").KeyLife); // FreeS/WAN decimal with unit
        Assert.Equal(TimeSpan.FromMinutes(45), Conn("    lifetime=45m\n", ConfigDialect.StrongSwan).KeyLife);
        Assert.Equal(TimeSpan.FromMinutes(45), Conn("    salifetime=45m\n", ConfigDialect.Libreswan).KeyLife);
        Assert.Equal(Connection.KeyingTriesForever, Conn("    keyingtries=0\n").KeyingTries);
        Assert.Equal("ipsec.conf:5:5: duplicate parameter \"salifetime\" in conn \"c\" (first set at ipsec.conf:4:5) (\"salifetime\" and \"keylife\" are the same parameter)",
            TestUtil.OneError("conn c\n    left=192.0.2.1\n    right=192.0.2.2\n    keylife=1h\n    salifetime=2h\n", ConfigDialect.Libreswan));
    }

    [Fact]
    public void Dpd_replay_encapsulation_pfs_compress()
    {
        Connection l = Conn("    dpddelay=10\n    dpdtimeout=40s\n    dpdaction=clear\n    replay-window=0\n    encapsulation=no\n    pfs=no\n    compress=yes\n", ConfigDialect.Libreswan);
        Assert.Equal(TimeSpan.FromSeconds(10), l.DpdDelay);
        Assert.Equal(TimeSpan.FromSeconds(40), l.DpdTimeout);
        Assert.Equal(DpdAction.Clear, l.DpdAction);
        Assert.Equal(0, l.ReplayWindow);
        Assert.Equal(Encapsulation.No, l.Encapsulation);
        Assert.False(l.Pfs);
        Assert.True(l.Compress);
        Assert.Equal("ipsec.conf:5:16: dpdtimeout (5s) must be longer than dpddelay (10s)",
            TestUtil.OneError("conn c\n    left=192.0.2.1\n    right=192.0.2.2\n    dpddelay=10s\n    dpdtimeout=5s\n", ConfigDialect.Libreswan));
    }

    [Fact]
    public void Updown_firewall_nexthop_cert_rsasigkey()
    {
        Connection c = Conn("    leftupdown=\"/usr/local/sbin/updown --route yes\"\n    rightfirewall=yes\n    leftnexthop=%defaultroute\n    rightnexthop=%direct\n    leftcert=west.pem\n    rightrsasigkey=%dns\n    leftrsasigkey=%dnsondemand\n", ConfigDialect.FreeSwan);
        Assert.Equal("/usr/local/sbin/updown --route yes", c.Left.UpDown);
        Assert.True(c.Right.Firewall);
        Assert.False(c.Left.Firewall);
        Assert.Equal(NextHopKind.DefaultRoute, c.Left.NextHop.Kind);
        Assert.Equal(NextHopKind.Direct, c.Right.NextHop.Kind);
        Assert.Equal("west.pem", c.Left.Cert);
        Assert.Equal(PublicKeySource.Dns, c.Right.RsaSigKey.Source);
        Assert.Equal(PublicKeySource.DnsOnDemand, c.Left.RsaSigKey.Source);
    }

    [Fact]
    public void Setup_uniqueids_interfaces_hidetos()
    {
        IpsecConfig f = TestUtil.Parse("version 2\nconfig setup\n    interfaces=\"ipsec0=eth0 ipsec1=ppp0\"\n    uniqueids=no\n    hidetos=no\n    plutodebug=all\n");
        Assert.Equal(new[] { "ipsec0=eth0", "ipsec1=ppp0" }, f.Setup.Interfaces);
        Assert.Equal(UniqueIdsPolicy.No, f.Setup.UniqueIds);
        Assert.False(f.Setup.HideTos);
        Assert.Equal("all", f.Setup.PlutoDebug);
        Assert.Equal(UniqueIdsPolicy.Replace, TestUtil.Parse("config setup\n    uniqueids=replace\n", ConfigDialect.StrongSwan).Setup.UniqueIds);
        Assert.Equal("ipsec.conf:3:16: invalid interfaces entry \"ipsec0=\"; allowed: %defaultroute, %none, or virtual=physical pairs such as ipsec0=eth0",
            TestUtil.OneError("version 2\nconfig setup\n    interfaces=ipsec0=\n"));
    }

    [Fact]
    public void X_prefixed_parameters_are_user_extensions_and_ignored()
    {
        Assert.Empty(TestUtil.Errors("conn c\n    left=192.0.2.1\n    right=192.0.2.2\n    x-site=north\n    X_owner=ops\n"));
    }
}
