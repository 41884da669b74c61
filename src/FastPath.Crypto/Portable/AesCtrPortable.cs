using System;
using System.Runtime.CompilerServices;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Portable;

// AES-CTR for ESP (RFC 3686) in plain C# on the T-table block core (AesPortableCore, NOT
// constant-time; see there).
//
// Design: round keys computed once at keying (NativeKeyBuffer). Per call the counter block
// nonce(4) ‖ IV(8) ‖ BE32(counter), counter from 1 (RFC 3686 §4), is built on the stack and
// AesPortableCore.CtrXor encrypts it block by block into the data (any length; the keystream
// block is cleared from the stack afterwards).
internal sealed unsafe class AesCtrPortable : CtrCipher
{
    private readonly NativeKeyBuffer _keys;
    private readonly int _rounds;
    private readonly int _keySize;

    public AesCtrPortable(ReadOnlySpan<byte> key)
    {
        _rounds = AesKeySchedule.CheckKey(key);
        _keySize = key.Length;
        _keys = new NativeKeyBuffer(AesPortableCore.MaxRoundKeyBytes);
        AesKeySchedule.ExpandEncrypt(key, _keys.Span);
    }

    public override int KeySize => _keySize;

    [SkipLocalsInit]
    public override void Transform(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output)
    {
        if (nonce.Length != NonceSize) ThrowHelper.Length("nonce", nonce.Length, "4");
        if (iv.Length != IvSize) ThrowHelper.Length("iv", iv.Length, "8");
        if (input.Length != output.Length) ThrowHelper.Length("output", output.Length, "the input length");
        byte* counter = stackalloc byte[16];
        fixed (byte* n = nonce, v = iv, src = input, dst = output)
        {
            Unsafe.WriteUnaligned(counter, Unsafe.ReadUnaligned<uint>(n));
            Unsafe.WriteUnaligned(counter + 4, Unsafe.ReadUnaligned<ulong>(v));
            AesPortableCore.CtrXor(_keys.Pointer, _rounds, counter, 1, src, dst, input.Length);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _keys.Dispose();
    }
}
