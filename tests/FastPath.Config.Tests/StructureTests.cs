// Layout rules, includes, also=, %default, dialect detection and each dialect's defaults.
using System;
using System.IO;
using System.Linq;
using FastPath.Config;
using Xunit;

namespace FastPath.Config.Tests;

public class LexerTests
{
    [Fact]
    public void Comments_quotes_whitespace_around_equals_and_crlf()
    {
        IpsecConfig cfg = TestUtil.Parse("version 2\r\n# top comment\r\nconn c   # trailing comment\r\n\tleft = 192.0.2.1\r\n    # indented comment\r\n    right=192.0.2.2 # after value\r\n    leftupdown=\"/bin/up down\"\r\n    rightupdown=a#b\r\n");
        Connection c = cfg["c"];
        Assert.Equal("/bin/up down", c.Left.UpDown);
        Assert.Equal("a#b", c.Right.UpDown); // '#' not after white space is part of the value
        Assert.Equal(new SourceLocation("ipsec.conf", 4, 9), c.LocationOf("left"));
    }

    [Fact]
    public void Empty_value_means_default_and_blocks_inheritance()
    {
        IpsecConfig cfg = TestUtil.Parse("version 2\nconn %default\n    keyingtries=7\nconn c\n    left=192.0.2.1\n    right=192.0.2.2\n    keyingtries=\n");
        Assert.Equal(Connection.KeyingTriesForever, cfg["c"].KeyingTries);
    }

    [Fact]
    public void Parameter_before_any_section_and_extra_text()
    {
        Assert.Equal("ipsec.conf:1:5: parameter outside of a section; sections start at column 1 with \"config setup\" or \"conn NAME\"", TestUtil.OneError("    left=192.0.2.1\n"));
        Assert.Equal("ipsec.conf:1:1: section header \"conn a\" has extra text \"b\"", TestUtil.OneError("conn a b\n    left=192.0.2.1\n"));
        Assert.Equal("ipsec.conf:1:1: unexpected \"conection\" at column 1; allowed at column 1: version, include, config setup, conn NAME, ca NAME", TestUtil.OneError("conection west\n"));
        Assert.Equal("ipsec.conf:1:1: unexpected \"con\" at column 1; allowed at column 1: version, include, config setup, conn NAME, ca NAME; did you mean \"conn\"?", TestUtil.OneError("con west\n"));
    }
}

public class MaskingTests
{
    [Fact]
    public void Manual_keys_are_masked_for_barf_and_the_rest_is_kept()
    {
        string text = File.ReadAllText(TestUtil.Good("freeswan-manual.conf"));
        string masked = IpsecConfLoader.MaskSecrets(text);
        Assert.DoesNotContain("0x01234567_89abcdef", masked);
        Assert.DoesNotContain("0x0102030405060708090a", masked);
        Assert.Contains("        espenckey=[masked]", masked);
        Assert.Contains("        rightespenckey=[masked]", masked);
        Assert.Contains("        spibase=0x200", masked);
        Assert.Equal(text.Split('\n').Length, masked.Split('\n').Length);
        // Masked text still parses (keys are then invalid, reported, never printed).
        var r = IpsecConfLoader.TryParse(masked, "/nonexistent-fp/ipsec.conf");
        Assert.Contains(r.Errors, e => e.Message.Contains("invalid key \"[m...(8 chars)\"", StringComparison.Ordinal));
    }
}

