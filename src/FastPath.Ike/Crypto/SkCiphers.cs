using System;
using System.Security.Cryptography;
using System.Threading;
using FastPath.Crypto;

namespace FastPath.Ike.Crypto;

// The ISkCipher implementations (one object per direction of an IKE SA).
//
// CbcHmacSkCipher — RFC 7296 §3.14: Encrypted payload body = IV | E(inner | padding | pad length) | ICV.
//   IV: a fresh random block per message (§3.14 "MUST be chosen at random"). Padding: the minimum
//   that makes (inner + padding + 1) a multiple of the block size (16 AES, 8 3DES); padding bytes
//   are zero here and any value is accepted on receive (§3.14 "MAY be any value"). The ICV is the
//   truncated HMAC (SK_a) over the message from the IKE header through the ciphertext (§3.14:
//   "the checksum MUST be computed over the encrypted message"), checked in constant time BEFORE
//   decryption.
// AeadSkCipher — RFC 5282 (AES-GCM 8/12/16-byte ICV) and RFC 7634 (ChaCha20-Poly1305):
//   nonce = salt(4, the last bytes of SK_e) | IV(8, explicit in the payload); the IV is a counter
//   per SA direction (RFC 5282 §3.1: MUST NOT repeat for a key; a counter guarantees it); AAD =
//   the IKE header through the Encrypted (or Encrypted Fragment) payload header, i.e. the message
//   up to bodyOffset (RFC 5282 §5.1); plaintext = inner | padding | pad length with no block
//   alignment needed (we pad nothing: pad length 0).
// Open never throws on bad input: length/padding/ICV errors all return -1.

/// <summary>Creates the SK ciphers of an IKE SA (one per direction).</summary>
public static class SkCipher
{
    /// <summary>True when <paramref name="encr"/>/<paramref name="integ"/> can protect an IKE SA here.</summary>
    public static bool IsSupported(EncrId encr, int keyBits, IntegId integ) => encr switch
    {
        EncrId.AesCbc => keyBits is 128 or 192 or 256 && IsIkeInteg(integ),
        EncrId.TripleDesCbc => IsIkeInteg(integ),
        EncrId.AesGcm8 or EncrId.AesGcm12 or EncrId.AesGcm16 => keyBits is 128 or 256 && integ == IntegId.None,
        EncrId.ChaCha20Poly1305 => integ == IntegId.None,
        _ => false,
    };

    private static bool IsIkeInteg(IntegId i) => i is IntegId.HmacSha1_96 or IntegId.HmacSha2_256_128 or IntegId.HmacSha2_384_192 or IntegId.HmacSha2_512_256;

    /// <summary>The cipher of one direction: <paramref name="encryptionKey"/> is SK_ei or SK_er (with the 4-byte salt for AEAD),
    /// <paramref name="integrityKey"/> SK_ai or SK_ar (empty for AEAD).</summary>
    public static ISkCipher Create(EncrId encr, int keyBits, IntegId integ, ReadOnlySpan<byte> encryptionKey, ReadOnlySpan<byte> integrityKey,
        CryptoEngine? engine = null)
    {
        engine ??= CryptoEngine.Default;
        if (!IsSupported(encr, keyBits, integ))
            throw new NotSupportedException($"SK payload protection with {IkeIana.Name(encr, keyBits)}/{IkeIana.Name(integ)} is not supported");
        int keyBytes = (encr == EncrId.TripleDesCbc ? 192 : encr == EncrId.ChaCha20Poly1305 ? 256 : keyBits) / 8;
        int salt = IkeIana.SaltBytes(encr);
        if (encryptionKey.Length != keyBytes + salt)
            throw new ArgumentException($"{IkeIana.Name(encr, keyBits)}: SK_e must be {keyBytes + salt} bytes, got {encryptionKey.Length}", nameof(encryptionKey));
        if (IkeIana.IsAead(encr))
        {
            AeadCipher aead = encr == EncrId.ChaCha20Poly1305
                ? engine.CreateChaCha20Poly1305(encryptionKey[..keyBytes])
                : engine.CreateAesGcm(encryptionKey[..keyBytes]);
            return new AeadSkCipher(aead, encryptionKey[keyBytes..], IkeIana.AeadIcvBytes(encr));
        }
        if (integrityKey.Length != IkeIana.IntegKeyBytes(integ))
            throw new ArgumentException($"{IkeIana.Name(integ)}: SK_a must be {IkeIana.IntegKeyBytes(integ)} bytes, got {integrityKey.Length}", nameof(integrityKey));
        CbcCipher cbc = encr == EncrId.TripleDesCbc ? engine.CreateTripleDesCbc(encryptionKey) : engine.CreateAesCbc(encryptionKey);
        HashAlgorithmKind hash = integ switch
        {
            IntegId.HmacSha1_96 => HashAlgorithmKind.Sha1,
            IntegId.HmacSha2_256_128 => HashAlgorithmKind.Sha256,
            IntegId.HmacSha2_384_192 => HashAlgorithmKind.Sha384,
            _ => HashAlgorithmKind.Sha512,
        };
        return new CbcHmacSkCipher(cbc, engine.CreateHmac(hash, integrityKey), IkeIana.IntegIcvBytes(integ));
    }
}

/// <summary>AES-CBC or 3DES-CBC with a truncated HMAC (RFC 7296 §3.14).</summary>
internal sealed class CbcHmacSkCipher : ISkCipher
{
    private readonly CbcCipher _cbc;
    private readonly Mac _mac;
    private readonly int _block;

