using System;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Intrinsics;

internal sealed class HmacSimd : PrecomputedHmac
{
    public HmacSimd(HashAlgorithmKind hash, ReadOnlySpan<byte> key) : base(hash, key) { }
}
