using System;
using System.Security.Cryptography;
using FastPath.Crypto;
using FastPath.Ike.Proposals;

namespace FastPath.Ike.Crypto;

// From a negotiated suite and the exchange's values to the keys the gateway uses:
// - IKE SA (RFC 7296 §2.14): SKEYSEED, SK_d, SK_pi, SK_pr, and the two SK cipher directions.
//   "InitiatorToResponder" protects messages sent by the original initiator (SK_ei/SK_ai), in
//   both its requests and its responses; the local side seals with its own direction and opens
//   with the other (RFC 7296 §2.14 "SK_ei/SK_ai for the initiator's messages").
// - CHILD_SA (RFC 7296 §2.17): encr_i | integ_i | encr_r | integ_r from KEYMAT; the AEAD
//   encryption key is key | 4-byte salt as the dataplane's ESP transforms take it (RFC 4106 §8.1).
//   "Initiator" is the initiator of the exchange that created the CHILD_SA (the CREATE_CHILD_SA
//   initiator on rekey): the _i keys protect traffic from that initiator to that responder.
// Only byte arrays and IANA IDs leave this file: no dataplane types (FastPath.Ike must not reference FastPath.Dataplane).

/// <summary>The keys of one IKE SA.</summary>
public sealed class IkeSaKeys
{
    public IkeSuite Suite { get; }
    public Prf Prf { get; }
    public byte[] SkeySeed { get; }
    public byte[] SkD { get; }
    public byte[] SkPi { get; }
    public byte[] SkPr { get; }

    /// <summary>Raw SK_* (for debug logs at an explicit sensitive level and tests).</summary>
    public IkeSaKeyMaterial Material { get; }

    /// <summary>Protects messages sent by the IKE SA's original initiator (SK_ei, SK_ai).</summary>
    public ISkCipher InitiatorToResponder { get; }

    /// <summary>Protects messages sent by the IKE SA's original responder (SK_er, SK_ar).</summary>
    public ISkCipher ResponderToInitiator { get; }

    internal IkeSaKeys(IkeSuite suite, Prf prf, byte[] skeyseed, IkeSaKeyMaterial m, CryptoEngine? engine)
    {
        Suite = suite;
        Prf = prf;
        SkeySeed = skeyseed;
        Material = m;
        SkD = m.SkD;
        SkPi = m.SkPi;
        SkPr = m.SkPr;
        InitiatorToResponder = SkCipher.Create(suite.Encr, suite.EncrKeyBits, IkeIana.IsAead(suite.Encr) ? IntegId.None : suite.Integ, m.SkEi, m.SkAi, engine);
        ResponderToInitiator = SkCipher.Create(suite.Encr, suite.EncrKeyBits, IkeIana.IsAead(suite.Encr) ? IntegId.None : suite.Integ, m.SkEr, m.SkAr, engine);
    }

    /// <summary>The cipher this side seals with (its own direction).</summary>
    public ISkCipher Outbound(bool weAreOriginalInitiator) => weAreOriginalInitiator ? InitiatorToResponder : ResponderToInitiator;

    /// <summary>The cipher this side opens with (the peer's direction).</summary>
    public ISkCipher Inbound(bool weAreOriginalInitiator) => weAreOriginalInitiator ? ResponderToInitiator : InitiatorToResponder;
}

/// <summary>Keys of one direction of a CHILD_SA, as the dataplane's SA install takes them.</summary>
public sealed record ChildSaDirectionKeys(byte[] EncryptionKey, byte[] IntegrityKey);

/// <summary>The keys of one CHILD_SA (ESP) pair with the IANA IDs of the suite.</summary>
public sealed record ChildSaKeys(ChildSuite Suite, ChildSaDirectionKeys InitiatorToResponder, ChildSaDirectionKeys ResponderToInitiator)
{
    /// <summary>Bytes of encryption key per direction including the 4-byte salt of GCM/ChaCha20-Poly1305/CTR.</summary>
    public int EncryptionKeyLength => InitiatorToResponder.EncryptionKey.Length;
}

