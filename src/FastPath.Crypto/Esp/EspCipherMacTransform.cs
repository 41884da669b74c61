using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Esp;

/// <summary>
/// Encrypt-then-MAC ESP: AES-CBC (RFC 3602), 3DES-CBC (RFC 2451) or AES-CTR (RFC 3686) with an
/// HMAC ICV (RFC 2403/2404/4868). ICV = HMAC(SPI | Seq | IV | ciphertext [| SeqHigh]) truncated
/// (RFC 4303 §3.3.2.1: with ESN the high half is appended for the ICV computation only).
///
/// Batches are where this suite gets fast: CBC encryption is serial within a packet, and SHA is
/// serial within a message, so <see cref="SealBatch"/> hands all packets of a chunk to the cipher's
/// multi-buffer encrypt and then to the MAC's multi-buffer compute (lanes across packets).
/// <see cref="OpenBatch"/> verifies all ICVs multi-buffer first, then decrypts only those that verified.
/// </summary>
internal sealed unsafe class EspCipherMacTransform : EspTransform
{
    private readonly CbcCipher? _cbc;
    private readonly CtrCipher? _ctr;
    private readonly uint _ctrNonce;
    private readonly Mac _mac;

    public EspCipherMacTransform(EspSuite suite, bool esn, CryptoEngine engine, CbcCipher? cbc, CtrCipher? ctr,
        ReadOnlySpan<byte> nonce, Mac mac)
        : base(suite, esn, engine)
    {
        _cbc = cbc;
        _ctr = ctr;
        _mac = mac;
        if (ctr is not null)
        {
            if (nonce.Length != 4) ThrowHelper.Length("nonce", nonce.Length, "4");
            _ctrNonce = System.Runtime.InteropServices.MemoryMarshal.Read<uint>(nonce);
        }
    }

    [SkipLocalsInit]
    public override void Seal(Span<byte> esp, uint seqHigh)
    {
        int n = SealPayloadLength(esp.Length);
        Span<byte> payload = esp.Slice(HeaderLength + IvLength, n);
        Encrypt(esp.Slice(HeaderLength, IvLength), payload);
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(trailer, seqHigh);
        _mac.Compute(esp[..(HeaderLength + IvLength + n)], Esn ? trailer : default, esp.Slice(HeaderLength + IvLength + n, IcvLength));
    }

    [SkipLocalsInit]
    public override EspOpenResult Open(Span<byte> esp, uint seqHigh)
    {
        int n = PayloadLength(esp.Length);
        if (n < 0) return EspOpenResult.BadLength;
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(trailer, seqHigh);
        // RFC 4303 §3.4.4.1: verify the ICV before decrypting (encrypt-then-MAC).
        if (!_mac.Verify(esp[..(HeaderLength + IvLength + n)], Esn ? trailer : default, esp.Slice(HeaderLength + IvLength + n, IcvLength)))
            return EspOpenResult.IntegrityFailed;
        Span<byte> payload = esp.Slice(HeaderLength + IvLength, n);
        Decrypt(esp.Slice(HeaderLength, IvLength), payload);
        return EspOpenResult.Ok;
    }

    [SkipLocalsInit]
    public override bool BatchesAcrossPackets => true;

    public override void SealBatch(ReadOnlySpan<EspPacket> packets)
    {
        CbcJob* cbcJobs = stackalloc CbcJob[BatchChunk];
        MacJob* macJobs = stackalloc MacJob[BatchChunk];
        uint* trailers = stackalloc uint[BatchChunk];
        for (int start = 0; start < packets.Length; start += BatchChunk)
        {
            int count = Math.Min(BatchChunk, packets.Length - start);
            for (int i = 0; i < count; i++)
            {
                ref readonly EspPacket p = ref packets[start + i];
                int n = SealPayloadLength(p.Length);
                byte* iv = p.Data + HeaderLength;
                byte* payload = iv + IvLength;
                if (_cbc is not null) cbcJobs[i] = new CbcJob(iv, payload, payload, n);
                else Encrypt(new Span<byte>(iv, IvLength), new Span<byte>(payload, n));
                trailers[i] = BinaryPrimitives.ReverseEndianness(p.SeqHigh);
                macJobs[i] = new MacJob(p.Data, HeaderLength + IvLength + n, (byte*)(trailers + i), Esn ? 4 : 0,
                    payload + n, IcvLength);
            }
            _cbc?.EncryptMulti(new ReadOnlySpan<CbcJob>(cbcJobs, count));
            _mac.ComputeMulti(new ReadOnlySpan<MacJob>(macJobs, count));
        }
    }

