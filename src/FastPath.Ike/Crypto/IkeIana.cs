using System;
using System.Globalization;

namespace FastPath.Ike.Crypto;

// IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" registries (RFC 7296 §3.3.2 and later
// RFCs), only the values FastPath knows. Names are the ones strongSwan prints (its enum_names), so
// logs read the same on both sides: "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519".

/// <summary>Transform Type (RFC 7296 §3.3.2, table "Transform Type Values").</summary>
public enum TransformType : byte
{
    Encryption = 1,        // ENCR
    Prf = 2,               // PRF
    Integrity = 3,         // INTEG
    KeyExchange = 4,       // D-H (renamed "Key Exchange Method" by RFC 9370)
    ExtendedSequenceNumbers = 5, // ESN
}

/// <summary>Transform Type 1, Encryption Algorithm Transform IDs.</summary>
public enum EncrId : ushort
{
    TripleDesCbc = 3,      // RFC 2451
    Null = 11,             // RFC 2410 (ESP only; refused by FastPath)
    AesCbc = 12,           // RFC 3602, Key Length attribute 128/192/256
    AesCtr = 13,           // RFC 3686 / RFC 5930 (4-byte nonce with the key)
    AesGcm8 = 18,          // RFC 4106 / RFC 5282, 8-byte ICV
    AesGcm12 = 19,         // 12-byte ICV
    AesGcm16 = 20,         // 16-byte ICV
    ChaCha20Poly1305 = 28, // RFC 7634
}

/// <summary>Transform Type 2, Pseudorandom Function Transform IDs.</summary>
public enum PrfId : ushort
{
    HmacMd5 = 1,
    HmacSha1 = 2,
    AesXcbc128 = 4,        // RFC 4434 (not implemented)
    HmacSha2_256 = 5,      // RFC 4868
    HmacSha2_384 = 6,
    HmacSha2_512 = 7,
}

/// <summary>Transform Type 3, Integrity Algorithm Transform IDs.</summary>
public enum IntegId : ushort
{
    None = 0,
    HmacMd5_96 = 1,        // RFC 2403 (ESP only in FastPath)
    HmacSha1_96 = 2,       // RFC 2404
    AesXcbc96 = 5,         // RFC 3566 (not implemented)
    HmacSha2_256_128 = 12, // RFC 4868
    HmacSha2_384_192 = 13,
    HmacSha2_512_256 = 14,
}

/// <summary>Transform Type 4, Key Exchange Method (Diffie-Hellman group) Transform IDs.</summary>
public enum DhGroup : ushort
{
    None = 0,
    Modp768 = 1,           // refused (FreeS/WAN already refused it)
    Modp1024 = 2,          // refused (see ProposalParser)
    Modp1536 = 5,          // refused
    Modp2048 = 14,         // RFC 3526
    Modp3072 = 15,
    Modp4096 = 16,
    Ecp256 = 19,           // RFC 5903
    Ecp384 = 20,
    Ecp521 = 21,
    Curve25519 = 31,       // RFC 8031
}

/// <summary>Transform Type 5, Extended Sequence Numbers Transform IDs.</summary>
public enum EsnId : ushort
{
    NoEsn = 0,
    Esn = 1,
}

/// <summary>IKEv2 Authentication Method (RFC 7296 §3.8, RFC 4754, RFC 7427).</summary>
public enum AuthMethod : byte
{
    RsaSignature = 1,          // RSASSA-PKCS1-v1_5 with SHA-1 (RFC 7296 §3.8)
    SharedKeyMic = 2,          // PSK (RFC 7296 §2.15)
    DssSignature = 3,          // not supported
    EcdsaSha256P256 = 9,       // RFC 4754
    EcdsaSha384P384 = 10,
    EcdsaSha512P521 = 11,
    DigitalSignature = 14,     // RFC 7427
}

/// <summary>Sizes and strongSwan-style names of the registry values.</summary>
public static class IkeIana
{
    public static bool IsAead(EncrId id) => id is EncrId.AesGcm8 or EncrId.AesGcm12 or EncrId.AesGcm16 or EncrId.ChaCha20Poly1305;

    /// <summary>Whether the transform takes a Key Length attribute (RFC 7296 §3.3.5): AES modes do, 3DES and ChaCha20 do not.</summary>
    public static bool HasKeyLengthAttribute(EncrId id) => id is EncrId.AesCbc or EncrId.AesCtr or EncrId.AesGcm8 or EncrId.AesGcm12 or EncrId.AesGcm16;

    /// <summary>The fixed key size in bits of ciphers without a Key Length attribute (0 = attribute needed).</summary>
    public static int FixedKeyBits(EncrId id) => id switch
    {
        EncrId.TripleDesCbc => 192,
        EncrId.ChaCha20Poly1305 => 256,
        _ => 0,
    };

    /// <summary>Bytes of salt/nonce taken from the key material after the key: 4 for GCM (RFC 4106 §8.1,
    /// RFC 5282 §7.1), ChaCha20-Poly1305 (RFC 7634 §2) and CTR (RFC 3686 §5.1, RFC 5930 §3).</summary>
    public static int SaltBytes(EncrId id) => id is EncrId.AesGcm8 or EncrId.AesGcm12 or EncrId.AesGcm16 or EncrId.ChaCha20Poly1305 or EncrId.AesCtr ? 4 : 0;

