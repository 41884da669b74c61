using System;
using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace FastPath.Ike.Exchanges;

// Stateless responder cookies (RFC 7296 §2.6). Once the number of half-open IKE SAs reaches the
// threshold, an IKE_SA_INIT request without a valid COOKIE is answered with a COOKIE notify only —
// no state, no DH — so spoofed sources cannot fill the SA table. The cookie follows the RFC's
// suggestion:  Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>)
// with a 2-byte secret version and HMAC-SHA-256 truncated to 16 bytes. The secret changes every
// SecretLifetime; the previous one stays valid so an initiator that got a cookie just before the
// change still gets through.
/// <summary>COOKIE generation and verification for one engine.</summary>
public sealed class CookieJar
{
    private byte[] _secret = RandomNumberGenerator.GetBytes(32);
    private byte[] _previous = RandomNumberGenerator.GetBytes(32);
    private ushort _version;
    private DateTimeOffset _rotated;

    public static readonly TimeSpan SecretLifetime = TimeSpan.FromMinutes(2);
    public const int Length = 2 + 16;

    public byte[] Create(ReadOnlySpan<byte> ni, IPAddress initiator, ulong spiI, DateTimeOffset now)
    {
        Rotate(now);
        return Compute(_secret, _version, ni, initiator, spiI);
    }

    public bool Verify(ReadOnlySpan<byte> cookie, ReadOnlySpan<byte> ni, IPAddress initiator, ulong spiI, DateTimeOffset now)
    {
        Rotate(now);
        if (cookie.Length != Length) return false;
        ushort v = BinaryPrimitives.ReadUInt16BigEndian(cookie);
        byte[]? secret = v == _version ? _secret : v == (ushort)(_version - 1) ? _previous : null;
        if (secret is null) return false;
        return CryptographicOperations.FixedTimeEquals(cookie, Compute(secret, v, ni, initiator, spiI));
    }

    private void Rotate(DateTimeOffset now)
    {
        if (_rotated == default) { _rotated = now; return; }
        if (now - _rotated < SecretLifetime) return;
        _previous = _secret;
        _secret = RandomNumberGenerator.GetBytes(32);
        _version++;
        _rotated = now;
    }

    private static byte[] Compute(byte[] secret, ushort version, ReadOnlySpan<byte> ni, IPAddress initiator, ulong spiI)
    {
        byte[] ip = initiator.GetAddressBytes();
        var input = new byte[ni.Length + ip.Length + 8];
        ni.CopyTo(input);
        ip.CopyTo(input, ni.Length);
        BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(ni.Length + ip.Length), spiI);
        byte[] mac = HMACSHA256.HashData(secret, input);
        var c = new byte[Length];
        BinaryPrimitives.WriteUInt16BigEndian(c, version);
        mac.AsSpan(0, 16).CopyTo(c.AsSpan(2));
        return c;
    }
}