    [SkipLocalsInit]
    public override void OpenBatch(ReadOnlySpan<EspPacket> packets, Span<EspOpenResult> results)
    {
        if (results.Length < packets.Length) ThrowHelper.Length("results", results.Length, "at least the packet count");
        MacJob* macJobs = stackalloc MacJob[BatchChunk];
        uint* trailers = stackalloc uint[BatchChunk];
        byte* computed = stackalloc byte[BatchChunk * 32];
        int* payloadLengths = stackalloc int[BatchChunk];
        for (int start = 0; start < packets.Length; start += BatchChunk)
        {
            int count = Math.Min(BatchChunk, packets.Length - start);
            int jobs = 0;
            for (int i = 0; i < count; i++)
            {
                ref readonly EspPacket p = ref packets[start + i];
                int n = PayloadLength(p.Length);
                payloadLengths[i] = n;
                if (n < 0)
                {
                    results[start + i] = EspOpenResult.BadLength;
                    continue;
                }
                trailers[i] = BinaryPrimitives.ReverseEndianness(p.SeqHigh);
                macJobs[jobs++] = new MacJob(p.Data, HeaderLength + IvLength + n, (byte*)(trailers + i), Esn ? 4 : 0,
                    computed + i * 32, IcvLength);
            }
            _mac.ComputeMulti(new ReadOnlySpan<MacJob>(macJobs, jobs));
            for (int i = 0; i < count; i++)
            {
                int n = payloadLengths[i];
                if (n < 0) continue;
                ref readonly EspPacket p = ref packets[start + i];
                byte* payload = p.Data + HeaderLength + IvLength;
                bool ok = CryptographicOperations.FixedTimeEquals(new ReadOnlySpan<byte>(computed + i * 32, IcvLength),
                    new ReadOnlySpan<byte>(payload + n, IcvLength));
                if (!ok)
                {
                    results[start + i] = EspOpenResult.IntegrityFailed;
                    continue;
                }
                Decrypt(new Span<byte>(p.Data + HeaderLength, IvLength), new Span<byte>(payload, n));
                results[start + i] = EspOpenResult.Ok;
            }
            CryptographicOperations.ZeroMemory(new Span<byte>(computed, BatchChunk * 32));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [SkipLocalsInit]
    private void Encrypt(ReadOnlySpan<byte> iv, Span<byte> payload)
    {
        if (_cbc is not null)
        {
            _cbc.Encrypt(iv, payload, payload);
            return;
        }
        Span<byte> nonce = stackalloc byte[4];
        System.Runtime.InteropServices.MemoryMarshal.Write(nonce, in Unsafe.AsRef(in _ctrNonce));
        _ctr!.Transform(nonce, iv, payload, payload);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [SkipLocalsInit]
    private void Decrypt(ReadOnlySpan<byte> iv, Span<byte> payload)
    {
        if (_cbc is not null)
        {
            _cbc.Decrypt(iv, payload, payload);
            return;
        }
        Span<byte> nonce = stackalloc byte[4];
        System.Runtime.InteropServices.MemoryMarshal.Write(nonce, in Unsafe.AsRef(in _ctrNonce));
        _ctr!.Transform(nonce, iv, payload, payload);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cbc?.Dispose();
            _ctr?.Dispose();
            _mac.Dispose();
        }
    }
}