/// <summary>Builds IKE and CHILD SA key sets.</summary>
public static class SaKeyFactory
{
    /// <summary>Keys of a new IKE SA from IKE_SA_INIT (RFC 7296 §2.14).</summary>
    public static IkeSaKeys CreateIkeSa(IkeSuite suite, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> ni, ReadOnlySpan<byte> nr,
        ulong spiI, ulong spiR, CryptoEngine? engine = null)
    {
        ArgumentNullException.ThrowIfNull(suite);
        Prf prf = Prf.Create(suite.Prf);
        byte[] skeyseed = KeyDerivation.SkeySeed(prf, ni, nr, sharedSecret);
        return new IkeSaKeys(suite, prf, skeyseed, KeyDerivation.IkeSaKeys(suite, skeyseed, ni, nr, spiI, spiR), engine);
    }

    /// <summary>Keys of an IKE SA created by rekeying <paramref name="old"/> (RFC 7296 §2.18): SKEYSEED from the old SK_d and PRF;
    /// Ni/Nr/SPIs are the CREATE_CHILD_SA's nonces and the new SA's SPIs (SPIi = the rekey initiator's).</summary>
    public static IkeSaKeys RekeyIkeSa(IkeSaKeys old, IkeSuite newSuite, ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> ni,
        ReadOnlySpan<byte> nr, ulong spiI, ulong spiR, CryptoEngine? engine = null)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(newSuite);
        byte[] skeyseed = KeyDerivation.RekeySkeySeed(old.Prf, old.SkD, sharedSecret, ni, nr);
        return new IkeSaKeys(newSuite, Prf.Create(newSuite.Prf), skeyseed, KeyDerivation.IkeSaKeys(newSuite, skeyseed, ni, nr, spiI, spiR), engine);
    }

    /// <summary>Encryption-key and integrity-key bytes per direction of a child suite.</summary>
    public static (int Encr, int Integ) ChildKeyLengths(ChildSuite suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        int bits = IkeIana.HasKeyLengthAttribute(suite.Encr) ? suite.EncrKeyBits : IkeIana.FixedKeyBits(suite.Encr);
        if (bits == 0) throw new NotSupportedException($"{IkeIana.Name(suite.Encr)} has no key length");
        int integ = IkeIana.IsAead(suite.Encr) ? 0 : IkeIana.IntegKeyBytes(suite.Integ);
        return (bits / 8 + IkeIana.SaltBytes(suite.Encr), integ);
    }

    /// <summary>CHILD_SA keys: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) split encr_i, integ_i, encr_r, integ_r (RFC 7296 §2.17).
    /// <paramref name="pfsSharedSecret"/> is empty without PFS (IKE_AUTH's first CHILD_SA never has it).</summary>
    public static ChildSaKeys CreateChildSa(IkeSaKeys ike, ChildSuite suite, ReadOnlySpan<byte> pfsSharedSecret, ReadOnlySpan<byte> ni,
        ReadOnlySpan<byte> nr)
    {
        ArgumentNullException.ThrowIfNull(ike);
        return CreateChildSa(ike.Prf, ike.SkD, suite, pfsSharedSecret, ni, nr);
    }

    /// <summary>As <see cref="CreateChildSa(IkeSaKeys, ChildSuite, ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> from a PRF and SK_d.</summary>
    public static ChildSaKeys CreateChildSa(Prf prf, ReadOnlySpan<byte> skD, ChildSuite suite, ReadOnlySpan<byte> pfsSharedSecret,
        ReadOnlySpan<byte> ni, ReadOnlySpan<byte> nr)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var (e, a) = ChildKeyLengths(suite);
        byte[] keymat = KeyDerivation.ChildKeyMat(prf, skD, pfsSharedSecret, ni, nr, 2 * (e + a));
        try
        {
            var s = keymat.AsSpan();
            var i2r = new ChildSaDirectionKeys(s[..e].ToArray(), s.Slice(e, a).ToArray());
            var r2i = new ChildSaDirectionKeys(s.Slice(e + a, e).ToArray(), s.Slice(2 * e + a, a).ToArray());
            return new ChildSaKeys(suite, i2r, r2i);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keymat);
        }
    }
}
