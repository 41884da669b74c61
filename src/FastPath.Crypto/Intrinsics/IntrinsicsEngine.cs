using System;
using System.Runtime.Intrinsics.X86;
using FastPath.Crypto.Portable;

namespace FastPath.Crypto.Intrinsics;

/// <summary>The default engine on x86-64 with AES-NI and PCLMULQDQ. Paths inside each primitive pick
/// the widest ISA present (VPCLMULQDQ 512/256, AVX-512/AVX2 lanes) at keying time.</summary>
internal sealed class IntrinsicsEngine : CryptoEngine
{
    public override CryptoEngineKind Kind => CryptoEngineKind.Intrinsics;
    public override string Name => "intrinsics";
    public override bool IsSupported => Aes.IsSupported && Pclmulqdq.IsSupported && Ssse3.IsSupported;

    public override AeadCipher CreateAesGcm(ReadOnlySpan<byte> key) => new AesGcmNi(key);
    public override AeadCipher CreateChaCha20Poly1305(ReadOnlySpan<byte> key) => new ChaCha20Poly1305Simd(key);
    public override CbcCipher CreateAesCbc(ReadOnlySpan<byte> key) => new AesCbcNi(key);
    public override CtrCipher CreateAesCtr(ReadOnlySpan<byte> key) => new AesCtrNi(key);
    // 3DES has no useful intrinsic; the own table-driven implementation serves both engines.
    public override CbcCipher CreateTripleDesCbc(ReadOnlySpan<byte> key) => new TripleDesCbc(key);
    public override Mac CreateHmac(HashAlgorithmKind hash, ReadOnlySpan<byte> key) => new HmacSimd(hash, key);
}
