using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;
using AesX86 = System.Runtime.Intrinsics.X86.Aes;

namespace FastPath.Crypto.Intrinsics;

// AES-GCM (NIST SP 800-38D) with a 96-bit nonce, on AES-NI and (V)PCLMULQDQ.
//
// Design:
// - Keying (control plane): AES round keys (FIPS-197 expansion) and the GHASH key H = E(K, 0^128)
//   with its powers H^1..H^16 (POLYVAL domain, see Ghash.cs) go into one 64-byte aligned
//   NativeKeyBuffer: [0, 240) round keys, [256, 512) powers of H. Nothing is set up per call.
// - J0 = nonce ‖ 0^31 ‖ 1 (§7.1 step 2, 96-bit IV); the keystream starts at inc32(J0) (counter 2).
// - Bulk: 8 counter blocks per iteration, each AES round applied to all 8 before the next round
//   (hides AESENC latency). GHASH is stitched into the same loop: on encryption the 8 ciphertext
//   blocks of the previous iteration are hashed (one aggregated reduction, Ghash.Update8) between
//   the AES rounds of the current one; on decryption the current ciphertext is hashed while it is
//   being decrypted (single pass). AESENC runs on ports 0/1 and PCLMULQDQ on port 5, so the two
//   overlap.
// - Tail (< 128 bytes): AesNi.CtrXor (4- or 8-way) plus one aggregated GHASH pass over the padded
//   remaining blocks and the length block (§7.1 step 5).
// - Decrypt verifies in constant time (FixedTimeEquals) after the single pass; on mismatch the
//   whole output is cleared, so no plaintext is left behind (Primitives.cs contract).
internal sealed unsafe class AesGcmNi : AeadCipher
{
    private const int TableOffset = 256;
    private const int BufferSize = TableOffset + Ghash.TableBytes;

    private readonly NativeKeyBuffer _keys;
    private readonly int _rounds;
    private readonly int _keySize;

    public AesGcmNi(ReadOnlySpan<byte> key)
    {
        _rounds = AesKeySchedule.CheckKey(key);
        _keySize = key.Length;
        _keys = new NativeKeyBuffer(BufferSize);
        byte* p = _keys.Pointer;
        AesKeySchedule.ExpandEncrypt(key, _keys.Span[..AesNi.MaxRoundKeyBytes]);
        // H = CIPH_K(0^128) (§6.4), then its powers.
        Span<byte> h = stackalloc byte[16];
        AesNi.EncryptBlock(Vector128<byte>.Zero, p, _rounds).CopyTo(h);
        Ghash.Init(h, p + TableOffset);
        CryptographicOperations.ZeroMemory(h);
    }

    public override int KeySize => _keySize;

