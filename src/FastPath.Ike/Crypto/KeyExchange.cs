using System;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;

namespace FastPath.Ike.Crypto;

// Key exchange (the KE payload, RFC 7296 §3.4) for the groups FastPath offers:
// - MODP 14/15/16 (RFC 3526 primes, generator 2): y = g^x mod p with System.Numerics.BigInteger.
//   Public values and g^ir are big-endian, zero-padded to the prime length (RFC 7296 §2.14,
//   §3.4). Private exponents are 256/384/512 bits for 2048/3072/4096-bit groups: twice the
//   groups' ~112/128/150-bit strength (RFC 3526 §8, NIST SP 800-57), as strongSwan's gmp plugin.
//   Peer values outside 1 < y < p-1 are rejected (RFC 7296 §5 "Diffie-Hellman exponent reuse" and
//   RFC 6989 §2.1: y = 0, 1, p-1 force the shared secret); these groups are safe primes, so the
//   range check is the whole check (RFC 6989 §2.2).
// - ECP 19/20/21 (RFC 5903): KE data is x | y, each coordinate the field size, without the 0x04
//   of SEC1 (RFC 5903 §7); the shared secret is the x coordinate of the product. The peer point is
//   validated (on the curve, not infinity: RFC 6989 §2.3) by the BCL import (OpenSSL EC_KEY_check_key).
// - Curve25519, group 31 (RFC 8031): 32-byte u coordinates, X25519 of RFC 7748 through OpenSSL's libcrypto (X25519OpenSsl.cs);
//   an all-zero shared secret (small-order peer value) is rejected (RFC 8031 §2.3 MUST).
// A KeyExchange object is one ephemeral key pair; it is used for one exchange and disposed.

/// <summary>One ephemeral Diffie-Hellman key pair of a group.</summary>
public abstract class KeyExchange : IDisposable
{
    public DhGroup Group { get; }

    /// <summary>Our KE payload data (fixed length for the group).</summary>
    public abstract byte[] PublicValue { get; }

    protected KeyExchange(DhGroup group) => Group = group;

    public static bool IsSupported(DhGroup group) => group is DhGroup.Modp2048 or DhGroup.Modp3072 or DhGroup.Modp4096
        or DhGroup.Ecp256 or DhGroup.Ecp384 or DhGroup.Ecp521 or DhGroup.Curve25519;

    /// <summary>Length of the KE payload data of <paramref name="group"/> (a peer's value of another length is invalid).</summary>
    public static int PublicValueLength(DhGroup group) => group switch
    {
        DhGroup.Modp2048 => 256,
        DhGroup.Modp3072 => 384,
        DhGroup.Modp4096 => 512,
        DhGroup.Ecp256 => 64,
        DhGroup.Ecp384 => 96,
        DhGroup.Ecp521 => 132,
        DhGroup.Curve25519 => 32,
        _ => throw Unsupported(group),
    };

    /// <summary>A fresh key pair for <paramref name="group"/>.</summary>
    public static KeyExchange Create(DhGroup group) => group switch
    {
        DhGroup.Modp2048 or DhGroup.Modp3072 or DhGroup.Modp4096 => new ModpKeyExchange(group, null),
        DhGroup.Ecp256 or DhGroup.Ecp384 or DhGroup.Ecp521 => new EcpKeyExchange(group, null),
        DhGroup.Curve25519 => new X25519KeyExchange(null),
        _ => throw Unsupported(group),
    };

    /// <summary>A view of <paramref name="key"/> whose Dispose leaves it alone: one ephemeral key used for many
    /// exchanges (RFC 7296 §2.12 allows reusing a DH value; it costs the SAs sharing it their forward secrecy
    /// against each other). For load generators only (IkeEngineOptions.InitiatorKeyExchange), never the default.</summary>
    public static KeyExchange Shared(KeyExchange key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new SharedKeyExchange(key);
    }

    private sealed class SharedKeyExchange(KeyExchange inner) : KeyExchange(inner.Group)
    {
        public override byte[] PublicValue => inner.PublicValue;

        protected override bool TryCompute(ReadOnlySpan<byte> peer, out byte[] sharedSecret, out string error) =>
            inner.TryComputeSharedSecret(peer, out sharedSecret, out error);
    }

