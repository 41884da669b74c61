using System;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace FastPath.Crypto.Internal;

// HMAC (RFC 2104) over the scalar compression functions, shared by the portable and intrinsics
// engines (the latter adds multi-buffer SHA-1/SHA-256 across packets, Intrinsics/HmacSimd.cs).
//
// Keying: K0 = key zero-padded to the block size B (keys longer than B are hashed first, RFC 2104
// §2); the states after compressing K0 ^ ipad and K0 ^ opad are stored in a NativeKeyBuffer
// (inner at offset 0, outer at 64; 64 bytes each: 4/5/8 uint words or 8 ulong words). A message then
// costs its own blocks plus one outer block: HMAC = H_outer(H_inner(data ‖ trailer)), both hashes
// resumed from the precomputed states with the length fields counting the pad block.
//
// Per message the data's full blocks are compressed where they are; only the tail, the trailer (ESN
// high bits, RFC 4303 §3.3.2.1; any length is accepted) and the padding (FIPS 180-4 §5.1, RFC 1321
// §3.1-3.2) are built in a stack block of at most two blocks. The output is written only after all
// input has been read, so it may sit inside or right after the data (as ESP places the ICV).
internal unsafe interface IHashCore
{
    static abstract int BlockSize { get; }
    static abstract int DigestSize { get; }

    /// <summary>Bytes of the length field at the end of the last padded block (8, or 16 for SHA-384/512).</summary>
    static abstract int LengthFieldSize { get; }

    static abstract void Init(byte* state);
    static abstract void Compress(byte* state, byte* blocks, nint count);

    /// <summary>Writes the message bit length in the hash's byte order into the last 8 bytes before <paramref name="end"/>.</summary>
    static abstract void WriteLength(byte* end, ulong bitLength);

    static abstract void WriteDigest(byte* state, byte* output);
}

internal static unsafe class HmacCore
{
    /// <summary>Bytes of one precomputed state (the largest: 8 × ulong).</summary>
    public const int StateBytes = 64;

    public const int InnerOffset = 0;
    public const int OuterOffset = StateBytes;
    public const int KeyBufferBytes = 2 * StateBytes;

    /// <summary>Derives the ipad/opad states for <paramref name="key"/> (any length) into a new buffer.</summary>
    public static NativeKeyBuffer CreateKey(HashAlgorithmKind hash, ReadOnlySpan<byte> key)
    {
        var buffer = new NativeKeyBuffer(KeyBufferBytes);
        switch (hash)
        {
            case HashAlgorithmKind.Md5: DeriveStates<Md5Hash>(key, buffer.Pointer); break;
            case HashAlgorithmKind.Sha1: DeriveStates<Sha1Hash>(key, buffer.Pointer); break;
            case HashAlgorithmKind.Sha256: DeriveStates<Sha256Hash>(key, buffer.Pointer); break;
            case HashAlgorithmKind.Sha384: DeriveStates<Sha384Hash>(key, buffer.Pointer); break;
            case HashAlgorithmKind.Sha512: DeriveStates<Sha512Hash>(key, buffer.Pointer); break;
            default:
                buffer.Dispose();
                throw new ArgumentOutOfRangeException(nameof(hash));
        }
        return buffer;
    }

    private static void DeriveStates<THash>(ReadOnlySpan<byte> key, byte* states) where THash : IHashCore
    {
        int blockSize = THash.BlockSize;
        byte* k0 = stackalloc byte[128];
        byte* pad = stackalloc byte[128];
        new Span<byte>(k0, 128).Clear();
        fixed (byte* k = key)
        {
            if (key.Length > blockSize)
            {
                // RFC 2104 §2: keys longer than B are replaced by H(key).
                THash.Init(pad);
                Absorb<THash>(pad, k, key.Length, null, 0, 0);
                THash.WriteDigest(pad, k0);
            }
            else
            {
                key.CopyTo(new Span<byte>(k0, blockSize));
            }
        }
        for (int i = 0; i < blockSize; i++) pad[i] = (byte)(k0[i] ^ 0x36);
        THash.Init(states + InnerOffset);
        THash.Compress(states + InnerOffset, pad, 1);
        for (int i = 0; i < blockSize; i++) pad[i] = (byte)(k0[i] ^ 0x5C);
        THash.Init(states + OuterOffset);
        THash.Compress(states + OuterOffset, pad, 1);
        CryptographicOperations.ZeroMemory(new Span<byte>(k0, 128));
        CryptographicOperations.ZeroMemory(new Span<byte>(pad, 128));
    }