public class IncludeTests
{
    [Fact]
    public void Glob_include_relative_to_the_including_file_nested_and_sorted()
    {
        using TempDir t = TestUtil.Temp();
        string main = t.Write("etc/ipsec.conf", "version 2\ninclude ipsec.d/*.conf\n");
        t.Write("etc/ipsec.d/b.conf", "conn b\n    left=192.0.2.1\n    right=192.0.2.3\ninclude sub/extra.conf\n");
        t.Write("etc/ipsec.d/a.conf", "conn a\n    left=192.0.2.1\n    right=192.0.2.2\n");
        t.Write("etc/ipsec.d/.hidden.conf", "garbage\n");
        t.Write("etc/ipsec.d/a.conf.rpmsave", "garbage\n");
        t.Write("etc/ipsec.d/sub/extra.conf", "conn extra\n    also=a\n    auto=add\n");
        IpsecConfig cfg = IpsecConfLoader.Load(main);
        Assert.Equal(new[] { "a", "b", "extra" }, cfg.Connections.Where(c => !c.IsImplicit).Select(c => c.Name));
        Assert.Equal(new SourceLocation("ipsec.d/a.conf", 2, 10), cfg["extra"].LocationOf("left"));
        Assert.Equal(4, cfg.Files.Count);
    }

    [Fact]
    public void Include_pattern_without_match_warns()
    {
        using TempDir t = TestUtil.Temp();
        string main = t.Write("ipsec.conf", "version 2\ninclude none/*.conf\n");
        IpsecConfig cfg = IpsecConfLoader.Load(main);
        Assert.Equal("ipsec.conf:2:9: warning: include pattern \"none/*.conf\" matches no file", Assert.Single(cfg.Warnings).ToString());
    }

    [Fact]
    public void Self_include_is_a_cycle()
    {
        using TempDir t = TestUtil.Temp();
        string main = t.Write("ipsec.conf", "version 2\ninclude ipsec.conf\n");
        var e = Assert.Throws<ConfigException>(() => IpsecConfLoader.Load(main));
        Assert.Equal("ipsec.conf:2:9: include cycle: ipsec.conf -> ipsec.conf", e.Message);
    }

    [Fact]
    public void Include_depth_is_limited()
    {
        using TempDir t = TestUtil.Temp();
        for (int i = 0; i < 14; i++) t.Write($"f{i}.conf", $"include f{i + 1}.conf\n");
        t.Write("f14.conf", "");
        var e = Assert.Throws<ConfigException>(() => IpsecConfLoader.Load(Path.Combine(t.Path, "f0.conf")));
        Assert.Contains("includes nested more than 10 deep", e.Message);
    }
}

public class AlsoAndDefaultTests
{
    [Fact]
    public void Also_chain_own_settings_win_then_also_order_then_default()
    {
        IpsecConfig cfg = TestUtil.Parse(
            "version 2\nconn %default\n    keyingtries=9\n    keylife=2h\n" +
            "conn base\n    left=192.0.2.1\n    right=192.0.2.2\n    keylife=3h\n    also=keys\n" +
            "conn keys\n    authby=secret\n    keylife=4h\n" +
            "conn c\n    also=base\n    right=192.0.2.9\n    auto=add\n");
        Connection c = cfg["c"];
        Assert.Equal(new[] { "base", "keys" }, c.Also);
        Assert.Equal("192.0.2.9", c.Right.Host.ToString()); // own
        Assert.Equal(TimeSpan.FromHours(3), c.KeyLife);      // base before keys, keys before %default
        Assert.Equal(AuthMethods.Secret, c.AuthBy);           // from keys, two levels down
        Assert.Equal(9, c.KeyingTries);                       // %default
        Assert.Equal("conn keys", c.Settings["authby"].FromSection);
        Assert.True(cfg["keys"].Settings.ContainsKey("keylife"));
    }

    [Fact]
    public void Also_diamond_merges_once()
    {
        IpsecConfig cfg = TestUtil.Parse("conn a\n    also=b\n    also=c\n    left=192.0.2.1\n    right=192.0.2.2\nconn b\n    also=d\nconn c\n    also=d\nconn d\n    authby=secret\n");
        Assert.Equal(new[] { "b", "d", "c" }, cfg["a"].Also);
    }

    [Fact]
    public void Also_self_cycle()
    {
        Assert.Equal("ipsec.conf:2:10: also= cycle: a -> a", TestUtil.OneError("conn a\n    also=a\n    left=192.0.2.1\n    right=192.0.2.2\n"));
    }

