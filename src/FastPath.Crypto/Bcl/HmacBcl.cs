using System;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Bcl;

/// <summary>HMAC on the BCL: the one-shot <c>HMACSHAx.HashData(key, data, dest)</c> (what the bars
/// compare against; it re-derives the key pads on every call), or a reused IncrementalHash when an
/// ESN trailer must be appended.</summary>
internal sealed class HmacBcl : Mac
{
    private readonly byte[] _key;
    private readonly HashAlgorithmKind _hash;
    private readonly IncrementalHash _incremental;

    public HmacBcl(HashAlgorithmKind hash, ReadOnlySpan<byte> key)
    {
        _hash = hash;
        _key = key.ToArray();
        _incremental = IncrementalHash.CreateHMAC(Name(hash), _key);
    }

    public override HashAlgorithmKind Hash => _hash;
    public override int HashSize => HashSizes.Of(_hash);

    [System.Runtime.CompilerServices.SkipLocalsInit]
    public override void Compute(ReadOnlySpan<byte> data, ReadOnlySpan<byte> trailer, Span<byte> output)
    {
        if (output.Length == 0 || output.Length > HashSize) ThrowHelper.Length("output", output.Length, $"1..{HashSize}");
        Span<byte> full = stackalloc byte[64];
        full = full[..HashSize];
        if (trailer.IsEmpty)
        {
            switch (_hash)
            {
                case HashAlgorithmKind.Md5: HMACMD5.HashData(_key, data, full); break;
                case HashAlgorithmKind.Sha1: HMACSHA1.HashData(_key, data, full); break;
                case HashAlgorithmKind.Sha256: HMACSHA256.HashData(_key, data, full); break;
                case HashAlgorithmKind.Sha384: HMACSHA384.HashData(_key, data, full); break;
                default: HMACSHA512.HashData(_key, data, full); break;
            }
        }
        else
        {
            _incremental.AppendData(data);
            _incremental.AppendData(trailer);
            _incremental.GetHashAndReset(full);
        }
        full[..output.Length].CopyTo(output);
        CryptographicOperations.ZeroMemory(full);
    }

    private static HashAlgorithmName Name(HashAlgorithmKind hash) => hash switch
    {
        HashAlgorithmKind.Md5 => HashAlgorithmName.MD5,
        HashAlgorithmKind.Sha1 => HashAlgorithmName.SHA1,
        HashAlgorithmKind.Sha256 => HashAlgorithmName.SHA256,
        HashAlgorithmKind.Sha384 => HashAlgorithmName.SHA384,
        HashAlgorithmKind.Sha512 => HashAlgorithmName.SHA512,
        _ => throw new ArgumentOutOfRangeException(nameof(hash)),
    };

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _incremental.Dispose();
            CryptographicOperations.ZeroMemory(_key);
        }
    }
}
