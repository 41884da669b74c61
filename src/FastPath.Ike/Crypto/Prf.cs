using System;
using System.Security.Cryptography;

namespace FastPath.Ike.Crypto;

// The IKEv2 pseudorandom functions (RFC 7296 §2.13) and prf+:
//   prf+ (K,S) = T1 | T2 | T3 | ...   with  T1 = prf (K, S | 0x01),  Tn = prf (K, Tn-1 | S | n)
// The counter is one octet, so prf+ yields at most 255 * output-length bytes (§2.13: "it is an
// error to ask for more"). HMAC PRFs take keys of any length (RFC 2104 hashes long keys), which is
// what SKEYSEED = prf(Ni | Nr, g^ir) needs. PRF_AES128_XCBC (RFC 4434) is not implemented.

/// <summary>An IKEv2 PRF (HMAC-SHA1, HMAC-SHA2-256/384/512) with prf+.</summary>
public sealed class Prf
{
    private readonly HashAlgorithmName _hash;

    public PrfId Id { get; }

    /// <summary>Output bytes (20/32/48/64), also the "preferred key size" of RFC 7296 §2.14 used for SK_d, SK_pi, SK_pr.</summary>
    public int OutputLength { get; }

    private Prf(PrfId id, HashAlgorithmName hash, int length)
    {
        Id = id;
        _hash = hash;
        OutputLength = length;
    }

    public static bool IsSupported(PrfId id) => id is PrfId.HmacSha1 or PrfId.HmacSha2_256 or PrfId.HmacSha2_384 or PrfId.HmacSha2_512;

    public static Prf Create(PrfId id) => id switch
    {
        PrfId.HmacSha1 => new Prf(id, HashAlgorithmName.SHA1, 20),
        PrfId.HmacSha2_256 => new Prf(id, HashAlgorithmName.SHA256, 32),
        PrfId.HmacSha2_384 => new Prf(id, HashAlgorithmName.SHA384, 48),
        PrfId.HmacSha2_512 => new Prf(id, HashAlgorithmName.SHA512, 64),
        _ => throw new NotSupportedException($"PRF {IkeIana.Name(id)} ({(ushort)id}) is not supported (supported: PRF_HMAC_SHA1, PRF_HMAC_SHA2_256/384/512)"),
    };

    /// <summary>prf(key, data).</summary>
    public byte[] Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        byte[] output = new byte[OutputLength];
        Compute(key, data, output);
        return output;
    }

    /// <summary>prf(key, data) into <paramref name="output"/> (exactly <see cref="OutputLength"/> bytes).</summary>
    public void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        if (output.Length != OutputLength) throw new ArgumentException($"output must be {OutputLength} bytes", nameof(output));
        if (_hash == HashAlgorithmName.SHA1) HMACSHA1.HashData(key, data, output);
        else if (_hash == HashAlgorithmName.SHA256) HMACSHA256.HashData(key, data, output);
        else if (_hash == HashAlgorithmName.SHA384) HMACSHA384.HashData(key, data, output);
        else HMACSHA512.HashData(key, data, output);
    }

    /// <summary>prf+(key, seed) truncated to <paramref name="length"/> bytes (RFC 7296 §2.13).</summary>
    public byte[] PrfPlus(ReadOnlySpan<byte> key, ReadOnlySpan<byte> seed, int length)
    {
        if (length < 0 || length > 255 * OutputLength)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"prf+ yields at most 255 * {OutputLength} bytes (RFC 7296 §2.13)");
        byte[] result = new byte[length];
        byte[] input = new byte[OutputLength + seed.Length + 1];
        byte[] t = new byte[OutputLength];
        int produced = 0;
        for (int n = 1; produced < length; n++)
        {
            // T1 = prf(K, S | 0x01); Tn = prf(K, Tn-1 | S | n)
            int len = 0;
            if (n > 1) { t.CopyTo(input, 0); len = OutputLength; }
            seed.CopyTo(input.AsSpan(len));
            len += seed.Length;
            input[len++] = (byte)n;
            Compute(key, input.AsSpan(0, len), t);
            int take = Math.Min(OutputLength, length - produced);
            t.AsSpan(0, take).CopyTo(result.AsSpan(produced));
            produced += take;
        }
        CryptographicOperations.ZeroMemory(t);
        CryptographicOperations.ZeroMemory(input);
        return result;
    }
}
