using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;
using AesX86 = System.Runtime.Intrinsics.X86.Aes;

namespace FastPath.Crypto.Intrinsics;

// AES-GCM (NIST SP 800-38D) with a 96-bit nonce, on AES-NI and (V)PCLMULQDQ.
//
// Design:
// - Keying (control plane): AES round keys (FIPS-197 expansion) and the GHASH key H = E(K, 0^128)
//   with its powers H^1..H^24 (POLYVAL domain, see Ghash.cs) go into one 64-byte aligned
//   NativeKeyBuffer: [0, 240) round keys, then the GHASH table. Nothing is set up per call.
// - J0 = nonce ‖ 0^31 ‖ 1 (§7.1 step 2, 96-bit IV); the keystream starts at inc32(J0) (counter 2).
// - Bulk: 8 counter blocks per iteration, each AES round applied to all 8 before the next round
//   (hides AESENC latency). GHASH of 8 blocks (one aggregated reduction) is stitched into the same
//   loop, one stage between consecutive AES rounds (Bulk512 / Bulk256 / Bulk128 by the widest
//   carry-less multiply present). Decryption hashes the batch it is decrypting (single pass).
//   Encryption hashes the ciphertext it wrote two iterations earlier: hashing the previous batch
//   made the 64-byte loads wait on the 16-byte stores still in the store buffer (no
//   store-to-load forwarding across several stores), which cost ~30% of the throughput.
// - Tail (< 128 bytes): AesNi.CtrXor (1-, 4- or 8-way), then Ghash.Final: one aggregated
//   reduction over the last bulk batch, the padded tail, the length block (§7.1 step 5) and, for
//   short messages, the AAD, so a small packet costs one GHASH reduction.
// - Encryption of 3+ batches on the 512-bit path ends in Finish512: the last batch is encrypted with
//   E(K, J0) and (for a tail of at most one block) the tail keystream as two extra AES lanes, so
//   neither costs a separate 10-round latency chain; the two not-yet-hashed batches before it are
//   multiplied between its AES rounds, the batch itself is hashed from its registers (no reload of
//   data still in the store buffer), and those 24 blocks, the tail and the length block share one
//   reduction (H^1..H^33). Measured: 1420 B 176 -> 159-164 ns; forcing Ghash.ReverseMask inline
//   (a call left there made the JIT spill every live vector) was worth ~5 ns of that.
// - Bulk512 builds its 8 counter blocks with one byte swap and 7 big-endian adds when the counter's
//   last byte does not wrap inside the batch (31 batches in 32), instead of 8 swaps: ~5 ns at 1420 B
//   (the shuffles compete with the AES/CLMUL work); the same in Finish512 measured nothing.
// - Decrypt verifies in constant time (vector XOR, mask to the tag length, one test) after the
//   single pass; on mismatch the whole output is cleared, so no plaintext is left behind
//   (Primitives.cs contract).
// - Measured on this host (AMD EPYC Zen 4, shared 2 cores, gcmq harness: best of 15×20000, AES-128,
//   8-byte AAD, 64-byte aligned buffers): encrypt 16 B 22 ns, 576 B 78 ns, 1420 B 152-155 ns
//   (9.2 GB/s), 2048 B 211 ns, 4096 B 406 ns; decrypt 1420 B ~160 ns; `openssl speed -elapsed -evp
//   aes-128-gcm` 16 KB in the same minutes: 5.0-5.3 GB/s (so 1420 B encrypt ≈ 1.75×). The stitched loop
//   costs ~12 ns per 128-byte batch against ~9.8 ns for plain 8-way CTR: AESENC and (double-pumped
//   512-bit) VPCLMULQDQ share the FP pipes on Zen 4, so the 8 multiplies per batch are not free
//   (Karatsuba's 6 plus 2 shuffles measured slower again, decrypt most).
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

    /// <summary>Round keys (lines 0-3) and the low powers of H with their Karatsuba values
    /// (H^8..H^1: short packets); a long packet also uses every power (bulk loop, Finish512).</summary>
    public override Esp.KeyPrefetch KeyPrefetch
    {
        get
        {
            int roundKeys = 16 * (_rounds + 1);
            int low = TableOffset + (int)(Ghash.PowerPtr((byte*)0, 8) - (byte*)0);
            int lowK = TableOffset + (int)(Ghash.KaratsubaPtr((byte*)0, 8) - (byte*)0);
            ulong small = Esp.KeyPrefetch.Lines(0, roundKeys) | Esp.KeyPrefetch.Lines(low, 8 * 16) | Esp.KeyPrefetch.Lines(lowK, 8 * 16);
            ulong large = small | Esp.KeyPrefetch.Lines(TableOffset, Ghash.TableBytes);
            return new Esp.KeyPrefetch((nint)_keys.Pointer, small, large);
        }
    }

    /// <summary>The key buffer (round keys, then the GHASH table) for <see cref="SealEsp"/>/<see cref="OpenEsp"/>;
    /// valid until <see cref="Dispose(bool)"/>.</summary>
    internal byte* KeyPointer => _keys.Pointer;

    internal int Rounds => _rounds;

    /// <summary>
    /// ESP (RFC 4106) seal straight from a key buffer pointer, with no object between the transform and
    /// the keys (a multi-SA batch touches one SA's keys per packet; every pointer hop is a cache miss):
    /// nonce = salt ‖ esp[8..16), AAD = <paramref name="aad"/> (8 or 12 bytes), payload at esp + 16,
    /// the tag truncated to <paramref name="icvLength"/> after it. Same result as <see cref="Encrypt"/>.
    /// </summary>
    [SkipLocalsInit]
    internal static void SealEsp(byte* keys, int rounds, uint salt, byte* esp, int payloadLength, int icvLength, byte* aad, int aadLength)
    {
        byte* nonce = stackalloc byte[16];
        *(uint*)nonce = salt;
        *(ulong*)(nonce + 4) = *(ulong*)(esp + 8);
        byte* payload = esp + 16;
        Vector128<byte> full = EncryptCore(keys, rounds, nonce, payload, payload, payloadLength, aad, aadLength);
        byte* t = payload + payloadLength;
        if (icvLength == 16)
        {
            full.Store(t);
        }
        else
        {
            byte* f = (byte*)&full;
            for (int i = 0; i < icvLength; i++) t[i] = f[i];
        }
    }

    /// <summary>ESP open from a key buffer pointer (see <see cref="SealEsp"/>): verifies the tag in constant
    /// time after the single pass and clears the payload when it does not verify (no plaintext left).</summary>
    [SkipLocalsInit]
    internal static bool OpenEsp(byte* keys, int rounds, uint salt, byte* esp, int payloadLength, int icvLength, byte* aad, int aadLength)
    {
        byte* nonce = stackalloc byte[16];
        *(uint*)nonce = salt;
        *(ulong*)(nonce + 4) = *(ulong*)(esp + 8);
        byte* payload = esp + 16;
        byte* t = payload + payloadLength;
        Vector128<byte> full = DecryptCore(keys, rounds, nonce, payload, payload, payloadLength, aad, aadLength);
        Vector128<byte> received = icvLength == 16 ? Vector128.Load(t) : Ghash.LoadPartial(t, icvLength);
        Vector128<byte> inTag = Vector128.LessThan(
            Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector128.Create((byte)icvLength));
        bool ok = ((full ^ received) & inTag) == Vector128<byte>.Zero;
        if (!ok) new Span<byte>(payload, payloadLength).Clear();
        return ok;
    }

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
                byte* f = (byte*)&full;
                for (int i = 0; i < tag.Length; i++) t[i] = f[i];
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
        fixed (byte* n = nonce, src = ciphertext, dst = plaintext, t = tag, a = associatedData)
        {
            Vector128<byte> full = DecryptCore(keys, _rounds, n, src, dst, ciphertext.Length, a, associatedData.Length);
            // §7.2 step 8 in constant time: XOR the first tag.Length bytes, OR-reduce by one vector test.
            Vector128<byte> received = tag.Length == 16 ? Vector128.Load(t) : Ghash.LoadPartial(t, tag.Length);
            Vector128<byte> inTag = Vector128.LessThan(
                Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector128.Create((byte)tag.Length));
            ok = ((full ^ received) & inTag) == Vector128<byte>.Zero;
        }
        if (!ok) plaintext.Clear();
        return ok;
    }

    /// <summary>Short messages take their AAD into the single final GHASH pass (one reduction for the
    /// whole packet); longer AAD or bulk messages hash it first.</summary>
    private const int MaxFinalAad = 240;

    /// <summary>GCTR + GHASH for encryption; returns the full 16-byte tag.</summary>
    [SkipLocalsInit]
    private static Vector128<byte> EncryptCore(byte* keys, int rounds, byte* nonce, byte* src, byte* dst, nint length,
        byte* aad, nint aadLength)
    {
        byte* table = keys + TableOffset;
        // J0 = IV ‖ 0^31 ‖ 1 (§7.1 step 2); E(K, J0) masks the tag. Independent of the rest, so it overlaps.
        Vector128<uint> ctr = AesNi.CounterState(nonce, 1);
        nint bulk = length & ~(nint)127;
        int rest = (int)(length - bulk);
        // Finish512 (bulk of 3+ batches) computes E(K, J0) and a one-block tail as two extra lanes of the last batch.
        bool finish512 = Ghash.Use512 && bulk >= 384;
        Vector128<byte> j0 = AesNi.CounterBlock(ctr, 0);
        Vector128<byte> tagMask = finish512 ? default : AesNi.EncryptBlock(j0, keys, rounds);
        ctr += Vector128.Create(0u, 0u, 0u, 1u);

        // The tail's keystream does not depend on the bulk: encrypt it first so its AES latency
        // overlaps the bulk loop instead of sitting between the loop and the final GHASH.
        if (rest > (finish512 ? 16 : 0)) AesNi.CtrXor(keys, rounds, ctr + Vector128.Create(0u, 0u, 0u, (uint)(bulk >> 4)), src + bulk, dst + bulk, rest);

        bool aadInFinal = bulk == 0 && aadLength <= MaxFinalAad;
        Vector128<ulong> acc = Vector128<ulong>.Zero;
        if (!aadInFinal && aadLength > 0)
        {
            acc = aadLength <= 16 * Ghash.Powers
                ? Ghash.UpdateShort(acc, aad, (int)aadLength, table)
                : Ghash.UpdatePadded(acc, aad, aadLength, table, false, default);
        }

        if (bulk > 0)
        {
            // Ciphertext is hashed two batches behind the encryption: the 64-byte loads of the hashed
            // blocks must not hit the 16-byte stores still in the store buffer (a load spanning several
            // stores cannot be forwarded and stalls until they commit; hashing the previous batch cost
            // ~30% of the throughput). So the first two batches are plain CTR, iteration i hashes the
            // ciphertext at dst + i - 256, and the last two batches are hashed after the loop.
            nint head = bulk >= 256 ? 256 : 128;
            AesNi.CtrXor(keys, rounds, ctr, src, dst, head);
            if (finish512)
            {
                // The last batch is encrypted by Finish512, which hashes it from registers together with
                // the two batches before it, the tail and the length block in one reduction.
                nint last = bulk - 128;
                if (last > head)
                {
                    acc = Bulk512(keys, rounds, ctr + Vector128.Create(0u, 0u, 0u, (uint)(head >> 4)), src + head, dst + head, last - head, dst, acc, table);
                }
                acc = Finish512(keys, rounds, ctr + Vector128.Create(0u, 0u, 0u, (uint)(last >> 4)), src + last, dst + last, rest, acc,
                    Vector128.Create((ulong)length * 8, (ulong)aadLength * 8), table, ref j0);
                return Ghash.ToBlock(acc) ^ j0;
            }
            if (bulk > head)
            {
                acc = Bulk(keys, rounds, ctr + Vector128.Create(0u, 0u, 0u, (uint)(head >> 4)), src + head, dst + head, bulk - head, dst, acc, table);
            }
            if (bulk >= 256) acc = Ghash.Update8(acc, dst + bulk - 256, table);
        }

        // One reduction for: the last bulk batch, the AAD of a short message, the tail, and
        // [len(A)]64 ‖ [len(C)]64 in bits (§7.1 step 5; POLYVAL domain: low half = len(C)).
        Vector128<ulong> lengths = Vector128.Create((ulong)length * 8, (ulong)aadLength * 8);
        acc = Ghash.Final(acc, bulk > 0 ? dst + bulk - 128 : null, aadInFinal ? aad : null, aadInFinal ? (int)aadLength : 0,
            dst + bulk, rest, lengths, table);
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

        nint bulk = length & ~(nint)127;
        bool aadInFinal = bulk == 0 && aadLength <= MaxFinalAad;
        Vector128<ulong> acc = Vector128<ulong>.Zero;
        if (!aadInFinal && aadLength > 0)
        {
            acc = aadLength <= 16 * Ghash.Powers
                ? Ghash.UpdateShort(acc, aad, (int)aadLength, table)
                : Ghash.UpdatePadded(acc, aad, aadLength, table, false, default);
        }

        if (bulk > 0)
        {
            // Hash each 8-block batch of ciphertext while decrypting it.
            acc = Bulk(keys, rounds, ctr, src, dst, bulk, src, acc, table);
            ctr += Vector128.Create(0u, 0u, 0u, (uint)(bulk >> 4));
        }

        int rest = (int)(length - bulk);
        Vector128<ulong> lengths = Vector128.Create((ulong)length * 8, (ulong)aadLength * 8);
        // Hash the remaining ciphertext before it may be overwritten in place.
        acc = Ghash.Final(acc, null, aadInFinal ? aad : null, aadInFinal ? (int)aadLength : 0, src + bulk, rest, lengths, table);
        if (rest > 0) AesNi.CtrXor(keys, rounds, ctr, src + bulk, dst + bulk, rest);
        return Ghash.ToBlock(acc) ^ tagMask;
    }

    /// <summary>The stitched CTR+GHASH loop for the widest carry-less multiply present (JIT-time choice).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Bulk(byte* keys, int rounds, Vector128<uint> ctr, byte* src, byte* dst, nint length,
        byte* hashSrc, Vector128<ulong> acc, byte* table)
    {
        if (Ghash.Use512) return Bulk512(keys, rounds, ctr, src, dst, length, hashSrc, acc, table);
        if (Ghash.Use256) return Bulk256(keys, rounds, ctr, src, dst, length, hashSrc, acc, table);
        return Bulk128(keys, rounds, ctr, src, dst, length, hashSrc, acc, table);
    }

    /// <summary>CTR over <paramref name="length"/> bytes (a multiple of 128), 8 blocks per iteration,
    /// with the GHASH of 8 blocks at <paramref name="hashSrc"/> + i (ciphertext written two
    /// iterations earlier when encrypting, the current ciphertext when decrypting) truly stitched: each stage of the
    /// 512-bit VPCLMULQDQ multiply and of the reduction sits between two AES rounds, so both
    /// dependency chains (AESENC latency ×Nr and the GHASH accumulator) are in flight together
    /// and the out-of-order window never fills with one kind only. Loads of the hashed blocks
    /// precede the stores of the same iteration, so in-place decryption is safe.</summary>
    [SkipLocalsInit]
    private static Vector128<ulong> Bulk512(byte* keys, int rounds, Vector128<uint> ctr, byte* src, byte* dst, nint length,
        byte* hashSrc, Vector128<ulong> acc, byte* table)
    {
        // The GHASH constants stay in memory (loaded as instruction operands inside the loop): VEX AESENC
        // can only address xmm0-15, and hoisting 5 vectors into registers there made the JIT copy every
        // round key from xmm16+ before each AESENC (80 extra moves per iteration).
        byte* hp = Ghash.PowerPtr(table, 8); // H^8, H^7, H^6, H^5 | H^4, H^3, H^2, H^1
        byte* lastKey = keys + 16 * rounds;
        uint low = ctr.GetElement(3);
        for (nint i = 0; i < length; i += 128)
        {
            byte* s = src + i;
            byte* d = dst + i;
            byte* g = hashSrc + i;
            Vector128<byte> k = Vector128.Load(keys);
            Vector128<byte> b0, b1, b2, b3, b4, b5, b6, b7;
            if ((byte)low <= 248)
            {
                // The counter's last byte does not wrap within these 8 blocks (31 batches in 32): one byte
                // swap, then the big-endian block + j is a 32-bit add of j << 24 to the last lane.
                Vector128<uint> cb = AesNi.CounterBlock(ctr, 0).AsUInt32();
                b0 = cb.AsByte() ^ k;
                b1 = (cb + Vector128.Create(0u, 0u, 0u, 1u << 24)).AsByte() ^ k;
                b2 = (cb + Vector128.Create(0u, 0u, 0u, 2u << 24)).AsByte() ^ k;
                b3 = (cb + Vector128.Create(0u, 0u, 0u, 3u << 24)).AsByte() ^ k;
                b4 = (cb + Vector128.Create(0u, 0u, 0u, 4u << 24)).AsByte() ^ k;
                b5 = (cb + Vector128.Create(0u, 0u, 0u, 5u << 24)).AsByte() ^ k;
                b6 = (cb + Vector128.Create(0u, 0u, 0u, 6u << 24)).AsByte() ^ k;
                b7 = (cb + Vector128.Create(0u, 0u, 0u, 7u << 24)).AsByte() ^ k;
            }
            else
            {
                b0 = AesNi.CounterBlock(ctr, 0) ^ k;
                b1 = AesNi.CounterBlock(ctr, 1) ^ k;
                b2 = AesNi.CounterBlock(ctr, 2) ^ k;
                b3 = AesNi.CounterBlock(ctr, 3) ^ k;
                b4 = AesNi.CounterBlock(ctr, 4) ^ k;
                b5 = AesNi.CounterBlock(ctr, 5) ^ k;
                b6 = AesNi.CounterBlock(ctr, 6) ^ k;
                b7 = AesNi.CounterBlock(ctr, 7) ^ k;
            }
            low += 8;
            ctr += Vector128.Create(0u, 0u, 0u, 8u);

            // round 1
            b0 = Round(b0, keys + 16); b1 = Round(b1, keys + 16); b2 = Round(b2, keys + 16); b3 = Round(b3, keys + 16);
            b4 = Round(b4, keys + 16); b5 = Round(b5, keys + 16); b6 = Round(b6, keys + 16); b7 = Round(b7, keys + 16);
            // GHASH stage 1: byte-reverse the 8 blocks, add the accumulator to the first.
            Vector512<ulong> x0 = Avx512BW.Shuffle(Vector512.Load(g), Ghash.ReverseMask512).AsUInt64() ^ acc.ToVector256().ToVector512();
            Vector512<ulong> x1 = Avx512BW.Shuffle(Vector512.Load(g + 64), Ghash.ReverseMask512).AsUInt64();

            // round 2
            b0 = Round(b0, keys + 32); b1 = Round(b1, keys + 32); b2 = Round(b2, keys + 32); b3 = Round(b3, keys + 32);
            b4 = Round(b4, keys + 32); b5 = Round(b5, keys + 32); b6 = Round(b6, keys + 32); b7 = Round(b7, keys + 32);
            // Stage 2: low and high 64x64 products, 4 blocks per instruction.
            Vector512<ulong> h0 = Vector512.Load((ulong*)hp), h1 = Vector512.Load((ulong*)(hp + 64));
            Vector512<ulong> lo = Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x00) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x00);
            Vector512<ulong> hi = Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x11) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x11);

            // round 3
            b0 = Round(b0, keys + 48); b1 = Round(b1, keys + 48); b2 = Round(b2, keys + 48); b3 = Round(b3, keys + 48);
            b4 = Round(b4, keys + 48); b5 = Round(b5, keys + 48); b6 = Round(b6, keys + 48); b7 = Round(b7, keys + 48);
            // Stage 3: middle products (schoolbook, 4 multiplies per block: measured ~4% faster here than
            // Karatsuba's 3 plus its shuffles once the loop was no longer stalled on store forwarding).
            Vector512<ulong> mid = Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x01) ^ Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x10)
                ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x01) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x10);

            // round 4
            b0 = Round(b0, keys + 64); b1 = Round(b1, keys + 64); b2 = Round(b2, keys + 64); b3 = Round(b3, keys + 64);
            b4 = Round(b4, keys + 64); b5 = Round(b5, keys + 64); b6 = Round(b6, keys + 64); b7 = Round(b7, keys + 64);
            // Stage 4: 256-bit product per lane (lo ^ mid·x^64, hi ^ mid·x^-64), then XOR the 4 lanes.
            Vector512<ulong> l01 = lo ^ Avx512BW.ShiftLeftLogical128BitLane(mid.AsByte(), 8).AsUInt64();
            Vector512<ulong> l23 = hi ^ Avx512BW.ShiftRightLogical128BitLane(mid.AsByte(), 8).AsUInt64();
            Vector128<ulong> x01 = Ghash.Fold(l01);
            Vector128<ulong> x23 = Ghash.Fold(l23);

            // round 5
            b0 = Round(b0, keys + 80); b1 = Round(b1, keys + 80); b2 = Round(b2, keys + 80); b3 = Round(b3, keys + 80);
            b4 = Round(b4, keys + 80); b5 = Round(b5, keys + 80); b6 = Round(b6, keys + 80); b7 = Round(b7, keys + 80);
            // Stage 5: first Montgomery step (see Ghash.Reduce).
            Vector128<ulong> t = Sse2.Shuffle(x01.AsUInt32(), 0x4E).AsUInt64() ^ Pclmulqdq.CarrylessMultiply(x01, Vector128.Create(0xC200000000000000UL, 0UL), 0x00);

            // round 6
            b0 = Round(b0, keys + 96); b1 = Round(b1, keys + 96); b2 = Round(b2, keys + 96); b3 = Round(b3, keys + 96);
            b4 = Round(b4, keys + 96); b5 = Round(b5, keys + 96); b6 = Round(b6, keys + 96); b7 = Round(b7, keys + 96);
            // Stage 6: second step; the new accumulator.
            acc = x23 ^ Sse2.Shuffle(t.AsUInt32(), 0x4E).AsUInt64() ^ Pclmulqdq.CarrylessMultiply(t, Vector128.Create(0xC200000000000000UL, 0UL), 0x00);

            for (byte* kp = keys + 112; kp < lastKey; kp += 16) // rounds 7 .. Nr-1
            {
                b0 = Round(b0, kp); b1 = Round(b1, kp); b2 = Round(b2, kp); b3 = Round(b3, kp);
                b4 = Round(b4, kp); b5 = Round(b5, kp); b6 = Round(b6, kp); b7 = Round(b7, kp);
            }
            k = Vector128.Load(lastKey);
            (AesX86.EncryptLast(b0, k) ^ Vector128.Load(s)).Store(d);
            (AesX86.EncryptLast(b1, k) ^ Vector128.Load(s + 16)).Store(d + 16);
            (AesX86.EncryptLast(b2, k) ^ Vector128.Load(s + 32)).Store(d + 32);
            (AesX86.EncryptLast(b3, k) ^ Vector128.Load(s + 48)).Store(d + 48);
            (AesX86.EncryptLast(b4, k) ^ Vector128.Load(s + 64)).Store(d + 64);
            (AesX86.EncryptLast(b5, k) ^ Vector128.Load(s + 80)).Store(d + 80);
            (AesX86.EncryptLast(b6, k) ^ Vector128.Load(s + 96)).Store(d + 96);
            (AesX86.EncryptLast(b7, k) ^ Vector128.Load(s + 112)).Store(d + 112);
        }
        return acc;
    }

    /// <summary>The end of an encryption of at least 3 bulk batches (512-bit path): encrypts the last batch
    /// (8 blocks at <paramref name="src"/> → <paramref name="dst"/>) and returns the GHASH accumulator over the
    /// two batches before it (at dst - 256 and dst - 128, not hashed yet), this batch, the tail ciphertext
    /// (<paramref name="rest"/> bytes at dst + 128, written already) and the length block, with one aggregated
    /// reduction (up to 33 powers of H). The products of the batches in memory sit between the AES rounds;
    /// the last batch is hashed from the registers it was computed in, so nothing waits for its stores.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private static Vector128<ulong> Finish512(byte* keys, int rounds, Vector128<uint> ctr, byte* src, byte* dst, int rest,
        Vector128<ulong> acc, Vector128<ulong> lengths, byte* table, ref Vector128<byte> j0)
    {
        int tailBlocks = (rest + 15) >> 4;
        byte* hp = Ghash.PowerPtr(table, 25 + tailBlocks); // H^(25+t) .. H^(2+t+8) for dst - 256, then descending
        byte* lastKey = keys + 16 * rounds;
        Vector128<byte> k = Vector128.Load(keys);
        Vector128<byte> b0 = AesNi.CounterBlock(ctr, 0) ^ k;
        Vector128<byte> b1 = AesNi.CounterBlock(ctr, 1) ^ k;
        Vector128<byte> b2 = AesNi.CounterBlock(ctr, 2) ^ k;
        Vector128<byte> b3 = AesNi.CounterBlock(ctr, 3) ^ k;
        Vector128<byte> b4 = AesNi.CounterBlock(ctr, 4) ^ k;
        Vector128<byte> b5 = AesNi.CounterBlock(ctr, 5) ^ k;
        Vector128<byte> b6 = AesNi.CounterBlock(ctr, 6) ^ k;
        Vector128<byte> b7 = AesNi.CounterBlock(ctr, 7) ^ k;
        Vector128<byte> b8 = j0 ^ k;                           // E(K, J0), the tag mask
        Vector128<byte> b9 = AesNi.CounterBlock(ctr, 8) ^ k;   // the tail's keystream when it is one block

        b8 = Round(b8, keys + 16); b9 = Round(b9, keys + 16);
        b0 = Round(b0, keys + 16); b1 = Round(b1, keys + 16); b2 = Round(b2, keys + 16); b3 = Round(b3, keys + 16);
        b4 = Round(b4, keys + 16); b5 = Round(b5, keys + 16); b6 = Round(b6, keys + 16); b7 = Round(b7, keys + 16);
        Vector512<ulong> x0 = Avx512BW.Shuffle(Vector512.Load(dst - 256), Ghash.ReverseMask512).AsUInt64() ^ acc.ToVector256().ToVector512();
        Vector512<ulong> x1 = Avx512BW.Shuffle(Vector512.Load(dst - 192), Ghash.ReverseMask512).AsUInt64();

        b8 = Round(b8, keys + 32); b9 = Round(b9, keys + 32);
        b0 = Round(b0, keys + 32); b1 = Round(b1, keys + 32); b2 = Round(b2, keys + 32); b3 = Round(b3, keys + 32);
        b4 = Round(b4, keys + 32); b5 = Round(b5, keys + 32); b6 = Round(b6, keys + 32); b7 = Round(b7, keys + 32);
        Vector512<ulong> h0 = Vector512.Load((ulong*)hp), h1 = Vector512.Load((ulong*)(hp + 64));
        Vector512<ulong> lo = Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x00) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x00);
        Vector512<ulong> hi = Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x11) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x11);

        b8 = Round(b8, keys + 48); b9 = Round(b9, keys + 48);
        b0 = Round(b0, keys + 48); b1 = Round(b1, keys + 48); b2 = Round(b2, keys + 48); b3 = Round(b3, keys + 48);
        b4 = Round(b4, keys + 48); b5 = Round(b5, keys + 48); b6 = Round(b6, keys + 48); b7 = Round(b7, keys + 48);
        Vector512<ulong> mid = Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x01) ^ Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x10)
            ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x01) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x10);

        b8 = Round(b8, keys + 64); b9 = Round(b9, keys + 64);
        b0 = Round(b0, keys + 64); b1 = Round(b1, keys + 64); b2 = Round(b2, keys + 64); b3 = Round(b3, keys + 64);
        b4 = Round(b4, keys + 64); b5 = Round(b5, keys + 64); b6 = Round(b6, keys + 64); b7 = Round(b7, keys + 64);
        // The batch stored just before this call (its loads are the ones that may wait for the stores).
        x0 = Avx512BW.Shuffle(Vector512.Load(dst - 128), Ghash.ReverseMask512).AsUInt64();
        x1 = Avx512BW.Shuffle(Vector512.Load(dst - 64), Ghash.ReverseMask512).AsUInt64();
        h0 = Vector512.Load((ulong*)(hp + 128));
        h1 = Vector512.Load((ulong*)(hp + 192));
        lo ^= Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x00) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x00);
        hi ^= Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x11) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x11);

        b8 = Round(b8, keys + 80); b9 = Round(b9, keys + 80);
        b0 = Round(b0, keys + 80); b1 = Round(b1, keys + 80); b2 = Round(b2, keys + 80); b3 = Round(b3, keys + 80);
        b4 = Round(b4, keys + 80); b5 = Round(b5, keys + 80); b6 = Round(b6, keys + 80); b7 = Round(b7, keys + 80);
        mid ^= Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x01) ^ Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x10)
            ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x01) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x10);

        b8 = Round(b8, keys + 96); b9 = Round(b9, keys + 96);
        b0 = Round(b0, keys + 96); b1 = Round(b1, keys + 96); b2 = Round(b2, keys + 96); b3 = Round(b3, keys + 96);
        b4 = Round(b4, keys + 96); b5 = Round(b5, keys + 96); b6 = Round(b6, keys + 96); b7 = Round(b7, keys + 96);
        // Tail and length block (H^(t+1) .. H^1), 128-bit Karatsuba: independent of this batch.
        // (A one-block tail is hashed below, from its register.)
        Vector128<ulong> tlo = Vector128<ulong>.Zero, thi = Vector128<ulong>.Zero, tmid = Vector128<ulong>.Zero;
        if (rest > 16 || rest == 0)
        {
            Ghash.AbsorbTailAndLengths(dst + 128, rest, lengths, Ghash.PowerPtr(table, tailBlocks + 1), Ghash.KaratsubaPtr(table, tailBlocks + 1),
                ref tlo, ref thi, ref tmid);
        }

        for (byte* kp = keys + 112; kp < lastKey; kp += 16) // rounds 7 .. Nr-1
        {
            b8 = Round(b8, kp); b9 = Round(b9, kp);
            b0 = Round(b0, kp); b1 = Round(b1, kp); b2 = Round(b2, kp); b3 = Round(b3, kp);
            b4 = Round(b4, kp); b5 = Round(b5, kp); b6 = Round(b6, kp); b7 = Round(b7, kp);
        }
        k = Vector128.Load(lastKey);
        j0 = AesX86.EncryptLast(b8, k);
        b9 = AesX86.EncryptLast(b9, k);
        b0 = AesX86.EncryptLast(b0, k) ^ Vector128.Load(src);
        b1 = AesX86.EncryptLast(b1, k) ^ Vector128.Load(src + 16);
        b2 = AesX86.EncryptLast(b2, k) ^ Vector128.Load(src + 32);
        b3 = AesX86.EncryptLast(b3, k) ^ Vector128.Load(src + 48);
        b4 = AesX86.EncryptLast(b4, k) ^ Vector128.Load(src + 64);
        b5 = AesX86.EncryptLast(b5, k) ^ Vector128.Load(src + 80);
        b6 = AesX86.EncryptLast(b6, k) ^ Vector128.Load(src + 96);
        b7 = AesX86.EncryptLast(b7, k) ^ Vector128.Load(src + 112);
        b0.Store(dst); b1.Store(dst + 16); b2.Store(dst + 32); b3.Store(dst + 48);
        b4.Store(dst + 64); b5.Store(dst + 80); b6.Store(dst + 96); b7.Store(dst + 112);
        if (rest > 0 && rest <= 16)
        {
            // One-block tail: C = P ^ keystream (exact-size accesses), hashed zero-padded from the register.
            Vector128<byte> c = b9 ^ (rest == 16 ? Vector128.Load(src + 128) : AesNi.LoadPartial(src + 128, rest));
            if (rest == 16) c.Store(dst + 128);
            else AesNi.StorePartial(dst + 128, c, rest);
            c &= Vector128.LessThan(Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector128.Create((byte)rest));
            byte* h2 = Ghash.PowerPtr(table, 2);
            byte* hk2 = Ghash.KaratsubaPtr(table, 2);
            Ghash.Absorb(Ghash.Reverse(c), h2, hk2, ref tlo, ref thi, ref tmid);
            Ghash.Absorb(lengths, h2 + 16, hk2 + 16, ref tlo, ref thi, ref tmid);
        }

        // This batch from registers: [c0 c1 c2 c3], [c4 c5 c6 c7].
        Vector512<byte> c03 = b0.ToVector256Unsafe().WithUpper(b1).ToVector512Unsafe().WithUpper(b2.ToVector256Unsafe().WithUpper(b3));
        Vector512<byte> c47 = b4.ToVector256Unsafe().WithUpper(b5).ToVector512Unsafe().WithUpper(b6.ToVector256Unsafe().WithUpper(b7));
        x0 = Avx512BW.Shuffle(c03, Ghash.ReverseMask512).AsUInt64();
        x1 = Avx512BW.Shuffle(c47, Ghash.ReverseMask512).AsUInt64();
        h0 = Vector512.Load((ulong*)(hp + 256));
        h1 = Vector512.Load((ulong*)(hp + 320));
        lo ^= Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x00) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x00);
        hi ^= Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x11) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x11);
        mid ^= Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x01) ^ Pclmulqdq.V512.CarrylessMultiply(x0, h0, 0x10)
            ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x01) ^ Pclmulqdq.V512.CarrylessMultiply(x1, h1, 0x10);
        return Ghash.Reduce(Ghash.Fold(lo) ^ tlo, Ghash.Fold(hi) ^ thi, Ghash.Fold(mid) ^ tmid);
    }

    /// <summary>As <see cref="Bulk512"/> with 128-bit PCLMULQDQ (CPUs without VPCLMULQDQ, or AVX2 off):
    /// one block's GHASH product per AES round of rounds 1-8, the reduction after round 9.</summary>
    [SkipLocalsInit]
    private static Vector128<ulong> Bulk128(byte* keys, int rounds, Vector128<uint> ctr, byte* src, byte* dst, nint length,
        byte* hashSrc, Vector128<ulong> acc, byte* table)
    {
        byte* hp = Ghash.PowerPtr(table, 8);
        byte* lastKey = keys + 16 * rounds;
        for (nint i = 0; i < length; i += 128)
        {
            byte* s = src + i;
            byte* d = dst + i;
            byte* g = hashSrc + i;
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
            Vector128<ulong> x, hv, lo, hi, mid;
            b0 = Round(b0, keys + 16); b1 = Round(b1, keys + 16); b2 = Round(b2, keys + 16); b3 = Round(b3, keys + 16);
            b4 = Round(b4, keys + 16); b5 = Round(b5, keys + 16); b6 = Round(b6, keys + 16); b7 = Round(b7, keys + 16);
            x = Ghash.Reverse(Vector128.Load(g + 0)) ^ acc;
            hv = Vector128.Load((ulong*)(hp + 0));
            lo = Pclmulqdq.CarrylessMultiply(x, hv, 0x00);
            hi = Pclmulqdq.CarrylessMultiply(x, hv, 0x11);
            mid = Pclmulqdq.CarrylessMultiply(x, hv, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hv, 0x10);
            b0 = Round(b0, keys + 32); b1 = Round(b1, keys + 32); b2 = Round(b2, keys + 32); b3 = Round(b3, keys + 32);
            b4 = Round(b4, keys + 32); b5 = Round(b5, keys + 32); b6 = Round(b6, keys + 32); b7 = Round(b7, keys + 32);
            x = Ghash.Reverse(Vector128.Load(g + 16));
            hv = Vector128.Load((ulong*)(hp + 16));
            lo ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x00);
            hi ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x11);
            mid ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hv, 0x10);
            b0 = Round(b0, keys + 48); b1 = Round(b1, keys + 48); b2 = Round(b2, keys + 48); b3 = Round(b3, keys + 48);
            b4 = Round(b4, keys + 48); b5 = Round(b5, keys + 48); b6 = Round(b6, keys + 48); b7 = Round(b7, keys + 48);
            x = Ghash.Reverse(Vector128.Load(g + 32));
            hv = Vector128.Load((ulong*)(hp + 32));
            lo ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x00);
            hi ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x11);
            mid ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hv, 0x10);
            b0 = Round(b0, keys + 64); b1 = Round(b1, keys + 64); b2 = Round(b2, keys + 64); b3 = Round(b3, keys + 64);
            b4 = Round(b4, keys + 64); b5 = Round(b5, keys + 64); b6 = Round(b6, keys + 64); b7 = Round(b7, keys + 64);
            x = Ghash.Reverse(Vector128.Load(g + 48));
            hv = Vector128.Load((ulong*)(hp + 48));
            lo ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x00);
            hi ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x11);
            mid ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hv, 0x10);
            b0 = Round(b0, keys + 80); b1 = Round(b1, keys + 80); b2 = Round(b2, keys + 80); b3 = Round(b3, keys + 80);
            b4 = Round(b4, keys + 80); b5 = Round(b5, keys + 80); b6 = Round(b6, keys + 80); b7 = Round(b7, keys + 80);
            x = Ghash.Reverse(Vector128.Load(g + 64));
            hv = Vector128.Load((ulong*)(hp + 64));
            lo ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x00);
            hi ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x11);
            mid ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hv, 0x10);
            b0 = Round(b0, keys + 96); b1 = Round(b1, keys + 96); b2 = Round(b2, keys + 96); b3 = Round(b3, keys + 96);
            b4 = Round(b4, keys + 96); b5 = Round(b5, keys + 96); b6 = Round(b6, keys + 96); b7 = Round(b7, keys + 96);
            x = Ghash.Reverse(Vector128.Load(g + 80));
            hv = Vector128.Load((ulong*)(hp + 80));
            lo ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x00);
            hi ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x11);
            mid ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hv, 0x10);
            b0 = Round(b0, keys + 112); b1 = Round(b1, keys + 112); b2 = Round(b2, keys + 112); b3 = Round(b3, keys + 112);
            b4 = Round(b4, keys + 112); b5 = Round(b5, keys + 112); b6 = Round(b6, keys + 112); b7 = Round(b7, keys + 112);
            x = Ghash.Reverse(Vector128.Load(g + 96));
            hv = Vector128.Load((ulong*)(hp + 96));
            lo ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x00);
            hi ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x11);
            mid ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hv, 0x10);
            b0 = Round(b0, keys + 128); b1 = Round(b1, keys + 128); b2 = Round(b2, keys + 128); b3 = Round(b3, keys + 128);
            b4 = Round(b4, keys + 128); b5 = Round(b5, keys + 128); b6 = Round(b6, keys + 128); b7 = Round(b7, keys + 128);
            x = Ghash.Reverse(Vector128.Load(g + 112));
            hv = Vector128.Load((ulong*)(hp + 112));
            lo ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x00);
            hi ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x11);
            mid ^= Pclmulqdq.CarrylessMultiply(x, hv, 0x01) ^ Pclmulqdq.CarrylessMultiply(x, hv, 0x10);
            b0 = Round(b0, keys + 144); b1 = Round(b1, keys + 144); b2 = Round(b2, keys + 144); b3 = Round(b3, keys + 144);
            b4 = Round(b4, keys + 144); b5 = Round(b5, keys + 144); b6 = Round(b6, keys + 144); b7 = Round(b7, keys + 144);
            acc = Ghash.Reduce(lo, hi, mid);
            for (byte* kp = keys + 160; kp < lastKey; kp += 16)
            {
                b0 = Round(b0, kp); b1 = Round(b1, kp); b2 = Round(b2, kp); b3 = Round(b3, kp);
                b4 = Round(b4, kp); b5 = Round(b5, kp); b6 = Round(b6, kp); b7 = Round(b7, kp);
            }
            k = Vector128.Load(lastKey);
            (AesX86.EncryptLast(b0, k) ^ Vector128.Load(s)).Store(d);
            (AesX86.EncryptLast(b1, k) ^ Vector128.Load(s + 16)).Store(d + 16);
            (AesX86.EncryptLast(b2, k) ^ Vector128.Load(s + 32)).Store(d + 32);
            (AesX86.EncryptLast(b3, k) ^ Vector128.Load(s + 48)).Store(d + 48);
            (AesX86.EncryptLast(b4, k) ^ Vector128.Load(s + 64)).Store(d + 64);
            (AesX86.EncryptLast(b5, k) ^ Vector128.Load(s + 80)).Store(d + 80);
            (AesX86.EncryptLast(b6, k) ^ Vector128.Load(s + 96)).Store(d + 96);
            (AesX86.EncryptLast(b7, k) ^ Vector128.Load(s + 112)).Store(d + 112);
        }
        return acc;
    }

    /// <summary>As <see cref="Bulk512"/> with 256-bit VPCLMULQDQ (AVX-512 absent or turned off): two blocks
    /// per carry-less multiply, one GHASH stage between consecutive AES rounds.</summary>
    [SkipLocalsInit]
    private static Vector128<ulong> Bulk256(byte* keys, int rounds, Vector128<uint> ctr, byte* src, byte* dst, nint length,
        byte* hashSrc, Vector128<ulong> acc, byte* table)
    {
        byte* hp = Ghash.PowerPtr(table, 8);
        byte* lastKey = keys + 16 * rounds;
        for (nint i = 0; i < length; i += 128)
        {
            byte* s = src + i;
            byte* d = dst + i;
            byte* g = hashSrc + i;
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
            b0 = Round(b0, keys + 16); b1 = Round(b1, keys + 16); b2 = Round(b2, keys + 16); b3 = Round(b3, keys + 16);
            b4 = Round(b4, keys + 16); b5 = Round(b5, keys + 16); b6 = Round(b6, keys + 16); b7 = Round(b7, keys + 16);
            Vector256<byte> rev = Vector256.Create(Ghash.ReverseMask);
            Vector256<ulong> x0 = Avx2.Shuffle(Vector256.Load(g), rev).AsUInt64() ^ acc.ToVector256();
            Vector256<ulong> x1 = Avx2.Shuffle(Vector256.Load(g + 32), rev).AsUInt64();
            Vector256<ulong> x2 = Avx2.Shuffle(Vector256.Load(g + 64), rev).AsUInt64();
            Vector256<ulong> x3 = Avx2.Shuffle(Vector256.Load(g + 96), rev).AsUInt64();
            b0 = Round(b0, keys + 32); b1 = Round(b1, keys + 32); b2 = Round(b2, keys + 32); b3 = Round(b3, keys + 32);
            b4 = Round(b4, keys + 32); b5 = Round(b5, keys + 32); b6 = Round(b6, keys + 32); b7 = Round(b7, keys + 32);
            Vector256<ulong> h0 = Vector256.Load((ulong*)hp), h1 = Vector256.Load((ulong*)(hp + 32));
            Vector256<ulong> h2 = Vector256.Load((ulong*)(hp + 64)), h3 = Vector256.Load((ulong*)(hp + 96));
            Vector256<ulong> lo = Pclmulqdq.V256.CarrylessMultiply(x0, h0, 0x00) ^ Pclmulqdq.V256.CarrylessMultiply(x1, h1, 0x00) ^ Pclmulqdq.V256.CarrylessMultiply(x2, h2, 0x00) ^ Pclmulqdq.V256.CarrylessMultiply(x3, h3, 0x00);
            b0 = Round(b0, keys + 48); b1 = Round(b1, keys + 48); b2 = Round(b2, keys + 48); b3 = Round(b3, keys + 48);
            b4 = Round(b4, keys + 48); b5 = Round(b5, keys + 48); b6 = Round(b6, keys + 48); b7 = Round(b7, keys + 48);
            Vector256<ulong> hi = Pclmulqdq.V256.CarrylessMultiply(x0, h0, 0x11) ^ Pclmulqdq.V256.CarrylessMultiply(x1, h1, 0x11) ^ Pclmulqdq.V256.CarrylessMultiply(x2, h2, 0x11) ^ Pclmulqdq.V256.CarrylessMultiply(x3, h3, 0x11);
            b0 = Round(b0, keys + 64); b1 = Round(b1, keys + 64); b2 = Round(b2, keys + 64); b3 = Round(b3, keys + 64);
            b4 = Round(b4, keys + 64); b5 = Round(b5, keys + 64); b6 = Round(b6, keys + 64); b7 = Round(b7, keys + 64);
            Vector256<ulong> mid = Pclmulqdq.V256.CarrylessMultiply(x0, h0, 0x01) ^ Pclmulqdq.V256.CarrylessMultiply(x0, h0, 0x10) ^ Pclmulqdq.V256.CarrylessMultiply(x1, h1, 0x01) ^ Pclmulqdq.V256.CarrylessMultiply(x1, h1, 0x10);
            b0 = Round(b0, keys + 80); b1 = Round(b1, keys + 80); b2 = Round(b2, keys + 80); b3 = Round(b3, keys + 80);
            b4 = Round(b4, keys + 80); b5 = Round(b5, keys + 80); b6 = Round(b6, keys + 80); b7 = Round(b7, keys + 80);
            mid ^= Pclmulqdq.V256.CarrylessMultiply(x2, h2, 0x01) ^ Pclmulqdq.V256.CarrylessMultiply(x2, h2, 0x10) ^ Pclmulqdq.V256.CarrylessMultiply(x3, h3, 0x01) ^ Pclmulqdq.V256.CarrylessMultiply(x3, h3, 0x10);
            b0 = Round(b0, keys + 96); b1 = Round(b1, keys + 96); b2 = Round(b2, keys + 96); b3 = Round(b3, keys + 96);
            b4 = Round(b4, keys + 96); b5 = Round(b5, keys + 96); b6 = Round(b6, keys + 96); b7 = Round(b7, keys + 96);
            Vector128<ulong> l1 = lo.GetLower() ^ lo.GetUpper(), u1 = hi.GetLower() ^ hi.GetUpper(), m1 = mid.GetLower() ^ mid.GetUpper();
            Vector128<ulong> x01 = l1 ^ Sse2.ShiftLeftLogical128BitLane(m1, 8);
            Vector128<ulong> x23 = u1 ^ Sse2.ShiftRightLogical128BitLane(m1, 8);
            b0 = Round(b0, keys + 112); b1 = Round(b1, keys + 112); b2 = Round(b2, keys + 112); b3 = Round(b3, keys + 112);
            b4 = Round(b4, keys + 112); b5 = Round(b5, keys + 112); b6 = Round(b6, keys + 112); b7 = Round(b7, keys + 112);
            Vector128<ulong> t = Sse2.Shuffle(x01.AsUInt32(), 0x4E).AsUInt64() ^ Pclmulqdq.CarrylessMultiply(x01, Vector128.Create(0xC200000000000000UL, 0UL), 0x00);
            b0 = Round(b0, keys + 128); b1 = Round(b1, keys + 128); b2 = Round(b2, keys + 128); b3 = Round(b3, keys + 128);
            b4 = Round(b4, keys + 128); b5 = Round(b5, keys + 128); b6 = Round(b6, keys + 128); b7 = Round(b7, keys + 128);
            acc = x23 ^ Sse2.Shuffle(t.AsUInt32(), 0x4E).AsUInt64() ^ Pclmulqdq.CarrylessMultiply(t, Vector128.Create(0xC200000000000000UL, 0UL), 0x00);
            b0 = Round(b0, keys + 144); b1 = Round(b1, keys + 144); b2 = Round(b2, keys + 144); b3 = Round(b3, keys + 144);
            b4 = Round(b4, keys + 144); b5 = Round(b5, keys + 144); b6 = Round(b6, keys + 144); b7 = Round(b7, keys + 144);
            for (byte* kp = keys + 160; kp < lastKey; kp += 16)
            {
                b0 = Round(b0, kp); b1 = Round(b1, kp); b2 = Round(b2, kp); b3 = Round(b3, kp);
                b4 = Round(b4, kp); b5 = Round(b5, kp); b6 = Round(b6, kp); b7 = Round(b7, kp);
            }
            k = Vector128.Load(lastKey);
            (AesX86.EncryptLast(b0, k) ^ Vector128.Load(s)).Store(d);
            (AesX86.EncryptLast(b1, k) ^ Vector128.Load(s + 16)).Store(d + 16);
            (AesX86.EncryptLast(b2, k) ^ Vector128.Load(s + 32)).Store(d + 32);
            (AesX86.EncryptLast(b3, k) ^ Vector128.Load(s + 48)).Store(d + 48);
            (AesX86.EncryptLast(b4, k) ^ Vector128.Load(s + 64)).Store(d + 64);
            (AesX86.EncryptLast(b5, k) ^ Vector128.Load(s + 80)).Store(d + 80);
            (AesX86.EncryptLast(b6, k) ^ Vector128.Load(s + 96)).Store(d + 96);
            (AesX86.EncryptLast(b7, k) ^ Vector128.Load(s + 112)).Store(d + 112);
        }
        return acc;
    }

    /// <summary>One AES round with the round key taken as a memory operand: keeping keys out of
    /// registers leaves xmm0-15 (the only registers the VEX-encoded AESENC can use) to the 8 states.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Round(Vector128<byte> block, byte* roundKey) => AesX86.Encrypt(block, Vector128.Load(roundKey));

    protected override void Dispose(bool disposing)
    {
        if (disposing) _keys.Dispose();
    }
}
