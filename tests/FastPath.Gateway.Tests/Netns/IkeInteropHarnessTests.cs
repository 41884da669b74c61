using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FastPath.Config;
using Xunit;

namespace FastPath.Gateway.Tests.Netns;

/// <summary>
/// The interop harness itself, independent of the FastPath daemon: strongswan.sh's one-charon mode starts
/// charon in east with the connection loaded (PSK, RSA and ECDSA certificates from certs.sh), and the
/// ipsec.conf / ipsec.secrets it writes for the FastPath side are read by FastPath.Config with the values
/// the interop tests rely on. (Charon↔charon with the same certificates: `strongswan.sh up TAG ESP IKE cert`.)
/// </summary>
[Collection("netns")]
public sealed class IkeInteropHarnessTests
{
    [Theory]
    [InlineData("responder", "psk")]
    [InlineData("initiator", "cert")]
    [InlineData("responder", "cert-ecdsa")]
    public void One_charon_in_east_is_loaded_and_the_FastPath_side_config_reads_back(string role, string auth)
    {
        var env = new Dictionary<string, string> { ["SS_DPD"] = "2", ["SS_FP_KEYLIFE"] = "8s", ["SS_FP_REKEYMARGIN"] = "4s" };
        using var run = new IkeInterop(role, auth, "aes256-sha384", "aes256-sha384-ecp256", env);

        string conns = Testbed.Sh($"{Path.Combine(Testbed.RepoRoot, "perf-scripts", "lib", "strongswan.sh")} sas {run.Bed.Tag} east", check: false);
        string list = Testbed.Sh($"ip netns exec {run.Bed.East} env SWANCTL_DIR={run.StrongSwanDir}/east/swanctl swanctl --list-conns --uri unix://{run.StrongSwanDir}/east/run/charon.vici");
        Assert.Contains("west-east", list);
        Assert.Contains("192.0.2.128/25", list);
        Assert.Contains(auth == "psk" ? "pre-shared key" : "public key", list);
        Assert.DoesNotContain("INSTALLED", conns); // nothing up: FastPath is not running
        if (auth != "psk")
        {
            Assert.Contains("east.example", list);
            string certs = Testbed.Sh($"ip netns exec {run.Bed.East} env SWANCTL_DIR={run.StrongSwanDir}/east/swanctl swanctl --list-certs --uri unix://{run.StrongSwanDir}/east/run/charon.vici");
            Assert.Contains("CN=FastPath Test CA", certs);
            Assert.Contains("has private key", certs);
        }

        IpsecConfig cfg = IpsecConfLoader.Load(Path.Combine(run.FastPathDir, "ipsec.conf"));
        Assert.Equal(ConfigDialect.Libreswan, cfg.Dialect);
        Connection c = Assert.Single(cfg.Connections, x => x.Name == "west-east");
        Assert.Equal(role == "responder" ? AutoAction.Start : AutoAction.Add, c.Auto);
        Assert.Equal("aes256-sha384-ecp256", Assert.Single(c.IkeProposals));
        Assert.Equal("aes256-sha384", Assert.Single(c.EspProposals));
        Assert.Equal(TimeSpan.FromSeconds(2), c.DpdDelay);
        Assert.Equal(TimeSpan.FromSeconds(8), c.KeyLife);
        Assert.Equal(Encapsulation.Yes, c.Encapsulation);
        if (auth != "psk") Assert.EndsWith("west.pem", c.Left.Cert);
        IpsecSecrets secrets = IpsecSecrets.Load(Path.Combine(run.FastPathDir, "ipsec.secrets"));
        Assert.Single(secrets.Entries);
    }
}
