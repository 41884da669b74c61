using System;

namespace FastPath.Crypto.Portable;

/// <summary>Plain C# with no System.Runtime.Intrinsics: correct everywhere, checked against the same
/// vectors as the other engines. Its AES uses lookup tables and is not constant-time, which is why
/// <see cref="CryptoEngine.Default"/> never picks it.</summary>
internal sealed class PortableEngine : CryptoEngine
{
    public override CryptoEngineKind Kind => CryptoEngineKind.Portable;
    public override string Name => "portable";
    public override bool IsSupported => true;

    public override AeadCipher CreateAesGcm(ReadOnlySpan<byte> key) => new AesGcmPortable(key);
    public override AeadCipher CreateChaCha20Poly1305(ReadOnlySpan<byte> key) => new ChaCha20Poly1305Portable(key);
    public override CbcCipher CreateAesCbc(ReadOnlySpan<byte> key) => new AesCbcPortable(key);
    public override CtrCipher CreateAesCtr(ReadOnlySpan<byte> key) => new AesCtrPortable(key);
    public override CbcCipher CreateTripleDesCbc(ReadOnlySpan<byte> key) => new TripleDesCbc(key);
    public override Mac CreateHmac(HashAlgorithmKind hash, ReadOnlySpan<byte> key) => new HmacPortable(hash, key);
}
