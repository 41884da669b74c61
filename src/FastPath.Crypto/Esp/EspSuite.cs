using System;
using System.Globalization;

namespace FastPath.Crypto.Esp;

/// <summary>
/// An ESP cipher suite as negotiated (IKEv2 transforms 1 and 3): encryption algorithm and key size,
/// integrity algorithm, ICV length. Immutable; validated on construction, so an SA can only ever be
/// installed with a suite FastPath accepts. Refused as FreeS/WAN refused them: single DES, NULL
/// encryption, and encryption without integrity (RFC 4303 §3.2 permits it; we do not).
/// </summary>
public sealed record EspSuite
{
    public EncryptionAlgorithm Encryption { get; }

    /// <summary>Encryption key size in bits (128/192/256 for AES, 256 for ChaCha20, 192 for 3DES).</summary>
    public int KeyBits { get; }

    public IntegrityAlgorithm Integrity { get; }

    /// <summary>ICV length on the wire in bytes.</summary>
    public int IcvLength { get; }

    public EspSuite(EncryptionAlgorithm encryption, int keyBits, IntegrityAlgorithm integrity, int icvLength = 0)
    {
        Encryption = encryption;
        KeyBits = keyBits;
        Integrity = integrity;
        bool combined = IsCombined(encryption);
        switch (encryption)
        {
            case EncryptionAlgorithm.AesCbc or EncryptionAlgorithm.AesCtr or EncryptionAlgorithm.AesGcm or EncryptionAlgorithm.AesGmac:
                if (keyBits is not (128 or 192 or 256)) throw new ArgumentException($"AES key size {keyBits} bits is not 128, 192 or 256", nameof(keyBits));
                break;
            case EncryptionAlgorithm.ChaCha20Poly1305:
                if (keyBits != 256) throw new ArgumentException("ChaCha20-Poly1305 keys are 256 bits (RFC 7634)", nameof(keyBits));
                break;
            case EncryptionAlgorithm.TripleDesCbc:
                if (keyBits != 192) throw new ArgumentException("3DES keys are 192 bits (RFC 2451)", nameof(keyBits));
                break;
            default:
                throw new ArgumentException($"unknown encryption algorithm {encryption}", nameof(encryption));
        }
        if (combined)
        {
            if (integrity != IntegrityAlgorithm.None)
                throw new ArgumentException($"{encryption} is a combined mode: it takes no separate integrity algorithm (RFC 4106/4543/7634)", nameof(integrity));
            int icv = icvLength == 0 ? 16 : icvLength;
            bool ok = encryption == EncryptionAlgorithm.AesGcm ? icv is 8 or 12 or 16 : icv == 16;
            if (!ok) throw new ArgumentException($"{encryption} ICV of {icvLength} bytes is not allowed (GCM: 8, 12, 16; GMAC and ChaCha20-Poly1305: 16)", nameof(icvLength));
            IcvLength = icv;
        }
        else
        {
            if (integrity == IntegrityAlgorithm.None)
                throw new ArgumentException($"{encryption} without an integrity algorithm is refused: ESP encryption without integrity is open to active attacks (RFC 4303 §3.2, RFC 8221)", nameof(integrity));
            int icv = IntegrityIcvLength(integrity);
            if (icvLength != 0 && icvLength != icv)
                throw new ArgumentException($"{integrity} has a {icv}-byte ICV, not {icvLength}", nameof(icvLength));
            IcvLength = icv;
        }
    }

    /// <summary>Whether encryption and integrity come from one AEAD transform.</summary>
    public bool IsCombinedMode => IsCombined(Encryption);

    /// <summary>Explicit IV on the wire: 16 for AES-CBC, 8 for everything else (RFC 3602, 4106, 3686, 7634, 2451).</summary>
    public int IvLength => Encryption == EncryptionAlgorithm.AesCbc ? 16 : 8;

    /// <summary>The payload (inner packet + padding + pad length + next header) must be a multiple of this:
    /// the cipher block for CBC, 4 bytes otherwise (RFC 4303 §2.4).</summary>
    public int PayloadAlignment => Encryption switch
    {
        EncryptionAlgorithm.AesCbc => 16,
        EncryptionAlgorithm.TripleDesCbc => 8,
        _ => 4,
    };