    /// <summary>A key pair with a given private key (known-answer tests): MODP exponent, ECP scalar d, or X25519 scalar; big-endian except X25519 (RFC 7748 little-endian).</summary>
    public static KeyExchange CreateWithPrivateKey(DhGroup group, ReadOnlySpan<byte> privateKey) => group switch
    {
        DhGroup.Modp2048 or DhGroup.Modp3072 or DhGroup.Modp4096 => new ModpKeyExchange(group, privateKey.ToArray()),
        DhGroup.Ecp256 or DhGroup.Ecp384 or DhGroup.Ecp521 => new EcpKeyExchange(group, privateKey.ToArray()),
        DhGroup.Curve25519 => new X25519KeyExchange(privateKey.ToArray()),
        _ => throw Unsupported(group),
    };

    /// <summary>g^ir from the peer's KE data; false with <paramref name="error"/> when the peer value is
    /// invalid (wrong length, out of range, not on the curve, all-zero X25519 output). Never throws on bad input.</summary>
    public bool TryComputeSharedSecret(ReadOnlySpan<byte> peerPublicValue, out byte[] sharedSecret, out string error)
    {
        sharedSecret = [];
        int expected = PublicValueLength(Group);
        if (peerPublicValue.Length != expected)
        {
            error = $"{IkeIana.Name(Group)}: KE data is {peerPublicValue.Length} bytes, expected {expected}";
            return false;
        }
        return TryCompute(peerPublicValue, out sharedSecret, out error);
    }

    protected abstract bool TryCompute(ReadOnlySpan<byte> peer, out byte[] sharedSecret, out string error);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }

    private static NotSupportedException Unsupported(DhGroup g) =>
        new($"DH group {IkeIana.Name(g)} ({((ushort)g).ToString(CultureInfo.InvariantCulture)}) is not supported (supported: 14, 15, 16, 19, 20, 21, 31)");
}

/// <summary>MODP groups of RFC 3526 (generator 2).</summary>
internal sealed class ModpKeyExchange : KeyExchange
{
    // RFC 3526 §3 (2048), §4 (3072), §5 (4096): p = 2^n - 2^(n-64) - 1 + 2^64 * ( [2^(n-130) pi] + k ).
    internal const string Prime2048Hex =
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
        "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
        "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
        "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
        "15728E5A8AACAA68FFFFFFFFFFFFFFFF";    internal const string Prime3072Hex =
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
        "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
        "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
        "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
        "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
        "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
        "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";
    internal const string Prime4096Hex =
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
        "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
        "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
        "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
        "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
        "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
        "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7" +
        "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8DBBBC2DB04DE8EF92E8EFC141FBECAA6" +
        "287C59474E6BC05D99B2964FA090C3A2233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9" +
        "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF";
    private static readonly BigInteger P2048 = Parse(Prime2048Hex), P3072 = Parse(Prime3072Hex), P4096 = Parse(Prime4096Hex);
    private static readonly BigInteger G = 2;

    private readonly BigInteger _p;
    private readonly int _len;
    private BigInteger _x;
    private readonly byte[] _public;

    internal static BigInteger Prime(DhGroup g) => g switch
    {
        DhGroup.Modp2048 => P2048,
        DhGroup.Modp3072 => P3072,
        _ => P4096,
    };

    internal ModpKeyExchange(DhGroup group, byte[]? privateExponent) : base(group)
    {
        _p = Prime(group);
        _len = PublicValueLength(group);
        if (privateExponent is null)
        {
            int bits = group switch { DhGroup.Modp2048 => 256, DhGroup.Modp3072 => 384, _ => 512 };
            byte[] x = IkeRandom.GetBytes(bits / 8);
            x[0] |= 0x80; // full length: exactly `bits` bits
            _x = new BigInteger(x, isUnsigned: true, isBigEndian: true);
            CryptographicOperations.ZeroMemory(x);
        }
        else
        {
            _x = new BigInteger(privateExponent, isUnsigned: true, isBigEndian: true);
            if (_x < 2 || _x >= _p - 1) throw new ArgumentException("MODP private exponent out of range", nameof(privateExponent));
        }
        _public = ToFixed(BigInteger.ModPow(G, _x, _p), _len);
    }

    public override byte[] PublicValue => (byte[])_public.Clone();

    protected override bool TryCompute(ReadOnlySpan<byte> peer, out byte[] sharedSecret, out string error)
    {
        var y = new BigInteger(peer, isUnsigned: true, isBigEndian: true);
        if (y <= BigInteger.One || y >= _p - 1)
        {
            sharedSecret = [];
            error = $"{IkeIana.Name(Group)}: peer public value is not in 1 < y < p-1 (RFC 6989 §2.1)";
            return false;
        }
        sharedSecret = ToFixed(BigInteger.ModPow(y, _x, _p), _len);
        error = "";
        return true;
    }

    protected override void Dispose(bool disposing) => _x = BigInteger.Zero;

    private static BigInteger Parse(string hex) => new(Convert.FromHexString(hex), isUnsigned: true, isBigEndian: true);

