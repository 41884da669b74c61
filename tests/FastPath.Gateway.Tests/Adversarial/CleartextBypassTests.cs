using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using FastPath.Gateway.Tests.Netns;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Adversarial;

/// <summary>
/// Cleartext bypass (FreeS/WAN BUGS 000 #7, docs/security.md §Cleartext bypass), at volume and from
/// a third party. Netns/FailClosedTests already shows 40 scapy frames from west's own namespace
/// dropped CleartextOnProtected and nothing crossing with the gateways stopped; here (1) the attacker
/// floods east's outside with cleartext claiming sunset's IPv4/IPv6 addresses and with cleartext from
/// its own unprotected address to sunrise, and (2) west runs with the tunnel down — its protected
/// eroutes are %trap (IPv4) and %hold (IPv6), as FreeS/WAN's auto=route leaves them before the SA
/// exists — above a 0.0.0.0/0 %pass eroute whose cleartext would reach the wire, and sunset floods
/// west's inside for sunrise. Nothing may reach sunrise, nothing from/to a protected subnet may be
/// seen in clear on the public link, and every frame is counted under its reason.
/// </summary>
[Collection("netns")]
public sealed class CleartextBypassTests
{
    private readonly ITestOutputHelper _out;
    public CleartextBypassTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void CleartextForProtectedSubnetsIsNeverDelivered()
    {
        using var bed = new AttackBed();
        var tb = bed.Tb;
        var (west, east) = AttackBed.WriteScripts(Path.Combine(tb.GatewayDir, "keys"));
        bed.StartGateways(west, east);
        Assert.True(tb.Warm("192.0.2.138"), "tunnel did not come up");
        string eastMac = bed.Mac(tb.East, "outside"), attackerMac = bed.Mac(bed.Attacker, "eth0");

        // (1) the attacker, at east's outside
        var lines = AttackBed.Python("", "adv_clear.py", $"{eastMac} {attackerMac} attacker");
        var spoofed = AttackBed.HexFrames(lines.Where(l => l.StartsWith("P ", StringComparison.Ordinal)).Select(l => l[2..]));
        var foreign = AttackBed.HexFrames(lines.Where(l => l.StartsWith("F ", StringComparison.Ordinal)).Select(l => l[2..]));
        var pool = spoofed.Concat(foreign).ToList();
        long count = Profile.Size(60_000, 500_000);
        var atSunrise = tb.Capture(tb.Sunrise, "eth0", "'udp port 9999'");
        var before = bed.Counters("east");
        long sent;
        using (var inj = new FrameInjector(bed.Attacker, "eth0"))
            sent = inj.Send(pool, count, framesPerSecond: 100_000, maxTime: TimeSpan.FromSeconds(30));
        var d = bed.Counters("east").Minus(before);
        int delivered = AttackBed.CountFrames(tb.EndCapture(atSunrise));
        long expectProtected = Share(pool.Count, spoofed.Count, sent), expectForeign = sent - expectProtected;
        _out.WriteLine($"attacker → east: sent {sent}; east: {d.Describe()}; at sunrise {delivered}");
        Assert.Equal(0, delivered);
        Assert.Equal(0, d.Total("TxInside"));
        Assert.True(d.Drop("CleartextOnProtected") + d.OutsideRingDrops >= expectProtected && d.Drop("CleartextOnProtected") <= expectProtected,
            $"CleartextOnProtected {d.Drop("CleartextOnProtected")}, expected {expectProtected}: {d.Describe()}");
        Assert.True(d.Drop("NoPolicy") + d.OutsideRingDrops >= expectForeign && d.Drop("NoPolicy") <= expectForeign,
            $"NoPolicy {d.Drop("NoPolicy")}, expected {expectForeign}: {d.Describe()}");

        // (2) the tunnel down on west: %trap / %hold above a %pass for everything.
        bed.Signal("west", "TERM");
        string down = Path.Combine(tb.GatewayDir, "west-down.keys");
        File.WriteAllText(down, string.Join('\n',
            "eroute --add --src 0.0.0.0/0 --dst 0.0.0.0/0 --said %pass",
            "eroute --add --src ::/0 --dst ::/0 --said %pass",
            "eroute --add --src 192.0.2.0/25 --dst 192.0.2.128/25 --said %trap",
            "eroute --add --src 2001:db8:1::/64 --dst 2001:db8:2::/64 --said %hold") + "\n");
        bed.StartGateway("west", down);
        string westMac = bed.Mac(tb.West, "inside"), sunsetMac = bed.Mac(tb.Sunset, "eth0");
        var fromSunset = AttackBed.HexFrames(AttackBed.Python("", "adv_clear.py", $"{westMac} {sunsetMac} sunset").Select(l => l[2..]));
        // The %pass eroute works (a control: unprotected cleartext does go out in clear) ...
        var capW = bed.Capture(bed.Wire, "wire-w", "'not (ip proto 50) and not (ip6 proto 50)'", 60);
        Testbed.Sh($"ip netns exec {tb.Sunset} ip route add 203.0.113.0/24 via 192.0.2.1; ip netns exec {tb.Sunset} ping -n -c 3 -i 0.2 -W 1 203.0.113.66", check: false);
        var before2 = bed.Counters("west");
        long sent2;
        using (var inj = new FrameInjector(tb.Sunset, "eth0"))
            sent2 = inj.Send(fromSunset, Profile.Size(40_000, 300_000), framesPerSecond: 80_000, maxTime: TimeSpan.FromSeconds(30));
        var d2 = bed.Counters("west").Minus(before2);
        string pcap = tb.EndCapture(capW);
        string leaks = AttackBed.ProtectedFlows(pcap);
        int passed = AttackBed.CountFrames(pcap, "icmp and ip.dst == 203.0.113.66");
        _out.WriteLine($"sunset → west (tunnel down): sent {sent2}; west: {d2.Describe()}; clear ICMP to 203.0.113.66 (control) {passed}");
        Assert.True(leaks.Length == 0, "cleartext of a protected subnet on the public link with the tunnel down:\n" + leaks);
        Assert.True(passed >= 1, "control: the %pass eroute did not pass unprotected cleartext (the capture would not have seen a leak)");
        long holds = d2.Drop("ShuntHold") + d2.Drop("HoldQueueFull") + d2.Total("Held");
        Assert.True(holds + d2.InsideRingDrops >= sent2, $"expected every frame held or dropped by %trap/%hold: {d2.Describe()}");
        Assert.Equal(0, d2.Total("Encapsulated"));

        Profile.Figure(_out, "cleartext-bypass",
            $"attacker_injected={sent} delivered=0 CleartextOnProtected={d.Drop("CleartextOnProtected")} NoPolicy={d.Drop("NoPolicy")} " +
            $"tunnel_down_injected={sent2} leaked=0 ShuntHold={d2.Drop("ShuntHold")} HoldQueueFull={d2.Drop("HoldQueueFull")} Held={d2.Total("Held")} pass_control={passed}");
    }

    private static long Share(int poolSize, int first, long sent)
    {
        long rounds = sent / poolSize, rest = sent % poolSize;
        return rounds * first + Math.Min(rest, first);
    }
}
