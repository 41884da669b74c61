using System;
using System.IO;
using System.Linq;
using System.Threading;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Netns;

/// <summary>
/// One FastPath gateway (west) and scapy as the far side (in east's namespace, east's gateway
/// stopped): ESP that scapy builds with the manual keys is accepted by west and forwarded to sunset,
/// and the ESP west sends decrypts in scapy.
/// </summary>
[Collection("netns")]
public sealed class ScapyFarSideTests
{
    private readonly ITestOutputHelper _out;
    public ScapyFarSideTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void ScapyEspIsAcceptedAndForwardedAndGatewayEspDecryptsInScapy()
    {
        using var tb = new Testbed();
        tb.StartGateways("aes128gcm16", "raw");
        // Stop east's gateway only: scapy takes its place on the public link.
        string eastPid = File.ReadAllText(Path.Combine(tb.GatewayDir, "east", "pid")).Trim();
        Testbed.Sh($"kill -TERM {eastPid}; for i in $(seq 50); do kill -0 {eastPid} 2>/dev/null || break; sleep 0.1; done");
        var script = Manual.ManualKeyScript.Parse(File.ReadAllText(Path.Combine(tb.GatewayDir, "west.keys")));
        string Key(uint spi) => Convert.ToHexString(script.Sas.Single(s => s.Spi == spi).KeyMaterial).ToLowerInvariant();
        string py = Path.Combine(AppContext.BaseDirectory, "Oracle", "scapy_peer.py");
        string westMac = Testbed.Sh($"ip netns exec {tb.West} cat /sys/class/net/outside/address").Trim();

        // scapy -> west -> sunset: a UDP listener on sunset collects what arrives.
        var listener = tb.Background($"ip netns exec {tb.Sunset} timeout 25 /usr/bin/python3 {py} listen 192.0.2.10 9999 12 > /tmp/fp-{tb.Tag}-sunset-rx.txt 2>&1");
        Thread.Sleep(800);
        // The first burst teaches west the next hop of sunset (counted NoRoute/NoNeighbor until the
        // resolver answers); the second, with fresh sequence numbers (the first ones are in the
        // replay window now), must arrive whole.
        Testbed.Sh($"ip netns exec {tb.East} /usr/bin/python3 {py} send outside {westMac} 0x1001 {Key(0x1001)} 0", timeoutMs: 60_000);
        Thread.Sleep(1500);
        Testbed.Sh($"ip netns exec {tb.East} /usr/bin/python3 {py} send outside {westMac} 0x1001 {Key(0x1001)} 100", timeoutMs: 60_000);
        Thread.Sleep(1500);
        Testbed.Stop(listener);
        string received = File.ReadAllText($"/tmp/fp-{tb.Tag}-sunset-rx.txt");
        _out.WriteLine(received);
        for (int n = 101; n <= 120; n++) Assert.Contains($"192.0.2.138 scapy-{n}\n", received, StringComparison.Ordinal);

        // sunset -> west -> scapy: scapy sniffs west's ESP and decrypts it.
        var sniffer = tb.Background($"ip netns exec {tb.East} /usr/bin/python3 {py} recv outside 0x1002 {Key(0x1002)} 6 > /tmp/fp-{tb.Tag}-scapy-rx.txt 2>&1");
        Thread.Sleep(2500);
        Testbed.Sh($"ip netns exec {tb.Sunset} /usr/bin/python3 {py} udpsend 192.0.2.138 7777 10");
        sniffer.WaitForExit(15_000);
        Testbed.Stop(sniffer);
        string decrypted = File.ReadAllText($"/tmp/fp-{tb.Tag}-scapy-rx.txt");
        _out.WriteLine(decrypted);
        Assert.Contains("DECRYPTED 192.0.2.10 192.0.2.138 7777 fastpath-9", decrypted, StringComparison.Ordinal);
        Assert.DoesNotContain("FAILED", decrypted, StringComparison.Ordinal);
    }
}
