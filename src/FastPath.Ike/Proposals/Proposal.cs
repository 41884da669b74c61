using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using FastPath.Ike.Crypto;

namespace FastPath.Ike.Proposals;

/// <summary>Protocol ID of a proposal (RFC 7296 §3.3.1).</summary>
public enum ProposalProtocol : byte
{
    Ike = 1,
    Ah = 2,
    Esp = 3,
}

/// <summary>One transform: type, IANA ID, and the Key Length attribute in bits (0 = none, RFC 7296 §3.3.5).</summary>
public readonly record struct Transform(TransformType Type, ushort Id, int KeyBits = 0)
{
    public static Transform Encr(EncrId id, int keyBits = 0) => new(TransformType.Encryption, (ushort)id, keyBits);
    public static Transform PrfOf(PrfId id) => new(TransformType.Prf, (ushort)id);
    public static Transform Integ(IntegId id) => new(TransformType.Integrity, (ushort)id);
    public static Transform Dh(DhGroup id) => new(TransformType.KeyExchange, (ushort)id);
    public static Transform EsnOf(EsnId id) => new(TransformType.ExtendedSequenceNumbers, (ushort)id);

    /// <summary>strongSwan's name: AES_CBC_256, PRF_HMAC_SHA2_256, HMAC_SHA2_256_128, MODP_2048, NO_EXT_SEQ.</summary>
    public override string ToString() => Type switch
    {
        TransformType.Encryption => IkeIana.Name((EncrId)Id, KeyBits),
        TransformType.Prf => IkeIana.Name((PrfId)Id),
        TransformType.Integrity => IkeIana.Name((IntegId)Id),
        TransformType.KeyExchange => IkeIana.Name((DhGroup)Id),
        TransformType.ExtendedSequenceNumbers => IkeIana.Name((EsnId)Id),
        _ => "TRANSFORM_" + ((byte)Type).ToString(CultureInfo.InvariantCulture) + "_" + Id.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>A proposal: a protocol and the transforms offered (several of one type are alternatives, RFC 7296 §3.3).</summary>
public sealed class Proposal
{
    public ProposalProtocol Protocol { get; }
    public IReadOnlyList<Transform> Transforms { get; }

    public Proposal(ProposalProtocol protocol, IEnumerable<Transform> transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        Protocol = protocol;
        Transforms = transforms.ToArray();
    }

    public IEnumerable<Transform> Of(TransformType type) => Transforms.Where(t => t.Type == type);

    /// <summary>strongSwan's format: "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519".</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Protocol switch { ProposalProtocol.Ike => "IKE", ProposalProtocol.Esp => "ESP", _ => "AH" });
        char sep = ':';
        foreach (var t in Transforms.OrderBy(t => SortKey(t.Type)))
        {
            sb.Append(sep).Append(t.ToString());
            sep = '/';
        }
        return sb.ToString();
    }

    // strongSwan prints ENCR, INTEG, PRF, KE, ESN.
    private static int SortKey(TransformType t) => t switch
    {
        TransformType.Encryption => 0,
        TransformType.Integrity => 1,
        TransformType.Prf => 2,
        TransformType.KeyExchange => 3,
        _ => 4,
    };
}

/// <summary>The negotiated IKE SA algorithms (one transform of each type).</summary>
public sealed record IkeSuite(EncrId Encr, int EncrKeyBits, PrfId Prf, IntegId Integ, DhGroup Dh)
{
    public override string ToString() => IkeIana.IsAead(Encr)
        ? $"IKE:{IkeIana.Name(Encr, EncrKeyBits)}/{IkeIana.Name(Prf)}/{IkeIana.Name(Dh)}"
        : $"IKE:{IkeIana.Name(Encr, EncrKeyBits)}/{IkeIana.Name(Integ)}/{IkeIana.Name(Prf)}/{IkeIana.Name(Dh)}";
}

/// <summary>The negotiated CHILD_SA (ESP) algorithms; <see cref="Dh"/> is None without PFS.</summary>
public sealed record ChildSuite(EncrId Encr, int EncrKeyBits, IntegId Integ, DhGroup Dh, EsnId Esn)
{
    public override string ToString()
    {
        var sb = new StringBuilder("ESP:").Append(IkeIana.Name(Encr, EncrKeyBits));
        if (!IkeIana.IsAead(Encr)) sb.Append('/').Append(IkeIana.Name(Integ));
        if (Dh != DhGroup.None) sb.Append('/').Append(IkeIana.Name(Dh));
        return sb.Append('/').Append(IkeIana.Name(Esn)).ToString();
    }
}

/// <summary>Proposals parsed from one ike=/esp= (ipsec.conf) or proposals=/esp_proposals= (swanctl) value.</summary>
public sealed record ProposalList(IReadOnlyList<Proposal> Proposals, bool Strict);
