using System;
using System.IO;
using System.Linq;
using System.Text;
using FastPath.Config;
using Xunit;

namespace FastPath.Config.Tests;

public class SecretsTests
{
    private static Identity Id(string s) { Assert.True(Identity.TryParse(s, out Identity id, out _)); return id; }
    private static string Psk(SecretMatch? m) => Encoding.UTF8.GetString(m!.Entry.Secret!.Span);

    private const string Sample =
        "# sample /etc/ipsec.secrets file for 10.1.0.1\n" +
        "10.1.0.1 10.2.0.1: PSK \"secret shared by two hosts\"\n" +
        "\n" +
        "# an entry may be split across lines,\n" +
        "# but indentation matters\n" +
        "www.xs4all.nl @www.kremvax.ru\n" +
        "    10.6.0.1 10.7.0.1 1.8.0.1: PSK \"secret shared by 5\"\n" +
        ": PSK \"default for everyone\"\n" +
        "10.1.0.1 : PSK 0x0102030405060708\n" +
        "10.1.0.1 %any : PSK \"road warriors\"\n" +
        "@west.example.com : RSA westKey.pem \"pass phrase\"\n" +
        ": ECDSA /etc/keys/ecdsa.pem\n" +
        "@my.com: rsa {\n" +
        "    # RSA 16 bits   my.com   Thu Jan  2 12:41:44 2003\n" +
        "    Modulus: 0x00c5\n" +
        "    PublicExponent: 0sAw==\n" +
        "    PrivateExponent: 0x83\n" +
        "    Prime1: 0x0d\n" +
        "    Prime2: 0x0f\n" +
        "    Exponent1: 0x09\n" +
        "    Exponent2: 0x0a\n" +
        "    Coefficient: 0x04\n" +
        "    }\n";

