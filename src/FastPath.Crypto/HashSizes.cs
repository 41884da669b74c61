using System;

namespace FastPath.Crypto;

/// <summary>Sizes of the hashes under ESP's HMACs.</summary>
public static class HashSizes
{
    /// <summary>Digest size in bytes.</summary>
    public static int Of(HashAlgorithmKind hash) => hash switch
    {
        HashAlgorithmKind.Md5 => 16,
        HashAlgorithmKind.Sha1 => 20,
        HashAlgorithmKind.Sha256 => 32,
        HashAlgorithmKind.Sha384 => 48,
        HashAlgorithmKind.Sha512 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(hash)),
    };

    /// <summary>Compression block size in bytes (the HMAC pad length).</summary>
    public static int BlockOf(HashAlgorithmKind hash) => hash is HashAlgorithmKind.Sha384 or HashAlgorithmKind.Sha512 ? 128 : 64;
}