    [SkipLocalsInit]
    public override void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext,
        Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, plaintext.Length, ciphertext.Length, tag.Length);
        byte* keys = _keys.Pointer;
        fixed (byte* n = nonce, src = plaintext, dst = ciphertext, t = tag, a = associatedData)
        {
            Vector128<byte> full = EncryptCore(keys, _rounds, n, src, dst, plaintext.Length, a, associatedData.Length);
            if (tag.Length == 16)
            {
                full.Store(t);
            }
            else
            {
                // Truncated tag: MSB_t(T) (§7.1 step 6).
                byte* tmp = stackalloc byte[16];
                full.Store(tmp);
                for (int i = 0; i < tag.Length; i++) t[i] = tmp[i];
            }
        }
    }

    [SkipLocalsInit]
    public override bool Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag,
        Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, ciphertext.Length, plaintext.Length, tag.Length);
        byte* keys = _keys.Pointer;
        bool ok;
        fixed (byte* n = nonce, src = ciphertext, dst = plaintext, a = associatedData)
        {
            Vector128<byte> full = DecryptCore(keys, _rounds, n, src, dst, ciphertext.Length, a, associatedData.Length);
            byte* tmp = stackalloc byte[16];
            full.Store(tmp);
            // §7.2 step 8, in constant time over the tag length.
            ok = CryptographicOperations.FixedTimeEquals(new ReadOnlySpan<byte>(tmp, tag.Length), tag);
        }
        if (!ok) plaintext.Clear();
        return ok;
    }

    /// <summary>GCTR + GHASH for encryption; returns the full 16-byte tag.</summary>
    [SkipLocalsInit]
    private static Vector128<byte> EncryptCore(byte* keys, int rounds, byte* nonce, byte* src, byte* dst, nint length,
        byte* aad, nint aadLength)
    {
        byte* table = keys + TableOffset;
        // J0 = IV ‖ 0^31 ‖ 1; E(K, J0) masks the tag. Independent of the rest, so it overlaps.
        Vector128<uint> ctr = AesNi.CounterState(nonce, 1);
        Vector128<byte> tagMask = AesNi.EncryptBlock(AesNi.CounterBlock(ctr, 0), keys, rounds);
        ctr += Vector128.Create(0u, 0u, 0u, 1u);

        Vector128<ulong> acc = Vector128<ulong>.Zero;
        if (aadLength > 0) acc = Ghash.UpdatePadded(acc, aad, aadLength, table, false, default);

        nint i = 0;
        while (length - i >= 128)
        {
            Vector128<byte> k = Vector128.Load(keys);
            Vector128<byte> b0 = AesNi.CounterBlock(ctr, 0) ^ k;
            Vector128<byte> b1 = AesNi.CounterBlock(ctr, 1) ^ k;
            Vector128<byte> b2 = AesNi.CounterBlock(ctr, 2) ^ k;
            Vector128<byte> b3 = AesNi.CounterBlock(ctr, 3) ^ k;
            Vector128<byte> b4 = AesNi.CounterBlock(ctr, 4) ^ k;
            Vector128<byte> b5 = AesNi.CounterBlock(ctr, 5) ^ k;
            Vector128<byte> b6 = AesNi.CounterBlock(ctr, 6) ^ k;
            Vector128<byte> b7 = AesNi.CounterBlock(ctr, 7) ^ k;
            ctr += Vector128.Create(0u, 0u, 0u, 8u);
            k = Vector128.Load(keys + 16);
            b0 = AesX86.Encrypt(b0, k); b1 = AesX86.Encrypt(b1, k); b2 = AesX86.Encrypt(b2, k); b3 = AesX86.Encrypt(b3, k);
            b4 = AesX86.Encrypt(b4, k); b5 = AesX86.Encrypt(b5, k); b6 = AesX86.Encrypt(b6, k); b7 = AesX86.Encrypt(b7, k);
            // Stitched: hash the previous iteration's ciphertext while these rounds are in flight.
            if (i != 0) acc = Ghash.Update8(acc, dst + i - 128, table);
            for (int r = 2; r < rounds; r++)
            {
                k = Vector128.Load(keys + 16 * r);
                b0 = AesX86.Encrypt(b0, k); b1 = AesX86.Encrypt(b1, k); b2 = AesX86.Encrypt(b2, k); b3 = AesX86.Encrypt(b3, k);
                b4 = AesX86.Encrypt(b4, k); b5 = AesX86.Encrypt(b5, k); b6 = AesX86.Encrypt(b6, k); b7 = AesX86.Encrypt(b7, k);
            }
            k = Vector128.Load(keys + 16 * rounds);
            byte* s = src + i;
            byte* d = dst + i;
            (AesX86.EncryptLast(b0, k) ^ Vector128.Load(s)).Store(d);
            (AesX86.EncryptLast(b1, k) ^ Vector128.Load(s + 16)).Store(d + 16);
            (AesX86.EncryptLast(b2, k) ^ Vector128.Load(s + 32)).Store(d + 32);
            (AesX86.EncryptLast(b3, k) ^ Vector128.Load(s + 48)).Store(d + 48);
            (AesX86.EncryptLast(b4, k) ^ Vector128.Load(s + 64)).Store(d + 64);
            (AesX86.EncryptLast(b5, k) ^ Vector128.Load(s + 80)).Store(d + 80);
            (AesX86.EncryptLast(b6, k) ^ Vector128.Load(s + 96)).Store(d + 96);
            (AesX86.EncryptLast(b7, k) ^ Vector128.Load(s + 112)).Store(d + 112);
            i += 128;
        }
        if (i != 0) acc = Ghash.Update8(acc, dst + i - 128, table);

        nint rest = length - i;
        if (rest > 0) AesNi.CtrXor(keys, rounds, ctr, src + i, dst + i, rest);
        // [len(A)]64 ‖ [len(C)]64 in bits (§7.1 step 5), POLYVAL domain: low half = len(C).
        Vector128<ulong> lengths = Vector128.Create((ulong)length * 8, (ulong)aadLength * 8);
        acc = Ghash.UpdatePadded(acc, dst + i, rest, table, true, lengths);
        return Ghash.ToBlock(acc) ^ tagMask;
    }

    /// <summary>GHASH + GCTR for decryption in one pass; returns the full 16-byte expected tag.
    /// Each ciphertext block is hashed before the plaintext is stored (in place is allowed).</summary>
    [SkipLocalsInit]
    private static Vector128<byte> DecryptCore(byte* keys, int rounds, byte* nonce, byte* src, byte* dst, nint length,
        byte* aad, nint aadLength)
    {
        byte* table = keys + TableOffset;
        Vector128<uint> ctr = AesNi.CounterState(nonce, 1);
        Vector128<byte> tagMask = AesNi.EncryptBlock(AesNi.CounterBlock(ctr, 0), keys, rounds);
        ctr += Vector128.Create(0u, 0u, 0u, 1u);

        Vector128<ulong> acc = Vector128<ulong>.Zero;
        if (aadLength > 0) acc = Ghash.UpdatePadded(acc, aad, aadLength, table, false, default);

        nint i = 0;
        while (length - i >= 128)
        {
            byte* s = src + i;
            byte* d = dst + i;
            Vector128<byte> k = Vector128.Load(keys);
            Vector128<byte> b0 = AesNi.CounterBlock(ctr, 0) ^ k;
            Vector128<byte> b1 = AesNi.CounterBlock(ctr, 1) ^ k;
            Vector128<byte> b2 = AesNi.CounterBlock(ctr, 2) ^ k;
            Vector128<byte> b3 = AesNi.CounterBlock(ctr, 3) ^ k;
            Vector128<byte> b4 = AesNi.CounterBlock(ctr, 4) ^ k;
            Vector128<byte> b5 = AesNi.CounterBlock(ctr, 5) ^ k;
            Vector128<byte> b6 = AesNi.CounterBlock(ctr, 6) ^ k;
            Vector128<byte> b7 = AesNi.CounterBlock(ctr, 7) ^ k;
            ctr += Vector128.Create(0u, 0u, 0u, 8u);
            k = Vector128.Load(keys + 16);
            b0 = AesX86.Encrypt(b0, k); b1 = AesX86.Encrypt(b1, k); b2 = AesX86.Encrypt(b2, k); b3 = AesX86.Encrypt(b3, k);
            b4 = AesX86.Encrypt(b4, k); b5 = AesX86.Encrypt(b5, k); b6 = AesX86.Encrypt(b6, k); b7 = AesX86.Encrypt(b7, k);
            // Stitched: hash this iteration's ciphertext while its keystream is being computed
            // (the loads precede the stores below, so in-place operation is safe).
            acc = Ghash.Update8(acc, s, table);
            for (int r = 2; r < rounds; r++)
            {
                k = Vector128.Load(keys + 16 * r);
                b0 = AesX86.Encrypt(b0, k); b1 = AesX86.Encrypt(b1, k); b2 = AesX86.Encrypt(b2, k); b3 = AesX86.Encrypt(b3, k);
                b4 = AesX86.Encrypt(b4, k); b5 = AesX86.Encrypt(b5, k); b6 = AesX86.Encrypt(b6, k); b7 = AesX86.Encrypt(b7, k);
            }
            k = Vector128.Load(keys + 16 * rounds);
            (AesX86.EncryptLast(b0, k) ^ Vector128.Load(s)).Store(d);
            (AesX86.EncryptLast(b1, k) ^ Vector128.Load(s + 16)).Store(d + 16);
            (AesX86.EncryptLast(b2, k) ^ Vector128.Load(s + 32)).Store(d + 32);
            (AesX86.EncryptLast(b3, k) ^ Vector128.Load(s + 48)).Store(d + 48);
            (AesX86.EncryptLast(b4, k) ^ Vector128.Load(s + 64)).Store(d + 64);
            (AesX86.EncryptLast(b5, k) ^ Vector128.Load(s + 80)).Store(d + 80);
            (AesX86.EncryptLast(b6, k) ^ Vector128.Load(s + 96)).Store(d + 96);
            (AesX86.EncryptLast(b7, k) ^ Vector128.Load(s + 112)).Store(d + 112);
            i += 128;
        }

        nint rest = length - i;
        Vector128<ulong> lengths = Vector128.Create((ulong)length * 8, (ulong)aadLength * 8);
        // Hash the remaining ciphertext before it may be overwritten in place.
        acc = Ghash.UpdatePadded(acc, src + i, rest, table, true, lengths);
        if (rest > 0) AesNi.CtrXor(keys, rounds, ctr, src + i, dst + i, rest);
        return Ghash.ToBlock(acc) ^ tagMask;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _keys.Dispose();
    }
}
