using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Esp;

// The cryptographic half of one ESP SA direction. The dataplane lays out the packet and owns
// sequence numbers, IV generation and replay; this class only seals and opens, in place:
//
//   esp = SPI(4) | Sequence(4) | IV (IvLength) | Payload (n × PayloadAlignment) | ICV (IcvLength)
//
// where Payload = inner packet | padding | pad length | next header (RFC 4303 §2). What the ICV
// covers depends on the suite:
//   combined (GCM RFC 4106, ChaCha20-Poly1305 RFC 7634): AAD = SPI|Seq, or SPI|SeqHigh|SeqLow with
//     ESN (RFC 4106 §5); nonce = salt(4, from KEYMAT)|IV(8); payload encrypted.
//   GMAC (RFC 4543 §3): everything before the ICV is AAD (with ESN, SeqHigh inserted after the SPI),
//     nothing is encrypted.
//   cipher + HMAC (RFC 4303 §3.3.2.1, §3.4.4.1): ICV = HMAC(SPI|Seq|IV|ciphertext [| SeqHigh with ESN]),
//     encrypt-then-MAC, and on receive the ICV is verified before anything is decrypted.
//
// One transform is created per SA direction at install (control plane: allocation allowed) and is
// then used by the one worker owning the SA: no allocation, no lock, no exception per packet.

/// <summary>One packet of a batch: a pointer to its ESP header (memory that does not move: a ring
/// slot, a slab frame, or a pinned buffer), its length, and the high half of its 64-bit sequence number.</summary>
public readonly unsafe struct EspPacket
{
    public readonly byte* Data;
    public readonly int Length;
    public readonly uint SeqHigh;

    public EspPacket(byte* data, int length, uint seqHigh)
    {
        Data = data; Length = length; SeqHigh = seqHigh;
    }

    public Span<byte> Span => new(Data, Length);
}

/// <summary>Outcome of opening one ESP packet; the dataplane maps each to a drop counter.</summary>
public enum EspOpenResult : byte
{
    /// <summary>ICV verified; payload decrypted in place.</summary>
    Ok,
    /// <summary>Shorter than header + IV + ICV, or payload not a multiple of the cipher's alignment (a Runt/BadLength drop).</summary>
    BadLength,
    /// <summary>ICV did not verify; the payload is not decrypted (or was cleared).</summary>
    IntegrityFailed,
}

/// <summary>Per-SA, per-direction ESP crypto: seal and open packets in place, singly or in batches.</summary>
public abstract class EspTransform : IDisposable
{
    /// <summary>SPI + sequence number (RFC 4303 §2).</summary>
    public const int HeaderLength = 8;

    /// <summary>Most packets a batch call processes at a time (larger spans are processed in chunks).</summary>
    protected const int BatchChunk = 32;

    protected EspTransform(EspSuite suite, bool esn, CryptoEngine engine)
    {
        Suite = suite;
        Esn = esn;
        Engine = engine;
        IvLength = suite.IvLength;
        IcvLength = suite.IcvLength;
        PayloadAlignment = suite.PayloadAlignment;
    }

    public EspSuite Suite { get; }
    public bool Esn { get; }
    public CryptoEngine Engine { get; }
    public int IvLength { get; }
    public int IcvLength { get; }
    public int PayloadAlignment { get; }

    /// <summary>The key lines a packet of this SA touches (Esp/KeyPrefetch.cs): copied into the
    /// dataplane's SA struct at install so a multi-SA batch can prefetch them a few packets ahead.</summary>
    public KeyPrefetch KeyPrefetch { get; protected init; }

    /// <summary>Bytes ESP adds around the payload: header, IV and ICV.</summary>
    public int Overhead => HeaderLength + IvLength + IcvLength;

    /// <summary>Encrypts the payload and writes the ICV. The IV must already be in place. A malformed
    /// layout is a bug of the caller and throws.</summary>
    public abstract void Seal(Span<byte> esp, uint seqHigh);

    /// <summary>Verifies the ICV and, if it verifies, decrypts the payload in place.</summary>
    public abstract EspOpenResult Open(Span<byte> esp, uint seqHigh);

    /// <summary>Whether <see cref="SealBatch"/>/<see cref="OpenBatch"/> do more than one packet at a time
    /// (multi-buffer HMAC/CBC lanes): only then is it worth gathering a mixed batch's packets by SA.</summary>
    public virtual bool BatchesAcrossPackets => false;

