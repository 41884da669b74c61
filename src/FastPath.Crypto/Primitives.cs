using System;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto;

// The keyed primitives every engine provides. Each object is keyed once (at SA install, on the
// control plane, where allocation is fine) and then used per packet with no allocation, no
// exception and no lock. An instance is used by one thread at a time (the worker owning the SA).
//
// Conventions for every primitive:
// - Spans may alias exactly (in place: input and output start at the same address) but must not
//   otherwise overlap.
// - Length errors are programming errors and throw (ArgumentException); authentication failure is
//   data and returns false.
// - On authentication failure the output holds no plaintext: it is cleared (as the BCL does).

/// <summary>AEAD with a 12-byte nonce: AES-GCM (NIST SP 800-38D) and ChaCha20-Poly1305 (RFC 8439).</summary>
public abstract class AeadCipher : IDisposable
{
    public const int NonceSize = 12;
    public const int MaxTagSize = 16;

    /// <summary>The key lines a packet touches, for dataplanes that prefetch the key material of the
    /// next packets of a multi-SA batch (Esp/KeyPrefetch.cs); default: nothing to prefetch.</summary>
    public virtual Esp.KeyPrefetch KeyPrefetch => default;

    /// <summary>Key length in bytes (16/32 for AES-GCM, 32 for ChaCha20-Poly1305).</summary>
    public abstract int KeySize { get; }

    /// <summary>Smallest tag accepted (8 for GCM as ESP allows, 16 for ChaCha20-Poly1305).</summary>
    public virtual int MinTagSize => 8;

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (same length) and writes a tag of
    /// <c>tag.Length</c> bytes (a truncation of the 16-byte tag).</summary>
    public abstract void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext,
        Span<byte> tag, ReadOnlySpan<byte> associatedData);

    /// <summary>Verifies and decrypts; returns false (and clears <paramref name="plaintext"/>) when the tag does not verify.</summary>
    public abstract bool Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag,
        Span<byte> plaintext, ReadOnlySpan<byte> associatedData);

    protected void CheckArguments(ReadOnlySpan<byte> nonce, int inputLength, int outputLength, int tagLength)
    {
        if (nonce.Length != NonceSize) ThrowHelper.Length("nonce", nonce.Length, "12");
        if (inputLength != outputLength) ThrowHelper.Length("output", outputLength, $"{inputLength} (the input length)");
        if (tagLength < MinTagSize || tagLength > MaxTagSize) ThrowHelper.Length("tag", tagLength, $"{MinTagSize}..{MaxTagSize}");
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }
}

/// <summary>One job of a multi-buffer CBC operation: an independent message with its own IV.
/// Pointers refer to memory that does not move (packet rings, slabs, or pinned buffers).</summary>
public readonly unsafe struct CbcJob
{
    public readonly byte* Iv;
    public readonly byte* Input;
    public readonly byte* Output;
    public readonly int Length;

    public CbcJob(byte* iv, byte* input, byte* output, int length)
    {
        Iv = iv; Input = input; Output = output; Length = length;
    }
}

/// <summary>A block cipher in CBC mode without padding (ESP pads itself, RFC 4303 §2.4):
/// AES-CBC (RFC 3602) and 3DES-CBC (RFC 2451).</summary>
public abstract class CbcCipher : IDisposable
{
    /// <summary>16 for AES, 8 for 3DES; also the IV size.</summary>
    public abstract int BlockSize { get; }

    public abstract int KeySize { get; }

