using System;
using System.Security.Cryptography;

namespace FastPath.Crypto.Bcl;

/// <summary>The BCL engine: System.Security.Cryptography, which is OpenSSL 3 on Linux. Constant-time
/// and everywhere available, so it is the fallback where the intrinsics engine cannot run, and the
/// baseline that every benchmark compares with. It allocates nothing per call once keyed, but
/// every call crosses into native code (4-5 EVP calls for an AEAD operation).</summary>
internal sealed class BclEngine : CryptoEngine
{
    public override CryptoEngineKind Kind => CryptoEngineKind.Bcl;
    public override string Name => "bcl";
    public override bool IsSupported => System.Security.Cryptography.AesGcm.IsSupported;

    public override AeadCipher CreateAesGcm(ReadOnlySpan<byte> key) => new AesGcmBcl(key);
    public override AeadCipher CreateChaCha20Poly1305(ReadOnlySpan<byte> key) => new ChaCha20Poly1305Bcl(key);
    public override CbcCipher CreateAesCbc(ReadOnlySpan<byte> key) => new CbcBcl(System.Security.Cryptography.Aes.Create(), key, 16);
    public override CtrCipher CreateAesCtr(ReadOnlySpan<byte> key) => new AesCtrBcl(key);
    public override CbcCipher CreateTripleDesCbc(ReadOnlySpan<byte> key)
    {
        TripleDesKeyCheck.ThrowIfWeak(key);
        return new CbcBcl(TripleDES.Create(), key, 8);
    }
    public override Mac CreateHmac(HashAlgorithmKind hash, ReadOnlySpan<byte> key) => new HmacBcl(hash, key);
}
