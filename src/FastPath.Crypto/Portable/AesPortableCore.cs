using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Portable;

// The portable AES block cipher (FIPS-197) in plain C#: the classic 32-bit T-table formulation
// (Daemen & Rijmen, "AES Proposal: Rijndael", §5.2.1; the layout of OpenSSL's aes_core.c).
//
// NOT CONSTANT-TIME: every round indexes 1 KB tables with secret state bytes, so the cache lines
// touched depend on key and data (Bernstein 2005, "Cache-timing attacks on AES"). This is why the
// portable engine is never the default (PortableEngine, docs/crypto.md): it exists to be correct
// everywhere and to cross-check the intrinsics engine, not to protect keys against local attackers.
//
// Design:
// - The state is four big-endian column words s0..s3 (column c = bytes 4c..4c+3 of the block).
//   One round is, per output column, four table look-ups XORed with the round key word:
//   Te0[x] = (2·S[x], S[x], S[x], 3·S[x]) as a big-endian word and Te1..Te3 its rotations by 8, 16,
//   24 bits, so SubBytes, ShiftRows and MixColumns cost 16 look-ups and 16 XORs per round. The
//   last round (no MixColumns) uses the S-box bytes.
// - Decryption is the Equivalent Inverse Cipher (FIPS-197 §5.3.5) with the InvMixColumns'ed keys of
//   AesKeySchedule.ExpandDecrypt (the same layout the AES-NI AESDEC path uses):
//   Td0[x] = (14·Si[x], 9·Si[x], 13·Si[x], 11·Si[x]), Td1..Td3 rotations, Si in the last round.
// - Round keys are read in the shared layout (AesKeySchedule: Nr+1 blocks in FIPS-197 byte order)
//   as big-endian words (one MOVBE each on x64).
// - The four encryption and four decryption tables (8 × 1 KB) plus the inverse S-box are generated
//   once at type initialization from the FIPS-197 S-box; the look-ups skip bounds checks (every
//   index is a byte).
internal static unsafe class AesPortableCore
{
    /// <summary>Bytes of round keys for the largest key (AES-256: 15 round keys).</summary>
    public const int MaxRoundKeyBytes = 15 * 16;

    private static readonly uint[] Te = BuildEncryptTables();
    private static readonly uint[] Td = BuildDecryptTables();
    private static readonly byte[] InvSBox = BuildInverseSBox();

    /// <summary>FIPS-197 Cipher() on one 16-byte block; <paramref name="src"/> and <paramref name="dst"/> may be equal.</summary>
    [SkipLocalsInit]
    public static void EncryptBlock(byte* roundKeys, int rounds, byte* src, byte* dst)
    {
        ref uint te = ref MemoryMarshal.GetArrayDataReference(Te);
        byte* rk = roundKeys;
        uint s0 = ReadWord(src) ^ ReadWord(rk);
        uint s1 = ReadWord(src + 4) ^ ReadWord(rk + 4);
        uint s2 = ReadWord(src + 8) ^ ReadWord(rk + 8);
        uint s3 = ReadWord(src + 12) ^ ReadWord(rk + 12);
        for (int r = 1; r < rounds; r++)
        {
            rk += 16;
            uint t0 = T(ref te, 0, s0 >> 24) ^ T(ref te, 1, (s1 >> 16) & 0xFF) ^ T(ref te, 2, (s2 >> 8) & 0xFF) ^ T(ref te, 3, s3 & 0xFF) ^ ReadWord(rk);
            uint t1 = T(ref te, 0, s1 >> 24) ^ T(ref te, 1, (s2 >> 16) & 0xFF) ^ T(ref te, 2, (s3 >> 8) & 0xFF) ^ T(ref te, 3, s0 & 0xFF) ^ ReadWord(rk + 4);
            uint t2 = T(ref te, 0, s2 >> 24) ^ T(ref te, 1, (s3 >> 16) & 0xFF) ^ T(ref te, 2, (s0 >> 8) & 0xFF) ^ T(ref te, 3, s1 & 0xFF) ^ ReadWord(rk + 8);
            uint t3 = T(ref te, 0, s3 >> 24) ^ T(ref te, 1, (s0 >> 16) & 0xFF) ^ T(ref te, 2, (s1 >> 8) & 0xFF) ^ T(ref te, 3, s2 & 0xFF) ^ ReadWord(rk + 12);
            s0 = t0; s1 = t1; s2 = t2; s3 = t3;
        }
        rk += 16;
        ref byte sbox = ref MemoryMarshal.GetReference(AesKeySchedule.SBox);
        WriteWord(dst, Last(ref sbox, s0, s1, s2, s3) ^ ReadWord(rk));
        WriteWord(dst + 4, Last(ref sbox, s1, s2, s3, s0) ^ ReadWord(rk + 4));
        WriteWord(dst + 8, Last(ref sbox, s2, s3, s0, s1) ^ ReadWord(rk + 8));
        WriteWord(dst + 12, Last(ref sbox, s3, s0, s1, s2) ^ ReadWord(rk + 12));
    }

