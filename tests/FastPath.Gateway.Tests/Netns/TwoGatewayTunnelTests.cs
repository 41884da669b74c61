using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Netns;

/// <summary>
/// Issue 5's end-to-end proof: two FastPath gateways (west, east) keyed by hand, sunset ↔ sunrise
/// through the tunnel, IPv4 and IPv6, raw ESP and ESP-in-UDP, AES-GCM, AES-CBC+HMAC-SHA1 and 3DES.
/// The west–east link is captured: only ESP crosses it, and tshark decrypts it with the keys of
/// the manual-keying scripts.
/// </summary>
[Collection("netns")]
public sealed class TwoGatewayTunnelTests
{
    private readonly ITestOutputHelper _out;
    public TwoGatewayTunnelTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [InlineData("aes128gcm16", "raw")]
    [InlineData("aes128gcm16", "udp")]
    [InlineData("aes128-sha1", "raw")]
    [InlineData("aes128-sha1", "udp")]
    [InlineData("3des-sha1", "raw")]
    [InlineData("aes256gcm16", "udp")]
    public void PingAndIperfCrossTheTunnelAndOnlyEspIsOnTheWire(string suite, string encap)
    {
        using var tb = new Testbed();
        tb.StartGateways(suite, encap);
        Assert.True(tb.Warm("192.0.2.138"), "no IPv4 reply through the tunnel:\n" + File.ReadAllText(Path.Combine(tb.GatewayDir, "west", "stdout")));
        Assert.True(tb.Warm("2001:db8:2::138"), "no IPv6 reply through the tunnel");

        // Frames a gateway sends with PACKET_QDISC_BYPASS skip the kernel's taps on its own side, so
        // each direction is captured where it arrives: west->east on east's outside, back on west's.
        var capture = tb.Capture(tb.East, "outside");
        var captureBack = tb.Capture(tb.West, "outside");
        var v4 = tb.Ping(tb.Sunset, "192.0.2.138", count: 10);
        var v6 = tb.Ping(tb.Sunset, "2001:db8:2::138", count: 10);
        var back = tb.Ping(tb.Sunrise, "192.0.2.10", count: 5);
        string pcapForward = tb.EndCapture(capture);
        string pcapBack = tb.EndCapture(captureBack);
        string pcap = pcapForward.Replace(".pcap", "-both.pcap", StringComparison.Ordinal);
        Testbed.Sh($"mergecap -w {pcap} {pcapForward} {pcapBack}");
        Assert.Equal(10, v4.Received);
        Assert.Equal(10, v6.Received);
        Assert.Equal(5, back.Received);

        // Every IP packet between the gateways is ESP (or ESP-in-UDP); none carries the inner addresses.
        string fields = Testbed.Sh($"tshark -n -r {pcap} -T fields -e ip.proto -e ipv6.nxt -e udp.dstport -e ip.src -e ipv6.src -Y 'ip or ipv6'");
        string[] lines = fields.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 50, $"capture has {lines.Length} IP packets (25 pings, each way)");
        string clear = Testbed.Sh($"tshark -n -r {pcap} -Y '(ip or ipv6) and not esp and not (udp.port == 4500) and not icmpv6.type >= 133' -T fields -e frame.number -e _ws.col.Info");
        Assert.True(clear.Trim().Length == 0, "cleartext on the west-east link:\n" + clear);
        // tshark decrypts with the configured keys: the ICVs check and the inner packets are the pings.
        string sas = TsharkSas(tb, suite);
        string decoded = Testbed.Sh($"tshark -n -r {pcap} -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE {sas} -T fields -e esp.spi -e esp.icv_good -e ip.dst -e ipv6.dst -Y esp");
        var decodedLines = decoded.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        _out.WriteLine($"{decodedLines.Length} ESP packets decoded; first: {decodedLines.FirstOrDefault()}");
        Assert.True(decodedLines.Length >= 50);
        Assert.Contains(decodedLines, l => l.Contains("192.0.2.138", StringComparison.Ordinal));
        Assert.Contains(decodedLines, l => l.Contains("2001:db8:2::138", StringComparison.Ordinal));
        Assert.DoesNotContain(decodedLines, l => l.Split('\t')[1] is "0" or "False");

        // iperf3 TCP and UDP through the tunnel (short: this is a functional check; the matrix measures).
        using var tcp = tb.Iperf("192.0.2.138", "");
        double tcpBits = tcp.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
        using var udp = tb.Iperf("2001:db8:2::138", "-u -b 20M -l 1200");
        var sum = udp.RootElement.GetProperty("end").GetProperty("sum");
        long packets = sum.GetProperty("packets").GetInt64(), lost = sum.GetProperty("lost_packets").GetInt64();
        _out.WriteLine($"{suite}/{encap}: TCP {tcpBits / 1e6:F0} Mbit/s, UDP6 {packets} packets, {lost} lost");
        Assert.True(tcpBits > 20e6, $"TCP through the tunnel: {tcpBits / 1e6:F1} Mbit/s\n{Counters(tb)}");
        Assert.True(packets > 1000 && lost <= packets / 20, $"UDP: {packets} sent, {lost} lost\n{Counters(tb)}");
    }

    private static string Counters(Testbed tb) =>
        File.ReadAllText(Path.Combine(tb.GatewayDir, "west", "counters.json")) + File.ReadAllText(Path.Combine(tb.GatewayDir, "east", "counters.json"));

    /// <summary>The uat:esp_sa options for the SAs of west's manual-keying script (PEERS.md names).</summary>
    internal static string TsharkSas(Testbed tb, string suite)
    {
        string script = File.ReadAllText(Path.Combine(tb.GatewayDir, "west.keys"));
        var opts = new System.Text.StringBuilder();
        foreach (var sa in Manual.ManualKeyScript.Parse(script).Sas)
        {
            string af = sa.Destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? "IPv4" : "IPv6";
            string enc = sa.Suite.Encryption switch
            {
                Crypto.EncryptionAlgorithm.AesGcm => "AES-GCM with 16 octet ICV [RFC4106]",
                Crypto.EncryptionAlgorithm.AesCbc => "AES-CBC [RFC3602]",
                Crypto.EncryptionAlgorithm.TripleDesCbc => "TripleDES-CBC [RFC2451]",
                _ => throw new InvalidOperationException("no tshark name for " + sa.Suite),
            };
            int encLen = sa.Suite.Encryption == Crypto.EncryptionAlgorithm.AesGcm ? sa.Suite.KeyBits / 8 + 4 : sa.Suite.KeyBits / 8;
            string encKey = "0x" + Convert.ToHexString(sa.KeyMaterial.AsSpan(0, encLen)).ToLowerInvariant();
            string auth = sa.Suite.Integrity == Crypto.IntegrityAlgorithm.HmacSha1_96 ? "HMAC-SHA-1-96 [RFC2404]" : "NULL";
            string authKey = sa.KeyMaterial.Length > encLen ? "0x" + Convert.ToHexString(sa.KeyMaterial.AsSpan(encLen)).ToLowerInvariant() : "";
            opts.Append(System.Globalization.CultureInfo.InvariantCulture,
                $" -o 'uat:esp_sa:\"{af}\",\"{sa.Source}\",\"{sa.Destination}\",\"0x{sa.Spi:x8}\",\"{enc}\",\"{encKey}\",\"{auth}\",\"{authKey}\"'");
        }
        return opts.ToString();
    }
}
