using System;
using System.Runtime.CompilerServices;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Esp;

/// <summary>AES-GCM (RFC 4106) and ChaCha20-Poly1305 (RFC 7634) for ESP: nonce = salt | explicit IV,
/// AAD = SPI | [SeqHigh |] Seq, payload encrypted in place, ICV = (truncated) tag.</summary>
internal sealed class EspAeadTransform : EspTransform
{
    private readonly AeadCipher _aead;
    private readonly uint _salt;
    // AES-GCM on AES-NI: the key buffer and round count, so a packet goes from this object straight
    // to its keys (SealEsp/OpenEsp) without loading the cipher object and its key-buffer object
    // first (two dependent cache misses per packet when a batch spreads over thousands of SAs).
    // Null for other ciphers and after Dispose (then the checked path below throws).
    private unsafe byte* _gcmKeys;
    private readonly int _gcmRounds;

    public EspAeadTransform(EspSuite suite, bool esn, CryptoEngine engine, AeadCipher aead, ReadOnlySpan<byte> salt)
        : base(suite, esn, engine)
    {
        if (salt.Length != 4) ThrowHelper.Length("salt", salt.Length, "4");
        _aead = aead;
        _salt = System.Runtime.InteropServices.MemoryMarshal.Read<uint>(salt);
        if (aead is Intrinsics.AesGcmNi gcm)
        {
            unsafe { _gcmKeys = gcm.KeyPointer; }
            _gcmRounds = gcm.Rounds;
        }
        KeyPrefetch = aead.KeyPrefetch;
    }

    [SkipLocalsInit]
    public override unsafe void Seal(Span<byte> esp, uint seqHigh)
    {
        int n = SealPayloadLength(esp.Length);
        if (_gcmKeys != null)
        {
            byte* aadBytes = stackalloc byte[12];
            fixed (byte* e = esp)
            {
                int aadBytesLength = WriteAad(e, seqHigh, aadBytes);
                Intrinsics.AesGcmNi.SealEsp(_gcmKeys, _gcmRounds, _salt, e, n, IcvLength, aadBytes, aadBytesLength);
            }
            return;
        }
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[12];
        System.Runtime.InteropServices.MemoryMarshal.Write(nonce, in Unsafe.AsRef(in _salt));
        esp.Slice(HeaderLength, 8).CopyTo(nonce[4..]);
        int aadLength = WriteAad(esp, seqHigh, aad);
        Span<byte> payload = esp.Slice(HeaderLength + 8, n);
        _aead.Encrypt(nonce, payload, payload, esp.Slice(HeaderLength + 8 + n, IcvLength), aad[..aadLength]);
    }

    [SkipLocalsInit]
    public override unsafe EspOpenResult Open(Span<byte> esp, uint seqHigh)
    {
        int n = PayloadLength(esp.Length);
        if (n < 0) return EspOpenResult.BadLength;
        if (_gcmKeys != null)
        {
            byte* aadBytes = stackalloc byte[12];
            fixed (byte* e = esp)
            {
                int aadBytesLength = WriteAad(e, seqHigh, aadBytes);
                return Intrinsics.AesGcmNi.OpenEsp(_gcmKeys, _gcmRounds, _salt, e, n, IcvLength, aadBytes, aadBytesLength)
                    ? EspOpenResult.Ok
                    : EspOpenResult.IntegrityFailed;
            }
        }
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[12];
        System.Runtime.InteropServices.MemoryMarshal.Write(nonce, in Unsafe.AsRef(in _salt));
        esp.Slice(HeaderLength, 8).CopyTo(nonce[4..]);
        int aadLength = WriteAad(esp, seqHigh, aad);
        Span<byte> payload = esp.Slice(HeaderLength + 8, n);
        return _aead.Decrypt(nonce, payload, esp.Slice(HeaderLength + 8 + n, IcvLength), payload, aad[..aadLength])
            ? EspOpenResult.Ok
            : EspOpenResult.IntegrityFailed;
    }

    protected override unsafe void Dispose(bool disposing)
    {
        _gcmKeys = null;
        if (disposing) _aead.Dispose();
    }
}
