using System;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Bcl;

/// <summary>AES-CBC or 3DES-CBC on the BCL's SymmetricAlgorithm one-shot span APIs (no padding).</summary>
internal sealed class CbcBcl : CbcCipher
{
    private readonly SymmetricAlgorithm _algorithm;
    private readonly int _blockSize;
    private readonly int _keySize;

    public CbcBcl(SymmetricAlgorithm algorithm, ReadOnlySpan<byte> key, int blockSize)
    {
        _algorithm = algorithm;
        _blockSize = blockSize;
        _keySize = key.Length;
        if (!algorithm.ValidKeySize(key.Length * 8))
        {
            algorithm.Dispose();
            ThrowHelper.KeySize(key.Length, blockSize == 16 ? "16, 24 or 32" : "24");
        }
        byte[] k = key.ToArray();
        algorithm.Key = k;
        CryptographicOperations.ZeroMemory(k);
    }

    public override int BlockSize => _blockSize;
    public override int KeySize => _keySize;

    public override void Encrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        CheckArguments(iv, input.Length, output.Length);
        if (input.Length != 0) _algorithm.EncryptCbc(input, iv, output, PaddingMode.None);
    }

    public override void Decrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        CheckArguments(iv, input.Length, output.Length);
        if (input.Length != 0) _algorithm.DecryptCbc(input, iv, output, PaddingMode.None);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _algorithm.Dispose();
    }
}
