using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FastPath.Crypto;

namespace FastPath.Dataplane.Esp;

// Explicit IVs for the CBC suites (AES-CBC RFC 3602 §3, 3DES-CBC RFC 2451 §2.3). CBC needs IVs that
// are unpredictable to an attacker who sees earlier traffic (a predictable IV enables the chosen-
// plaintext attack of Rogaway/Bard, the one behind BEAST), not merely unique; a counter or the
// sequence number is therefore NOT acceptable here, unlike GCM/ChaCha/CTR (RFC 4106 §3.1 allows the
// sequence number as the 8-byte IV there because only uniqueness matters).
//
// Construction: an AES-encrypted counter. At install the SA draws a 128-bit key and a 32-bit nonce
// from the OS CSPRNG (RandomNumberGenerator) and keys an AES-CTR instance with them. IV_i is block i
// of the CTR keystream, i.e. AES_K(nonce | refill counter | block counter): AES under a secret,
// random key is a PRP, so the IVs are unpredictable and (inputs never repeat within 2^64 refills)
// never repeat. This is the construction NIST SP 800-38A Appendix C recommends ("apply the forward
// cipher function, under the same key that is used for the encryption of the plaintext, to a
// nonce"), with a separate key so the IV stream is independent of the traffic key. Calling the
// OS CSPRNG per packet would cost a syscall-sized call per packet; a keystream of 64 IVs per
// refill costs one AES-NI CTR call of 1 KiB (~0.1 µs) per 64 packets.

/// <summary>Per-SA generator of unpredictable CBC IVs (16 or 8 bytes). One worker owns it.</summary>
internal sealed unsafe class CbcIvGenerator : IDisposable
{
    private const int IvsPerRefill = 64;
    private const int BlockBytes = 16;

    private readonly CtrCipher _ctr;
    private readonly byte* _buffer;
    private readonly byte[] _nonce = new byte[4];
    private ulong _refills;
    private int _next = IvsPerRefill;
    private bool _disposed;

    public CbcIvGenerator()
    {
        Span<byte> key = stackalloc byte[16];
        RandomNumberGenerator.Fill(key);
        RandomNumberGenerator.Fill(_nonce);
        // The IV keystream always comes from the default engine (AES-NI CTR where present): constant
        // time, allocation-free, and independent of which engine the SA's own cipher runs on (the
        // BCL's CTR allocates per call; the portable engine's table AES is not constant-time).
        _ctr = CryptoEngine.Default.CreateAesCtr(key);
        CryptographicOperations.ZeroMemory(key);
        _buffer = (byte*)NativeMemory.AlignedAlloc(IvsPerRefill * BlockBytes, 64);
    }

    /// <summary>Writes the next IV (<paramref name="length"/> ≤ 16 bytes) to <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Next(byte* destination, int length)
    {
        if (_next == IvsPerRefill) Refill();
        byte* iv = _buffer + _next++ * BlockBytes;
        if (length == 16) Unsafe.CopyBlockUnaligned(destination, iv, 16);
        else Unsafe.CopyBlockUnaligned(destination, iv, (uint)length);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [SkipLocalsInit]
    private void Refill()
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(counter, _refills++);
        var block = new Span<byte>(_buffer, IvsPerRefill * BlockBytes);
        block.Clear();
        _ctr.Transform(_nonce, counter, block, block);
        _next = 0;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        new Span<byte>(_buffer, IvsPerRefill * BlockBytes).Clear();
        NativeMemory.AlignedFree(_buffer);
        _ctr.Dispose();
    }
}
