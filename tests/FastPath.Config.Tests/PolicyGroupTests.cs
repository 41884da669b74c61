using System.IO;
using System.Linq;
using FastPath.Config;
using Xunit;

namespace FastPath.Config.Tests;

public class PolicyGroupTests
{
    [Fact]
    public void Same_block_in_two_groups_names_both_files_and_lines()
    {
        using TempDir t = TestUtil.Temp();
        string conf = t.Write("ipsec.conf", "version 2\n");
        t.Write("ipsec.d/policies/private-or-clear", "# default\n\n0.0.0.0/0\n");
        t.Write("ipsec.d/policies/private", "192.0.2.0/24\n0.0.0.0/0\n");
        var e = Assert.Throws<ConfigException>(() => IpsecConfLoader.Load(conf));
        Assert.Equal("ipsec.d/policies/private:2:1: subnet \"0.0.0.0/0\", source %defaultroute, already \"private-or-clear\" (ipsec.d/policies/private-or-clear:3:1); a block may be in only one policy group", e.Message);
    }

    [Fact]
    public void Different_local_sources_may_share_a_block_and_disabled_groups_are_not_read()
    {
        using TempDir t = TestUtil.Temp();
        string conf = t.Write("ipsec.conf", "version 2\nconn private-net\n    also=private\n    leftsubnet=192.0.2.128/29\nconn clear\n    auto=ignore\n");
        t.Write("ipsec.d/policies/private", "0.0.0.0/0\n");
        t.Write("ipsec.d/policies/private-net", "0.0.0.0/0\n");
        t.Write("ipsec.d/policies/clear", "0.0.0.0/0\n");
        IpsecConfig cfg = IpsecConfLoader.Load(conf);
        Assert.DoesNotContain(cfg.PolicyGroups, g => g.Name == "clear");
        Assert.Equal(2, cfg.PolicyGroups.Count(g => g.Entries.Any()));
    }

    [Fact]
    public void Ranges_become_cidr_blocks_and_bad_lines_are_errors()
    {
        using TempDir t = TestUtil.Temp();
        string conf = t.Write("ipsec.conf", "version 2\n");
        t.Write("ipsec.d/policies/clear", "192.0.2.1-192.0.2.6\n");
        IpsecConfig cfg = IpsecConfLoader.Load(conf);
        Assert.Equal(new[] { "192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/31", "192.0.2.6/32" }, cfg.PolicyGroups.Single(g => g.Name == "clear").Entries.Select(e => e.ToString()));

        t.Write("ipsec.d/policies/block", "192.0.2.0/24 192.0.2.9\n10.0.0.1/8\n");
        var e = Assert.Throws<ConfigException>(() => IpsecConfLoader.Load(conf));
        Assert.Equal(new[]
        {
            "ipsec.d/policies/block:1:1: one CIDR block per line; found \"192.0.2.0/24 192.0.2.9\"",
            "ipsec.d/policies/block:2:1: invalid subnet \"10.0.0.1/8\": host bits are set; did you mean \"10.0.0.0/8\"?",
        }, e.Errors.Select(x => x.ToString()));
    }

    [Fact]
    public void Stray_policy_file_warns_and_rereadgroups_api()
    {
        using TempDir t = TestUtil.Temp();
        string conf = t.Write("ipsec.conf", "version 2\n");
        t.Write("ipsec.d/policies/privat", "192.0.2.0/24\n");
        IpsecConfig cfg = IpsecConfLoader.Load(conf);
        Assert.Contains(cfg.Warnings, w => w.ToString() == "ipsec.d/policies/privat: warning: policy file \"privat\" has no conn \"privat\" with right=%group or %opportunisticgroup; it is ignored");
        t.Write("ipsec.d/policies/private", "198.51.100.0/24\n");
        var groups = PolicyGroups.Load(cfg, Path.Combine(t.Path, "ipsec.d", "policies"), out _);
        Assert.Equal("198.51.100.0/24", groups.Single(g => g.Name == "private").Entries.Single().ToString());
    }
}