    /// <summary>Encrypts whole blocks. CBC encryption is serial within a message.</summary>
    public abstract void Encrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output);

    /// <summary>Decrypts whole blocks (parallel within a message where the engine can).</summary>
    public abstract void Decrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output);

    /// <summary>Encrypts several independent messages, interleaved across messages where the engine
    /// can (CBC encryption of one message is serial, so this is where the parallelism is).</summary>
    public virtual unsafe void EncryptMulti(ReadOnlySpan<CbcJob> jobs)
    {
        foreach (ref readonly CbcJob job in jobs)
        {
            Encrypt(new ReadOnlySpan<byte>(job.Iv, BlockSize), new ReadOnlySpan<byte>(job.Input, job.Length),
                new Span<byte>(job.Output, job.Length));
        }
    }

    protected void CheckArguments(ReadOnlySpan<byte> iv, int inputLength, int outputLength)
    {
        if (iv.Length != BlockSize) ThrowHelper.Length("iv", iv.Length, BlockSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (inputLength != outputLength) ThrowHelper.Length("output", outputLength, $"{inputLength} (the input length)");
        if (inputLength % BlockSize != 0) ThrowHelper.Length("input", inputLength, $"a multiple of {BlockSize}");
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }
}

/// <summary>AES in counter mode as ESP uses it (RFC 3686): counter block = nonce(4) | IV(8) | counter(4),
/// counter starting at 1. The 4-byte nonce is part of the keying material, fixed per key.</summary>
public abstract class CtrCipher : IDisposable
{
    public const int IvSize = 8;
    public const int NonceSize = 4;

    public abstract int KeySize { get; }

    /// <summary>Encrypts or decrypts (the same operation) any length.</summary>
    public abstract void Transform(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> input, Span<byte> output);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }
}

/// <summary>One job of a multi-buffer MAC: MAC(data ‖ trailer), truncated to OutputLength bytes.
/// The trailer carries ESN high-order bits (RFC 4303 §3.3.2.1): 0 or 4 bytes.</summary>
public readonly unsafe struct MacJob
{
    public readonly byte* Data;
    public readonly int Length;
    public readonly byte* Trailer;
    public readonly int TrailerLength;
    public readonly byte* Output;
    public readonly int OutputLength;

    public MacJob(byte* data, int length, byte* trailer, int trailerLength, byte* output, int outputLength)
    {
        Data = data; Length = length; Trailer = trailer; TrailerLength = trailerLength; Output = output; OutputLength = outputLength;
    }
}

/// <summary>A keyed HMAC (RFC 2104) with the inner and outer pads' compression precomputed at keying,
/// so each message costs only its own blocks plus two finalizations.</summary>
public abstract class Mac : IDisposable
{
    public abstract HashAlgorithmKind Hash { get; }

    /// <summary>Full HMAC output size (16 MD5, 20 SHA-1, 32/48/64 SHA-2).</summary>
    public abstract int HashSize { get; }

    /// <summary>Writes HMAC(key, data ‖ trailer) truncated to <c>output.Length</c> (1..HashSize) bytes.</summary>
    public abstract void Compute(ReadOnlySpan<byte> data, ReadOnlySpan<byte> trailer, Span<byte> output);

    /// <summary>Computes and compares in constant time against <paramref name="expected"/> (its length is the truncation).</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> trailer, ReadOnlySpan<byte> expected)
    {
        if (expected.Length == 0 || expected.Length > HashSize) ThrowHelper.Length("expected", expected.Length, $"1..{HashSize}");
        Span<byte> actual = stackalloc byte[64];
        actual = actual[..expected.Length];
        Compute(data, trailer, actual);
        bool ok = CryptographicOperations.FixedTimeEquals(actual, expected);
        CryptographicOperations.ZeroMemory(actual);
        return ok;
    }

    /// <summary>MACs several independent messages, in parallel lanes where the engine can
    /// (multi-buffer SHA across packets: AVX2 8 lanes, AVX-512 16 lanes).</summary>
    public virtual unsafe void ComputeMulti(ReadOnlySpan<MacJob> jobs)
    {
        foreach (ref readonly MacJob job in jobs)
        {
            Compute(new ReadOnlySpan<byte>(job.Data, job.Length), new ReadOnlySpan<byte>(job.Trailer, job.TrailerLength),
                new Span<byte>(job.Output, job.OutputLength));
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }
}
