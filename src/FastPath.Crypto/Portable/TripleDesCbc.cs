using System;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Portable;

// PLACEHOLDER: replaced by the real implementation.
internal sealed class TripleDesCbc : CbcCipher
{
    public TripleDesCbc(ReadOnlySpan<byte> key) => ThrowHelper.PlatformNotSupported("TripleDesCbc is not implemented yet");
    public override int BlockSize => 16;
    public override int KeySize => 0;
    public override void Encrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output) { }
    public override void Decrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output) { }
}