    [Fact]
    public void Parses_the_man_page_sample_and_strongswan_forms()
    {
        IpsecSecrets s = IpsecSecrets.Parse(Sample, "/nonexistent-fp/ipsec.secrets");
        Assert.Equal(8, s.Entries.Count);
        Assert.Equal(new[] { "10.1.0.1", "10.2.0.1" }, s.Entries[0].Ids.Select(i => i.Value));
        Assert.Equal(5, s.Entries[1].Ids.Count);
        Assert.Equal(IdentityKind.Fqdn, s.Entries[1].Ids[0].Kind); // www.xs4all.nl (no @): a name
        Assert.Empty(s.Entries[2].Ids);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, s.Entries[3].Secret!.ToArray());
        Assert.Equal("/nonexistent-fp/ipsec.d/private/westKey.pem", s.Entries[5].KeyFile);
        Assert.Equal("pass phrase", Encoding.UTF8.GetString(s.Entries[5].Passphrase!.Span));
        Assert.Equal(SecretKind.Ecdsa, s.Entries[6].Kind);
        RsaRawKey k = s.Entries[7].RsaKey!;
        Assert.Equal(8, k.Bits);
        Assert.Equal(new byte[] { 3 }, k.PublicExponent.ToArray());
        Assert.Equal(new SourceLocation("ipsec.secrets", 13, 1), s.Entries[7].Location);
    }

    [Fact]
    public void Best_match_rules_of_pluto()
    {
        IpsecSecrets s = IpsecSecrets.Parse(Sample, "/nonexistent-fp/ipsec.secrets");
        // Both ids listed: the explicit pair wins.
        Assert.Equal("secret shared by two hosts", Psk(s.FindPsk(Id("10.1.0.1"), Id("10.2.0.1"))));
        Assert.Equal(SecretMatchQuality.Local | SecretMatchQuality.Peer, s.FindPsk(Id("10.1.0.1"), Id("10.2.0.1"))!.Quality);
        // Order of the pair does not matter for a shared entry.
        Assert.Equal("secret shared by 5", Psk(s.FindPsk(Id("10.7.0.1"), Id("@www.kremvax.ru"))));
        // An unknown road warrior address: "%any" stands for it (beats the local-only entry).
        Assert.Equal("road warriors", Psk(s.FindPsk(Id("10.1.0.1"), Id("198.51.100.77"))));
        // A peer named by FQDN is not an address, so %any does not apply; the one-index entry does.
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, s.FindPsk(Id("10.1.0.1"), Id("@someone.example"))!.Entry.Secret!.ToArray());
        // Nothing specific: the no-index default.
        Assert.Equal("default for everyone", Psk(s.FindPsk(Id("192.0.2.1"), Id("192.0.2.2"))));
        // Private keys: a local-only match counts.
        Assert.Equal("/nonexistent-fp/ipsec.d/private/westKey.pem", s.FindPrivateKey(SecretKind.Rsa, Id("@west.example.com"))!.Entry.KeyFile);
        Assert.NotNull(s.FindPrivateKey(SecretKind.Rsa, Id("@my.com"))!.Entry.RsaKey);
        Assert.Equal("/etc/keys/ecdsa.pem", s.FindPrivateKey(SecretKind.Ecdsa, Id("@anyone"))!.Entry.KeyFile);
    }

    [Fact]
    public void Equal_best_matches_with_different_secrets_are_reported()
    {
        IpsecSecrets s = IpsecSecrets.Parse("192.0.2.1 192.0.2.2 : PSK \"one\"\n192.0.2.2 192.0.2.1 : PSK \"two\"\n", "/nonexistent-fp/ipsec.secrets");
        SecretMatch m = s.FindPsk(Id("192.0.2.1"), Id("192.0.2.2"))!;
        Assert.Equal("one", Psk(m));
        Assert.Equal("entries at ipsec.secrets:1:1 and ipsec.secrets:2:1 match equally well but hold different secrets; the first is used", m.Ambiguity);
        Assert.Null(s.FindPsk(Id("192.0.2.9"), Id("192.0.2.8")));
    }

    [Fact]
    public void Secrets_are_never_printed()
    {
        IpsecSecrets s = IpsecSecrets.Parse(Sample, "/nonexistent-fp/ipsec.secrets");
        string all = s.ToMaskedString() + s + string.Join("", s.Entries.Select(e => e.ToString() + e.Secret + e.RsaKey + e.Passphrase));
        foreach (string secret in new[] { "secret shared", "road warriors", "pass phrase", "0102030405", "c5", "default for" })
            Assert.DoesNotContain(secret, all);
        Assert.Contains("10.1.0.1 10.2.0.1 : PSK \"********\"", s.ToMaskedString());
        Assert.Contains("@my.com : RSA { 8 bits, masked }", s.ToMaskedString());
        var e = Assert.Throws<ConfigException>(() => IpsecSecrets.Parse(": PSK 0xZZtopsecret\n"));
        Assert.DoesNotContain("topsecret", e.Message);
    }

    [Fact]
    public void Errors_carry_file_line_column()
    {
        string[] Err(string text) => Assert.Throws<ConfigException>(() => IpsecSecrets.Parse(text, "/nonexistent-fp/ipsec.secrets")).Errors.Select(x => x.ToString()).ToArray();
        Assert.Equal(new[] { "ipsec.secrets:1:3: unknown secret type \"PKS\"; allowed: PSK, RSA, ECDSA, PKCS8, EAP, XAUTH; did you mean \"PSK\"?" }, Err(": PKS \"x\"\n"));
        Assert.Equal(new[] { "ipsec.secrets:1:7: unterminated quoted secret (a secret cannot contain a newline or its quote character)" }, Err(": PSK \"abc\n"));
        Assert.Equal(new[] { "ipsec.secrets:1:3: indented line outside an entry; an entry starts at column 1 (ipsec.secrets(5))" }, Err("  : PSK \"x\"\n"));
        Assert.Equal(new[] { "ipsec.secrets:1:1: expected \"[ids] : TYPE secret\" (a colon followed by white space separates the ids from the secret)" }, Err("192.0.2.1 PSK x\n"));
        Assert.Equal(new[] { "ipsec.secrets:3:5: RSA key field \"Prime1\" out of order or unknown; expected \"PublicExponent\" (order: Modulus, PublicExponent, PrivateExponent, Prime1, Prime2, Exponent1, Exponent2, Coefficient)" },
            Err(": RSA {\n    Modulus: 0x00c5\n    Prime1: 0x0d\n    }\n"));
        Assert.Equal(new[] { "ipsec.secrets:1:1: invalid index: invalid identity \"bad id!\"; allowed: an address, @fqdn, user@fqdn, a DN, @#hex, %any, %fromcert, %myid, %null" }, Err("\"bad id!\" : PSK \"x\"\n"));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Include_glob_relative_and_permission_warning()
    {
        using TempDir t = TestUtil.Temp();
        string main = t.Write("ipsec.secrets", ": PSK \"main\"\ninclude ipsec.d/*.secrets\n");
        t.Write("ipsec.d/a.secrets", "@a : PSK \"a\"\n");
        t.Write("ipsec.d/b.secrets", "@b : PSK \"b\"\n");
        File.SetUnixFileMode(main, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(Path.Combine(t.Path, "ipsec.d/a.secrets"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(Path.Combine(t.Path, "ipsec.d/b.secrets"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        IpsecSecrets s = IpsecSecrets.Load(main);
        Assert.Equal(3, s.Entries.Count);
        Assert.Equal(new SourceLocation("ipsec.d/b.secrets", 1, 1), s.Entries[2].Location);
        Assert.Equal($"ipsec.secrets: warning: secrets file is accessible by others (mode 0644); run: chmod 600 {main}", Assert.Single(s.Warnings).ToString());

        t.Write("ipsec.d/c.secrets", "include ../ipsec.secrets\n");
        var e = Assert.Throws<ConfigException>(() => IpsecSecrets.Load(main));
        Assert.Contains("include cycle: ipsec.secrets -> ipsec.d/c.secrets -> ipsec.secrets", e.Message);
    }
}
