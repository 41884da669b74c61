using System;
using System.Collections.Generic;
using FastPath.Crypto.Bcl;
using FastPath.Crypto.Intrinsics;
using FastPath.Crypto.Portable;

namespace FastPath.Crypto;

/// <summary>
/// A family of implementations of the ESP primitives. The engine is chosen per SA at install time
/// (never per packet); the SA's runtime struct holds the keyed primitive objects it created.
/// </summary>
public abstract class CryptoEngine
{
    public abstract CryptoEngineKind Kind { get; }

    /// <summary>Short name for logs, benchmarks and `fastpath bench`.</summary>
    public abstract string Name { get; }

    /// <summary>Whether this engine can run on this CPU/runtime (e.g. AES-NI present and hardware
    /// intrinsics enabled; DOTNET_EnableHWIntrinsic=0 turns the intrinsics engine off).</summary>
    public abstract bool IsSupported { get; }

    /// <summary>AES-GCM with a 16- or 32-byte key (the 4-byte ESP salt is not part of it).</summary>
    public abstract AeadCipher CreateAesGcm(ReadOnlySpan<byte> key);

    /// <summary>ChaCha20-Poly1305 with a 32-byte key (the 4-byte ESP salt is not part of it).</summary>
    public abstract AeadCipher CreateChaCha20Poly1305(ReadOnlySpan<byte> key);

    /// <summary>AES-CBC with a 16-, 24- or 32-byte key.</summary>
    public abstract CbcCipher CreateAesCbc(ReadOnlySpan<byte> key);

    /// <summary>AES-CTR with a 16-, 24- or 32-byte key (the 4-byte RFC 3686 nonce is passed per call).</summary>
    public abstract CtrCipher CreateAesCtr(ReadOnlySpan<byte> key);

    /// <summary>3DES-CBC (DES-EDE3) with a 24-byte key. Keys whose thirds repeat (K1 = K2 or K2 = K3,
    /// which degrade to single DES) are refused.</summary>
    public abstract CbcCipher CreateTripleDesCbc(ReadOnlySpan<byte> key);

    /// <summary>HMAC over the given hash, keyed once.</summary>
    public abstract Mac CreateHmac(HashAlgorithmKind hash, ReadOnlySpan<byte> key);

    public override string ToString() => Name;

    /// <summary>Managed hardware intrinsics (AES-NI, (V)PCLMULQDQ, AVX2/AVX-512).</summary>
    public static CryptoEngine Intrinsics { get; } = new IntrinsicsEngine();

    /// <summary>Plain C#, no intrinsics.</summary>
    public static CryptoEngine Portable { get; } = new PortableEngine();

    /// <summary>The BCL (OpenSSL): fallback and baseline.</summary>
    public static CryptoEngine Bcl { get; } = new BclEngine();

    /// <summary>Every engine, supported here or not.</summary>
    public static IReadOnlyList<CryptoEngine> All { get; } = [Intrinsics, Portable, Bcl];

    /// <summary>The engine used when configuration does not name one: intrinsics where the CPU has
    /// AES-NI and PCLMULQDQ, otherwise the BCL (constant-time OpenSSL) rather than the portable
    /// engine, whose table-based AES is not constant-time.</summary>
    public static CryptoEngine Default => Intrinsics.IsSupported ? Intrinsics : Bcl;

    public static CryptoEngine Get(CryptoEngineKind kind) => kind switch
    {
        CryptoEngineKind.Intrinsics => Intrinsics,
        CryptoEngineKind.Portable => Portable,
        CryptoEngineKind.Bcl => Bcl,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown engine kind"),
    };
}
