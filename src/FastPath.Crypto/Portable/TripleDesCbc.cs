using System;
using System.Runtime.CompilerServices;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Portable;

// 3DES-CBC for ESP (RFC 2451; TDEA = DES-EDE3 with three independent keys, NIST SP 800-67 Rev. 2,
// keying option 1; CBC as in NIST SP 800-38A §6.2), FreeS/WAN's cipher. Plain C# on the table-driven
// DES core (DesCore.cs); both own engines use it, since no CPU has a DES instruction.
//
// Keying: the 24-byte key is K1 ‖ K2 ‖ K3. Keys whose thirds repeat (K1 = K2 or K2 = K3, which make
// EDE3 collapse to single DES) are refused by TripleDesKeyCheck (RFC 2451 §2.3 weak keys; FreeS/WAN
// refused them too). K1 = K3 with K2 different is two-key TDEA (SP 800-67 keying option 2): not single
// DES, so TripleDesKeyCheck lets it through, as OpenSSL and the BCL engine do, and so do we (SP 800-67
// Rev. 2 approves only keying option 1 for new encryption; that is a policy for the key source, and
// IKE-derived KEYMAT has K1 = K3 with probability 2^-56). Parity bits are ignored (as OpenSSL does).
// The encryption and decryption schedules (48 rounds x 2 words each) and the key-folded encryption
// schedule (100 words), 1168 bytes in all, live in a NativeKeyBuffer.
//
// Encrypt: serial CBC, chained in the IP domain and with the round keys folded into the data path
// (DesCore.Ede3RoundsSerial), so the critical path per block is 48 rounds of about 9 cycles.
// Decrypt: CBC decryption is parallel, so two blocks run interleaved (DesCore.Ede3Rounds2).
// EncryptMulti: two messages run interleaved (two lanes; when one message ends, the next job takes its
// lane; the last one finishes alone). Two-way interleaving already saturates the integer ALUs (a round
// is ~24 ALU operations and 10 loads); three-way measured no faster.
//
// Not constant-time: the SP lookups are indexed by key- and data-dependent bits (cache-timing), exactly
// as in OpenSSL's des_enc.c, which is what the BCL engine runs.
//
// Measured (Zen 4 EPYC, 2 shared cores, tiered JIT, per-thread CPU time, best of 7, ns per message,
// one run; /tmp console, since BenchmarkDotNet's wall clock was swamped by the other helpers' load):
//   size   Encrypt  Decrypt  EncryptMulti16/msg | BCL Encrypt  BCL Decrypt | openssl speed
//     64     1259      758        741           |     3132         3091     |
//    576    11314     6805       6914           |    18404        17814     |
//   1416    27818    16930      17064           |    42638        40840     |
//   8192   159021    94089      94380           |   229238       222594     | 231000 (35.0-35.9 MB/s)
// i.e. encrypt 51 MB/s = 1.45x `openssl speed -evp des-ede3-cbc` (which also counts CPU time),
// decrypt and multi-message encrypt 84-87 MB/s (2.4x the BCL).
internal sealed unsafe class TripleDesCbc : CbcCipher
{
    private const int Block = 8;
    private readonly NativeKeyBuffer _schedules;

    // The shared SP tables, read through an instance field on purpose: the static readonly pointer is a
    // JIT-time constant in tier-1 code, and the JIT then materializes "table + offset" as a 64-bit
    // immediate before every lookup (8 extra instructions a round) instead of using base + index*4 + disp.
    private readonly uint* _spTable = DesCore.SPTable;

    public TripleDesCbc(ReadOnlySpan<byte> key)
    {
        TripleDesKeyCheck.ThrowIfWeak(key);
        const int words = 2 * DesCore.Ede3ScheduleWords + DesCore.Ede3FoldedScheduleWords;
        _schedules = new NativeKeyBuffer(words * sizeof(uint));
        Span<uint> all = new(_schedules.Pointer, words);
        Span<uint> encrypt = all[..DesCore.Ede3ScheduleWords];
        DesCore.ExpandEde3(key, encrypt, all.Slice(DesCore.Ede3ScheduleWords, DesCore.Ede3ScheduleWords));
        DesCore.FoldEde3(encrypt, all[(2 * DesCore.Ede3ScheduleWords)..]);
    }

    public override int BlockSize => Block;
    public override int KeySize => 24;

    private uint* EncryptSchedule => (uint*)_schedules.Pointer;
    private uint* DecryptSchedule => (uint*)_schedules.Pointer + DesCore.Ede3ScheduleWords;
    private uint* FoldedEncryptSchedule => (uint*)_schedules.Pointer + 2 * DesCore.Ede3ScheduleWords;

