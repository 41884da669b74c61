using System;
using System.Diagnostics;
using System.Linq;
using FastPath.Dataplane.Io;
using FastPath.Gateway.Kernel;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests;

/// <summary>The fail-closed kernel settings in a namespace made by the test (fp-gwk-RANDOM): root, nft
/// and ip are required (the test fails, never skips, without them).</summary>
public sealed class KernelGuardTests
{
    private readonly ITestOutputHelper _out;
    public KernelGuardTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void ApplyTurnsForwardingOffAndInstallsTheIngressGuardThatVerifyChecks()
    {
        string ns = "fp-gwk-" + Random.Shared.Next(0x100000, 0xFFFFFF).ToString("x6", System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            Sh($"ip netns add {ns}");
            Sh($"ip -n {ns} link add inside type veth peer name outside");
            Sh($"ip -n {ns} addr add 192.0.2.1/25 dev inside");
            Sh($"ip -n {ns} addr add 203.0.113.1/24 dev outside");
            Sh($"ip -n {ns} link set inside up");
            Sh($"ip -n {ns} link set outside up");
            Sh($"ip netns exec {ns} sysctl -qw net.ipv4.ip_forward=1");
            var guard = new KernelGuard("inside", "outside");
            var before = NetworkNamespace.Run(ns, () => guard.Verify());
            Assert.Contains(before, c => !c.Ok && c.Name.StartsWith("IPv4 forwarding off", StringComparison.Ordinal));
            Assert.Contains(before, c => !c.Ok && c.Name.Contains("nft table", StringComparison.Ordinal));

            NetworkNamespace.Run(ns, () => { guard.Apply(); return 0; });
            var after = NetworkNamespace.Run(ns, () => guard.Verify());
            foreach (var c in after) _out.WriteLine(c.ToString());
            Assert.All(after, c => Assert.True(c.Ok, c.ToString()));
            string listing = Sh($"ip netns exec {ns} nft list table netdev {KernelGuard.TableName}");
            Assert.Contains("203.0.113.1", listing, StringComparison.Ordinal);
            Assert.Contains("192.0.2.1", listing, StringComparison.Ordinal);
            Assert.Equal("0", Sh($"ip netns exec {ns} cat /proc/sys/net/ipv4/ip_forward").Trim());
            // Applying twice replaces the table (a restart), it does not fail or duplicate chains.
            NetworkNamespace.Run(ns, () => { guard.Apply(); return 0; });
            string again = Sh($"ip netns exec {ns} nft list table netdev {KernelGuard.TableName}");
            Assert.Equal(1, again.Split("chain outside").Length - 1);
        }
        finally
        {
            Sh($"ip netns del {ns}", check: false);
        }
    }

    internal static string Sh(string command, bool check = true)
    {
        var psi = new ProcessStartInfo("sh", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000)) { p.Kill(true); throw new TimeoutException(command); }
        if (check && p.ExitCode != 0) throw new InvalidOperationException($"{command}: exit {p.ExitCode}: {se.Result}");
        return so.Result;
    }
}