    [Fact]
    public void Duplicate_default_for_a_parameter()
    {
        Assert.Equal("ipsec.conf:5:5: duplicate default for \"keylife\" (first set at ipsec.conf:3:5); only one conn %default may set it",
            TestUtil.OneError("version 2\nconn %default\n    keylife=1h\nconn %default\n    keylife=2h\n"));
    }

    [Fact]
    public void Error_in_an_inherited_value_names_the_conn()
    {
        Assert.Equal("ipsec.conf:3:10: invalid value \"strat\" for auto=; allowed: add|start|route|ignore; did you mean \"start\"? (inherited by conn \"c\")",
            TestUtil.OneError("version 2\nconn %default\n    auto=strat\nconn c\n    left=192.0.2.1\n    right=192.0.2.2\n"));
    }
}

public class DialectTests
{
    [Theory]
    [InlineData("    keyexchange=ikev2\n    reauth=no\n", ConfigDialect.StrongSwan, "reauth=no")]
    [InlineData("    ikev2=insist\n", ConfigDialect.Libreswan, "ikev2=insist")]
    [InlineData("    spi=0x200\n    esp=3des-md5-96\n    espenckey=0x0102030405060708090a0b0c0d0e0f101112131415161718\n", ConfigDialect.FreeSwan, "spi=0x200")]
    [InlineData("    authby=secret\n", ConfigDialect.FreeSwan, null)]
    public void Detection(string body, ConfigDialect expected, string? evidence)
    {
        IpsecConfig cfg = TestUtil.Parse("conn c\n    left=192.0.2.1\n    right=192.0.2.2\n" + body);
        Assert.Equal(expected, cfg.Dialect);
        if (evidence != null) Assert.Contains($"\"{evidence}\"", cfg.DialectReason);
        else Assert.Equal("no dialect-specific parameter; FreeS/WAN 2.x assumed", cfg.DialectReason);
    }

    [Fact]
    public void Version_2_0_means_strongSwan_when_nothing_else_decides()
    {
        IpsecConfig cfg = TestUtil.Parse("version 2.0\nconn c\n    left=192.0.2.1\n    right=192.0.2.2\n");
        Assert.Equal(ConfigDialect.StrongSwan, cfg.Dialect);
        Assert.Equal("detected from \"version 2.0\"", cfg.DialectReason);
    }

    [Fact]
    public void Explicit_dialect_wins_over_detection()
    {
        IpsecConfig cfg = TestUtil.Parse("version 2.0\nconn c\n    left=192.0.2.1\n    right=192.0.2.2\n", ConfigDialect.Libreswan);
        Assert.Equal(ConfigDialect.Libreswan, cfg.Dialect);
        Assert.Equal("explicit", cfg.DialectReason);
    }

    public static TheoryData<ConfigDialect> Dialects() => new() { ConfigDialect.FreeSwan, ConfigDialect.Libreswan, ConfigDialect.StrongSwan };

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Defaults_of_each_dialect_apply_to_an_empty_conn(ConfigDialect d)
    {
        IpsecConfig cfg = TestUtil.Parse("conn c\n    left=192.0.2.1\n    right=192.0.2.2\n", d);
        Connection c = cfg["c"];
        DialectDefaults x = DialectDefaults.For(d);
        Assert.Equal(x.IkeLifetime, c.IkeLifetime);
        Assert.Equal(x.KeyLife, c.KeyLife);
        Assert.Equal(x.RekeyMargin, c.RekeyMargin);
        Assert.Equal(x.RekeyFuzzPercent, c.RekeyFuzzPercent);
        Assert.Equal(x.KeyingTries, c.KeyingTries);
        Assert.Equal(x.DpdDelay, c.DpdDelay);
        Assert.Equal(x.DpdTimeout, c.DpdTimeout);
        Assert.Equal(x.DpdAction, c.DpdAction);
        Assert.Equal(x.Auto, c.Auto);
        Assert.Equal(x.AuthBy, c.AuthBy);
        Assert.Equal(x.Pfs, c.Pfs);
        Assert.Equal(x.Type, c.Type);
        Assert.Equal(x.KeyExchange, c.KeyExchange);
        Assert.Equal(x.ReplayWindow, c.ReplayWindow);
        Assert.Equal(x.Encapsulation, c.Encapsulation);
        Assert.Equal(x.Mobike, c.Mobike);
        Assert.Equal(x.UniqueIds, cfg.Setup.UniqueIds);
        Assert.Equal(x.Interfaces == null ? Array.Empty<string>() : new[] { x.Interfaces }, cfg.Setup.Interfaces);
        Assert.Equal(d == ConfigDialect.FreeSwan, cfg.Connections.Any(k => k.IsImplicit));
    }