    /// <summary>Seals a batch. Engines with multi-buffer primitives interleave across packets.</summary>
    public virtual unsafe void SealBatch(ReadOnlySpan<EspPacket> packets)
    {
        foreach (ref readonly EspPacket p in packets) Seal(p.Span, p.SeqHigh);
    }

    /// <summary>Opens a batch; <paramref name="results"/>[i] is the outcome of packets[i].</summary>
    public virtual unsafe void OpenBatch(ReadOnlySpan<EspPacket> packets, Span<EspOpenResult> results)
    {
        if (results.Length < packets.Length) ThrowHelper.Length("results", results.Length, "at least the packet count");
        for (int i = 0; i < packets.Length; i++) results[i] = Open(packets[i].Span, packets[i].SeqHigh);
    }

    /// <summary>
    /// Seals a batch whose packets may belong to different SAs (VPP-style frame of mixed SAs):
    /// <paramref name="transforms"/>[i] seals <paramref name="packets"/>[i]. A run of consecutive
    /// packets of one transform goes to its <see cref="SealBatch"/> (multi-buffer CBC/HMAC); the key
    /// lines of the packet <see cref="MixedLookahead"/> ahead are prefetched while the current one is
    /// sealed, so a spread of thousands of SAs does not wait on each SA's keys in turn.
    /// </summary>
    public static void SealMixed(ReadOnlySpan<EspTransform> transforms, ReadOnlySpan<EspPacket> packets)
    {
        if (transforms.Length < packets.Length) ThrowHelper.Length("transforms", transforms.Length, "at least the packet count");
        for (int i = 0; i < packets.Length && i < MixedLookahead; i++) PrefetchAhead(transforms, packets, i);
        int at = 0;
        while (at < packets.Length)
        {
            EspTransform t = transforms[at];
            int end = at + 1;
            while (end < packets.Length && ReferenceEquals(transforms[end], t)) end++;
            for (int j = at + MixedLookahead; j < end + MixedLookahead && j < packets.Length; j++) PrefetchAhead(transforms, packets, j);
            if (end - at == 1) t.Seal(packets[at].Span, packets[at].SeqHigh);
            else t.SealBatch(packets[at..end]);
            at = end;
        }
    }

    /// <summary>Opens a batch of packets of possibly different SAs (see <see cref="SealMixed"/>);
    /// <paramref name="results"/>[i] is the outcome of packets[i].</summary>
    public static void OpenMixed(ReadOnlySpan<EspTransform> transforms, ReadOnlySpan<EspPacket> packets, Span<EspOpenResult> results)
    {
        if (transforms.Length < packets.Length) ThrowHelper.Length("transforms", transforms.Length, "at least the packet count");
        if (results.Length < packets.Length) ThrowHelper.Length("results", results.Length, "at least the packet count");
        for (int i = 0; i < packets.Length && i < MixedLookahead; i++) PrefetchAhead(transforms, packets, i);
        int at = 0;
        while (at < packets.Length)
        {
            EspTransform t = transforms[at];
            int end = at + 1;
            while (end < packets.Length && ReferenceEquals(transforms[end], t)) end++;
            for (int j = at + MixedLookahead; j < end + MixedLookahead && j < packets.Length; j++) PrefetchAhead(transforms, packets, j);
            if (end - at == 1) results[at] = t.Open(packets[at].Span, packets[at].SeqHigh);
            else t.OpenBatch(packets[at..end], results[at..end]);
            at = end;
        }
    }

    /// <summary>Prefetches the key lines of packet <paramref name="j"/> unless packet j − 1 (prefetched just
    /// before) has the same transform and already covered them: a run of one SA (a single tunnel) then
    /// prefetches its keys once instead of once per packet (up to 21 lines each at 1420 B).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead(ReadOnlySpan<EspTransform> transforms, ReadOnlySpan<EspPacket> packets, int j)
    {
        EspTransform t = transforms[j];
        int length = packets[j].Length;
        if (j > 0 && ReferenceEquals(t, transforms[j - 1]) && (length <= KeyPrefetch.SmallPayload || packets[j - 1].Length > KeyPrefetch.SmallPayload)) return;
        t.KeyPrefetch.Prefetch(length);
    }

