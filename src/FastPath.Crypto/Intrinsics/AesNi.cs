using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using AesX86 = System.Runtime.Intrinsics.X86.Aes;

namespace FastPath.Crypto.Intrinsics;

// Shared AES-NI block helpers (FIPS-197 rounds via AESENC/AESENCLAST, AESDEC/AESDECLAST).
//
// Design: every helper takes a raw pointer to the round keys as laid out by
// Internal/AesKeySchedule (Nr+1 16-byte blocks in FIPS-197 byte order, which is what AES-NI
// XORs; decryption helpers take the Equivalent Inverse Cipher keys, FIPS-197 §5.3.5) and the
// round count Nr (10/12/14). Keys live in a NativeKeyBuffer, so the pointer is stable and
// 64-byte aligned. The 8-way helpers apply each round to 8 independent blocks before the next
// round so the AESENC latency (3-4 cycles, two per cycle throughput on Ice Lake) is hidden.
//
// API is kept stable for the other AES-NI modes (CBC, CTR, GCM): callers check
// IsSupported (the engine does) before calling.
internal static unsafe class AesNi
{
    /// <summary>Bytes of round keys for the largest key (AES-256: 15 round keys).</summary>
    public const int MaxRoundKeyBytes = 15 * 16;

    public static bool IsSupported => AesX86.IsSupported && Ssse3.IsSupported;

    /// <summary>Round key <paramref name="i"/> (0..Nr).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> RoundKey(byte* roundKeys, int i) => Vector128.Load(roundKeys + 16 * i);

    /// <summary>FIPS-197 Cipher() on one block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> EncryptBlock(Vector128<byte> block, byte* roundKeys, int rounds)
    {
        block ^= Vector128.Load(roundKeys);
        for (int r = 1; r < rounds; r++) block = AesX86.Encrypt(block, Vector128.Load(roundKeys + 16 * r));
        return AesX86.EncryptLast(block, Vector128.Load(roundKeys + 16 * rounds));
    }

    /// <summary>FIPS-197 EqInvCipher() on one block, with keys from AesKeySchedule.ExpandDecrypt.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> DecryptBlock(Vector128<byte> block, byte* decRoundKeys, int rounds)
    {
        block ^= Vector128.Load(decRoundKeys);
        for (int r = 1; r < rounds; r++) block = AesX86.Decrypt(block, Vector128.Load(decRoundKeys + 16 * r));
        return AesX86.DecryptLast(block, Vector128.Load(decRoundKeys + 16 * rounds));
    }

    /// <summary>Encrypts 8 consecutive blocks (128 bytes) from <paramref name="src"/> to <paramref name="dst"/>
    /// (may be the same address), 8-way interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Encrypt8(byte* roundKeys, int rounds, byte* src, byte* dst)
    {
        Vector128<byte> k = Vector128.Load(roundKeys);
        Vector128<byte> b0 = Vector128.Load(src) ^ k;
        Vector128<byte> b1 = Vector128.Load(src + 16) ^ k;
        Vector128<byte> b2 = Vector128.Load(src + 32) ^ k;
        Vector128<byte> b3 = Vector128.Load(src + 48) ^ k;
        Vector128<byte> b4 = Vector128.Load(src + 64) ^ k;
        Vector128<byte> b5 = Vector128.Load(src + 80) ^ k;
        Vector128<byte> b6 = Vector128.Load(src + 96) ^ k;
        Vector128<byte> b7 = Vector128.Load(src + 112) ^ k;
        for (int r = 1; r < rounds; r++)
        {
            k = Vector128.Load(roundKeys + 16 * r);
            b0 = AesX86.Encrypt(b0, k); b1 = AesX86.Encrypt(b1, k); b2 = AesX86.Encrypt(b2, k); b3 = AesX86.Encrypt(b3, k);
            b4 = AesX86.Encrypt(b4, k); b5 = AesX86.Encrypt(b5, k); b6 = AesX86.Encrypt(b6, k); b7 = AesX86.Encrypt(b7, k);
        }
        k = Vector128.Load(roundKeys + 16 * rounds);
        AesX86.EncryptLast(b0, k).Store(dst);
        AesX86.EncryptLast(b1, k).Store(dst + 16);
        AesX86.EncryptLast(b2, k).Store(dst + 32);
        AesX86.EncryptLast(b3, k).Store(dst + 48);
        AesX86.EncryptLast(b4, k).Store(dst + 64);
        AesX86.EncryptLast(b5, k).Store(dst + 80);
        AesX86.EncryptLast(b6, k).Store(dst + 96);
        AesX86.EncryptLast(b7, k).Store(dst + 112);
    }