    [Fact]
    public void The_defaults_are_the_documented_numbers()
    {
        // FreeS/WAN 2.x: ipsec.conf(5) and seed 002:396-407.
        DialectDefaults f = DialectDefaults.FreeSwan;
        Assert.Equal((TimeSpan.FromHours(1), TimeSpan.FromHours(8), TimeSpan.FromMinutes(9), 100, 0), (f.IkeLifetime, f.KeyLife, f.RekeyMargin, f.RekeyFuzzPercent, f.KeyingTries));
        Assert.Equal((AuthMethods.RsaSig, PublicKeySource.DnsOnDemand, UniqueIdsPolicy.Yes, "%defaultroute"), (f.AuthBy, f.RsaSigKey, f.UniqueIds, f.Interfaces));
        DialectDefaults l = DialectDefaults.Libreswan;
        Assert.Equal((TimeSpan.FromHours(8), TimeSpan.FromHours(8), DpdAction.Hold, 128, IkeVersion.IkeV2), (l.IkeLifetime, l.KeyLife, l.DpdAction, l.ReplayWindow!.Value, l.KeyExchange));
        DialectDefaults s = DialectDefaults.StrongSwan;
        Assert.Equal((TimeSpan.FromHours(3), TimeSpan.FromHours(1), 3, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(150), AuthMethods.PubKey),
            (s.IkeLifetime, s.KeyLife, s.KeyingTries, s.DpdDelay!.Value, s.DpdTimeout!.Value, s.AuthBy));
    }

    [Fact]
    public void FreeSwan_without_version_line_warns()
    {
        IpsecConfig cfg = TestUtil.Parse("conn c\n    left=192.0.2.1\n    right=192.0.2.2\n", ConfigDialect.FreeSwan);
        Assert.Contains(cfg.Warnings, w => w.ToString() == "ipsec.conf:1:1: warning: no \"version 2\" line; FreeS/WAN 2.x expects it at the top of the file (seed 002:373-377)");
    }

    [Fact]
    public void Libreswan_clamps_overlong_lifetimes_with_a_warning()
    {
        IpsecConfig cfg = TestUtil.Parse("conn c\n    left=192.0.2.1\n    right=192.0.2.2\n    ikelifetime=30h\n", ConfigDialect.Libreswan);
        Assert.Contains(cfg.Warnings, w => w.Message.StartsWith("ikelifetime=30h exceeds the Libreswan maximum of 24h", StringComparison.Ordinal));
    }

    [Fact]
    public void Implicit_conns_can_be_turned_off()
    {
        IpsecConfig cfg = IpsecConfLoader.Parse("version 2\n", "/nonexistent-fp/ipsec.conf", new IpsecConfigOptions { ImplicitConns = false });
        Assert.Empty(cfg.Connections);
        IpsecConfig on = IpsecConfLoader.Parse("version 2\n", "/nonexistent-fp/ipsec.conf");
        Assert.Equal(new[] { "clear", "clear-or-private", "private-or-clear", "private", "block", "packetdefault" }, on.Connections.Select(c => c.Name));
        Assert.All(on.Connections, c => Assert.True(c.IsImplicit));
        Assert.Equal("0.0.0.0/0", on["packetdefault"].Left.Subnets.Single().ToString());
        Assert.Equal(HostKind.Opportunistic, on["packetdefault"].Right.Host.Kind);
    }
}