    /// <summary>Bytes of key material for the encryption transform as IKEv2 KEYMAT provides them:
    /// the key plus a 4-byte salt/nonce for GCM, GMAC, CTR and ChaCha20-Poly1305 (RFC 4106 §8.1,
    /// RFC 4543 §5, RFC 3686 §5.1, RFC 7634 §4).</summary>
    public int EncryptionKeyMaterialLength => KeyBits / 8 + (Encryption is EncryptionAlgorithm.AesCbc or EncryptionAlgorithm.TripleDesCbc ? 0 : 4);

    /// <summary>Integrity key length: the hash output size (RFC 2403/2404/4868).</summary>
    public int IntegrityKeyLength => Integrity switch
    {
        IntegrityAlgorithm.None => 0,
        IntegrityAlgorithm.HmacMd5_96 => 16,
        IntegrityAlgorithm.HmacSha1_96 => 20,
        IntegrityAlgorithm.HmacSha256_128 => 32,
        IntegrityAlgorithm.HmacSha384_192 => 48,
        IntegrityAlgorithm.HmacSha512_256 => 64,
        _ => 0,
    };

    /// <summary>Total key material for one direction: encryption part then integrity part (RFC 7296 §2.17).</summary>
    public int KeyMaterialLength => EncryptionKeyMaterialLength + IntegrityKeyLength;

    internal HashAlgorithmKind IntegrityHash => Integrity switch
    {
        IntegrityAlgorithm.HmacMd5_96 => HashAlgorithmKind.Md5,
        IntegrityAlgorithm.HmacSha1_96 => HashAlgorithmKind.Sha1,
        IntegrityAlgorithm.HmacSha256_128 => HashAlgorithmKind.Sha256,
        IntegrityAlgorithm.HmacSha384_192 => HashAlgorithmKind.Sha384,
        IntegrityAlgorithm.HmacSha512_256 => HashAlgorithmKind.Sha512,
        _ => throw new InvalidOperationException("no integrity algorithm"),
    };

    private static bool IsCombined(EncryptionAlgorithm e) =>
        e is EncryptionAlgorithm.AesGcm or EncryptionAlgorithm.AesGmac or EncryptionAlgorithm.ChaCha20Poly1305;

    private static int IntegrityIcvLength(IntegrityAlgorithm i) => i switch
    {
        IntegrityAlgorithm.HmacMd5_96 or IntegrityAlgorithm.HmacSha1_96 => 12,
        IntegrityAlgorithm.HmacSha256_128 => 16,
        IntegrityAlgorithm.HmacSha384_192 => 24,
        IntegrityAlgorithm.HmacSha512_256 => 32,
        _ => throw new ArgumentException($"unknown integrity algorithm {i}", nameof(i)),
    };