    /// <summary>Decrypts 8 consecutive blocks (128 bytes) from <paramref name="src"/> to <paramref name="dst"/>
    /// (may be the same address), 8-way interleaved, with Equivalent Inverse Cipher keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decrypt8(byte* decRoundKeys, int rounds, byte* src, byte* dst)
    {
        Vector128<byte> k = Vector128.Load(decRoundKeys);
        Vector128<byte> b0 = Vector128.Load(src) ^ k;
        Vector128<byte> b1 = Vector128.Load(src + 16) ^ k;
        Vector128<byte> b2 = Vector128.Load(src + 32) ^ k;
        Vector128<byte> b3 = Vector128.Load(src + 48) ^ k;
        Vector128<byte> b4 = Vector128.Load(src + 64) ^ k;
        Vector128<byte> b5 = Vector128.Load(src + 80) ^ k;
        Vector128<byte> b6 = Vector128.Load(src + 96) ^ k;
        Vector128<byte> b7 = Vector128.Load(src + 112) ^ k;
        for (int r = 1; r < rounds; r++)
        {
            k = Vector128.Load(decRoundKeys + 16 * r);
            b0 = AesX86.Decrypt(b0, k); b1 = AesX86.Decrypt(b1, k); b2 = AesX86.Decrypt(b2, k); b3 = AesX86.Decrypt(b3, k);
            b4 = AesX86.Decrypt(b4, k); b5 = AesX86.Decrypt(b5, k); b6 = AesX86.Decrypt(b6, k); b7 = AesX86.Decrypt(b7, k);
        }
        k = Vector128.Load(decRoundKeys + 16 * rounds);
        AesX86.DecryptLast(b0, k).Store(dst);
        AesX86.DecryptLast(b1, k).Store(dst + 16);
        AesX86.DecryptLast(b2, k).Store(dst + 32);
        AesX86.DecryptLast(b3, k).Store(dst + 48);
        AesX86.DecryptLast(b4, k).Store(dst + 64);
        AesX86.DecryptLast(b5, k).Store(dst + 80);
        AesX86.DecryptLast(b6, k).Store(dst + 96);
        AesX86.DecryptLast(b7, k).Store(dst + 112);
    }

    // ---- Counter mode (shared by RFC 3686 CTR and the GCM tail) ----------------------------------
    //
    // A counter is kept as a Vector128<uint> whose lanes 0..2 hold the first 12 bytes of the
    // counter block as loaded and lane 3 holds the 32-bit block counter as a native integer, so
    // incrementing is one PADDD (mod 2^32, which is exactly inc32 of SP 800-38D §6.2 and the
    // RFC 3686 counter); CounterBlock byte-swaps lane 3 into the big-endian block.

    /// <summary>Builds the counter state from a 12-byte prefix and the first counter value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> CounterState(byte* prefix12, uint first) =>
        Vector128.Create(Unsafe.ReadUnaligned<uint>(prefix12), Unsafe.ReadUnaligned<uint>(prefix12 + 4),
            Unsafe.ReadUnaligned<uint>(prefix12 + 8), first);

