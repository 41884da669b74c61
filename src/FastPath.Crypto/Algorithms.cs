namespace FastPath.Crypto;

/// <summary>ESP encryption transforms (IKEv2 transform type 1 names, RFC 7296 §3.3.2 / IANA).</summary>
public enum EncryptionAlgorithm
{
    /// <summary>AES-CBC, RFC 3602 (ENCR_AES_CBC = 12). Needs an integrity algorithm.</summary>
    AesCbc,
    /// <summary>AES-CTR, RFC 3686 (ENCR_AES_CTR = 13). Needs an integrity algorithm.</summary>
    AesCtr,
    /// <summary>AES-GCM, RFC 4106 (ENCR_AES_GCM_8/12/16 = 18/19/20). Combined mode.</summary>
    AesGcm,
    /// <summary>AES-GMAC, RFC 4543 (ENCR_NULL_AUTH_AES_GMAC = 21): integrity only, payload in clear.</summary>
    AesGmac,
    /// <summary>ChaCha20-Poly1305, RFC 7634 (ENCR_CHACHA20_POLY1305 = 28). Combined mode.</summary>
    ChaCha20Poly1305,
    /// <summary>3DES-CBC (DES-EDE3), RFC 2451 (ENCR_3DES = 3): FreeS/WAN's cipher. Needs integrity.</summary>
    TripleDesCbc,
}

/// <summary>ESP integrity transforms (IKEv2 transform type 3).</summary>
public enum IntegrityAlgorithm
{
    /// <summary>No separate integrity: only valid with a combined-mode cipher.</summary>
    None,
    /// <summary>HMAC-MD5-96, RFC 2403 (AUTH_HMAC_MD5_96 = 1).</summary>
    HmacMd5_96,
    /// <summary>HMAC-SHA1-96, RFC 2404 (AUTH_HMAC_SHA1_96 = 2).</summary>
    HmacSha1_96,
    /// <summary>HMAC-SHA2-256-128, RFC 4868 (AUTH_HMAC_SHA2_256_128 = 12).</summary>
    HmacSha256_128,
    /// <summary>HMAC-SHA2-384-192, RFC 4868 (AUTH_HMAC_SHA2_384_192 = 13).</summary>
    HmacSha384_192,
    /// <summary>HMAC-SHA2-512-256, RFC 4868 (AUTH_HMAC_SHA2_512_256 = 14).</summary>
    HmacSha512_256,
}

/// <summary>The hash under an HMAC.</summary>
public enum HashAlgorithmKind
{
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

/// <summary>Which implementation family an engine is.</summary>
public enum CryptoEngineKind
{
    /// <summary>System.Runtime.Intrinsics: AES-NI, PCLMULQDQ/VPCLMULQDQ, AVX2/AVX-512 multi-buffer.</summary>
    Intrinsics,
    /// <summary>Plain C#, no intrinsics: runs anywhere, checked against the same vectors.</summary>
    Portable,
    /// <summary>The BCL (OpenSSL on Linux): fallback and the baseline every benchmark compares with.</summary>
    Bcl,
}
