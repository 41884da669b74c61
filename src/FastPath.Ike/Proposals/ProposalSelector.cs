using System;
using System.Collections.Generic;
using System.Linq;
using FastPath.Ike.Crypto;

namespace FastPath.Ike.Proposals;

// Choosing one proposal (RFC 7296 §2.7, §3.3.6): the responder picks one of the offered proposals
// and, inside it, one transform of each type; it answers with a proposal holding exactly those.
// Our configured order wins (strongSwan's default "prefer configured proposals"): for each
// configured proposal in turn, the first offered proposal that can match; inside it, for each
// type the first of OUR transforms that the peer also offers. Transforms match on type, ID and
// Key Length attribute. An offered proposal with a transform type we do not know is not chosen
// (§3.3.6). DH in ESP: both sides list none, or they share one (PFS). ESN: a missing ESN
// transform counts as NO_EXT_SEQ.

/// <summary>Picks the negotiated suite from configured and offered proposals.</summary>
public static class ProposalSelector
{
    /// <summary>The responder's choice for an IKE SA; <paramref name="offeredIndex"/> is the index of the chosen offered
    /// proposal (echo its proposal number), <paramref name="chosen"/> the one-transform-per-type reply.</summary>
    public static bool TrySelectIke(IReadOnlyList<Proposal> configured, IReadOnlyList<Proposal> offered,
        out IkeSuite? suite, out Proposal? chosen, out int offeredIndex)
    {
        suite = null;
        if (TrySelect(configured, offered, ProposalProtocol.Ike, out chosen, out offeredIndex))
        {
            suite = ToIkeSuite(chosen!);
            return true;
        }
        return false;
    }

    /// <summary>The responder's choice for a CHILD_SA (ESP).</summary>
    public static bool TrySelectChild(IReadOnlyList<Proposal> configured, IReadOnlyList<Proposal> offered,
        out ChildSuite? suite, out Proposal? chosen, out int offeredIndex)
    {
        suite = null;
        if (TrySelect(configured, offered, ProposalProtocol.Esp, out chosen, out offeredIndex))
        {
            suite = ToChildSuite(chosen!);
            return true;
        }
        return false;
    }

    /// <summary>The suite of a single-choice IKE proposal (the responder's reply as the initiator receives it).
    /// Throws <see cref="FormatException"/> when a required type is missing or repeated.</summary>
    public static IkeSuite ToIkeSuite(Proposal p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var e = One(p, TransformType.Encryption, required: true)!.Value;
        var prf = One(p, TransformType.Prf, required: true)!.Value;
        var dh = One(p, TransformType.KeyExchange, required: true)!.Value;
        bool aead = IkeIana.IsAead((EncrId)e.Id);
        var integ = One(p, TransformType.Integrity, required: !aead);
        int bits = e.KeyBits != 0 ? e.KeyBits : IkeIana.FixedKeyBits((EncrId)e.Id);
        return new IkeSuite((EncrId)e.Id, bits, (PrfId)prf.Id, aead ? IntegId.None : (IntegId)integ!.Value.Id, (DhGroup)dh.Id);
    }

    /// <summary>The suite of a single-choice ESP proposal.</summary>
    public static ChildSuite ToChildSuite(Proposal p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var e = One(p, TransformType.Encryption, required: true)!.Value;
        bool aead = IkeIana.IsAead((EncrId)e.Id);
        var integ = One(p, TransformType.Integrity, required: !aead);
        var dh = One(p, TransformType.KeyExchange, required: false);
        var esn = One(p, TransformType.ExtendedSequenceNumbers, required: false);
        int bits = e.KeyBits != 0 ? e.KeyBits : IkeIana.FixedKeyBits((EncrId)e.Id);
        return new ChildSuite((EncrId)e.Id, bits, aead ? IntegId.None : (IntegId)(integ?.Id ?? 0),
            (DhGroup)(dh?.Id ?? 0), (EsnId)(esn?.Id ?? 0));
    }

    private static Transform? One(Proposal p, TransformType type, bool required)
    {
        var all = p.Of(type).ToList();
        if (all.Count > 1) throw new FormatException($"chosen proposal {p} has {all.Count} transforms of type {IkeIana.Name(type)}");
        if (all.Count == 0)
        {
            if (required) throw new FormatException($"chosen proposal {p} lacks a transform of type {IkeIana.Name(type)}");
            return null;
        }
        return all[0];
    }

    private static bool TrySelect(IReadOnlyList<Proposal> configured, IReadOnlyList<Proposal> offered, ProposalProtocol protocol,
        out Proposal? chosen, out int offeredIndex)
    {
        ArgumentNullException.ThrowIfNull(configured);
        ArgumentNullException.ThrowIfNull(offered);
        foreach (var mine in configured.Where(c => c.Protocol == protocol))
        {
            for (int i = 0; i < offered.Count; i++)
            {
                var theirs = offered[i];
                if (theirs.Protocol != protocol) continue;
                if (theirs.Transforms.Any(t => t.Type is < TransformType.Encryption or > TransformType.ExtendedSequenceNumbers)) continue;
                if (TryMatch(mine, theirs, protocol, out chosen))
                {
                    offeredIndex = i;
                    return true;
                }
            }
        }
        chosen = null;
        offeredIndex = -1;
        return false;
    }

    private static bool TryMatch(Proposal mine, Proposal theirs, ProposalProtocol protocol, out Proposal? chosen)
    {
        chosen = null;
        var picked = new List<Transform>();
        bool Pick(TransformType type, bool required)
        {
            var ours = mine.Of(type).ToList();
            var offeredOfType = theirs.Of(type).ToList();
            if (ours.Count == 0 && offeredOfType.Count == 0) return !required;
            foreach (var t in ours)
                if (offeredOfType.Contains(t)) { picked.Add(t); return true; }
            return false;
        }
        if (!Pick(TransformType.Encryption, true)) return false;
        bool aead = IkeIana.IsAead((EncrId)picked[0].Id);
        if (!aead && !Pick(TransformType.Integrity, true)) return false;
        if (aead && theirs.Of(TransformType.Integrity).Any(t => t.Id != (ushort)IntegId.None)) return false; // RFC 5282 §8: no INTEG with AEAD
        if (protocol == ProposalProtocol.Ike)
        {
            if (!Pick(TransformType.Prf, true) || !Pick(TransformType.KeyExchange, true)) return false;
        }
        else
        {
            var ourDh = mine.Of(TransformType.KeyExchange).Where(t => t.Id != 0).ToList();
            var theirDh = theirs.Of(TransformType.KeyExchange).Where(t => t.Id != 0).ToList();
            if (ourDh.Count != 0 || theirDh.Count != 0)
            {
                var dh = ourDh.FirstOrDefault(theirDh.Contains);
                if (dh == default) return false;
                picked.Add(dh);
            }
            var ourEsn = mine.Of(TransformType.ExtendedSequenceNumbers).DefaultIfEmpty(Transform.EsnOf(EsnId.NoEsn)).ToList();
            var theirEsn = theirs.Of(TransformType.ExtendedSequenceNumbers).DefaultIfEmpty(Transform.EsnOf(EsnId.NoEsn)).ToList();
            int common = ourEsn.FindIndex(theirEsn.Contains);
            if (common < 0) return false;
            picked.Add(ourEsn[common]);
        }
        chosen = new Proposal(protocol, picked);
        return true;
    }
}
