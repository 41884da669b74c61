using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using FastPath.Crypto.Internal;
using AesX86 = System.Runtime.Intrinsics.X86.Aes;

namespace FastPath.Crypto.Intrinsics;

// AES-CBC (RFC 3602, NIST SP 800-38A §6.2) on AES-NI, without padding (ESP pads, RFC 4303 §2.4).
//
// Design:
// - Keying: encryption round keys (FIPS-197 expansion) at [0, 240) and the Equivalent Inverse Cipher
//   keys (FIPS-197 §5.3.5, AesKeySchedule.ExpandDecrypt) at [256, 496) of one 64-byte aligned
//   NativeKeyBuffer, so both schedules start on a cache line.
// - Encrypt: C_i = E(P_i ⊕ C_{i−1}) is one serial AESENC chain per message, so a single message runs
//   at the AESENC latency (Nr × ~4 cycles per block on Zen 4), the same bound OpenSSL has. P_i ⊕ K_0
//   is computed off the chain, so the chain itself is one XOR plus Nr AES rounds.
// - Decrypt: P_i = D(C_i) ⊕ C_{i−1} has no dependency between blocks: 8 blocks per iteration, each
//   round applied to all 8 (the AesNi.Decrypt8 shape). The 8 ciphertext blocks are kept in
//   registers until the plaintext is stored, so in place works; the tail (1..7 blocks) runs 4-way
//   and then block by block (those are independent too, so out-of-order execution overlaps them).
// - EncryptMulti: the parallelism CBC encryption lacks within a message is taken across messages.
//   Up to 8 lanes, each an independent chain with its own IV; every step advances every lane by one
//   block, each AES round applied to all 8 states before the next round (8 chains × 4-cycle latency
//   ≈ the 2-per-cycle AESENC throughput). A segment runs for the shortest remaining lane; lanes
//   that finish are refilled with the next job, so mixed lengths keep all 8 chains busy. Once no job
//   is left to refill with, idle lanes replay an active lane (same state, input and output: they
//   compute and store the same bytes), so the kernel stays 8-wide at no cost in time (latency-bound)
//   and needs no narrower variants. All job lengths are validated before any output is written.
// - Measured on this host (AMD EPYC Zen 4, shared and noisy; Stopwatch best of 400 trials, AES-128,
//   in place): Encrypt 1424 B 915 ns (1.56 GB/s, the AESENC latency bound; `openssl speed -evp
//   aes-128-cbc` 1.49 GB/s), 64 B 25 ns; Decrypt 1424 B 138 ns (10.3 GB/s; openssl 11.6 GB/s),
//   64 B 18 ns; EncryptMulti of 16 × 1424 B 128 ns per message (11.1 GB/s), 16 × 64 B 8 ns per
//   message. BCL Aes.EncryptCbc/DecryptCbc: 2.4/1.6 µs at 1424 B, ~0.95 µs at 64 B (per-call setup).
internal sealed unsafe class AesCbcNi : CbcCipher
{
    private const int DecryptOffset = 256;
    private const int Lanes = 8;

    private readonly NativeKeyBuffer _keys;
    private readonly int _rounds;
    private readonly int _keySize;

    public AesCbcNi(ReadOnlySpan<byte> key)
    {
        _rounds = AesKeySchedule.CheckKey(key);
        _keySize = key.Length;
        _keys = new NativeKeyBuffer(2 * DecryptOffset);
        Span<byte> all = _keys.Span;
        AesKeySchedule.ExpandEncrypt(key, all[..DecryptOffset]);
        AesKeySchedule.ExpandDecrypt(all[..DecryptOffset], _rounds, all[DecryptOffset..]);
    }

    public override int BlockSize => 16;
    public override int KeySize => _keySize;

