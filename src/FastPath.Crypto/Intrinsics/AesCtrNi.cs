using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Intrinsics;

// AES-CTR for ESP (RFC 3686) on AES-NI.
//
// Design: the round keys (FIPS-197 key expansion, AesKeySchedule) are computed once at keying
// into a NativeKeyBuffer. Per call, the counter block nonce(4) ‖ IV(8) ‖ BE32(counter) with the
// counter starting at 1 (RFC 3686 §4) is kept as a vector whose last lane is the native counter,
// and AesNi.CtrXor encrypts 8 counter blocks per iteration round by round (8-way interleaved)
// and XORs them into the data; the last partial block goes through a stack block.
internal sealed unsafe class AesCtrNi : CtrCipher
{
    private readonly NativeKeyBuffer _keys;
    private readonly int _rounds;
    private readonly int _keySize;

    public AesCtrNi(ReadOnlySpan<byte> key)
    {
        _rounds = AesKeySchedule.CheckKey(key);
        _keySize = key.Length;
        _keys = new NativeKeyBuffer(AesNi.MaxRoundKeyBytes);
        AesKeySchedule.ExpandEncrypt(key, _keys.Span);
    }

    public override int KeySize => _keySize;

    [SkipLocalsInit]
    public override void Transform(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (nonce.Length != NonceSize) ThrowHelper.Length("nonce", nonce.Length, "4");
        if (iv.Length != IvSize) ThrowHelper.Length("iv", iv.Length, "8");
        if (input.Length != output.Length) ThrowHelper.Length("output", output.Length, "the input length");
        byte* keys = _keys.Pointer;
        byte* prefix = stackalloc byte[12];
        fixed (byte* n = nonce, v = iv, src = input, dst = output)
        {
            // RFC 3686 §4: nonce ‖ IV ‖ counter, counter = 1 for the first block.
            Unsafe.WriteUnaligned(prefix, Unsafe.ReadUnaligned<uint>(n));
            Unsafe.WriteUnaligned(prefix + 4, Unsafe.ReadUnaligned<ulong>(v));
            Vector128<uint> ctr = AesNi.CounterState(prefix, 1);
            AesNi.CtrXor(keys, _rounds, ctr, src, dst, input.Length);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _keys.Dispose();
    }
}
