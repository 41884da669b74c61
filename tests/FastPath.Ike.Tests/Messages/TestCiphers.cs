using System;
using System.Security.Cryptography;
using FastPath.Ike;

namespace FastPath.Ike.Tests.Messages;

// Test-only ISkCipher implementations with BCL primitives, to exercise SK/SKF framing and to decrypt
// real strongSwan captures with the keys charon logged. Production ciphers live in FastPath.Ike/Crypto.

/// <summary>ENCR_AES_CBC + AUTH_HMAC_SHA2_256_128 (RFC 7296 §3.14, RFC 4868).</summary>
internal sealed class TestCbcHmacCipher(byte[] encKey, byte[] integKey) : ISkCipher
{
    public int IvLength => 16;
    public int IcvLength => 16;
    public int SealedLength(int plaintextLength) => 16 + Padded(plaintextLength) + 16;
    private static int Padded(int n) => (n + 1 + 15) / 16 * 16; // inner + pad + pad-length byte, whole blocks

    public void Seal(Span<byte> message, int bodyOffset, ReadOnlySpan<byte> plaintext)
    {
        int ctLen = Padded(plaintext.Length);
        var iv = message.Slice(bodyOffset, 16);
        RandomNumberGenerator.Fill(iv);
        var buf = new byte[ctLen];
        plaintext.CopyTo(buf);
        buf[^1] = (byte)(ctLen - plaintext.Length - 1);
        using var aes = Aes.Create();
        aes.Key = encKey;
        aes.EncryptCbc(buf, iv, message.Slice(bodyOffset + 16, ctLen), PaddingMode.None);
        int icvAt = bodyOffset + 16 + ctLen;
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(integKey, message[..icvAt], mac);
        mac[..16].CopyTo(message[icvAt..]);
    }

    public int Open(ReadOnlySpan<byte> message, int bodyOffset, int bodyLength, Span<byte> plaintext)
    {
        int ctLen = bodyLength - 32;
        if (ctLen < 16 || ctLen % 16 != 0 || bodyOffset + bodyLength > message.Length) return -1;
        int icvAt = bodyOffset + 16 + ctLen;
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(integKey, message[..icvAt], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..16], message.Slice(icvAt, 16))) return -1;
        using var aes = Aes.Create();
        aes.Key = encKey;
        var buf = aes.DecryptCbc(message.Slice(bodyOffset + 16, ctLen), message.Slice(bodyOffset, 16), PaddingMode.None);
        int pad = buf[^1];
        if (pad + 1 > ctLen) return -1;
        int n = ctLen - pad - 1;
        buf.AsSpan(0, n).CopyTo(plaintext);
        return n;
    }
}

/// <summary>ENCR_AES_GCM_16 (RFC 5282): 8-byte explicit IV, nonce = 4-byte salt | IV, AAD = message up to the IV.</summary>
internal sealed class TestGcmCipher(byte[] key, byte[] salt) : ISkCipher
{
    private long _counter;
    public int IvLength => 8;
    public int IcvLength => 16;
    public int SealedLength(int plaintextLength) => 8 + plaintextLength + 1 + 16;

    public void Seal(Span<byte> message, int bodyOffset, ReadOnlySpan<byte> plaintext)
    {
        var iv = message.Slice(bodyOffset, 8);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(iv, ++_counter);
        Span<byte> nonce = stackalloc byte[12];
        salt.CopyTo(nonce);
        iv.CopyTo(nonce[4..]);
        var pt = new byte[plaintext.Length + 1]; // pad length 0
        plaintext.CopyTo(pt);
        using var gcm = new AesGcm(key, 16);
        int ctAt = bodyOffset + 8;
        gcm.Encrypt(nonce, pt, message.Slice(ctAt, pt.Length), message.Slice(ctAt + pt.Length, 16), message[..bodyOffset]);
    }

    public int Open(ReadOnlySpan<byte> message, int bodyOffset, int bodyLength, Span<byte> plaintext)
    {
        int ctLen = bodyLength - 8 - 16;
        if (ctLen < 1 || bodyOffset + bodyLength > message.Length) return -1;
        Span<byte> nonce = stackalloc byte[12];
        salt.CopyTo(nonce);
        message.Slice(bodyOffset, 8).CopyTo(nonce[4..]);
        var pt = new byte[ctLen];
        using var gcm = new AesGcm(key, 16);
        try
        {
            gcm.Decrypt(nonce, message.Slice(bodyOffset + 8, ctLen), message.Slice(bodyOffset + 8 + ctLen, 16), pt, message[..bodyOffset]);
        }
        catch (AuthenticationTagMismatchException)
        {
            return -1;
        }
        int pad = pt[^1];
        if (pad + 1 > ctLen) return -1;
        int n = ctLen - pad - 1;
        pt.AsSpan(0, n).CopyTo(plaintext);
        return n;
    }
}
