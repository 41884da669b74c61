using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Portable;

// AES-GCM (NIST SP 800-38D) with a 96-bit nonce in plain C#: T-table AES (AesPortableCore, NOT
// constant-time; see there) and constant-time GHASH by integer multiplies (GhashPortable).
//
// Design:
// - Keying: AES round keys, then H = CIPH_K(0^128) (§6.4) into GhashPortable's key words, in one
//   NativeKeyBuffer: [0, 240) round keys, [256, 304) GHASH key.
// - J0 = nonce ‖ 0^31 ‖ 1 (§7.1 step 2); GCTR starts at inc32(J0) (counter 2); the tag is
//   MSB_t(GHASH_H(A ‖ 0^v ‖ C ‖ 0^u ‖ [len(A)]64 ‖ [len(C)]64) ⊕ CIPH_K(J0)) (§7.1 steps 3-6),
//   truncated to the tag span's length (8..16 bytes, AeadCipher.CheckArguments).
// - Encrypt: CTR over the plaintext, then GHASH over the ciphertext written.
// - Decrypt: GHASH over the ciphertext and the constant-time tag comparison first
//   (CryptographicOperations.FixedTimeEquals on the first tag.Length bytes); only if it verifies is
//   the plaintext written (in place allowed), otherwise the output is cleared and false returned.
// - Stack temporaries (J0 block, tag mask, expected tag) are cleared before returning.
internal sealed unsafe class AesGcmPortable : AeadCipher
{
    private const int GhashOffset = 256;

    private readonly NativeKeyBuffer _keys;
    private readonly int _rounds;
    private readonly int _keySize;

    public AesGcmPortable(ReadOnlySpan<byte> key)
    {
        _rounds = AesKeySchedule.CheckKey(key);
        _keySize = key.Length;
        _keys = new NativeKeyBuffer(GhashOffset + 64);
        byte* p = _keys.Pointer;
        AesKeySchedule.ExpandEncrypt(key, _keys.Span[..AesPortableCore.MaxRoundKeyBytes]);
        byte* h = stackalloc byte[16];
        Unsafe.InitBlockUnaligned(h, 0, 16);
        AesPortableCore.EncryptBlock(p, _rounds, h, h);
        GhashPortable.Init(new ReadOnlySpan<byte>(h, 16), p + GhashOffset);
        Unsafe.InitBlockUnaligned(h, 0, 16);
    }

    public override int KeySize => _keySize;

    [SkipLocalsInit]
    public override void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext,
        Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, plaintext.Length, ciphertext.Length, tag.Length);
        byte* keys = _keys.Pointer;
        byte* j0 = stackalloc byte[16];
        byte* full = stackalloc byte[16];
        fixed (byte* n = nonce, src = plaintext, dst = ciphertext, a = associatedData)
        {
            TagMask(keys, n, j0, full);
            AesPortableCore.CtrXor(keys, _rounds, j0, 2, src, dst, plaintext.Length);
            Tag(keys, a, associatedData.Length, dst, ciphertext.Length, full);
        }
        new ReadOnlySpan<byte>(full, tag.Length).CopyTo(tag);
        Unsafe.InitBlockUnaligned(full, 0, 16);
        Unsafe.InitBlockUnaligned(j0, 0, 16);
    }

    [SkipLocalsInit]
    public override bool Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag,
        Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, ciphertext.Length, plaintext.Length, tag.Length);
        byte* keys = _keys.Pointer;
        byte* j0 = stackalloc byte[16];
        byte* full = stackalloc byte[16];
        bool ok;
        fixed (byte* n = nonce, src = ciphertext, dst = plaintext, a = associatedData)
        {
            TagMask(keys, n, j0, full);
            // Verify before any plaintext is written (§7.2 steps 5-8; in place is therefore safe).
            Tag(keys, a, associatedData.Length, src, ciphertext.Length, full);
            ok = CryptographicOperations.FixedTimeEquals(new ReadOnlySpan<byte>(full, tag.Length), tag);
            if (ok) AesPortableCore.CtrXor(keys, _rounds, j0, 2, src, dst, ciphertext.Length);
        }
        Unsafe.InitBlockUnaligned(full, 0, 16);
        Unsafe.InitBlockUnaligned(j0, 0, 16);
        if (!ok) plaintext.Clear();
        return ok;
    }

    /// <summary>Writes J0 = nonce ‖ 0^31 ‖ 1 and E(K, J0).</summary>
    private void TagMask(byte* keys, byte* nonce, byte* j0, byte* mask)
    {
        Unsafe.CopyBlockUnaligned(j0, nonce, NonceSize);
        BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(j0 + 12, 4), 1);
        AesPortableCore.EncryptBlock(keys, _rounds, j0, mask);
    }

    /// <summary>mask ← GHASH_H(A, C, lengths) ⊕ mask: the full 16-byte tag.</summary>
    private static void Tag(byte* keys, byte* aad, int aadLength, byte* ciphertext, int length, byte* mask)
    {
        byte* h = keys + GhashOffset;
        ulong yHi = 0, yLo = 0;
        GhashPortable.Update(ref yHi, ref yLo, h, aad, aadLength);
        GhashPortable.Update(ref yHi, ref yLo, h, ciphertext, length);
        GhashPortable.UpdateBlock(ref yHi, ref yLo, h, (ulong)aadLength * 8, (ulong)length * 8);
        Span<byte> m = new(mask, 16);
        BinaryPrimitives.WriteUInt64BigEndian(m, yHi ^ BinaryPrimitives.ReadUInt64BigEndian(m));
        BinaryPrimitives.WriteUInt64BigEndian(m[8..], yLo ^ BinaryPrimitives.ReadUInt64BigEndian(m[8..]));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _keys.Dispose();
    }
}