    public override void Encrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        CheckArguments(iv, input.Length, output.Length);
        uint* xs = FoldedEncryptSchedule;
        fixed (byte* v = iv, src = input, dst = output)
        {
            EncryptChain(xs, _spTable, v, src, dst, input.Length / Block);
        }
    }

    public override void Decrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        CheckArguments(iv, input.Length, output.Length);
        uint* ks = DecryptSchedule;
        fixed (byte* v = iv, src = input, dst = output)
        {
            DecryptBlocks(ks, _spTable, v, src, dst, input.Length / Block);
        }
    }

    /// <summary>Serial CBC encryption of one message: C_i = E(P_i ^ C_{i-1}), C_0 = IV, chained in the IP
    /// domain: IP(P_i ^ C_{i-1}) = IP(P_i) ^ (R48, L48) of the previous block.</summary>
    private static void EncryptChain(uint* xs, uint* sp, byte* iv, byte* src, byte* dst, int blocks)
    {
        if (blocks == 0) return;
        DesCore.InitialPermutation(iv, out uint chainL, out uint chainR);
        for (int i = 0; i < blocks; i++, src += Block, dst += Block)
        {
            DesCore.InitialPermutation(src, out uint l, out uint r);
            l ^= chainL;
            r ^= chainR;
            DesCore.Ede3RoundsSerial(ref l, ref r, xs, sp);
            chainL = r;
            chainR = l;
            Unsafe.WriteUnaligned(dst, DesCore.FinalPermutation(r, l));
        }
    }

    /// <summary>CBC decryption, two blocks at a time: P_i = D(C_i) ^ C_{i-1}. Ciphertext blocks are read
    /// before the plaintext over them is written, so in place works.</summary>
    private static void DecryptBlocks(uint* ks, uint* sp, byte* iv, byte* src, byte* dst, int blocks)
    {
        ulong previous = Unsafe.ReadUnaligned<ulong>(iv);
        int i = 0;
        for (; i + 2 <= blocks; i += 2, src += 2 * Block, dst += 2 * Block)
        {
            ulong c0 = Unsafe.ReadUnaligned<ulong>(src);
            ulong c1 = Unsafe.ReadUnaligned<ulong>(src + Block);
            DesCore.InitialPermutation(src, out uint l0, out uint r0);
            DesCore.InitialPermutation(src + Block, out uint l1, out uint r1);
            DesCore.Ede3Rounds2(ref l0, ref r0, ref l1, ref r1, ks, sp);
            Unsafe.WriteUnaligned(dst, DesCore.FinalPermutation(r0, l0) ^ previous);
            Unsafe.WriteUnaligned(dst + Block, DesCore.FinalPermutation(r1, l1) ^ c0);
            previous = c1;
        }
        if (i < blocks)
        {
            ulong c0 = Unsafe.ReadUnaligned<ulong>(src);
            DesCore.InitialPermutation(src, out uint l, out uint r);
            DesCore.Ede3Rounds(ref l, ref r, ks, sp);
            Unsafe.WriteUnaligned(dst, DesCore.FinalPermutation(r, l) ^ previous);
        }
    }

    /// <summary>One message's progress in a lane of <see cref="EncryptMulti"/>.</summary>
    private struct Lane
    {
        public byte* Input;
        public byte* Output;
        public int Blocks;
        public uint ChainL, ChainR;
    }

    /// <summary>Takes the next job with at least one block into <paramref name="lane"/>; false when none is left.</summary>
    private static bool Refill(ReadOnlySpan<CbcJob> jobs, ref int next, ref Lane lane)
    {
        while (next < jobs.Length)
        {
            ref readonly CbcJob job = ref jobs[next++];
            if (job.Length == 0) continue;
            lane.Input = job.Input;
            lane.Output = job.Output;
            lane.Blocks = job.Length / Block;
            DesCore.InitialPermutation(job.Iv, out lane.ChainL, out lane.ChainR);
            return true;
        }
        return false;
    }

    public override void EncryptMulti(ReadOnlySpan<CbcJob> jobs)
    {
        foreach (ref readonly CbcJob job in jobs)
        {
            if (job.Length < 0 || job.Length % Block != 0) ThrowHelper.Length("input", job.Length, "a multiple of 8");
        }
        uint* ks = EncryptSchedule;
        uint* sp = _spTable;
        int next = 0;
        Lane x = default, y = default;
        bool hasX = Refill(jobs, ref next, ref x);
        bool hasY = hasX && Refill(jobs, ref next, ref y);
        while (hasY)
        {
            // Both lanes busy: one block of each, interleaved.
            DesCore.InitialPermutation(x.Input, out uint l0, out uint r0);
            DesCore.InitialPermutation(y.Input, out uint l1, out uint r1);
            l0 ^= x.ChainL; r0 ^= x.ChainR;
            l1 ^= y.ChainL; r1 ^= y.ChainR;
            DesCore.Ede3Rounds2(ref l0, ref r0, ref l1, ref r1, ks, sp);
            x.ChainL = r0; x.ChainR = l0;
            y.ChainL = r1; y.ChainR = l1;
            Unsafe.WriteUnaligned(x.Output, DesCore.FinalPermutation(r0, l0));
            Unsafe.WriteUnaligned(y.Output, DesCore.FinalPermutation(r1, l1));
            x.Input += Block; x.Output += Block;
            y.Input += Block; y.Output += Block;
            bool xDone = --x.Blocks == 0, yDone = --y.Blocks == 0;
            if (yDone && !Refill(jobs, ref next, ref y)) hasY = false;
            if (xDone && !Refill(jobs, ref next, ref x))
            {
                // No job left for lane x: the other lane (if still busy) finishes alone.
                if (hasY) x = y;
                else hasX = false;
                hasY = false;
            }
        }
        if (hasX) EncryptLaneRest(FoldedEncryptSchedule, sp, ref x);
    }

    /// <summary>Finishes one lane serially (no other message is left to interleave with).</summary>
    private static void EncryptLaneRest(uint* xs, uint* sp, ref Lane lane)
    {
        uint chainL = lane.ChainL, chainR = lane.ChainR;
        byte* src = lane.Input, dst = lane.Output;
        for (int i = 0; i < lane.Blocks; i++, src += Block, dst += Block)
        {
            DesCore.InitialPermutation(src, out uint l, out uint r);
            l ^= chainL;
            r ^= chainR;
            DesCore.Ede3RoundsSerial(ref l, ref r, xs, sp);
            chainL = r;
            chainR = l;
            Unsafe.WriteUnaligned(dst, DesCore.FinalPermutation(r, l));
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _schedules.Dispose();
    }
}
