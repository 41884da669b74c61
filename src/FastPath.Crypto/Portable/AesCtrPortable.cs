using System;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Portable;

// PLACEHOLDER: replaced by the real implementation.
internal sealed class AesCtrPortable : CtrCipher
{
    public AesCtrPortable(ReadOnlySpan<byte> key) => ThrowHelper.PlatformNotSupported("AesCtrPortable is not implemented yet");
    public override int KeySize => 0;
    public override void Transform(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output) { }
}