    /// <summary>Absorbs data ‖ trailer into <paramref name="state"/> and pads, the length field counting
    /// <paramref name="prefixBytes"/> already absorbed bytes (the ipad block).</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Absorb<THash>(byte* state, byte* data, nint length, byte* trailer, int trailerLength, long prefixBytes)
        where THash : IHashCore
    {
        int blockSize = THash.BlockSize;
        ulong bitLength = (ulong)(prefixBytes + length + trailerLength) << 3;
        nint full = length / blockSize;
        THash.Compress(state, data, full);
        byte* block = stackalloc byte[256];
        int pos = (int)(length - full * blockSize);
        Unsafe.CopyBlockUnaligned(block, data + full * blockSize, (uint)pos);
        while (trailerLength > 0)
        {
            int n = Math.Min(trailerLength, blockSize - pos);
            Unsafe.CopyBlockUnaligned(block + pos, trailer, (uint)n);
            pos += n;
            trailer += n;
            trailerLength -= n;
            if (pos == blockSize)
            {
                THash.Compress(state, block, 1);
                pos = 0;
            }
        }
        block[pos++] = 0x80;
        int end = pos + THash.LengthFieldSize <= blockSize ? blockSize : 2 * blockSize;
        Unsafe.InitBlockUnaligned(block + pos, 0, (uint)(end - pos));
        THash.WriteLength(block + end, bitLength);
        THash.Compress(state, block, end / blockSize);
    }

    /// <summary>HMAC(data ‖ trailer) truncated to <paramref name="outputLength"/> bytes, from the precomputed states.</summary>
    [SkipLocalsInit]
    public static void Compute<THash>(byte* states, byte* data, nint length, byte* trailer, int trailerLength, byte* output, int outputLength)
        where THash : IHashCore
    {
        int blockSize = THash.BlockSize;
        int digestSize = THash.DigestSize;
        byte* state = stackalloc byte[StateBytes];
        byte* block = stackalloc byte[128];
        Unsafe.CopyBlock(state, states + InnerOffset, StateBytes);
        Absorb<THash>(state, data, length, trailer, trailerLength, blockSize);
        // Outer hash: one block, H_inner ‖ 0x80 ‖ 0.. ‖ length(B + L).
        THash.WriteDigest(state, block);
        block[digestSize] = 0x80;
        Unsafe.InitBlockUnaligned(block + digestSize + 1, 0, (uint)(blockSize - digestSize - 1));
        THash.WriteLength(block + blockSize, (ulong)(blockSize + digestSize) << 3);
        Unsafe.CopyBlock(state, states + OuterOffset, StateBytes);
        THash.Compress(state, block, 1);
        THash.WriteDigest(state, block);
        Unsafe.CopyBlockUnaligned(output, block, (uint)outputLength);
        CryptographicOperations.ZeroMemory(new Span<byte>(block, 128));
        CryptographicOperations.ZeroMemory(new Span<byte>(state, StateBytes));
    }

    /// <summary><see cref="Compute{THash}"/> dispatched on the hash.</summary>
    public static void Compute(HashAlgorithmKind hash, byte* states, byte* data, nint length, byte* trailer, int trailerLength, byte* output, int outputLength)
    {
        switch (hash)
        {
            case HashAlgorithmKind.Md5: Compute<Md5Hash>(states, data, length, trailer, trailerLength, output, outputLength); break;
            case HashAlgorithmKind.Sha1: Compute<Sha1Hash>(states, data, length, trailer, trailerLength, output, outputLength); break;
            case HashAlgorithmKind.Sha256: Compute<Sha256Hash>(states, data, length, trailer, trailerLength, output, outputLength); break;
            case HashAlgorithmKind.Sha384: Compute<Sha384Hash>(states, data, length, trailer, trailerLength, output, outputLength); break;
            default: Compute<Sha512Hash>(states, data, length, trailer, trailerLength, output, outputLength); break;
        }
    }
}

/// <summary>The keyed HMAC both own engines share: ipad/opad states precomputed in native memory,
/// scalar per-message computation. The intrinsics engine derives from it to add multi-buffer lanes.</summary>
internal abstract unsafe class PrecomputedHmac : Mac
{
    protected readonly NativeKeyBuffer Keys;
    private readonly HashAlgorithmKind _hash;
    private readonly int _hashSize;

    protected PrecomputedHmac(HashAlgorithmKind hash, ReadOnlySpan<byte> key)
    {
        _hashSize = HashSizes.Of(hash);
        _hash = hash;
        Keys = HmacCore.CreateKey(hash, key);
    }

    public sealed override HashAlgorithmKind Hash => _hash;
    public sealed override int HashSize => _hashSize;

    public override void Compute(ReadOnlySpan<byte> data, ReadOnlySpan<byte> trailer, Span<byte> output)
    {
        CheckOutput(output.Length);
        byte* states = Keys.Pointer;
        fixed (byte* d = data, t = trailer, o = output)
        {
            HmacCore.Compute(_hash, states, d, data.Length, t, trailer.Length, o, output.Length);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected void CheckOutput(int outputLength)
    {
        if (outputLength <= 0 || outputLength > _hashSize) ThrowHelper.Length("output", outputLength, $"1..{_hashSize}");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Keys.Dispose();
    }
}
