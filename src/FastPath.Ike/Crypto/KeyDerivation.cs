using System;
using System.Security.Cryptography;
using FastPath.Ike.Proposals;

namespace FastPath.Ike.Crypto;

// Key derivation of RFC 7296:
// §2.14  SKEYSEED = prf(Ni | Nr, g^ir)
//        {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
//        SK_d/SK_pi/SK_pr are the PRF's preferred key size (its output length); SK_a* the integrity
//        key size (none for AEAD, RFC 5282 §7); SK_e* the encryption key size plus the salt of
//        GCM/ChaCha20-Poly1305/CTR (4 bytes, RFC 5282 §7.1, RFC 7634 §2, RFC 5930 §3).
// §2.17  KEYMAT = prf+(SK_d, Ni | Nr)  or, with PFS, prf+(SK_d, g^ir (new) | Ni | Nr);
//        taken in the order encr_i, integ_i, encr_r, integ_r ("all keys for SAs carrying data from
//        the initiator to the responder are taken before SAs going from the responder to the
//        initiator"; encryption before integrity). For GCM the encryption key is key | salt.
// §2.18  IKE SA rekey: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) with the PRF of the old
//        IKE SA (as strongSwan and Libreswan do); the SK_* then come from prf+ of the NEW SA's PRF.
// g^ir is the fixed-length DH output: MODP zero-padded to the prime length (§2.14), ECP the x
// coordinate (RFC 5903 §7), Curve25519 the 32-byte X25519 output (RFC 8031 §2.2).

/// <summary>The SK_* of one IKE SA, byte arrays as RFC 7296 §2.14 lays them out.</summary>
public sealed record IkeSaKeyMaterial(byte[] SkD, byte[] SkAi, byte[] SkAr, byte[] SkEi, byte[] SkEr, byte[] SkPi, byte[] SkPr);

/// <summary>Derivations of RFC 7296 §2.14, §2.17, §2.18.</summary>
public static class KeyDerivation
{
    /// <summary>SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 §2.14).</summary>
    public static byte[] SkeySeed(Prf prf, ReadOnlySpan<byte> ni, ReadOnlySpan<byte> nr, ReadOnlySpan<byte> sharedSecret)
    {
        ArgumentNullException.ThrowIfNull(prf);
        byte[] key = Concat(ni, nr);
        try { return prf.Compute(key, sharedSecret); }
        finally { CryptographicOperations.ZeroMemory(key); }
    }

    /// <summary>SKEYSEED of a rekeyed IKE SA = prf(SK_d (old), g^ir (new) | Ni | Nr) (RFC 7296 §2.18),
    /// with <paramref name="oldPrf"/> the PRF of the IKE SA being rekeyed.</summary>
    public static byte[] RekeySkeySeed(Prf oldPrf, ReadOnlySpan<byte> oldSkD, ReadOnlySpan<byte> sharedSecret,
        ReadOnlySpan<byte> ni, ReadOnlySpan<byte> nr)
    {
        ArgumentNullException.ThrowIfNull(oldPrf);
        byte[] data = Concat(sharedSecret, ni, nr);
        try { return oldPrf.Compute(oldSkD, data); }
        finally { CryptographicOperations.ZeroMemory(data); }
    }

    /// <summary>Lengths in bytes of (SK_d, SK_a, SK_e, SK_p) for a suite (RFC 7296 §2.14).</summary>
    public static (int SkD, int SkA, int SkE, int SkP) IkeKeyLengths(IkeSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        int prfLen = Prf.Create(suite.Prf).OutputLength;
        int a = IkeIana.IsAead(suite.Encr) ? 0 : IkeIana.IntegKeyBytes(suite.Integ);
        int bits = suite.EncrKeyBits != 0 ? suite.EncrKeyBits : IkeIana.FixedKeyBits(suite.Encr); // 3DES: 192, ChaCha20: 256
        int e = bits / 8 + IkeIana.SaltBytes(suite.Encr);
        return (prfLen, a, e, prfLen);
    }

    /// <summary>{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) (RFC 7296 §2.14).</summary>
    public static IkeSaKeyMaterial IkeSaKeys(IkeSuite suite, ReadOnlySpan<byte> skeyseed, ReadOnlySpan<byte> ni, ReadOnlySpan<byte> nr,
        ulong spiI, ulong spiR)
    {
        ArgumentNullException.ThrowIfNull(suite);
        Prf prf = Prf.Create(suite.Prf);
        var (d, a, e, p) = IkeKeyLengths(suite);
        byte[] seed = new byte[ni.Length + nr.Length + 16];
        ni.CopyTo(seed);
        nr.CopyTo(seed.AsSpan(ni.Length));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(seed.AsSpan(ni.Length + nr.Length), spiI);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(seed.AsSpan(ni.Length + nr.Length + 8), spiR);
        byte[] stream = prf.PrfPlus(skeyseed, seed, d + 2 * a + 2 * e + 2 * p);
        try
        {
            int o = 0;
            byte[] Take(int n) { byte[] r = stream.AsSpan(o, n).ToArray(); o += n; return r; }
            byte[] skD = Take(d), skAi = Take(a), skAr = Take(a), skEi = Take(e), skEr = Take(e), skPi = Take(p), skPr = Take(p);
            return new IkeSaKeyMaterial(skD, skAi, skAr, skEi, skEr, skPi, skPr);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(stream);
        }
    }

    /// <summary>KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 §2.17); <paramref name="pfsSharedSecret"/> empty without PFS.</summary>
    public static byte[] ChildKeyMat(Prf prf, ReadOnlySpan<byte> skD, ReadOnlySpan<byte> pfsSharedSecret, ReadOnlySpan<byte> ni,
        ReadOnlySpan<byte> nr, int length)
    {
        ArgumentNullException.ThrowIfNull(prf);
        byte[] seed = Concat(pfsSharedSecret, ni, nr);
        try { return prf.PrfPlus(skD, seed, length); }
        finally { CryptographicOperations.ZeroMemory(seed); }
    }

    internal static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c = default)
    {
        byte[] r = new byte[a.Length + b.Length + c.Length];
        a.CopyTo(r);
        b.CopyTo(r.AsSpan(a.Length));
        c.CopyTo(r.AsSpan(a.Length + b.Length));
        return r;
    }
}