    /// <summary>The 16-byte counter block prefix ‖ BE32(counter + <paramref name="add"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> CounterBlock(Vector128<uint> state, uint add) =>
        Ssse3.Shuffle((state + Vector128.Create(0u, 0u, 0u, add)).AsByte(),
            Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 14, 13, 12));

    /// <summary>XORs the keystream E(K, ctr), E(K, ctr+1), ... into <paramref name="length"/> bytes
    /// (any length) from <paramref name="src"/> to <paramref name="dst"/> (may be the same address);
    /// returns the counter state after the last (partial) block.</summary>
    [SkipLocalsInit]
    public static Vector128<uint> CtrXor(byte* roundKeys, int rounds, Vector128<uint> ctr, byte* src, byte* dst, nint length)
    {
        while (length >= 128)
        {
            Vector128<byte> k = Vector128.Load(roundKeys);
            Vector128<byte> b0 = CounterBlock(ctr, 0) ^ k;
            Vector128<byte> b1 = CounterBlock(ctr, 1) ^ k;
            Vector128<byte> b2 = CounterBlock(ctr, 2) ^ k;
            Vector128<byte> b3 = CounterBlock(ctr, 3) ^ k;
            Vector128<byte> b4 = CounterBlock(ctr, 4) ^ k;
            Vector128<byte> b5 = CounterBlock(ctr, 5) ^ k;
            Vector128<byte> b6 = CounterBlock(ctr, 6) ^ k;
            Vector128<byte> b7 = CounterBlock(ctr, 7) ^ k;
            ctr += Vector128.Create(0u, 0u, 0u, 8u);
            for (int r = 1; r < rounds; r++)
            {
                k = Vector128.Load(roundKeys + 16 * r);
                b0 = AesX86.Encrypt(b0, k); b1 = AesX86.Encrypt(b1, k); b2 = AesX86.Encrypt(b2, k); b3 = AesX86.Encrypt(b3, k);
                b4 = AesX86.Encrypt(b4, k); b5 = AesX86.Encrypt(b5, k); b6 = AesX86.Encrypt(b6, k); b7 = AesX86.Encrypt(b7, k);
            }
            k = Vector128.Load(roundKeys + 16 * rounds);
            (AesX86.EncryptLast(b0, k) ^ Vector128.Load(src)).Store(dst);
            (AesX86.EncryptLast(b1, k) ^ Vector128.Load(src + 16)).Store(dst + 16);
            (AesX86.EncryptLast(b2, k) ^ Vector128.Load(src + 32)).Store(dst + 32);
            (AesX86.EncryptLast(b3, k) ^ Vector128.Load(src + 48)).Store(dst + 48);
            (AesX86.EncryptLast(b4, k) ^ Vector128.Load(src + 64)).Store(dst + 64);
            (AesX86.EncryptLast(b5, k) ^ Vector128.Load(src + 80)).Store(dst + 80);
            (AesX86.EncryptLast(b6, k) ^ Vector128.Load(src + 96)).Store(dst + 96);
            (AesX86.EncryptLast(b7, k) ^ Vector128.Load(src + 112)).Store(dst + 112);
            src += 128; dst += 128; length -= 128;
        }
        if (length > 0) ctr = CtrXorTail(roundKeys, rounds, ctr, src, dst, (int)length);
        return ctr;
    }

    /// <summary>The last 1..127 bytes: 1, 4 or 8 keystream blocks computed at once (each round on all
    /// of them), XORed from registers; a partial last block is read and written with exact-size
    /// accesses, so nothing outside the spans is touched and no keystream is left on the stack.</summary>
    private static Vector128<uint> CtrXorTail(byte* roundKeys, int rounds, Vector128<uint> ctr, byte* src, byte* dst, int length)
    {
        int blocks = (length + 15) >> 4;
        Vector128<byte> k = Vector128.Load(roundKeys);
        Vector128<byte> b0 = CounterBlock(ctr, 0) ^ k, b1, b2, b3, b4, b5, b6, b7;
        if (blocks == 1)
        {
            for (int r = 1; r < rounds; r++) b0 = AesX86.Encrypt(b0, Vector128.Load(roundKeys + 16 * r));
            b0 = AesX86.EncryptLast(b0, Vector128.Load(roundKeys + 16 * rounds));
            b1 = b2 = b3 = b4 = b5 = b6 = b7 = default;
        }
        else if (blocks <= 4)
        {
            b1 = CounterBlock(ctr, 1) ^ k;
            b2 = CounterBlock(ctr, 2) ^ k;
            b3 = CounterBlock(ctr, 3) ^ k;
            for (int r = 1; r < rounds; r++)
            {
                k = Vector128.Load(roundKeys + 16 * r);
                b0 = AesX86.Encrypt(b0, k); b1 = AesX86.Encrypt(b1, k); b2 = AesX86.Encrypt(b2, k); b3 = AesX86.Encrypt(b3, k);
            }
            k = Vector128.Load(roundKeys + 16 * rounds);
            b0 = AesX86.EncryptLast(b0, k); b1 = AesX86.EncryptLast(b1, k); b2 = AesX86.EncryptLast(b2, k); b3 = AesX86.EncryptLast(b3, k);
            b4 = b5 = b6 = b7 = default;
        }
        else
        {
            b1 = CounterBlock(ctr, 1) ^ k;
            b2 = CounterBlock(ctr, 2) ^ k;
            b3 = CounterBlock(ctr, 3) ^ k;
            b4 = CounterBlock(ctr, 4) ^ k;
            b5 = CounterBlock(ctr, 5) ^ k;
            b6 = CounterBlock(ctr, 6) ^ k;
            b7 = CounterBlock(ctr, 7) ^ k;
            for (int r = 1; r < rounds; r++)
            {
                k = Vector128.Load(roundKeys + 16 * r);
                b0 = AesX86.Encrypt(b0, k); b1 = AesX86.Encrypt(b1, k); b2 = AesX86.Encrypt(b2, k); b3 = AesX86.Encrypt(b3, k);
                b4 = AesX86.Encrypt(b4, k); b5 = AesX86.Encrypt(b5, k); b6 = AesX86.Encrypt(b6, k); b7 = AesX86.Encrypt(b7, k);
            }
            k = Vector128.Load(roundKeys + 16 * rounds);
            b0 = AesX86.EncryptLast(b0, k); b1 = AesX86.EncryptLast(b1, k); b2 = AesX86.EncryptLast(b2, k); b3 = AesX86.EncryptLast(b3, k);
            b4 = AesX86.EncryptLast(b4, k); b5 = AesX86.EncryptLast(b5, k); b6 = AesX86.EncryptLast(b6, k); b7 = AesX86.EncryptLast(b7, k);
        }
        // XOR whole blocks in order; "ks" ends as the keystream block of the partial block, if any.
        Vector128<byte> ks = b0;
        if (length >= 16)
        {
            (b0 ^ Vector128.Load(src)).Store(dst); ks = b1;
            if (length >= 32)
            {
                (b1 ^ Vector128.Load(src + 16)).Store(dst + 16); ks = b2;
                if (length >= 48)
                {
                    (b2 ^ Vector128.Load(src + 32)).Store(dst + 32); ks = b3;
                    if (length >= 64)
                    {
                        (b3 ^ Vector128.Load(src + 48)).Store(dst + 48); ks = b4;
                        if (length >= 80)
                        {
                            (b4 ^ Vector128.Load(src + 64)).Store(dst + 64); ks = b5;
                            if (length >= 96)
                            {
                                (b5 ^ Vector128.Load(src + 80)).Store(dst + 80); ks = b6;
                                if (length >= 112) { (b6 ^ Vector128.Load(src + 96)).Store(dst + 96); ks = b7; }
                            }
                        }
                    }
                }
            }
        }
        int full = length & ~15;
        if (full < length) StorePartial(dst + full, ks ^ LoadPartial(src + full, length - full), length - full);
        return ctr + Vector128.Create(0u, 0u, 0u, (uint)blocks);
    }

    /// <summary>Loads 1..15 bytes as a zero-padded block with exact-size reads (no over-read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> LoadPartial(byte* p, int n)
    {
        ulong lo, hi = 0;
        if (n >= 8)
        {
            lo = Unsafe.ReadUnaligned<ulong>(p);
            hi = ReadUpTo7(p + 8, n - 8);
        }
        else
        {
            lo = ReadUpTo7(p, n);
        }
        return Vector128.Create(lo, hi).AsByte();
    }

    /// <summary>Stores the first 1..15 bytes of <paramref name="v"/> with exact-size writes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StorePartial(byte* p, Vector128<byte> v, int n)
    {
        ulong lo = v.AsUInt64().GetElement(0);
        if (n >= 8)
        {
            Unsafe.WriteUnaligned(p, lo);
            WriteUpTo7(p + 8, v.AsUInt64().GetElement(1), n - 8);
        }
        else
        {
            WriteUpTo7(p, lo, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadUpTo7(byte* p, int n)
    {
        ulong v = 0;
        int o = 0;
        if ((n & 4) != 0) { v = Unsafe.ReadUnaligned<uint>(p); o = 4; }
        if ((n & 2) != 0) { v |= (ulong)Unsafe.ReadUnaligned<ushort>(p + o) << (8 * o); o += 2; }
        if ((n & 1) != 0) v |= (ulong)p[o] << (8 * o);
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteUpTo7(byte* p, ulong v, int n)
    {
        int o = 0;
        if ((n & 4) != 0) { Unsafe.WriteUnaligned(p, (uint)v); o = 4; }
        if ((n & 2) != 0) { Unsafe.WriteUnaligned(p + o, (ushort)(v >> (8 * o))); o += 2; }
        if ((n & 1) != 0) p[o] = (byte)(v >> (8 * o));
    }
}