    /// <summary>
    /// Parses a proposal in strongSwan/Libreswan notation: <c>aes128gcm16</c>, <c>aes256gcm8</c>,
    /// <c>aes128gmac</c>, <c>chacha20poly1305</c>, <c>aes128-sha1</c>, <c>aes256-sha256</c>,
    /// <c>aes128ctr-sha256</c>, <c>3des-sha1</c>, <c>3des-md5</c>, <c>aes-sha2_512</c>. A DH group suffix
    /// (<c>-modp2048</c>, <c>-x25519</c>, <c>-ecp256</c>) is accepted and ignored here (that is the keying
    /// daemon's business). Errors say what was not understood.
    /// </summary>
    public static EspSuite Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().ToLowerInvariant().Split('-', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new FormatException("empty ESP proposal");
        string enc = parts[0];
        IntegrityAlgorithm integ = IntegrityAlgorithm.None;
        for (int i = 1; i < parts.Length; i++)
        {
            if (IsDhGroup(parts[i])) continue;
            if (integ != IntegrityAlgorithm.None) throw new FormatException($"ESP proposal '{text}': more than one integrity algorithm");
            integ = parts[i] switch
            {
                "md5" or "md5_96" or "hmac_md5" => IntegrityAlgorithm.HmacMd5_96,
                "sha1" or "sha" or "sha1_96" or "hmac_sha1" => IntegrityAlgorithm.HmacSha1_96,
                "sha256" or "sha2_256" or "sha256_128" => IntegrityAlgorithm.HmacSha256_128,
                "sha384" or "sha2_384" or "sha384_192" => IntegrityAlgorithm.HmacSha384_192,
                "sha512" or "sha2_512" or "sha512_256" => IntegrityAlgorithm.HmacSha512_256,
                "null" or "none" => throw new FormatException($"ESP proposal '{text}': integrity 'null' is refused (encryption without integrity)"),
                _ => throw new FormatException($"ESP proposal '{text}': unknown integrity algorithm '{parts[i]}'"),
            };
        }

        if (enc is "chacha20poly1305" or "chacha20-poly1305")
            return new EspSuite(EncryptionAlgorithm.ChaCha20Poly1305, 256, integ);
        if (enc is "3des" or "3des_cbc" or "des3" or "des-ede3")
            return new EspSuite(EncryptionAlgorithm.TripleDesCbc, 192, integ);
        if (enc is "des" or "des_cbc" or "1des")
            throw new FormatException($"ESP proposal '{text}': single DES is refused (56-bit key, broken since 1998)");
        if (enc is "null" or "null_enc")
            throw new FormatException($"ESP proposal '{text}': NULL encryption is refused; use aes128gmac for integrity-only ESP");
        if (enc.StartsWith("aes", StringComparison.Ordinal))
        {
            string rest = enc[3..];
            int bits = 128;
            int digits = 0;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits])) digits++;
            if (digits > 0) bits = int.Parse(rest.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture);
            rest = rest[digits..];
            if (rest.Length == 0 || rest == "cbc") return new EspSuite(EncryptionAlgorithm.AesCbc, bits, integ);
            if (rest == "ctr") return new EspSuite(EncryptionAlgorithm.AesCtr, bits, integ);
            if (rest == "gmac") return new EspSuite(EncryptionAlgorithm.AesGmac, bits, integ);
            if (rest.StartsWith("gcm", StringComparison.Ordinal))
            {
                string icv = rest[3..].TrimStart('_');
                int icvBytes = icv switch
                {
                    "" or "16" or "128" => 16,
                    "12" or "96" => 12,
                    "8" or "64" => 8,
                    _ => throw new FormatException($"ESP proposal '{text}': unknown GCM ICV length '{icv}' (8, 12 or 16)"),
                };
                return new EspSuite(EncryptionAlgorithm.AesGcm, bits, integ, icvBytes);
            }
            throw new FormatException($"ESP proposal '{text}': unknown AES mode '{rest}'");
        }
        throw new FormatException($"ESP proposal '{text}': unknown encryption algorithm '{enc}'");
    }

    private static bool IsDhGroup(string s) =>
        s.StartsWith("modp", StringComparison.Ordinal) || s.StartsWith("ecp", StringComparison.Ordinal) ||
        s is "x25519" or "curve25519" or "x448" or "curve448" or "noesn" or "esn";

    /// <summary>The strongSwan-style name (round-trips through <see cref="Parse"/>).</summary>
    public override string ToString() => Encryption switch
    {
        EncryptionAlgorithm.AesGcm => $"aes{KeyBits}gcm{IcvLength}",
        EncryptionAlgorithm.AesGmac => $"aes{KeyBits}gmac",
        EncryptionAlgorithm.ChaCha20Poly1305 => "chacha20poly1305",
        EncryptionAlgorithm.AesCbc => $"aes{KeyBits}-{IntegrityName}",
        EncryptionAlgorithm.AesCtr => $"aes{KeyBits}ctr-{IntegrityName}",
        EncryptionAlgorithm.TripleDesCbc => $"3des-{IntegrityName}",
        _ => Encryption.ToString(),
    };

    private string IntegrityName => Integrity switch
    {
        IntegrityAlgorithm.HmacMd5_96 => "md5",
        IntegrityAlgorithm.HmacSha1_96 => "sha1",
        IntegrityAlgorithm.HmacSha256_128 => "sha256",
        IntegrityAlgorithm.HmacSha384_192 => "sha384",
        IntegrityAlgorithm.HmacSha512_256 => "sha512",
        _ => "none",
    };
}
