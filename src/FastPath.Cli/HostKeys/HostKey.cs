// A host's own signing key, in the forms FreeS/WAN, Libreswan and strongSwan exchange it:
//
//   generate ─► HostKey (RSA | ECDSA P-256 | Ed25519)
//     ├─► RawRsaBlock()   ": RSA { Modulus: 0x.. PublicExponent: .. Coefficient: 0x.. }"
//     │                   FreeS/WAN newhostkey's ipsec.secrets entry (8 fields, fixed order)
//     ├─► Pkcs8Pem()      "-----BEGIN PRIVATE KEY-----" for ": ECDSA file" / ": PKCS8 file" (strongSwan)
//     ├─► Rfc3110()       "0sAwEAA..." — the DNS KEY RDATA public key of RFC 3110 §2 that
//     │                   leftrsasigkey= carries (FreeS/WAN/Libreswan), RSA only
//     └─► SpkiPem()       "-----BEGIN PUBLIC KEY-----" (RFC 5280 SubjectPublicKeyInfo)
//   load ◄─ SecretEntry of IpsecSecrets (raw block or key file) — the round trip the tests check.
//
// RSA keys use e = 65537 (what .NET and Libreswan generate; FreeS/WAN used e = 3, which is why its
// keys start "0sAQO" and ours "0sAwEAA"). Ed25519 keys are RFC 8410 PKCS#8 (OID 1.3.101.112, the
// 32-byte seed in an inner OCTET STRING); the public key comes from the seed by RFC 8032 §5.1.5.
using System;
using System.Formats.Asn1;
using System.IO;
using System.Security.Cryptography;
using FastPath.Config;

namespace FastPath.Cli.HostKeys;

public enum HostKeyType { Rsa, Ecdsa, Ed25519 }

/// <summary>A host key pair (private half included). Dispose wipes it.</summary>
public sealed class HostKey : IDisposable
{
    private const string OidEd25519 = "1.3.101.112";
    private readonly RSA? _rsa;
    private readonly ECDsa? _ecdsa;
    private readonly byte[]? _edSeed;

    private HostKey(HostKeyType type, RSA? rsa, ECDsa? ecdsa, byte[]? edSeed)
    {
        Type = type; _rsa = rsa; _ecdsa = ecdsa; _edSeed = edSeed;
    }

    public HostKeyType Type { get; }

    /// <summary>RSA modulus bits, 256 for P-256 and Ed25519.</summary>
    public int Bits => _rsa?.KeySize ?? _ecdsa?.KeySize ?? 256;

    public static HostKey Generate(HostKeyType type, int rsaBits) => type switch
    {
        HostKeyType.Rsa => new(type, RSA.Create(rsaBits), null, null),
        HostKeyType.Ecdsa => new(type, null, ECDsa.Create(ECCurve.NamedCurves.nistP256), null),
        _ => new(type, null, null, RandomNumberGenerator.GetBytes(32)),
    };