    /// <summary>How many packets ahead <see cref="SealMixed"/>/<see cref="OpenMixed"/> prefetch key lines.</summary>
    public const int MixedLookahead = 4;

    /// <summary>Payload length of a packet of <paramref name="espLength"/> bytes, or −1 if the length cannot be valid.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected int PayloadLength(int espLength)
    {
        int n = espLength - Overhead;
        return n >= 0 && n % PayloadAlignment == 0 ? n : -1;
    }

    protected int SealPayloadLength(int espLength)
    {
        int n = PayloadLength(espLength);
        if (n < 0) ThrowHelper.Length("esp", espLength, $"header + IV + a multiple of {PayloadAlignment} + ICV ({Overhead} + k·{PayloadAlignment})");
        return n;
    }

    /// <summary>
    /// Creates the transform for one SA direction. <paramref name="keyMaterial"/> is that direction's
    /// KEYMAT slice (RFC 7296 §2.17): the encryption key (plus its 4-byte salt/nonce where the suite
    /// has one) followed by the integrity key.
    /// </summary>
    public static EspTransform Create(CryptoEngine engine, EspSuite suite, ReadOnlySpan<byte> keyMaterial, bool esn)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(suite);
        if (!engine.IsSupported) ThrowHelper.PlatformNotSupported($"crypto engine '{engine.Name}' is not supported on this machine");
        if (keyMaterial.Length != suite.KeyMaterialLength)
            ThrowHelper.Length("keyMaterial", keyMaterial.Length, $"{suite.KeyMaterialLength} for {suite}");
        int keyBytes = suite.KeyBits / 8;
        ReadOnlySpan<byte> encKey = keyMaterial[..keyBytes];
        ReadOnlySpan<byte> salt = keyMaterial[keyBytes..suite.EncryptionKeyMaterialLength];
        ReadOnlySpan<byte> integKey = keyMaterial[suite.EncryptionKeyMaterialLength..];
        return suite.Encryption switch
        {
            EncryptionAlgorithm.AesGcm => new EspAeadTransform(suite, esn, engine, engine.CreateAesGcm(encKey), salt),
            EncryptionAlgorithm.ChaCha20Poly1305 => new EspAeadTransform(suite, esn, engine, engine.CreateChaCha20Poly1305(encKey), salt),
            EncryptionAlgorithm.AesGmac => new EspGmacTransform(suite, esn, engine, engine.CreateAesGcm(encKey), salt),
            EncryptionAlgorithm.AesCbc => new EspCipherMacTransform(suite, esn, engine, engine.CreateAesCbc(encKey), null, salt, engine.CreateHmac(suite.IntegrityHash, integKey)),
            EncryptionAlgorithm.TripleDesCbc => new EspCipherMacTransform(suite, esn, engine, engine.CreateTripleDesCbc(encKey), null, salt, engine.CreateHmac(suite.IntegrityHash, integKey)),
            EncryptionAlgorithm.AesCtr => new EspCipherMacTransform(suite, esn, engine, null, engine.CreateAesCtr(encKey), salt, engine.CreateHmac(suite.IntegrityHash, integKey)),
            _ => throw new NotSupportedException($"encryption {suite.Encryption}"),
        };
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }

    /// <summary>Writes the AAD of RFC 4106 §5 / RFC 7634 §2.2: SPI|Seq (8 bytes) or, with ESN,
    /// SPI|SeqHigh|SeqLow (12 bytes). Returns its length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected unsafe int WriteAad(byte* esp, uint seqHigh, byte* aad12)
    {
        if (!Esn)
        {
            *(ulong*)aad12 = *(ulong*)esp;
            return 8;
        }
        *(uint*)aad12 = *(uint*)esp;
        BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(aad12 + 4, 4), seqHigh);
        *(uint*)(aad12 + 8) = *(uint*)(esp + 4);
        return 12;
    }

    /// <summary>As <see cref="WriteAad(byte*, uint, byte*)"/>, on spans.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected int WriteAad(ReadOnlySpan<byte> esp, uint seqHigh, Span<byte> aad12)
    {
        if (!Esn)
        {
            esp[..8].CopyTo(aad12);
            return 8;
        }
        esp[..4].CopyTo(aad12);
        BinaryPrimitives.WriteUInt32BigEndian(aad12.Slice(4, 4), seqHigh);
        esp.Slice(4, 4).CopyTo(aad12.Slice(8, 4));
        return 12;
    }
}