    /// <summary>FIPS-197 EqInvCipher() on one block with keys from AesKeySchedule.ExpandDecrypt;
    /// <paramref name="src"/> and <paramref name="dst"/> may be equal.</summary>
    [SkipLocalsInit]
    public static void DecryptBlock(byte* decRoundKeys, int rounds, byte* src, byte* dst)
    {
        ref uint td = ref MemoryMarshal.GetArrayDataReference(Td);
        byte* rk = decRoundKeys;
        uint s0 = ReadWord(src) ^ ReadWord(rk);
        uint s1 = ReadWord(src + 4) ^ ReadWord(rk + 4);
        uint s2 = ReadWord(src + 8) ^ ReadWord(rk + 8);
        uint s3 = ReadWord(src + 12) ^ ReadWord(rk + 12);
        for (int r = 1; r < rounds; r++)
        {
            rk += 16;
            // InvShiftRows moves row i right by i: output column c takes row i from column c − i.
            uint t0 = T(ref td, 0, s0 >> 24) ^ T(ref td, 1, (s3 >> 16) & 0xFF) ^ T(ref td, 2, (s2 >> 8) & 0xFF) ^ T(ref td, 3, s1 & 0xFF) ^ ReadWord(rk);
            uint t1 = T(ref td, 0, s1 >> 24) ^ T(ref td, 1, (s0 >> 16) & 0xFF) ^ T(ref td, 2, (s3 >> 8) & 0xFF) ^ T(ref td, 3, s2 & 0xFF) ^ ReadWord(rk + 4);
            uint t2 = T(ref td, 0, s2 >> 24) ^ T(ref td, 1, (s1 >> 16) & 0xFF) ^ T(ref td, 2, (s0 >> 8) & 0xFF) ^ T(ref td, 3, s3 & 0xFF) ^ ReadWord(rk + 8);
            uint t3 = T(ref td, 0, s3 >> 24) ^ T(ref td, 1, (s2 >> 16) & 0xFF) ^ T(ref td, 2, (s1 >> 8) & 0xFF) ^ T(ref td, 3, s0 & 0xFF) ^ ReadWord(rk + 12);
            s0 = t0; s1 = t1; s2 = t2; s3 = t3;
        }
        rk += 16;
        ref byte isbox = ref MemoryMarshal.GetArrayDataReference(InvSBox);
        WriteWord(dst, Last(ref isbox, s0, s3, s2, s1) ^ ReadWord(rk));
        WriteWord(dst + 4, Last(ref isbox, s1, s0, s3, s2) ^ ReadWord(rk + 4));
        WriteWord(dst + 8, Last(ref isbox, s2, s1, s0, s3) ^ ReadWord(rk + 8));
        WriteWord(dst + 12, Last(ref isbox, s3, s2, s1, s0) ^ ReadWord(rk + 12));
    }

