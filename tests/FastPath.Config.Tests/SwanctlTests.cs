using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using FastPath.Config;
using Xunit;

namespace FastPath.Config.Tests;

public class SwanctlTests
{
    private static string File_ => Path.Combine(TestUtil.CorpusDir, "swanctl", "swanctl.conf");

    [Fact]
    public void Imports_connections_children_and_includes_into_the_model()
    {
        IpsecConfig cfg = SwanctlImporter.Load(File_);
        Assert.Equal(ConfigDialect.StrongSwan, cfg.Dialect);
        Connection c = cfg["sunset-sunrise"];
        Assert.Equal(new[] { "west-east" }, c.Also);
        Assert.Equal(IkeVersion.IkeV2, c.KeyExchange);
        Assert.Equal(IPAddress.Parse("203.0.113.1"), c.Left.Host.Address);
        Assert.Equal(new[] { IPNetwork.Parse("192.0.2.0/25") }, c.Left.Subnets);
        Assert.Equal(new[] { IPNetwork.Parse("192.0.2.128/25") }, c.Right.Subnets);
        Assert.Equal(new Identity(IdentityKind.Fqdn, "east.example.com"), c.Right.Id);
        Assert.Equal(AuthMethods.Secret, c.AuthBy);
        Assert.Equal(new[] { "aes128gcm16-prfsha256-x25519" }, c.IkeProposals);
        Assert.Equal(new[] { "aes128gcm16-x25519" }, c.EspProposals);
        Assert.True(c.Pfs);
        Assert.Equal(TimeSpan.FromHours(2), c.IkeLifetime);
        Assert.Equal(TimeSpan.FromSeconds(60), c.KeyLife);
        Assert.Equal(AutoAction.Start, c.Auto);
        Assert.Equal(DpdAction.Restart, c.DpdAction);
        Assert.Equal(TimeSpan.FromSeconds(10), c.DpdDelay);
        Assert.Equal(64, c.ReplayWindow);
        Assert.Equal(Encapsulation.Yes, c.Encapsulation);
        Assert.False(c.Mobike);
        Assert.Equal(new SourceLocation("swanctl.conf", 23, 29), c.LocationOf("remote_ts"));

        Connection h = cfg["host-host"];
        Assert.Equal(ConnectionType.Transport, h.Type);
        Assert.Equal(IkeVersion.Any, h.KeyExchange);      // version 0 default
        Assert.Equal(AutoAction.Add, h.Auto);              // start_action none: loaded only
        Assert.Equal(TimeSpan.FromHours(4), h.IkeLifetime);
        Assert.Equal(TimeSpan.FromHours(1), h.KeyLife);
        Assert.Null(h.DpdDelay);
        Assert.Equal(1, h.KeyingTries);
        Assert.Equal(2, cfg.Files.Count);
    }

    [Fact]
    public void Imports_ike_secrets()
    {
        IpsecSecrets s = SwanctlImporter.LoadSecrets(File_);
        Assert.True(Identity.TryParse("@west.example.com", out Identity w, out _));
        Assert.True(Identity.TryParse("@east.example.com", out Identity e, out _));
        Assert.Equal("sunset and sunrise", Encoding.UTF8.GetString(s.FindPsk(w, e)!.Entry.Secret!.Span));
    }

    [Fact]
    public void Errors_name_the_place_and_suggest()
    {
        var ex = Assert.Throws<ConfigException>(() => SwanctlImporter.Parse(
            "connections {\n    a {\n        remote_adrs = 192.0.2.2\n        children {\n            a {\n                mode = tunel\n            }\n        }\n    }\n", "/nonexistent-fp/swanctl.conf"));
        Assert.Equal(new[]
        {
            "swanctl.conf:1:1: section \"connections\" is not closed with '}'",
            "swanctl.conf:3:9: unknown connection setting \"remote_adrs\"; did you mean \"remote_addrs\"?",
            "swanctl.conf:6:24: invalid mode \"tunel\"; allowed: tunnel|transport|pass|drop|beet|transport_proxy",
        }, ex.Errors.Select(x => x.ToString()));
    }
}
