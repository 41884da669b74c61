using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Esp;

/// <summary>ENCR_NULL_AUTH_AES_GMAC (RFC 4543): integrity only. AES-GCM with an empty plaintext and
/// AAD = SPI | [SeqHigh |] Seq | IV | payload (RFC 4543 §3.3 / §5). Without ESN the AAD is the
/// packet itself; with ESN SeqHigh must be inserted, so the AAD is assembled in a scratch buffer
/// owned by this transform (allocated once at install; the SA's worker is its only user).</summary>
internal sealed class EspGmacTransform : EspTransform
{
    private const int MaxEspLength = 65535;
    private readonly AeadCipher _gcm;
    private readonly uint _salt;
    private readonly byte[]? _scratch;

    public EspGmacTransform(EspSuite suite, bool esn, CryptoEngine engine, AeadCipher gcm, ReadOnlySpan<byte> salt)
        : base(suite, esn, engine)
    {
        if (salt.Length != 4) ThrowHelper.Length("salt", salt.Length, "4");
        _gcm = gcm;
        _salt = System.Runtime.InteropServices.MemoryMarshal.Read<uint>(salt);
        if (esn) _scratch = GC.AllocateUninitializedArray<byte>(MaxEspLength + 4, pinned: true);
    }

    [SkipLocalsInit]
    public override void Seal(Span<byte> esp, uint seqHigh)
    {
        int n = SealPayloadLength(esp.Length);
        Span<byte> nonce = stackalloc byte[12];
        BuildNonce(esp, nonce);
        _gcm.Encrypt(nonce, default, default, esp.Slice(HeaderLength + 8 + n, IcvLength), Aad(esp, n, seqHigh));
    }

    [SkipLocalsInit]
    public override EspOpenResult Open(Span<byte> esp, uint seqHigh)
    {
        int n = PayloadLength(esp.Length);
        if (n < 0 || esp.Length > MaxEspLength) return EspOpenResult.BadLength;
        Span<byte> nonce = stackalloc byte[12];
        BuildNonce(esp, nonce);
        return _gcm.Decrypt(nonce, default, esp.Slice(HeaderLength + 8 + n, IcvLength), default, Aad(esp, n, seqHigh))
            ? EspOpenResult.Ok
            : EspOpenResult.IntegrityFailed;
    }

    private void BuildNonce(ReadOnlySpan<byte> esp, Span<byte> nonce)
    {
        System.Runtime.InteropServices.MemoryMarshal.Write(nonce, in Unsafe.AsRef(in _salt));
        esp.Slice(HeaderLength, 8).CopyTo(nonce[4..]);
    }

    private ReadOnlySpan<byte> Aad(ReadOnlySpan<byte> esp, int payloadLength, uint seqHigh)
    {
        int covered = HeaderLength + 8 + payloadLength;
        if (!Esn) return esp[..covered];
        Span<byte> s = _scratch;
        esp[..4].CopyTo(s);
        BinaryPrimitives.WriteUInt32BigEndian(s.Slice(4, 4), seqHigh);
        esp[4..covered].CopyTo(s[8..]);
        return s[..(covered + 4)];
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _gcm.Dispose();
    }
}