    /// <summary>The key of an ipsec.secrets entry: a FreeS/WAN raw RSA block or a PEM key file.</summary>
    public static HostKey FromSecret(SecretEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.RsaKey is { } raw)
        {
            var rsa = RSA.Create();
            rsa.ImportParameters(new RSAParameters
            {
                Modulus = Trim(raw.Modulus), Exponent = Trim(raw.PublicExponent), D = Pad(raw.PrivateExponent, raw.Modulus),
                P = Trim(raw.Prime1), Q = Pad(raw.Prime2, raw.Prime1), DP = Pad(raw.Exponent1, raw.Prime1),
                DQ = Pad(raw.Exponent2, raw.Prime1), InverseQ = Pad(raw.Coefficient, raw.Prime1),
            });
            return new HostKey(HostKeyType.Rsa, rsa, null, null);
        }
        if (entry.KeyFile is { } file) return FromPemFile(file);
        throw new InvalidDataException($"{entry.Location}: entry holds no private key");
    }

    /// <summary>A PKCS#8 / PKCS#1 / SEC1 PEM private key (RSA, EC or Ed25519).</summary>
    public static HostKey FromPemFile(string file)
    {
        string pem = File.ReadAllText(file);
        if (PemEncoding.TryFind(pem, out PemFields f) && pem[f.Label] is "PRIVATE KEY")
        {
            byte[] der = Convert.FromBase64String(pem[f.Base64Data]);
            try
            {
                var outer = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
                outer.ReadInteger();
                string oid = outer.ReadSequence().ReadObjectIdentifier();
                if (oid == OidEd25519)
                {
                    byte[] inner = outer.ReadOctetString();
                    byte[] seed = new AsnReader(inner, AsnEncodingRules.DER).ReadOctetString();
                    if (seed.Length != 32) throw new InvalidDataException($"{file}: Ed25519 private key is {seed.Length} bytes, not 32 (RFC 8410 §7)");
                    return new HostKey(HostKeyType.Ed25519, null, null, seed);
                }
                if (oid == "1.2.840.10045.2.1")
                {
                    var ec = ECDsa.Create();
                    ec.ImportPkcs8PrivateKey(der, out _);
                    return new HostKey(HostKeyType.Ecdsa, null, ec, null);
                }
            }
            catch (AsnContentException e) { throw new InvalidDataException($"{file}: malformed PKCS#8 key: {e.Message}", e); }
        }
        if (pem.Contains("EC PRIVATE KEY", StringComparison.Ordinal))
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new HostKey(HostKeyType.Ecdsa, null, ec, null);
        }
        var rsa = RSA.Create();
        try { rsa.ImportFromPem(pem); }
        catch (ArgumentException e) { rsa.Dispose(); throw new InvalidDataException($"{file}: no RSA, EC or Ed25519 private key in PEM form ({e.Message})", e); }
        return new HostKey(HostKeyType.Rsa, rsa, null, null);
    }

    /// <summary>FreeS/WAN's ipsec.secrets entry for an RSA key (ipsec_newhostkey(8) layout).</summary>
    public string RawRsaBlock(string? index, string comment)
    {
        RSAParameters p = (_rsa ?? throw new InvalidOperationException("not an RSA key")).ExportParameters(true);
        try
        {
            var w = new System.Text.StringBuilder();
            w.Append(index is null ? "" : index + " ").Append(": RSA\t{\n");
            w.Append("\t# RSA ").Append(Bits).Append(" bits   ").Append(comment).Append('\n');
            w.Append("\t# for signatures only, UNSAFE FOR ENCRYPTION\n");
            w.Append("\t#pubkey=").Append(Rfc3110()).Append('\n');
            w.Append("\tModulus: 0x").Append(Convert.ToHexStringLower(p.Modulus!)).Append('\n');
            w.Append("\tPublicExponent: 0x").Append(Convert.ToHexStringLower(p.Exponent!)).Append('\n');
            w.Append("\t# everything after this point is secret\n");
            w.Append("\tPrivateExponent: 0x").Append(Convert.ToHexStringLower(p.D!)).Append('\n');
            w.Append("\tPrime1: 0x").Append(Convert.ToHexStringLower(p.P!)).Append('\n');
            w.Append("\tPrime2: 0x").Append(Convert.ToHexStringLower(p.Q!)).Append('\n');
            w.Append("\tExponent1: 0x").Append(Convert.ToHexStringLower(p.DP!)).Append('\n');
            w.Append("\tExponent2: 0x").Append(Convert.ToHexStringLower(p.DQ!)).Append('\n');
            w.Append("\tCoefficient: 0x").Append(Convert.ToHexStringLower(p.InverseQ!)).Append('\n');
            w.Append("\t}\n");
            w.Append("# do not change the indenting of that \"}\"\n");
            return w.ToString();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(p.D); CryptographicOperations.ZeroMemory(p.P); CryptographicOperations.ZeroMemory(p.Q);
            CryptographicOperations.ZeroMemory(p.DP); CryptographicOperations.ZeroMemory(p.DQ); CryptographicOperations.ZeroMemory(p.InverseQ);
        }
    }

    /// <summary>The private key as PKCS#8 PEM ("PRIVATE KEY").</summary>
    public string Pkcs8Pem()
    {
        if (_rsa is not null) return _rsa.ExportPkcs8PrivateKeyPem();
        if (_ecdsa is not null) return _ecdsa.ExportPkcs8PrivateKeyPem();
        // RFC 8410 §7: OneAsymmetricKey { version 0, AlgorithmIdentifier { id-Ed25519 }, OCTET STRING { CurvePrivateKey } }
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            w.WriteInteger(0);
            using (w.PushSequence()) w.WriteObjectIdentifier(OidEd25519);
            var inner = new AsnWriter(AsnEncodingRules.DER);
            inner.WriteOctetString(_edSeed);
            w.WriteOctetString(inner.Encode());
        }
        byte[] der = w.Encode();
        try { return PemEncoding.WriteString("PRIVATE KEY", der); }
        finally { CryptographicOperations.ZeroMemory(der); }
    }

    /// <summary>DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7; RFC 8410 §4 for Ed25519).</summary>
    public byte[] SubjectPublicKeyInfo()
    {
        if (_rsa is not null) return _rsa.ExportSubjectPublicKeyInfo();
        if (_ecdsa is not null) return _ecdsa.ExportSubjectPublicKeyInfo();
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            using (w.PushSequence()) w.WriteObjectIdentifier(OidEd25519);
            w.WriteBitString(Ed25519PublicKey());
        }
        return w.Encode();
    }

    public string SpkiPem() => PemEncoding.WriteString("PUBLIC KEY", SubjectPublicKeyInfo());

    /// <summary>The 32-byte Ed25519 public key (RFC 8032 §5.1.5).</summary>
    public byte[] Ed25519PublicKey()
    {
        if (_edSeed is null) throw new InvalidOperationException("not an Ed25519 key");
        byte[] pk = new byte[32];
        Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.GeneratePublicKey(_edSeed, 0, pk, 0);
        return pk;
    }

    /// <summary>The RSA public key in RFC 3110 §2 form with FreeS/WAN's "0s" (base64) prefix:
    /// exponent length (1 octet, or 0 then 2 octets when over 255), exponent, modulus.</summary>
    public string Rfc3110()
    {
        RSAParameters p = (_rsa ?? throw new InvalidOperationException("only RSA keys have an RFC 3110 form")).ExportParameters(false);
        return "0s" + Convert.ToBase64String(EncodeRfc3110(p.Exponent!, p.Modulus!));
    }

    public static byte[] EncodeRfc3110(ReadOnlySpan<byte> exponent, ReadOnlySpan<byte> modulus)
    {
        exponent = exponent.TrimStart((byte)0);
        modulus = modulus.TrimStart((byte)0);
        int head = exponent.Length <= 255 ? 1 : 3;
        byte[] r = new byte[head + exponent.Length + modulus.Length];
        if (head == 1) r[0] = (byte)exponent.Length;
        else { r[1] = (byte)(exponent.Length >> 8); r[2] = (byte)exponent.Length; }
        exponent.CopyTo(r.AsSpan(head));
        modulus.CopyTo(r.AsSpan(head + exponent.Length));
        return r;
    }

    /// <summary>Splits RFC 3110 RDATA into (exponent, modulus); false if malformed.</summary>
    public static bool TryDecodeRfc3110(ReadOnlySpan<byte> rdata, out byte[] exponent, out byte[] modulus)
    {
        exponent = modulus = [];
        if (rdata.Length < 1) return false;
        int len = rdata[0], head = 1;
        if (len == 0)
        {
            if (rdata.Length < 3) return false;
            len = (rdata[1] << 8) | rdata[2];
            head = 3;
        }
        if (len == 0 || rdata.Length <= head + len) return false;
        exponent = rdata.Slice(head, len).ToArray();
        modulus = rdata[(head + len)..].ToArray();
        return true;
    }

    /// <summary>SHA-256 of the SubjectPublicKeyInfo, hex (what `showhostkey --json` reports as the key's id).</summary>
    public string Fingerprint() => Convert.ToHexStringLower(SHA256.HashData(SubjectPublicKeyInfo()));

    /// <summary>Signs with the private key (RSA PKCS#1 SHA-256, ECDSA SHA-256, Ed25519) — the tests' proof that the halves belong together.</summary>
    public byte[] Sign(byte[] data)
    {
        if (_rsa is not null) return _rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        if (_ecdsa is not null) return _ecdsa.SignData(data, HashAlgorithmName.SHA256);
        byte[] sig = new byte[64];
        Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Sign(_edSeed, 0, data, 0, data.Length, sig, 0);
        return sig;
    }

    private static byte[] Trim(ReadOnlySpan<byte> b) => b.TrimStart((byte)0).ToArray();

    // RSAParameters wants D as long as the modulus and P, Q, DP, DQ, InverseQ as long as half of it.
    private static byte[] Pad(ReadOnlySpan<byte> b, ReadOnlySpan<byte> like)
    {
        int n = like.TrimStart((byte)0).Length;
        ReadOnlySpan<byte> t = b.TrimStart((byte)0);
        if (t.Length >= n) return t.ToArray();
        byte[] r = new byte[n];
        t.CopyTo(r.AsSpan(n - t.Length));
        return r;
    }

    public void Dispose()
    {
        _rsa?.Dispose();
        _ecdsa?.Dispose();
        if (_edSeed is not null) CryptographicOperations.ZeroMemory(_edSeed);
    }
}
