using System;
using System.Linq;
using System.Net;
using FastPath.Crypto;
using FastPath.Gateway.Manual;
using Xunit;

namespace FastPath.Gateway.Tests;

public class ManualKeyScriptTests
{
    private const string Gcm = "0x00112233445566778899aabbccddeeff01020304";
    private const string West = """
        # west: sunset's subnet to sunrise's through east
        spi --af inet --edst 203.0.113.2 --spi 0x1002 --proto esp --src 203.0.113.1 --esp aes128gcm16 \
            --enckey 0x00112233445566778899aabbccddeeff01020304
        spi --edst 203.0.113.1 --spi 0x1001 --src 203.0.113.2 --esp aes128gcm16 --enckey 0xffeeddccbbaa99887766554433221100a1a2a3a4 --encap udp
        eroute --add --src 192.0.2.0/25 --dst 192.0.2.128/25 --said esp0x1002@203.0.113.2
        ipsec eroute --add --eraf inet --src 0.0.0.0/0 --dst 198.51.100.0/24 --said %pass
        """;

    [Fact]
    public void ParsesSpiAndErouteLinesWithContinuationsCommentsAndIpsecPrefix()
    {
        var s = ManualKeyScript.Parse(West, "west.keys");
        Assert.Equal(2, s.Sas.Count);
        var out1 = s.Sas[0];
        Assert.Equal(0x1002u, out1.Spi);
        Assert.Equal(IPAddress.Parse("203.0.113.2"), out1.Destination);
        Assert.Equal(EncryptionAlgorithm.AesGcm, out1.Suite.Encryption);
        Assert.Equal(20, out1.KeyMaterial.Length);
        Assert.False(out1.UdpEncapsulation);
        Assert.True(s.Sas[1].UdpEncapsulation);
        Assert.Equal(4500, s.Sas[1].DestinationPort);
        Assert.Equal(2, s.Eroutes.Count);
        Assert.Equal(ManualErouteKind.Sa, s.Eroutes[0].Kind);
        Assert.Equal(0x1002u, s.Eroutes[0].Spi);
        Assert.Equal(ManualErouteKind.Pass, s.Eroutes[1].Kind);
        Assert.DoesNotContain("0011", s.Sas[0].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void CbcSuiteTakesEncAndAuthKeys()
    {
        var s = ManualKeyScript.Parse("spi --edst 198.51.100.2 --spi 4098 --src 198.51.100.1 --esp aes128-sha1 --enckey 0x" + new string('a', 32) + " --authkey 0x" + new string('b', 40));
        Assert.Equal(36, s.Sas[0].KeyMaterial.Length);
        Assert.Equal(IntegrityAlgorithm.HmacSha1_96, s.Sas[0].Suite.Integrity);
    }

    [Theory]
    [InlineData("spi --edst 203.0.113.2 --spi 0x1002 --src 203.0.113.1 --esp aes128gcm16 --enckey 0x0011", "x:1: spi: --enckey is 2 bytes; aes128gcm16 needs 20 (16-byte key followed by the 4-byte salt, RFC 4106)")]
    [InlineData("spi --edst 203.0.113.2 --spi 0x1002 --src 203.0.113.1 --esp des-sha1 --enckey 0x00", "x:1: spi: --esp: ESP proposal 'des-sha1': single DES is refused (56-bit key, broken since 1998)")]
    [InlineData("spi --edst 203.0.113.2 --spi 0x1002 --src 203.0.113.1 --esp aes128gcm16 --enkey " + Gcm, "x:1: spi: unknown option --enkey; did you mean --enckey?")]
    [InlineData("spi --edst 203.0.113.2 --spi 0x0 --src 203.0.113.1 --esp aes128gcm16 --enckey " + Gcm, "x:1: SPI '0x0': expected a non-zero 32-bit number (0x1002 or 4098)")]
    [InlineData("spi --edst 203.0.113.2 --spi 0x10 --src 203.0.113.1 --esp aes128gcm16 --enckey " + Gcm, "x:1: spi: SPI 0x10 is reserved (RFC 4303 §2.1: 1-255 are reserved by IANA, 0 is never sent)")]
    [InlineData("spi --edst 203.0.113.2 --spi 0x1002 --src 2001:db8::1 --esp aes128gcm16 --enckey " + Gcm, "x:1: spi: --src and --edst are of different address families")]
    [InlineData("spi --edst 203.0.113.2 --spi 0x1002 --src 203.0.113.1 --esp aes128gcm16 --enckey " + Gcm + " --proto ah", "x:1: spi: --proto ah is not supported (only esp; AH and IPIP are not carried)")]
    [InlineData("eroute --add --src 192.0.2.0/25 --dst 192.0.2.128/25 --said esp0x1002@203.0.113.2", "x:1: eroute: --said esp0x1002@203.0.113.2 names no SA of this script (add a 'spi --edst 203.0.113.2 --spi 0x1002 ...' line)")]
    [InlineData("eroute --add --src 192.0.2.0/33 --dst 192.0.2.128/25 --said %pass", "x:1: --src '192.0.2.0/33': expected a prefix like 192.0.2.0/25 or 2001:db8:1::/64")]
    [InlineData("eroute --add --src 192.0.2.0/25 --dst 192.0.2.128/25 --said %passs", "x:1: eroute: --said %passs: unknown shunt (allowed: %pass %drop %reject %trap %hold %passthrough)")]
    [InlineData("eroute --add --del --src 192.0.2.0/25 --dst 192.0.2.128/25", "x:1: eroute: exactly one of --add, --replace, --del")]
    [InlineData("route --add", "x:1: unknown command 'route' (expected spi or eroute)")]
    [InlineData("spi --edst 203.0.113.2 --spi 0x1002 --src 203.0.113.1 --esp aes128gcm16 --enckey 0xzz", "x:1: --enckey: expected hex digits (0x0123..., '_' allowed as separator)")]
    [InlineData("spi --edst 203.0.113.2 --spi 0x1002 --src 203.0.113.1 --esp aes128gcm16 --enckey " + Gcm + " --encap tcp", "x:1: spi: --encap tcp: expected udp or udp:SPORT:DPORT (RFC 3948)")]
    public void ErrorsNameTheLineAndWhatIsAllowed(string script, string message)
    {
        var e = Assert.Throws<ManualKeyException>(() => ManualKeyScript.Parse(script, "x"));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void ReportsEveryBadLineAtOnce()
    {
        var e = Assert.Throws<ManualKeyException>(() => ManualKeyScript.Parse("bogus\n\n# fine\nspi --edst nowhere\n", "f"));
        string[] lines = e.Message.Split(Environment.NewLine);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("f:1: ", lines[0], StringComparison.Ordinal);
        Assert.Equal("f:4: --edst 'nowhere': not an IPv4 or IPv6 address", lines[1]);
    }

    [Fact]
    public void DuplicateSaIsRefused()
    {
        string line = "spi --edst 203.0.113.2 --spi 0x1002 --src 203.0.113.1 --esp aes128gcm16 --enckey " + Gcm + "\n";
        var e = Assert.Throws<ManualKeyException>(() => ManualKeyScript.Parse(line + line, "d"));
        Assert.Equal("d:2: spi: esp0x1002@203.0.113.2 already defined on line 1", e.Message);
    }

    [Fact]
    public void RandomGarbageNeverThrowsAnythingElse()
    {
        var rng = new Random(7);
        string[] tokens = ["spi", "eroute", "--edst", "--spi", "--src", "--esp", "--enckey", "--said", "--add", "0x1002", "203.0.113.2", "%pass", "aes128gcm16", "\\", "#", "192.0.2.0/25", "--", "=", "\n", "0x", "esp0x1@1.2.3.4"];
        for (int i = 0; i < 20_000; i++)
        {
            string text = string.Join(' ', Enumerable.Range(0, rng.Next(1, 20)).Select(_ => tokens[rng.Next(tokens.Length)]));
            try { ManualKeyScript.Parse(text); }
            catch (ManualKeyException) { }
        }
    }
}
