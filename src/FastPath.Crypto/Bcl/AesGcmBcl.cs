using System;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Bcl;

/// <summary>AES-GCM on System.Security.Cryptography.AesGcm. The BCL accepts tags of 12..16 bytes;
/// ESP's 8-byte ICV (RFC 4106 ENCR_AES_GCM_8) is produced by truncating the 16-byte tag, and checked
/// by recovering the plaintext with AES-CTR (ECB over counter blocks) and recomputing the tag.</summary>
internal sealed class AesGcmBcl : AeadCipher
{
    private readonly System.Security.Cryptography.AesGcm _gcm16;
    private readonly System.Security.Cryptography.AesGcm _gcm12;
    private readonly System.Security.Cryptography.Aes _ecb;
    private readonly int _keySize;

    public AesGcmBcl(ReadOnlySpan<byte> key)
    {
        if (key.Length is not (16 or 24 or 32)) ThrowHelper.KeySize(key.Length, "16, 24 or 32");
        _keySize = key.Length;
        _gcm16 = new System.Security.Cryptography.AesGcm(key, 16);
        _gcm12 = new System.Security.Cryptography.AesGcm(key, 12);
        _ecb = System.Security.Cryptography.Aes.Create();
        _ecb.Key = key.ToArray();
    }

    public override int KeySize => _keySize;

    [SkipLocalsInit]
    public override void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext,
        Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, plaintext.Length, ciphertext.Length, tag.Length);
        switch (tag.Length)
        {
            case 16: _gcm16.Encrypt(nonce, plaintext, ciphertext, tag, associatedData); break;
            case 12: _gcm12.Encrypt(nonce, plaintext, ciphertext, tag, associatedData); break;
            default:
                Span<byte> full = stackalloc byte[16];
                _gcm16.Encrypt(nonce, plaintext, ciphertext, full, associatedData);
                full[..tag.Length].CopyTo(tag);
                break;
        }
    }

    [SkipLocalsInit]
    public override bool Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag,
        Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, ciphertext.Length, plaintext.Length, tag.Length);
        try
        {
            switch (tag.Length)
            {
                case 16: _gcm16.Decrypt(nonce, ciphertext, tag, plaintext, associatedData); return true;
                case 12: _gcm12.Decrypt(nonce, ciphertext, tag, plaintext, associatedData); return true;
            }
        }
        catch (AuthenticationTagMismatchException)
        {
            // The BCL signals failure by exception: part of why it is only the baseline.
            plaintext.Clear();
            return false;
        }

        // Truncated tag (8..11 bytes): GCM's tag depends only on the ciphertext, so recover the
        // plaintext with CTR (first keystream counter is 2, RFC 4106 / SP 800-38D), re-encrypt it
        // through AesGcm for the full tag, and compare the truncation. Baseline path only.
        Span<byte> counter = stackalloc byte[12];
        nonce.CopyTo(counter);
        BclCtr.Transform(_ecb, counter, 2, ciphertext, plaintext);
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(1, plaintext.Length));
        Span<byte> full = stackalloc byte[16];
        _gcm16.Encrypt(nonce, plaintext, scratch.AsSpan(0, plaintext.Length), full, associatedData);
        System.Buffers.ArrayPool<byte>.Shared.Return(scratch, clearArray: true);
        bool ok = CryptographicOperations.FixedTimeEquals(full[..tag.Length], tag);
        if (!ok) plaintext.Clear();
        return ok;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gcm16.Dispose();
            _gcm12.Dispose();
            _ecb.Dispose();
        }
    }
}

/// <summary>AES-CTR through the BCL's ECB: counter blocks built on the stack in chunks.</summary>
internal static class BclCtr
{
    private const int ChunkBlocks = 32;

    /// <summary>XORs the keystream of counter blocks prefix(12) | BE32(counter++) into output.</summary>
    [SkipLocalsInit]
    public static void Transform(System.Security.Cryptography.Aes ecb, ReadOnlySpan<byte> counterPrefix12, uint firstCounter,
        ReadOnlySpan<byte> input, Span<byte> output)
    {
        Span<byte> blocks = stackalloc byte[ChunkBlocks * 16];
        Span<byte> stream = stackalloc byte[ChunkBlocks * 16];
        uint counter = firstCounter;
        int offset = 0;
        while (offset < input.Length)
        {
            int n = Math.Min(input.Length - offset, ChunkBlocks * 16);
            int nb = (n + 15) / 16;
            for (int b = 0; b < nb; b++)
            {
                counterPrefix12[..12].CopyTo(blocks.Slice(b * 16, 12));
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(blocks.Slice(b * 16 + 12, 4), counter++);
            }
            ecb.EncryptEcb(blocks[..(nb * 16)], stream[..(nb * 16)], PaddingMode.None);
            for (int i = 0; i < n; i++) output[offset + i] = (byte)(input[offset + i] ^ stream[i]);
            offset += n;
        }
        CryptographicOperations.ZeroMemory(stream);
    }
}
