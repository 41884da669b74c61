using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;
using FastPath.Dataplane.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Dataplane.Tests;

/// <summary>tshark (Wireshark's ESP dissector, an implementation independent of scapy) decrypts a
/// pcap written from FastPath's encapsulated packets and checks every ICV (esp.icv_good), for the
/// suites tshark knows, raw ESP and NAT-T, IPv4 and IPv6 outer headers.</summary>
public class TsharkOracleTests
{
    private const string Tshark = "/usr/bin/tshark";
    private readonly ITestOutputHelper _output;

    public TsharkOracleTests(ITestOutputHelper output) => _output = output;

    private static readonly (string Suite, string Encryption, string Authentication)[] Suites =
    [
        ("aes128gcm16", "AES-GCM with 16 octet ICV [RFC4106]", "NULL"),
        ("aes256gcm16", "AES-GCM with 16 octet ICV [RFC4106]", "NULL"),
        ("aes128-sha1", "AES-CBC [RFC3602]", "HMAC-SHA-1-96 [RFC2404]"),
        ("aes128-sha256", "AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]"),
        ("aes256-sha512", "AES-CBC [RFC3602]", "HMAC-SHA-512-256 [RFC4868]"),
        ("3des-sha1", "TripleDES-CBC [RFC2451]", "HMAC-SHA-1-96 [RFC2404]"),
        ("3des-md5", "TripleDES-CBC [RFC2451]", "HMAC-MD5-96 [RFC2403]"),
    ];

    /// <summary>Classic pcap, Ethernet link type (1), one frame per packet.</summary>
    internal static void WritePcap(string path, IEnumerable<byte[]> ipPackets)
    {
        using var f = new BinaryWriter(File.Create(path));
        f.Write(0xa1b2c3d4u); f.Write((ushort)2); f.Write((ushort)4); f.Write(0); f.Write(0u); f.Write(65535u); f.Write(1u);
        uint t = 0;
        foreach (byte[] ip in ipPackets)
        {
            int len = 14 + ip.Length;
            f.Write(1_700_000_000u + t++); f.Write(0u); f.Write((uint)len); f.Write((uint)len);
            f.Write(new byte[] { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 });
            f.Write((ip[0] >> 4) == 6 ? new byte[] { 0x86, 0xdd } : new byte[] { 0x08, 0x00 });
            f.Write(ip);
        }
    }

    [Fact]
    [Trait("Category", "Oracle")]
    public async System.Threading.Tasks.Task TsharkDecryptsAndVerifiesFastPathTraffic()
    {
        if (!File.Exists(Tshark))
        {
            Assert.Fail("tshark is not installed (apt-get install -y --no-install-recommends tshark) — the oracle test needs it; ./run.sh test installs it");
        }
        var engine = new EspProcessor();
        using var frames = new Frames();
        var wire = new List<byte[]>();
        var expected = new List<(uint Spi, string Dst)>();
        var uat = new List<string>();
        uint spi = 0x3000;
        foreach (var s in Suites)
        foreach (bool outer6 in new[] { false, true })
        foreach (bool natT in new[] { false, true })
        {
            spi++;
            var suite = EspSuite.Parse(s.Suite);
            byte[] keys = SaPairs.Keys(suite, (int)spi);
            var (o, i) = SaPairs.Create(s.Suite, mode: IpsecMode.Tunnel, ipv6Outer: outer6, natT: natT, spi: spi, keys: keys);
            frames.Reset();
            for (int k = 0; k < 3; k++) frames.Add(k % 2 == 0 ? TestPackets.Ipv4Udp(k * 300, k) : TestPackets.Ipv6Udp(k * 300, k));
            engine.Encapsulate(frames.Batch, o);
            for (int k = 0; k < 3; k++)
            {
                wire.Add(frames.Data(k));
                expected.Add((spi, outer6 ? "2001:db8:ffff::2" : "203.0.113.2"));
            }
            string family = outer6 ? "IPv6" : "IPv4";
            string encKey = Convert.ToHexString(keys.AsSpan(0, suite.EncryptionKeyMaterialLength));
            string authKey = suite.IntegrityKeyLength == 0 ? "" : "0x" + Convert.ToHexString(keys.AsSpan(suite.EncryptionKeyMaterialLength));
            uat.Add($"uat:esp_sa:\"{family}\",\"*\",\"*\",\"0x{spi:x8}\",\"{s.Encryption}\",\"0x{encKey}\",\"{s.Authentication}\",\"{authKey}\"");
            o.Dispose();
            i.Dispose();
        }
        // Negative control: a copy of the first (GCM) and of a CBC-HMAC packet with one ICV bit flipped must not verify.
        int[] tampered = [wire.Count, wire.Count + 1];
        foreach (int src in new[] { 0, 4 * 3 * 2 })
        {
            byte[] bad = (byte[])wire[src].Clone();
            bad[^1] ^= 1;
            wire.Add(bad);
            expected.Add(expected[src]);
        }
        string dir = Path.Combine(Path.GetTempPath(), "fastpath-tshark-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        string pcap = Path.Combine(dir, "esp.pcap");
        WritePcap(pcap, wire);
        var psi = new ProcessStartInfo(Tshark) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-n", "-r", pcap, "-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE" }) psi.ArgumentList.Add(a);
        foreach (string u in uat) { psi.ArgumentList.Add("-o"); psi.ArgumentList.Add(u); }
        foreach (string a in new[] { "-T", "fields", "-E", "separator=|", "-e", "esp.spi", "-e", "esp.icv_good", "-e", "esp.pad_len", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "udp.srcport" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "tshark timed out");
        string stderr = await err;
        _output.WriteLine(output);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == wire.Count, $"tshark printed {lines.Length} lines for {wire.Count} packets: {stderr}");
        var failures = new List<string>();
        for (int k = 0; k < lines.Length; k++)
        {
            string[] f = lines[k].Split('|');
            // The inner packet's addresses follow the outer ones when tshark decrypted the payload.
            uint gotSpi = Convert.ToUInt32(f[0].Split(',')[0], 16);
            string icv = f[1].Split(',')[0];
            string dsts = f[3] + "," + f[4];
            if (gotSpi != expected[k].Spi) failures.Add($"#{k}: spi {f[0]}");
            if (tampered.Contains(k))
            {
                if (icv is "1" or "True") failures.Add($"#{k}: a tampered packet verified");
                continue;
            }
            if (icv is not ("1" or "True")) failures.Add($"#{k} spi 0x{expected[k].Spi:x}: esp.icv_good = '{f[1]}'");
            if (!dsts.Contains("192.0.2.138", StringComparison.Ordinal) && !dsts.Contains("2001:db8:2::138", StringComparison.Ordinal))
                failures.Add($"#{k} spi 0x{expected[k].Spi:x}: inner packet not decrypted ({dsts})");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\n" + stderr);
        Directory.Delete(dir, recursive: true);
    }
}