    internal CbcHmacSkCipher(CbcCipher cbc, Mac mac, int icv)
    {
        _cbc = cbc;
        _mac = mac;
        _block = cbc.BlockSize;
        IcvLength = icv;
    }

    public int IvLength => _block;

    public int IcvLength { get; }

    public int SealedLength(int plaintextLength) => _block + PaddedLength(plaintextLength) + IcvLength;

    // inner | padding | pad length, rounded up to the block size.
    private int PaddedLength(int plaintextLength) => (plaintextLength + 1 + _block - 1) / _block * _block;

    public void Seal(Span<byte> message, int bodyOffset, ReadOnlySpan<byte> plaintext)
    {
        int ctLen = PaddedLength(plaintext.Length);
        int total = _block + ctLen + IcvLength;
        if (bodyOffset < 0 || bodyOffset + total > message.Length)
            throw new ArgumentException("message too short for the sealed body", nameof(message));
        Span<byte> body = message.Slice(bodyOffset, total);
        Span<byte> iv = body[.._block];
        IkeRandom.Fill(iv);
        byte[] padded = new byte[ctLen];
        plaintext.CopyTo(padded);
        padded[ctLen - 1] = (byte)(ctLen - plaintext.Length - 1); // pad length; padding bytes stay 0
        _cbc.Encrypt(iv, padded, body.Slice(_block, ctLen));
        CryptographicOperations.ZeroMemory(padded);
        _mac.Compute(message[..(bodyOffset + _block + ctLen)], default, body.Slice(_block + ctLen, IcvLength));
    }

    public int Open(ReadOnlySpan<byte> message, int bodyOffset, int bodyLength, Span<byte> plaintext)
    {
        if (bodyOffset < 0 || bodyLength < 0 || bodyOffset > message.Length - bodyLength) return -1;
        int ctLen = bodyLength - _block - IcvLength;
        if (ctLen < _block || ctLen % _block != 0) return -1;
        ReadOnlySpan<byte> body = message.Slice(bodyOffset, bodyLength);
        if (!_mac.Verify(message[..(bodyOffset + _block + ctLen)], default, body.Slice(_block + ctLen, IcvLength))) return -1;
        byte[] padded = new byte[ctLen];
        try
        {
            _cbc.Decrypt(body[.._block], body.Slice(_block, ctLen), padded);
            int padLength = padded[ctLen - 1];
            int innerLength = ctLen - 1 - padLength;
            if (innerLength < 0 || innerLength > plaintext.Length) return -1;
            padded.AsSpan(0, innerLength).CopyTo(plaintext);
            return innerLength;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(padded);
        }
    }
}

/// <summary>AES-GCM (RFC 5282) or ChaCha20-Poly1305 (RFC 7634) with an 8-byte explicit IV.</summary>
internal sealed class AeadSkCipher : ISkCipher
{
    private const int ExplicitIv = 8;
    private readonly AeadCipher _aead;
    private readonly byte[] _salt;
    private long _counter;

    internal AeadSkCipher(AeadCipher aead, ReadOnlySpan<byte> salt, int icv)
    {
        _aead = aead;
        _salt = salt.ToArray();
        IcvLength = icv;
    }

    public int IvLength => ExplicitIv;

    public int IcvLength { get; }

    public int SealedLength(int plaintextLength) => ExplicitIv + plaintextLength + 1 + IcvLength;

    public void Seal(Span<byte> message, int bodyOffset, ReadOnlySpan<byte> plaintext)
    {
        int ctLen = plaintext.Length + 1;
        int total = ExplicitIv + ctLen + IcvLength;
        if (bodyOffset < 0 || bodyOffset + total > message.Length)
            throw new ArgumentException("message too short for the sealed body", nameof(message));
        Span<byte> body = message.Slice(bodyOffset, total);
        ulong n = (ulong)Interlocked.Increment(ref _counter);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(body, n);
        Span<byte> nonce = stackalloc byte[AeadCipher.NonceSize];
        _salt.CopyTo(nonce);
        body[..ExplicitIv].CopyTo(nonce[4..]);
        byte[] padded = new byte[ctLen]; // inner | pad length 0
        plaintext.CopyTo(padded);
        _aead.Encrypt(nonce, padded, body.Slice(ExplicitIv, ctLen), body.Slice(ExplicitIv + ctLen, IcvLength), message[..bodyOffset]);
        CryptographicOperations.ZeroMemory(padded);
    }

    public int Open(ReadOnlySpan<byte> message, int bodyOffset, int bodyLength, Span<byte> plaintext)
    {
        if (bodyOffset < 0 || bodyLength < 0 || bodyOffset > message.Length - bodyLength) return -1;
        int ctLen = bodyLength - ExplicitIv - IcvLength;
        if (ctLen < 1) return -1;
        ReadOnlySpan<byte> body = message.Slice(bodyOffset, bodyLength);
        Span<byte> nonce = stackalloc byte[AeadCipher.NonceSize];
        _salt.CopyTo(nonce);
        body[..ExplicitIv].CopyTo(nonce[4..]);
        byte[] padded = new byte[ctLen];
        try
        {
            if (!_aead.Decrypt(nonce, body.Slice(ExplicitIv, ctLen), body.Slice(ExplicitIv + ctLen, IcvLength), padded, message[..bodyOffset]))
                return -1;
            int padLength = padded[ctLen - 1];
            int innerLength = ctLen - 1 - padLength;
            if (innerLength < 0 || innerLength > plaintext.Length) return -1;
            padded.AsSpan(0, innerLength).CopyTo(plaintext);
            return innerLength;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(padded);
        }
    }
}
