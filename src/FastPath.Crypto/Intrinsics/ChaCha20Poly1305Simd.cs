using System;
using System.Runtime.CompilerServices;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Intrinsics;

// AEAD_CHACHA20_POLY1305 (RFC 8439 §2.8) for ESP (RFC 7634: 32-byte key, nonce = salt ‖ IV, 16-byte
// tag, no truncation) on the vectorized keystream of ChaCha20Simd and the radix-2^64 Poly1305 of
// Internal/Poly1305.
//
// Design:
// - Keying stores the 8 key words in a NativeKeyBuffer; the nonce words are passed per call.
// - One keystream pass from block counter 0 (ChaCha20Simd.FirstPass, 4/8/16 blocks as the length
//   needs) goes to a stack buffer: its block 0 is the one-time Poly1305 key (§2.6), its other blocks
//   the keystream of the first bytes (§2.8: encryption starts at counter 1). Short packets thus cost
//   exactly one keystream pass; the rest of a long message is XORed in place by whole passes.
// - Encrypt XORs, then MACs the ciphertext it wrote (§2.8). Decrypt MACs the received ciphertext,
//   compares in constant time, and only then writes plaintext (from the buffered first pass and the
//   remaining passes); on mismatch it clears the output and returns false.
// - The buffer (one-time key + keystream) and the computed tag are cleared before returning.
internal sealed unsafe class ChaCha20Poly1305Simd : AeadCipher
{
    private readonly NativeKeyBuffer _key;

    public ChaCha20Poly1305Simd(ReadOnlySpan<byte> key)
    {
        if (key.Length != ChaCha20Core.KeySize) ThrowHelper.KeySize(key.Length, "32");
        _key = new NativeKeyBuffer(ChaCha20Core.KeySize);
        ChaCha20Core.LoadKey(key, (uint*)_key.Pointer);
    }

    public override int KeySize => ChaCha20Core.KeySize;
    public override int MinTagSize => Poly1305.TagSize;

    [SkipLocalsInit]
    public override void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext,
        Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, plaintext.Length, ciphertext.Length, tag.Length);
        uint* key = (uint*)_key.Pointer;
        byte* ks = stackalloc byte[ChaCha20Simd.MaxPassBytes];
        nint length = plaintext.Length;
        fixed (byte* n = nonce, src = plaintext, dst = ciphertext, t = tag, a = associatedData)
        {
            uint n0 = ChaCha20Core.Le32(n), n1 = ChaCha20Core.Le32(n + 4), n2 = ChaCha20Core.Le32(n + 8);
            int first = ChaCha20Simd.FirstPass(key, 0, n0, n1, n2, ks, length + ChaCha20Core.BlockSize);
            nint head = Math.Min(length, first - ChaCha20Core.BlockSize);
            ChaCha20Simd.XorTail(src, dst, ks + ChaCha20Core.BlockSize, (int)head);
            if (length > head)
            {
                ChaCha20Simd.Xor(key, (uint)(first / ChaCha20Core.BlockSize), n0, n1, n2, src + head, dst + head, length - head);
            }
            AeadTag(ks, a, associatedData.Length, dst, length, t);
            ChaCha20Simd.ClearKeystream(ks, first);
        }
    }

    [SkipLocalsInit]
    public override bool Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag,
        Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, ciphertext.Length, plaintext.Length, tag.Length);
        uint* key = (uint*)_key.Pointer;
        byte* ks = stackalloc byte[ChaCha20Simd.MaxPassBytes];
        byte* computed = stackalloc byte[Poly1305.TagSize];
        nint length = ciphertext.Length;
        bool ok;
        fixed (byte* n = nonce, src = ciphertext, dst = plaintext, a = associatedData)
        {
            uint n0 = ChaCha20Core.Le32(n), n1 = ChaCha20Core.Le32(n + 4), n2 = ChaCha20Core.Le32(n + 8);
            int first = ChaCha20Simd.FirstPass(key, 0, n0, n1, n2, ks, length + ChaCha20Core.BlockSize);
            AeadTag(ks, a, associatedData.Length, src, length, computed);
            ok = Poly1305.TagsEqual(computed, tag);
            if (ok)
            {
                nint head = Math.Min(length, first - ChaCha20Core.BlockSize);
                ChaCha20Simd.XorTail(src, dst, ks + ChaCha20Core.BlockSize, (int)head);
                if (length > head)
                {
                    ChaCha20Simd.Xor(key, (uint)(first / ChaCha20Core.BlockSize), n0, n1, n2, src + head, dst + head, length - head);
                }
            }
            ChaCha20Simd.ClearKeystream(ks, first);
            new Span<byte>(computed, Poly1305.TagSize).Clear();
        }
        if (!ok) plaintext.Clear();
        return ok;
    }

    /// <summary>The §2.8 tag: AAD (scalar), the ciphertext's whole W-block groups on the vector Poly1305 when
    /// long enough, the rest and the length block on the scalar code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AeadTag(byte* oneTimeKey, byte* aad, nint aadLength, byte* ciphertext, nint length, byte* tag)
    {
        var poly = new Poly1305(oneTimeKey);
        poly.BlocksPadded(aad, aadLength);
        nint bulk = Poly1305Simd.Blocks(ref poly, ciphertext, length);
        poly.BlocksPadded(ciphertext + bulk, length - bulk);
        poly.FinishAead(aadLength, length, tag);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _key.Dispose();
    }
}
