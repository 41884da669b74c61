using System;
using System.IO;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Netns;

/// <summary>
/// Fail closed (DESIGN.md §2, seed 000 #7 and #8): with FastPath stopped nothing crosses; cleartext
/// injected on the public side claiming to come from sunset's protected subnet is not forwarded
/// (CleartextOnProtected); large pings work (DF clear: outer fragmentation after ESP and reassembly
/// by the peer) or get the right ICMP (DF set: "fragmentation needed" with the tunnel's inner MTU).
/// </summary>
[Collection("netns")]
public sealed class FailClosedTests
{
    private readonly ITestOutputHelper _out;
    public FailClosedTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void NothingCrossesWhenTheGatewaysAreStopped()
    {
        using var tb = new Testbed();
        tb.StartGateways();
        Assert.True(tb.Warm("192.0.2.138"), "tunnel did not come up");
        tb.StopGateways();
        var sunrise = tb.Capture(tb.Sunrise, "eth0", "icmp or udp");
        var v4 = tb.Ping(tb.Sunset, "192.0.2.138", count: 5);
        var v6 = tb.Ping(tb.Sunset, "2001:db8:2::138", count: 5);
        string pcap = tb.EndCapture(sunrise);
        Assert.Equal(0, v4.Received);
        Assert.Equal(0, v6.Received);
        string seen = Testbed.Sh($"tshark -n -r {pcap} -Y 'ip.src == 192.0.2.10 or ipv6.src == 2001:db8:1::10' -T fields -e frame.number");
        Assert.True(seen.Trim().Length == 0, "packets from sunset reached sunrise with FastPath stopped: " + seen);
        // The kernel guard stays: forwarding is off on both gateways.
        Assert.Equal("0", Testbed.Sh($"ip netns exec {tb.West} cat /proc/sys/net/ipv4/ip_forward").Trim());
        Assert.Equal("0", Testbed.Sh($"ip netns exec {tb.East} cat /proc/sys/net/ipv4/ip_forward").Trim());
    }

    [Fact]
    public void CleartextClaimingToComeFromSunsetIsDroppedOnTheOutside()
    {
        using var tb = new Testbed();
        tb.StartGateways();
        Assert.True(tb.Warm("192.0.2.138"), "tunnel did not come up");
        string eastMac = Testbed.Sh($"ip netns exec {tb.East} cat /sys/class/net/outside/address").Trim();
        var sunrise = tb.Capture(tb.Sunrise, "eth0", "udp port 9999");
        // From west's namespace, on the public link, in clear, addressed to sunrise: what an
        // attacker on the outside would send (seed 000 #7).
        string py = $"from scapy.all import *; sendp([Ether(dst='{eastMac}')/IP(src='192.0.2.10',dst='192.0.2.138')/UDP(sport=40000,dport=9999)/Raw(b'forged'*5)]*20 + " +
                    $"[Ether(dst='{eastMac}')/IPv6(src='2001:db8:1::10',dst='2001:db8:2::138')/UDP(sport=40000,dport=9999)/Raw(b'forged'*5)]*20, iface='outside', verbose=False)";
        Testbed.Sh($"ip netns exec {tb.West} /usr/bin/python3 -c \"{py}\"", timeoutMs: 60_000);
        string pcap = tb.EndCapture(sunrise);
        tb.WaitForCounters("east");
        tb.WaitForCounters("east");
        string seen = Testbed.Sh($"tshark -n -r {pcap} -T fields -e frame.number");
        Assert.True(seen.Trim().Length == 0, "forged cleartext reached sunrise");
        long dropped = tb.Drop("east", "CleartextOnProtected");
        _out.WriteLine($"east CleartextOnProtected = {dropped}");
        Assert.True(dropped >= 40, $"CleartextOnProtected = {dropped}\n{File.ReadAllText(Path.Combine(tb.GatewayDir, "east", "counters.json"))}");
    }

    [Fact]
    public void LargePingsFragmentWithDfClearAndGetFragmentationNeededWithDfSet()
    {
        using var tb = new Testbed();
        tb.StartGateways();
        Assert.True(tb.Warm("192.0.2.138"), "tunnel did not come up");
        // DF clear, 2000 bytes: sunset fragments to 1500; the first fragment no longer fits after ESP,
        // so west fragments the outer packet and east reassembles it before decryption.
        var big = tb.Ping(tb.Sunset, "192.0.2.138", count: 5, options: "-s 2000 -M dont");
        _out.WriteLine(big.Output);
        Assert.Equal(5, big.Received);
        // DF set, 1472 bytes (1500 on the wire at sunset): cannot fit after ESP; west answers with ICMP
        // fragmentation needed carrying the tunnel's inner MTU, which ping reports.
        var df = tb.Ping(tb.Sunset, "192.0.2.138", count: 3, options: "-s 1472 -M do");
        _out.WriteLine(df.Output);
        Assert.Equal(0, df.Received);
        Assert.Matches(@"(Frag needed and DF set \(mtu = 14[0-9][0-9]\)|mtu=14[0-9][0-9])", df.Output);
        tb.WaitForCounters("west");
        tb.WaitForCounters("west");
        Assert.True(tb.Drop("west", "FragmentationNeeded") >= 1);
        // IPv6, 2000 bytes: sunset's first fragment (1500 on the wire) gets "packet too big" with the
        // tunnel's inner MTU (IPv6 outer: larger overhead); then sunset fragments to that MTU and the
        // pings cross (the reply direction learns its PMTU from east the same way).
        var v6 = tb.Ping(tb.Sunset, "2001:db8:2::138", count: 8, options: "-s 2000");
        _out.WriteLine(v6.Output);
        Assert.Matches(@"Packet too big: mtu=14[0-9][0-9]", v6.Output);
        Assert.True(v6.Received >= 3, "IPv6 2000-byte pings after PMTU discovery: " + v6.Output);
    }
}
