using System;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Portable;

// PLACEHOLDER: replaced by the real implementation.
internal sealed class HmacPortable : Mac
{
    public HmacPortable(HashAlgorithmKind hash, ReadOnlySpan<byte> key) => ThrowHelper.PlatformNotSupported("HmacPortable is not implemented yet");
    public override HashAlgorithmKind Hash => default;
    public override int HashSize => 0;
    public override void Compute(ReadOnlySpan<byte> data, ReadOnlySpan<byte> trailer, Span<byte> output) { }
}
