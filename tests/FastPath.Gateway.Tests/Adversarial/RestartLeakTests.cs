using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using FastPath.Gateway.Tests.Netns;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Adversarial;

/// <summary>
/// Start/stop/restart/crash under traffic (seed 000 #8, docs/security.md §Restart): sunset pings
/// sunrise every 10 ms (IPv4 and IPv6) and sends iperf3 UDP at a fixed rate while both gateways are
/// stopped (SIGTERM or SIGKILL, alternating per gateway and cycle) and started again, many times.
/// Captures on both gateways' ports of the public link (the wire namespace's bridge ports, so even
/// frames a gateway sends with PACKET_QDISC_BYPASS are seen) must hold no frame from or to a protected
/// subnet outside ESP at any moment, and after every restart the tunnel must carry traffic again
/// (fresh keys per restart, as IKE would give).
/// </summary>
[Collection("netns")]
public sealed class RestartLeakTests
{
    private readonly ITestOutputHelper _out;
    public RestartLeakTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void NoCleartextLeavesAcrossStartStopAndKillCyclesAndTheTunnelComesBack()
    {
        int cycles = (int)Profile.Size(6, 100); // CI: 6 cover both signal pairings and both staggered orders (i % 2, i % 3)
        using var bed = new AttackBed();
        var tb = bed.Tb;
        var (west, east) = AttackBed.WriteScripts(Path.Combine(tb.GatewayDir, "keys"));
        bed.StartGateways(west, east);
        Assert.True(tb.Warm("192.0.2.138"), "tunnel did not come up");
        int seconds = cycles * 8 + 60; // an upper bound for every background process
        // Everything that is not ESP, on both gateways' ports of the wire.
        const string notEsp = "'not (ip proto 50) and not (ip6 proto 50)'";
        var capW = bed.Capture(bed.Wire, "wire-w", notEsp, seconds);
        var capE = bed.Capture(bed.Wire, "wire-e", notEsp, seconds);
        var espCount = bed.Capture(bed.Wire, "wire-w", "'ip proto 50 or ip6 proto 50' -s 64", seconds);
        var server = tb.Background($"ip netns exec {tb.Sunrise} timeout {seconds + 5} iperf3 -s -p 5299");
        Thread.Sleep(300);
        var ping4 = tb.Background($"ip netns exec {tb.Sunset} ping -n -q -i 0.01 -w {seconds} 192.0.2.138");
        var ping6 = tb.Background($"ip netns exec {tb.Sunset} ping -6 -n -q -i 0.01 -w {seconds} 2001:db8:2::138");
        var back4 = tb.Background($"ip netns exec {tb.Sunrise} ping -n -q -i 0.01 -w {seconds} 192.0.2.10");
        var udp = tb.Background($"ip netns exec {tb.Sunset} iperf3 -c 192.0.2.138 -p 5299 -u -b 20M -l 1200 -t {seconds}");

        var recovery = new List<double>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < cycles; i++)
        {
            // Alternate: west TERM / east KILL, then west KILL / east TERM, ...
            bed.Signal("west", i % 2 == 0 ? "TERM" : "KILL");
            bed.Signal("east", i % 2 == 0 ? "KILL" : "TERM");
            Thread.Sleep(300 + i % 3 * 200); // traffic hits the stopped gateways
            // Fresh keys per restart, as IKE would negotiate: with manual keys reused, the restarted
            // sender's sequence numbers start at 1 again and the peer's replay window (rightly)
            // drops them as Replay until they pass its old top (docs/security.md).
            (west, east) = AttackBed.WriteScripts(Path.Combine(tb.GatewayDir, $"keys{i}"));
            var t = Stopwatch.StartNew();
            if (i % 3 == 2)
            {
                // staggered: one side up while the other is still down
                bed.StartGateway("west", west);
                Thread.Sleep(500);
                bed.StartGateway("east", east);
            }
            else
            {
                bed.StartGateways(west, east);
            }
            double started = t.Elapsed.TotalSeconds;
            Assert.True(tb.Warm("192.0.2.138"), $"cycle {i}: the tunnel did not come back");
            recovery.Add(t.Elapsed.TotalSeconds);
            _out.WriteLine($"cycle {i}: gateways ready after {started:F2} s, tunnel back after {recovery[^1]:F2} s");
        }
        double total = clock.Elapsed.TotalSeconds;
        foreach (var p in new[] { udp, ping4, ping6, back4, server }) Testbed.Stop(p);
        var final = bed.Counters("west");
        string pw = bed.Tb.EndCapture(capW), pe = bed.Tb.EndCapture(capE), pesp = bed.Tb.EndCapture(espCount);
        string leakW = AttackBed.ProtectedSources(pw), leakE = AttackBed.ProtectedSources(pe);
        int otherW = AttackBed.CountFrames(pw), otherE = AttackBed.CountFrames(pe), esp = AttackBed.CountFrames(pesp);
        _out.WriteLine($"{cycles} cycles in {total:F0} s; non-ESP frames on the wire: west port {otherW}, east port {otherE}; ESP frames at west's port {esp}; west after the last restart: {final.Describe()}");
        recovery.Sort();
        Profile.Figure(_out, "restart-leak",
            $"cycles={cycles} signals=TERM+KILL cleartext_west={(leakW.Length == 0 ? 0 : leakW.Split('\n').Length)} cleartext_east={(leakE.Length == 0 ? 0 : leakE.Split('\n').Length)} " +
            $"esp_frames={esp} non_esp_frames={otherW + otherE} recovery_median_s={recovery[recovery.Count / 2]:F2} recovery_max_s={recovery[^1]:F2}");
        Assert.True(leakW.Length == 0, "cleartext of a protected subnet on west's side of the public link:\n" + leakW);
        Assert.True(leakE.Length == 0, "cleartext of a protected subnet on east's side of the public link:\n" + leakE);
        Assert.True(esp > cycles * 50, $"only {esp} ESP frames crossed: the traffic did not run");
    }
}