    internal static byte[] ToFixed(BigInteger v, int len)
    {
        byte[] raw = v.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (raw.Length == len) return raw;
        byte[] r = new byte[len];
        raw.CopyTo(r, len - raw.Length);
        return r;
    }
}

/// <summary>ECP groups of RFC 5903 through the BCL (OpenSSL).</summary>
internal sealed class EcpKeyExchange : KeyExchange
{
    private readonly ECDiffieHellman _key;
    private readonly ECCurve _curve;
    private readonly int _coord;
    private readonly byte[] _public;

    internal EcpKeyExchange(DhGroup group, byte[]? d) : base(group)
    {
        (_curve, _coord) = group switch
        {
            DhGroup.Ecp256 => (ECCurve.NamedCurves.nistP256, 32),
            DhGroup.Ecp384 => (ECCurve.NamedCurves.nistP384, 48),
            _ => (ECCurve.NamedCurves.nistP521, 66),
        };
        if (d is null)
        {
            _key = ECDiffieHellman.Create(_curve);
        }
        else
        {
            // Known-answer tests: import d and let OpenSSL derive Q (BCL on Linux does for a private-only import).
            _key = ECDiffieHellman.Create();
            _key.ImportParameters(new ECParameters { Curve = _curve, D = Pad(d, _coord) });
        }
        var q = _key.ExportParameters(false).Q;
        _public = new byte[2 * _coord];
        Pad(q.X!, _coord).CopyTo(_public, 0);
        Pad(q.Y!, _coord).CopyTo(_public, _coord);
    }

    public override byte[] PublicValue => (byte[])_public.Clone();

    protected override bool TryCompute(ReadOnlySpan<byte> peer, out byte[] sharedSecret, out string error)
    {
        sharedSecret = [];
        var p = new ECParameters
        {
            Curve = _curve,
            Q = new ECPoint { X = peer[.._coord].ToArray(), Y = peer[_coord..].ToArray() },
        };
        try
        {
            p.Validate();
            using var peerKey = ECDiffieHellman.Create(p); // rejects points not on the curve
            sharedSecret = Pad(_key.DeriveRawSecretAgreement(peerKey.PublicKey), _coord);
            error = "";
            return true;
        }
        catch (CryptographicException e)
        {
            error = $"{IkeIana.Name(Group)}: peer public value is not a valid curve point (RFC 6989 §2.3): {e.Message}";
            return false;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _key.Dispose();
    }

    private static byte[] Pad(byte[] v, int len)
    {
        if (v.Length == len) return v;
        if (v.Length > len) throw new CryptographicException("coordinate longer than the field");
        byte[] r = new byte[len];
        v.CopyTo(r, len - v.Length);
        return r;
    }
}

/// <summary>Curve25519 (RFC 8031) with OpenSSL's RFC 7748 X25519 (X25519OpenSsl.cs).</summary>
internal sealed class X25519KeyExchange : KeyExchange
{
    private readonly byte[] _k = new byte[X25519OpenSsl.Size];
    private readonly byte[] _public = new byte[X25519OpenSsl.Size];
    private readonly X25519OpenSsl.PrivateKey _key; // the same key pair in OpenSSL, for the derive

    internal X25519KeyExchange(byte[]? k) : base(DhGroup.Curve25519)
    {
        if (k is null) IkeRandom.Fill(_k);
        else if (k.Length != X25519OpenSsl.Size) throw new ArgumentException("X25519 private key is 32 bytes", nameof(k));
        else k.CopyTo(_k, 0);
        // Clamping (RFC 7748 §5) happens inside the scalar multiplication.
        _key = X25519OpenSsl.PrivateKey.Create(_k, _public);
    }

    public override byte[] PublicValue => (byte[])_public.Clone();

    protected override bool TryCompute(ReadOnlySpan<byte> peer, out byte[] sharedSecret, out string error)
    {
        byte[] r = new byte[X25519OpenSsl.Size];
        // RFC 8031 §2.3 / RFC 7748 §6.1: an all-zero result means a small-order peer value: MUST reject
        // (OpenSSL's derive refuses it; the OR over the bytes checks it again).
        bool derived = _key.TryDerive(peer, r);
        int acc = 0;
        foreach (byte b in r) acc |= b;
        if (!derived || acc == 0)
        {
            sharedSecret = [];
            error = "CURVE_25519: the shared secret is all zero (small-order peer value, RFC 8031 §2.3)";
            return false;
        }
        sharedSecret = r;
        error = "";
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        CryptographicOperations.ZeroMemory(_k);
        if (disposing) _key.Dispose();
    }
}