    /// <summary>Counter mode: XORs E(K, prefix ‖ BE32(c)) for c = <paramref name="first"/>, first + 1, ...
    /// (mod 2^32: inc32 of SP 800-38D §6.2, the RFC 3686 counter) into <paramref name="length"/> bytes from
    /// <paramref name="src"/> to <paramref name="dst"/> (may be equal). <paramref name="counterBlock"/> holds the
    /// 12-byte prefix; its last 4 bytes are overwritten. The keystream block is cleared before returning.</summary>
    [SkipLocalsInit]
    public static void CtrXor(byte* roundKeys, int rounds, byte* counterBlock, uint first, byte* src, byte* dst, nint length)
    {
        byte* ks = stackalloc byte[16];
        uint counter = first;
        while (length >= 16)
        {
            BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(counterBlock + 12, 4), counter++);
            EncryptBlock(roundKeys, rounds, counterBlock, ks);
            Xor16(src, ks, dst);
            src += 16; dst += 16; length -= 16;
        }
        if (length > 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(counterBlock + 12, 4), counter);
            EncryptBlock(roundKeys, rounds, counterBlock, ks);
            for (int i = 0; i < (int)length; i++) dst[i] = (byte)(src[i] ^ ks[i]);
        }
        Unsafe.InitBlockUnaligned(ks, 0, 16);
    }

    /// <summary>XORs 16 bytes: dst = a ⊕ b (any of them may be the same address).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Xor16(byte* a, byte* b, byte* dst)
    {
        ulong lo = Unsafe.ReadUnaligned<ulong>(a) ^ Unsafe.ReadUnaligned<ulong>(b);
        ulong hi = Unsafe.ReadUnaligned<ulong>(a + 8) ^ Unsafe.ReadUnaligned<ulong>(b + 8);
        Unsafe.WriteUnaligned(dst, lo);
        Unsafe.WriteUnaligned(dst + 8, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint T(ref uint tables, int table, uint index) => Unsafe.Add(ref tables, (nint)(table * 256 + (int)index));

    /// <summary>Last round of one column: S-box bytes of the rows taken from columns a, b, c, d (rows 0..3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Last(ref byte box, uint a, uint b, uint c, uint d) =>
        ((uint)Unsafe.Add(ref box, (nint)(a >> 24)) << 24)
        | ((uint)Unsafe.Add(ref box, (nint)((b >> 16) & 0xFF)) << 16)
        | ((uint)Unsafe.Add(ref box, (nint)((c >> 8) & 0xFF)) << 8)
        | Unsafe.Add(ref box, (nint)(d & 0xFF));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ReadWord(byte* p) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(p)) : Unsafe.ReadUnaligned<uint>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteWord(byte* p, uint v) =>
        Unsafe.WriteUnaligned(p, BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(v) : v);

    private static uint[] BuildEncryptTables()
    {
        var t = new uint[4 * 256];
        ReadOnlySpan<byte> sbox = AesKeySchedule.SBox;
        for (int x = 0; x < 256; x++)
        {
            byte s = sbox[x];
            uint w = ((uint)AesKeySchedule.Mul(s, 2) << 24) | ((uint)s << 16) | ((uint)s << 8) | AesKeySchedule.Mul(s, 3);
            for (int i = 0; i < 4; i++) t[i * 256 + x] = uint.RotateRight(w, 8 * i);
        }
        return t;
    }

    private static uint[] BuildDecryptTables()
    {
        var t = new uint[4 * 256];
        byte[] inv = BuildInverseSBox();
        for (int x = 0; x < 256; x++)
        {
            byte s = inv[x];
            uint w = ((uint)AesKeySchedule.Mul(s, 14) << 24) | ((uint)AesKeySchedule.Mul(s, 9) << 16)
                | ((uint)AesKeySchedule.Mul(s, 13) << 8) | AesKeySchedule.Mul(s, 11);
            for (int i = 0; i < 4; i++) t[i * 256 + x] = uint.RotateRight(w, 8 * i);
        }
        return t;
    }

    private static byte[] BuildInverseSBox()
    {
        var inv = new byte[256];
        ReadOnlySpan<byte> sbox = AesKeySchedule.SBox;
        for (int x = 0; x < 256; x++) inv[sbox[x]] = (byte)x;
        return inv;
    }
}