    /// <summary>ICV bytes of an AEAD transform.</summary>
    public static int AeadIcvBytes(EncrId id) => id switch
    {
        EncrId.AesGcm8 => 8,
        EncrId.AesGcm12 => 12,
        EncrId.AesGcm16 or EncrId.ChaCha20Poly1305 => 16,
        _ => 0,
    };

    /// <summary>Key bytes of an integrity transform (RFC 2404/4868: the HMAC output size).</summary>
    public static int IntegKeyBytes(IntegId id) => id switch
    {
        IntegId.HmacMd5_96 => 16,
        IntegId.HmacSha1_96 => 20,
        IntegId.HmacSha2_256_128 => 32,
        IntegId.HmacSha2_384_192 => 48,
        IntegId.HmacSha2_512_256 => 64,
        IntegId.None => 0,
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "unsupported integrity algorithm"),
    };

    /// <summary>Truncated ICV bytes of an integrity transform.</summary>
    public static int IntegIcvBytes(IntegId id) => id switch
    {
        IntegId.HmacMd5_96 or IntegId.HmacSha1_96 => 12,
        IntegId.HmacSha2_256_128 => 16,
        IntegId.HmacSha2_384_192 => 24,
        IntegId.HmacSha2_512_256 => 32,
        IntegId.None => 0,
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "unsupported integrity algorithm"),
    };

    public static string Name(TransformType t) => t switch
    {
        TransformType.Encryption => "ENCRYPTION_ALGORITHM",
        TransformType.Prf => "PSEUDO_RANDOM_FUNCTION",
        TransformType.Integrity => "INTEGRITY_ALGORITHM",
        TransformType.KeyExchange => "KEY_EXCHANGE_METHOD",
        TransformType.ExtendedSequenceNumbers => "EXTENDED_SEQUENCE_NUMBERS",
        _ => Unknown((ushort)t),
    };

    /// <summary>strongSwan's name, with "_bits" appended when a key length is given (AES_CBC_256, AES_GCM_16_128).</summary>
    public static string Name(EncrId id, int keyBits = 0)
    {
        string n = id switch
        {
            EncrId.TripleDesCbc => "3DES_CBC",
            EncrId.Null => "NULL",
            EncrId.AesCbc => "AES_CBC",
            EncrId.AesCtr => "AES_CTR",
            EncrId.AesGcm8 => "AES_GCM_8",
            EncrId.AesGcm12 => "AES_GCM_12",
            EncrId.AesGcm16 => "AES_GCM_16",
            EncrId.ChaCha20Poly1305 => "CHACHA20_POLY1305",
            _ => Unknown((ushort)id),
        };
        return keyBits > 0 && HasKeyLengthAttribute(id) ? n + "_" + keyBits.ToString(CultureInfo.InvariantCulture) : n;
    }

    public static string Name(PrfId id) => id switch
    {
        PrfId.HmacMd5 => "PRF_HMAC_MD5",
        PrfId.HmacSha1 => "PRF_HMAC_SHA1",
        PrfId.AesXcbc128 => "PRF_AES128_XCBC",
        PrfId.HmacSha2_256 => "PRF_HMAC_SHA2_256",
        PrfId.HmacSha2_384 => "PRF_HMAC_SHA2_384",
        PrfId.HmacSha2_512 => "PRF_HMAC_SHA2_512",
        _ => Unknown((ushort)id),
    };

    public static string Name(IntegId id) => id switch
    {
        IntegId.None => "NONE",
        IntegId.HmacMd5_96 => "HMAC_MD5_96",
        IntegId.HmacSha1_96 => "HMAC_SHA1_96",
        IntegId.AesXcbc96 => "AES_XCBC_96",
        IntegId.HmacSha2_256_128 => "HMAC_SHA2_256_128",
        IntegId.HmacSha2_384_192 => "HMAC_SHA2_384_192",
        IntegId.HmacSha2_512_256 => "HMAC_SHA2_512_256",
        _ => Unknown((ushort)id),
    };

    public static string Name(DhGroup id) => id switch
    {
        DhGroup.None => "NONE",
        DhGroup.Modp768 => "MODP_768",
        DhGroup.Modp1024 => "MODP_1024",
        DhGroup.Modp1536 => "MODP_1536",
        DhGroup.Modp2048 => "MODP_2048",
        DhGroup.Modp3072 => "MODP_3072",
        DhGroup.Modp4096 => "MODP_4096",
        DhGroup.Ecp256 => "ECP_256",
        DhGroup.Ecp384 => "ECP_384",
        DhGroup.Ecp521 => "ECP_521",
        DhGroup.Curve25519 => "CURVE_25519",
        _ => Unknown((ushort)id),
    };

    public static string Name(EsnId id) => id switch
    {
        EsnId.NoEsn => "NO_EXT_SEQ",
        EsnId.Esn => "EXT_SEQ",
        _ => Unknown((ushort)id),
    };

    public static string Name(AuthMethod m) => m switch
    {
        AuthMethod.RsaSignature => "RSA_SIG",
        AuthMethod.SharedKeyMic => "PSK",
        AuthMethod.DssSignature => "DSS_SIG",
        AuthMethod.EcdsaSha256P256 => "ECDSA-256",
        AuthMethod.EcdsaSha384P384 => "ECDSA-384",
        AuthMethod.EcdsaSha512P521 => "ECDSA-521",
        AuthMethod.DigitalSignature => "DIGITAL_SIGNATURE",
        _ => Unknown((ushort)m),
    };

    private static string Unknown(ushort v) => "UNKNOWN_" + v.ToString(CultureInfo.InvariantCulture);
}