    public override void Encrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        CheckArguments(iv, input.Length, output.Length);
        fixed (byte* v = iv, src = input, dst = output)
        {
            EncryptChain(_keys.Pointer, _rounds, Vector128.Load(v), src, dst, input.Length);
        }
    }

    public override void Decrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        CheckArguments(iv, input.Length, output.Length);
        fixed (byte* v = iv, src = input, dst = output)
        {
            DecryptCore(_keys.Pointer + DecryptOffset, _rounds, Vector128.Load(v), src, dst, input.Length);
        }
    }

    /// <summary>One CBC chain: C_i = E(P_i ⊕ C_{i−1}), C_0 = IV; returns the last ciphertext block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> EncryptChain(byte* keys, int rounds, Vector128<byte> c, byte* src, byte* dst, nint length)
    {
        Vector128<byte> k0 = Vector128.Load(keys);
        Vector128<byte> kLast = Vector128.Load(keys + 16 * rounds);
        for (nint off = 0; off < length; off += 16)
        {
            Vector128<byte> x = c ^ (Vector128.Load(src + off) ^ k0);
            for (int r = 1; r < rounds; r++) x = AesX86.Encrypt(x, Vector128.Load(keys + 16 * r));
            c = AesX86.EncryptLast(x, kLast);
            c.Store(dst + off);
        }
        return c;
    }

    [SkipLocalsInit]
    private static void DecryptCore(byte* dk, int rounds, Vector128<byte> previous, byte* src, byte* dst, nint length)
    {
        while (length >= 128)
        {
            Vector128<byte> c0 = Vector128.Load(src), c1 = Vector128.Load(src + 16);
            Vector128<byte> c2 = Vector128.Load(src + 32), c3 = Vector128.Load(src + 48);
            Vector128<byte> c4 = Vector128.Load(src + 64), c5 = Vector128.Load(src + 80);
            Vector128<byte> c6 = Vector128.Load(src + 96), c7 = Vector128.Load(src + 112);
            Vector128<byte> k = Vector128.Load(dk);
            Vector128<byte> b0 = c0 ^ k, b1 = c1 ^ k, b2 = c2 ^ k, b3 = c3 ^ k;
            Vector128<byte> b4 = c4 ^ k, b5 = c5 ^ k, b6 = c6 ^ k, b7 = c7 ^ k;
            for (int r = 1; r < rounds; r++)
            {
                k = Vector128.Load(dk + 16 * r);
                b0 = AesX86.Decrypt(b0, k); b1 = AesX86.Decrypt(b1, k); b2 = AesX86.Decrypt(b2, k); b3 = AesX86.Decrypt(b3, k);
                b4 = AesX86.Decrypt(b4, k); b5 = AesX86.Decrypt(b5, k); b6 = AesX86.Decrypt(b6, k); b7 = AesX86.Decrypt(b7, k);
            }
            // DecryptLast(b, k) ⊕ C = DecryptLast(b, k ⊕ C): the chaining XOR folds into the last round key.
            k = Vector128.Load(dk + 16 * rounds);
            AesX86.DecryptLast(b0, k ^ previous).Store(dst);
            AesX86.DecryptLast(b1, k ^ c0).Store(dst + 16);
            AesX86.DecryptLast(b2, k ^ c1).Store(dst + 32);
            AesX86.DecryptLast(b3, k ^ c2).Store(dst + 48);
            AesX86.DecryptLast(b4, k ^ c3).Store(dst + 64);
            AesX86.DecryptLast(b5, k ^ c4).Store(dst + 80);
            AesX86.DecryptLast(b6, k ^ c5).Store(dst + 96);
            AesX86.DecryptLast(b7, k ^ c6).Store(dst + 112);
            previous = c7;
            src += 128; dst += 128; length -= 128;
        }
        if (length >= 64)
        {
            Vector128<byte> c0 = Vector128.Load(src), c1 = Vector128.Load(src + 16);
            Vector128<byte> c2 = Vector128.Load(src + 32), c3 = Vector128.Load(src + 48);
            Vector128<byte> k = Vector128.Load(dk);
            Vector128<byte> b0 = c0 ^ k, b1 = c1 ^ k, b2 = c2 ^ k, b3 = c3 ^ k;
            for (int r = 1; r < rounds; r++)
            {
                k = Vector128.Load(dk + 16 * r);
                b0 = AesX86.Decrypt(b0, k); b1 = AesX86.Decrypt(b1, k); b2 = AesX86.Decrypt(b2, k); b3 = AesX86.Decrypt(b3, k);
            }
            k = Vector128.Load(dk + 16 * rounds);
            AesX86.DecryptLast(b0, k ^ previous).Store(dst);
            AesX86.DecryptLast(b1, k ^ c0).Store(dst + 16);
            AesX86.DecryptLast(b2, k ^ c1).Store(dst + 32);
            AesX86.DecryptLast(b3, k ^ c2).Store(dst + 48);
            previous = c3;
            src += 64; dst += 64; length -= 64;
        }
        while (length > 0)
        {
            Vector128<byte> c = Vector128.Load(src);
            Vector128<byte> b = c ^ Vector128.Load(dk);
            for (int r = 1; r < rounds; r++) b = AesX86.Decrypt(b, Vector128.Load(dk + 16 * r));
            AesX86.DecryptLast(b, Vector128.Load(dk + 16 * rounds) ^ previous).Store(dst);
            previous = c;
            src += 16; dst += 16; length -= 16;
        }
    }

    /// <summary>Lane bookkeeping for EncryptMulti (on the stack).</summary>
    private struct Lane
    {
        public byte* Src;
        public byte* Dst;
        public nint Remaining;
    }

    [SkipLocalsInit]
    public override void EncryptMulti(ReadOnlySpan<CbcJob> jobs)
    {
        // Validate everything first: a bad job must not leave earlier jobs half-encrypted.
        for (int i = 0; i < jobs.Length; i++)
        {
            int length = jobs[i].Length;
            if (length < 0 || (length & 15) != 0) ThrowHelper.Length("jobs", length, "a multiple of 16 in every job");
        }
        byte* keys = _keys.Pointer;
        int rounds = _rounds;
        Lane* lanes = stackalloc Lane[Lanes];
        Vector128<byte>* chains = stackalloc Vector128<byte>[Lanes];
        int next = 0, active = 0;
        fixed (CbcJob* jobBase = jobs)
        {
            while (true)
            {
                // Fill free lanes (kept contiguous: lanes 0..active-1) with the next non-empty jobs.
                while (active < Lanes && next < jobs.Length)
                {
                    CbcJob* job = jobBase + next++;
                    if (job->Length == 0) continue;
                    lanes[active].Src = job->Input;
                    lanes[active].Dst = job->Output;
                    lanes[active].Remaining = job->Length;
                    chains[active] = Vector128.Load(job->Iv);
                    active++;
                }
                if (active == 0) return;
                if (active == 1)
                {
                    // A single chain left: no lanes to interleave with.
                    EncryptChain(keys, rounds, chains[0], lanes[0].Src, lanes[0].Dst, lanes[0].Remaining);
                    active = 0;
                    continue;
                }
                // Idle lanes replay lane 0 (same state, input and output: identical stores).
                for (int l = active; l < Lanes; l++) { lanes[l] = lanes[0]; chains[l] = chains[0]; }
                nint segment = lanes[0].Remaining;
                for (int l = 1; l < active; l++) segment = Math.Min(segment, lanes[l].Remaining);
                Encrypt8Chains(keys, rounds, lanes, chains, segment);
                // Retire finished lanes, compacting the rest to the front.
                int kept = 0;
                for (int l = 0; l < active; l++)
                {
                    lanes[l].Src += segment;
                    lanes[l].Dst += segment;
                    lanes[l].Remaining -= segment;
                    if (lanes[l].Remaining != 0)
                    {
                        lanes[kept] = lanes[l];
                        chains[kept] = chains[l];
                        kept++;
                    }
                }
                active = kept;
            }
        }
    }

    /// <summary>Advances 8 independent CBC chains by <paramref name="length"/> bytes each, every AES
    /// round applied to all 8 states before the next; states in and out through <paramref name="chains"/>.</summary>
    [SkipLocalsInit]
    private static void Encrypt8Chains(byte* keys, int rounds, Lane* lanes, Vector128<byte>* chains, nint length)
    {
        byte* s0 = lanes[0].Src, s1 = lanes[1].Src, s2 = lanes[2].Src, s3 = lanes[3].Src;
        byte* s4 = lanes[4].Src, s5 = lanes[5].Src, s6 = lanes[6].Src, s7 = lanes[7].Src;
        byte* d0 = lanes[0].Dst, d1 = lanes[1].Dst, d2 = lanes[2].Dst, d3 = lanes[3].Dst;
        byte* d4 = lanes[4].Dst, d5 = lanes[5].Dst, d6 = lanes[6].Dst, d7 = lanes[7].Dst;
        Vector128<byte> c0 = chains[0], c1 = chains[1], c2 = chains[2], c3 = chains[3];
        Vector128<byte> c4 = chains[4], c5 = chains[5], c6 = chains[6], c7 = chains[7];
        for (nint off = 0; off < length; off += 16)
        {
            Vector128<byte> k = Vector128.Load(keys);
            c0 ^= Vector128.Load(s0 + off) ^ k; c1 ^= Vector128.Load(s1 + off) ^ k;
            c2 ^= Vector128.Load(s2 + off) ^ k; c3 ^= Vector128.Load(s3 + off) ^ k;
            c4 ^= Vector128.Load(s4 + off) ^ k; c5 ^= Vector128.Load(s5 + off) ^ k;
            c6 ^= Vector128.Load(s6 + off) ^ k; c7 ^= Vector128.Load(s7 + off) ^ k;
            for (int r = 1; r < rounds; r++)
            {
                k = Vector128.Load(keys + 16 * r);
                c0 = AesX86.Encrypt(c0, k); c1 = AesX86.Encrypt(c1, k); c2 = AesX86.Encrypt(c2, k); c3 = AesX86.Encrypt(c3, k);
                c4 = AesX86.Encrypt(c4, k); c5 = AesX86.Encrypt(c5, k); c6 = AesX86.Encrypt(c6, k); c7 = AesX86.Encrypt(c7, k);
            }
            k = Vector128.Load(keys + 16 * rounds);
            c0 = AesX86.EncryptLast(c0, k); c1 = AesX86.EncryptLast(c1, k); c2 = AesX86.EncryptLast(c2, k); c3 = AesX86.EncryptLast(c3, k);
            c4 = AesX86.EncryptLast(c4, k); c5 = AesX86.EncryptLast(c5, k); c6 = AesX86.EncryptLast(c6, k); c7 = AesX86.EncryptLast(c7, k);
            c0.Store(d0 + off); c1.Store(d1 + off); c2.Store(d2 + off); c3.Store(d3 + off);
            c4.Store(d4 + off); c5.Store(d5 + off); c6.Store(d6 + off); c7.Store(d7 + off);
        }
        chains[0] = c0; chains[1] = c1; chains[2] = c2; chains[3] = c3;
        chains[4] = c4; chains[5] = c5; chains[6] = c6; chains[7] = c7;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _keys.Dispose();
    }
}
