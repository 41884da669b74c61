using System;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Intrinsics;

// PLACEHOLDER: replaced by the real implementation.
internal sealed class HmacSimd : Mac
{
    public HmacSimd(HashAlgorithmKind hash, ReadOnlySpan<byte> key) => ThrowHelper.PlatformNotSupported("HmacSimd is not implemented yet");
    public override HashAlgorithmKind Hash => default;
    public override int HashSize => 0;
    public override void Compute(ReadOnlySpan<byte> data, ReadOnlySpan<byte> trailer, Span<byte> output) { }
}
