using System;
using System.Runtime.CompilerServices;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Portable;

// AES-CBC (RFC 3602, NIST SP 800-38A §6.2) in plain C# on the T-table block core (AesPortableCore,
// which is NOT constant-time; see there).
//
// Design: encryption and decryption round keys (FIPS-197 expansion and the Equivalent Inverse
// Cipher keys, AesKeySchedule) are computed once into one NativeKeyBuffer: [0, 240) encryption,
// [256, 496) decryption. Encryption chains C_i = E(P_i ⊕ C_{i−1}) through a stack block; decryption
// saves C_i in two 64-bit locals before it decrypts, so in place (input = output) works.
internal sealed unsafe class AesCbcPortable : CbcCipher
{
    private const int DecryptOffset = 256;

    private readonly NativeKeyBuffer _keys;
    private readonly int _rounds;
    private readonly int _keySize;

    public AesCbcPortable(ReadOnlySpan<byte> key)
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

    [SkipLocalsInit]
    public override void Encrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        CheckArguments(iv, input.Length, output.Length);
        byte* keys = _keys.Pointer;
        byte* x = stackalloc byte[16];
        fixed (byte* v = iv, src = input, dst = output)
        {
            byte* previous = v;
            for (nint off = 0; off < input.Length; off += 16)
            {
                AesPortableCore.Xor16(src + off, previous, x);
                AesPortableCore.EncryptBlock(keys, _rounds, x, dst + off);
                previous = dst + off;
            }
        }
        new Span<byte>(x, 16).Clear();
    }

    [SkipLocalsInit]
    public override void Decrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        CheckArguments(iv, input.Length, output.Length);
        byte* keys = _keys.Pointer + DecryptOffset;
        fixed (byte* v = iv, src = input, dst = output)
        {
            ulong prevLo = Unsafe.ReadUnaligned<ulong>(v), prevHi = Unsafe.ReadUnaligned<ulong>(v + 8);
            for (nint off = 0; off < input.Length; off += 16)
            {
                // P_i = D(C_i) ⊕ C_{i−1}; C_i is kept before the (possibly in-place) store.
                ulong cLo = Unsafe.ReadUnaligned<ulong>(src + off), cHi = Unsafe.ReadUnaligned<ulong>(src + off + 8);
                AesPortableCore.DecryptBlock(keys, _rounds, src + off, dst + off);
                Unsafe.WriteUnaligned(dst + off, Unsafe.ReadUnaligned<ulong>(dst + off) ^ prevLo);
                Unsafe.WriteUnaligned(dst + off + 8, Unsafe.ReadUnaligned<ulong>(dst + off + 8) ^ prevHi);
                prevLo = cLo;
                prevHi = cHi;
            }
        }
    }

    /// <summary>Job by job (the T-table core has no parallel lanes), but every job length is validated
    /// before any output is written, as in the intrinsics engine.</summary>
    public override void EncryptMulti(ReadOnlySpan<CbcJob> jobs)
    {
        for (int i = 0; i < jobs.Length; i++)
        {
            int length = jobs[i].Length;
            if (length < 0 || (length & 15) != 0) ThrowHelper.Length("jobs", length, "a multiple of 16 in every job");
        }
        foreach (ref readonly CbcJob job in jobs)
        {
            Encrypt(new ReadOnlySpan<byte>(job.Iv, 16), new ReadOnlySpan<byte>(job.Input, job.Length), new Span<byte>(job.Output, job.Length));
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _keys.Dispose();
    }
}
