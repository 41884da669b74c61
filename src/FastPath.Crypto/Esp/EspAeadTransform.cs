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

    public EspAeadTransform(EspSuite suite, bool esn, CryptoEngine engine, AeadCipher aead, ReadOnlySpan<byte> salt)
        : base(suite, esn, engine)
    {
        if (salt.Length != 4) ThrowHelper.Length("salt", salt.Length, "4");
        _aead = aead;
        _salt = System.Runtime.InteropServices.MemoryMarshal.Read<uint>(salt);
    }

    [SkipLocalsInit]
    public override void Seal(Span<byte> esp, uint seqHigh)
    {
        int n = SealPayloadLength(esp.Length);
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[12];
        System.Runtime.InteropServices.MemoryMarshal.Write(nonce, in Unsafe.AsRef(in _salt));
        esp.Slice(HeaderLength, 8).CopyTo(nonce[4..]);
        int aadLength = WriteAad(esp, seqHigh, aad);
        Span<byte> payload = esp.Slice(HeaderLength + 8, n);
        _aead.Encrypt(nonce, payload, payload, esp.Slice(HeaderLength + 8 + n, IcvLength), aad[..aadLength]);
    }

    [SkipLocalsInit]
    public override EspOpenResult Open(Span<byte> esp, uint seqHigh)
    {
        int n = PayloadLength(esp.Length);
        if (n < 0) return EspOpenResult.BadLength;
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

    protected override void Dispose(bool disposing)
    {
        if (disposing) _aead.Dispose();
    }
}
