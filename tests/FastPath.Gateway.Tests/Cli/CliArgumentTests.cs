using System;
using Xunit;

namespace FastPath.Gateway.Tests.Cli;

/// <summary>Command-line errors: clear message on stderr, documented non-zero exit code, no daemon needed.</summary>
public sealed class CliArgumentTests
{
    [Fact]
    public void Unknown_verb_is_a_usage_error_naming_the_verb()
    {
        var (exit, _, err) = CliRunner.Run("frobnicate");
        Assert.Equal(2, exit);
        Assert.Equal("fastpath: unknown verb 'frobnicate' (fastpath --help lists the verbs)\n", err);
    }

    [Fact]
    public void Conn_verb_without_NAME_is_a_usage_error()
    {
        foreach (string verb in new[] { "up", "down", "add", "delete", "route", "unroute", "replace" })
        {
            var (exit, _, err) = CliRunner.Run($"{verb} --rundir /tmp");
            Assert.Equal(2, exit);
            Assert.Contains($"Required argument missing for command: '{verb}'", err, StringComparison.Ordinal);
        }
        var (e2, _, err2) = CliRunner.Run("auto --rundir /tmp");
        Assert.Equal(2, e2);
        Assert.Contains("give exactly one of --up/--down", err2, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_rundir_says_the_daemon_is_not_running_there()
    {
        var (exit, _, err) = CliRunner.Run("status --rundir /nonexistent/fp-dmn");
        Assert.Equal(3, exit);
        Assert.Contains("the run directory /nonexistent/fp-dmn does not exist", err, StringComparison.Ordinal);
        var (e2, _, err2) = CliRunner.Run("eroute --rundir");
        Assert.Equal(2, e2);
        Assert.Contains("--rundir", err2, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_with_a_bad_config_lists_the_loader_errors_with_file_line_column()
    {
        string dir = System.IO.Directory.CreateTempSubdirectory("fp-dmn-cfg-").FullName;
        try
        {
            string conf = System.IO.Path.Combine(dir, "ipsec.conf");
            System.IO.File.WriteAllText(conf, "config setup\nconn a\n\tleft=203.0.113.1\n\trightcert=x.pem\n\tright=203.0.113.2\n\tautox=start\n");
            var (exit, _, err) = CliRunner.Run($"start --config {conf} --rundir {dir}/run");
            Assert.Equal(6, exit);
            Assert.Contains($"configuration errors in {conf}", err, StringComparison.Ordinal);
            Assert.Matches(@"ipsec\.conf:6:2: .*autox", err);
        }
        finally
        {
            System.IO.Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Verify_prints_OK_FAILED_lines_and_fails_without_the_interfaces()
    {
        var (exit, stdout, _) = CliRunner.Run("verify --inside fp-dmn-noif0 --outside fp-dmn-noif1 --rundir /nonexistent");
        Assert.Equal(1, exit);
        Assert.Matches(@"(?m)^running as root +\[OK\]", stdout);
        Assert.Matches(@"(?m)^interface fp-dmn-noif0 +\[FAILED\] no such interface here", stdout);
        Assert.Matches(@"(?m)^CPU: AES instructions .*\[(OK|FAILED)\]", stdout);
        Assert.Matches(@"(?m)^UDP port 500 free for IKE +\[(OK|FAILED)\]", stdout);
    }

    [Fact]
    public void Manual_keeps_its_options_and_says_what_is_wrong_in_one_line()
    {
        var (exit, _, err) = CliRunner.Run("manual --script /nonexistent/fp-dmn.keys --inside a --outside b");
        Assert.Equal(2, exit);
        Assert.StartsWith("/nonexistent/fp-dmn.keys: cannot read: ", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal); // no stack trace
        var (e2, _, err2) = CliRunner.Run("manual --inside a");
        Assert.Equal(2, e2);
        Assert.Contains("--script FILE, --inside IFNAME and --outside IFNAME are required", err2, StringComparison.Ordinal);
    }
}
