using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json;
using FastPath.Cli.HostKeys;
using FastPath.Config;
using Xunit;

namespace FastPath.Gateway.Tests.HostKeys;

/// <summary>
/// `fastpath newhostkey` / `showhostkey`: what newhostkey writes loads with FastPath.Config's
/// IpsecSecrets to the same key (round trip), showhostkey's rsasigkey= is RFC 3110 and parses in
/// ipsec.conf, files are 0600, and nothing is overwritten without --force.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HostKeyTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fp-hostkey-" + Guid.NewGuid().ToString("N")[..8]);
    private string Secrets => Path.Combine(_dir, "ipsec.secrets");

    public HostKeyTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) New(string type, bool force = false, int bits = 2048, string? output = null)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = HostKeyCommands.NewHostKey(new NewHostKeyOptions { Type = type, Bits = bits, Output = output ?? Secrets, Force = force, Hostname = "west" }, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private (int Code, string Out, string Err) Show(string? side = null, bool json = false)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = HostKeyCommands.ShowHostKey(new ShowHostKeyOptions { Secrets = Secrets, Side = side, Json = json }, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static UnixFileMode Mode(string f) => File.GetUnixFileMode(f) & (UnixFileMode)0x1FF;

    [Theory]
    [InlineData("rsa", SecretKind.Rsa)]
    [InlineData("ecdsa", SecretKind.Ecdsa)]
    [InlineData("ed25519", SecretKind.Pkcs8)]
    public void GeneratedKeyLoadsBackThroughIpsecSecretsAsTheSameKey(string type, SecretKind kind)
    {
        var r = New(type);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, Mode(Secrets));
        var secrets = IpsecSecrets.Load(Secrets); // permission check on: a 0600 file gives no warning
        Assert.Empty(secrets.Warnings);
        SecretEntry entry = Assert.Single(secrets.Entries);
        Assert.Equal(kind, entry.Kind);
        if (kind == SecretKind.Rsa)
        {
            Assert.NotNull(entry.RsaKey);
            Assert.Equal(2048, entry.RsaKey!.Bits);
        }
        else
        {
            Assert.NotNull(entry.KeyFile);
            Assert.True(File.Exists(entry.KeyFile), entry.KeyFile);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, Mode(entry.KeyFile!));
            Assert.Contains("-----BEGIN PRIVATE KEY-----", File.ReadAllText(entry.KeyFile!), StringComparison.Ordinal);
        }

        // The private half loaded from the file signs; the public key showhostkey prints verifies it.
        using HostKey loaded = HostKey.FromSecret(entry);
        byte[] msg = RandomNumberGenerator.GetBytes(100);
        byte[] sig = loaded.Sign(msg);
        var shown = Show();
        Assert.True(shown.Code == 0, shown.Err);
        Assert.Contains("-----BEGIN PUBLIC KEY-----", shown.Out, StringComparison.Ordinal);
        byte[] spki = Convert.FromBase64String(string.Concat(shown.Out.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal))));
        Assert.Equal(loaded.SubjectPublicKeyInfo(), spki);
        using var pub = global::FastPath.Ike.Crypto.IkePublicKey.FromSubjectPublicKeyInfo(spki);
        Assert.True(Verify(type, spki, msg, sig));
    }

    private static bool Verify(string type, byte[] spki, byte[] msg, byte[] sig)
    {
        switch (type)
        {
            case "rsa":
                using (var rsa = RSA.Create()) { rsa.ImportSubjectPublicKeyInfo(spki, out _); return rsa.VerifyData(msg, sig, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1); }
            case "ecdsa":
                using (var ec = ECDsa.Create()) { ec.ImportSubjectPublicKeyInfo(spki, out _); return ec.VerifyData(msg, sig, HashAlgorithmName.SHA256); }
            default:
                byte[] pk = spki[^32..];
                return Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Verify(sig, 0, pk, 0, msg, 0, msg.Length);
        }
    }

    [Fact]
    public void RsaBlockIsFreeSwanRawFormAndRsasigkeyIsRfc3110()
    {
        Assert.Equal(0, New("rsa").Code);
        string text = File.ReadAllText(Secrets);
        Assert.StartsWith(": RSA\t{", text, StringComparison.Ordinal);
        foreach (string f in RsaRawKey.FieldNames) Assert.Contains($"\t{f}: 0x", text, StringComparison.Ordinal);
        Assert.Contains("\t}\n", text, StringComparison.Ordinal);

        var left = Show("left");
        Assert.True(left.Code == 0, left.Err);
        string line = left.Out.Split('\n').Single(l => l.Contains("leftrsasigkey=", StringComparison.Ordinal)).Trim();
        Assert.StartsWith("leftrsasigkey=0sAwEAA", line, StringComparison.Ordinal); // RFC 3110: exponent length 3, 65537
        Assert.Contains("\trightrsasigkey=0sAwEAA", Show("right").Out, StringComparison.Ordinal);

        // RFC 3110 §2: exponent length, exponent, modulus — the same modulus as the secrets entry.
        byte[] rdata = Convert.FromBase64String(line["leftrsasigkey=0s".Length..]);
        Assert.True(HostKey.TryDecodeRfc3110(rdata, out byte[] e, out byte[] n));
        Assert.Equal(new byte[] { 1, 0, 1 }, e);
        var key = IpsecSecrets.Load(Secrets).Entries[0].RsaKey!;
        Assert.Equal(key.Modulus.ToArray(), n);

        // And ipsec.conf accepts the line as pasted into a conn (FreeS/WAN dialect).
        string conf = $"config setup\n\nconn west-east\n\tleft=203.0.113.1\n\tright=203.0.113.2\n\tauthby=rsasig\n\t{line}\n\trightrsasigkey=%cert\n\tauto=add\n";
        var cfg = IpsecConfLoader.Parse(conf, Path.Combine(_dir, "ipsec.conf"));
        Assert.Equal(rdata, cfg["west-east"].Left.RsaSigKey.KeyBytes);
    }

    [Fact]
    public void JsonNamesTypeBitsAndFingerprint()
    {
        Assert.Equal(0, New("ecdsa").Code);
        var r = Show(json: true);
        Assert.True(r.Code == 0, r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.Equal("ecdsa", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal(256, doc.RootElement.GetProperty("bits").GetInt32());
        Assert.Equal(64, doc.RootElement.GetProperty("spki_sha256").GetString()!.Length);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("rsasigkey").ValueKind);
        // ECDSA has no rsasigkey form: a clear refusal, not a wrong key.
        var left = Show("left");
        Assert.Equal(1, left.Code);
        Assert.Contains("RSA keys only", left.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesToOverwriteWithoutForceAndKeepsOtherEntries()
    {
        File.WriteAllText(Secrets, "203.0.113.1 203.0.113.2 : PSK \"keep me\"\n");
        File.SetUnixFileMode(Secrets, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(0, New("rsa").Code); // a PSK-only file gets the key appended
        var first = IpsecSecrets.Load(Secrets);
        Assert.Equal(2, first.Entries.Count);
        byte[] before = File.ReadAllBytes(Secrets);

        var again = New("rsa");
        Assert.Equal(1, again.Code);
        Assert.Contains("already holds a host key", again.Err, StringComparison.Ordinal);
        Assert.Contains("--force", again.Err, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Secrets));

        var forced = New("rsa", force: true);
        Assert.True(forced.Code == 0, forced.Err);
        var after = IpsecSecrets.Load(Secrets);
        Assert.Equal(2, after.Entries.Count); // the PSK kept, the old key replaced, not added to
        Assert.Equal(SecretKind.Psk, after.Entries[0].Kind);
        Assert.False(after.Entries[1].RsaKey!.Modulus.SequenceEqual(first.Entries[1].RsaKey!.Modulus));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, Mode(Secrets));

        // The same for a PEM key: the key file is not overwritten either.
        string other = Path.Combine(_dir, "other.secrets");
        Assert.Equal(0, New("ed25519", output: other).Code);
        string pem = Path.Combine(_dir, "ipsec.d", "private", "hostkey-ed25519.pem");
        string pemBefore = File.ReadAllText(pem);
        File.Delete(other);
        var refused = New("ed25519", output: other);
        Assert.Equal(1, refused.Code);
        Assert.Contains("exists", refused.Err, StringComparison.Ordinal);
        Assert.Equal(pemBefore, File.ReadAllText(pem));
    }

    [Fact]
    public void BadArgumentsAreClearErrors()
    {
        var t = New("dsa");
        Assert.Equal(2, t.Code);
        Assert.Contains("rsa, ecdsa, ed25519", t.Err, StringComparison.Ordinal);
        var b = New("rsa", bits: 1024);
        Assert.Equal(2, b.Code);
        Assert.Contains("2048", b.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(Secrets));
        var none = Show();
        Assert.Equal(1, none.Code);
        File.WriteAllText(Secrets, ": PSK \"only a psk\"\n");
        var noKey = Show();
        Assert.Equal(1, noKey.Code);
        Assert.Contains("no host key", noKey.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Rfc3110EncodesLongExponentsWithTheThreeOctetForm()
    {
        byte[] e = Enumerable.Repeat((byte)3, 300).ToArray();
        byte[] n = RandomNumberGenerator.GetBytes(64);
        n[0] |= 0x80;
        byte[] r = HostKey.EncodeRfc3110(e, n);
        Assert.Equal(new byte[] { 0, 1, 44 }, r[..3]);
        Assert.True(HostKey.TryDecodeRfc3110(r, out byte[] e2, out byte[] n2));
        Assert.Equal(e, e2);
        Assert.Equal(n, n2);
        Assert.False(HostKey.TryDecodeRfc3110([5, 1, 2], out _, out _));
        Assert.False(HostKey.TryDecodeRfc3110([], out _, out _));
    }
}
