using System;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Intrinsics;

// PLACEHOLDER: replaced by the real implementation.
internal sealed class AesCtrNi : CtrCipher
{
    public AesCtrNi(ReadOnlySpan<byte> key) => ThrowHelper.PlatformNotSupported("AesCtrNi is not implemented yet");
    public override int KeySize => 0;
    public override void Transform(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output) { }
}
