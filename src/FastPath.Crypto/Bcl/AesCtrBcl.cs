using System;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Bcl;

/// <summary>AES-CTR (RFC 3686) on the BCL's AES-ECB: the BCL has no CTR mode.</summary>
internal sealed class AesCtrBcl : CtrCipher
{
    private readonly System.Security.Cryptography.Aes _ecb;
    private readonly int _keySize;

    public AesCtrBcl(ReadOnlySpan<byte> key)
    {
        if (key.Length is not (16 or 24 or 32)) ThrowHelper.KeySize(key.Length, "16, 24 or 32");
        _keySize = key.Length;
        _ecb = System.Security.Cryptography.Aes.Create();
        byte[] k = key.ToArray();
        _ecb.Key = k;
        CryptographicOperations.ZeroMemory(k);
    }

    public override int KeySize => _keySize;

    [System.Runtime.CompilerServices.SkipLocalsInit]
    public override void Transform(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (nonce.Length != NonceSize) ThrowHelper.Length("nonce", nonce.Length, "4");
        if (iv.Length != IvSize) ThrowHelper.Length("iv", iv.Length, "8");
        if (input.Length != output.Length) ThrowHelper.Length("output", output.Length, "the input length");
        Span<byte> prefix = stackalloc byte[12];
        nonce.CopyTo(prefix);
        iv.CopyTo(prefix[4..]);
        BclCtr.Transform(_ecb, prefix, 1, input, output);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _ecb.Dispose();
    }
}
