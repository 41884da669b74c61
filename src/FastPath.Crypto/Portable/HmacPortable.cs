using System;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Portable;

// HMAC-MD5-96 (RFC 2403), HMAC-SHA-1-96 (RFC 2404), HMAC-SHA-256/384/512 (RFC 4868) in plain C#:
// the ipad/opad compression states are precomputed at keying (Internal/HmacCore.cs), the
// compression functions are the unrolled scalar cores in Internal/*Core.cs. ComputeMulti is the
// per-job loop of the base class (no SIMD lanes in the portable engine).
internal sealed class HmacPortable : PrecomputedHmac
{
    public HmacPortable(HashAlgorithmKind hash, ReadOnlySpan<byte> key) : base(hash, key) { }
}
