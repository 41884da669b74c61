using System.Collections.Generic;
using System.Linq;
using FastPath.Ike.Crypto;
using FastPath.Ike.Messages;
using Cfg = FastPath.Ike.Proposals;
using TransformType = FastPath.Ike.Crypto.TransformType;
using WireType = FastPath.Ike.Messages.TransformType;

namespace FastPath.Ike.Exchanges;

// Between the configured proposals (Proposals/, IANA IDs per transform) and the SA payload on the
// wire (Messages/, RFC 7296 §3.3):
//   ToSaPayload   our offer: proposal numbers 1..n, the SPI (none for IKE_SA_INIT, our inbound SPI
//                 for ESP), Key Length as a TV attribute (§3.3.5); ESP proposals always carry an ESN
//                 transform (NO_EXT_SEQ when none is configured, as strongSwan sends it)
//   FromWire      a received proposal as the selector takes it
//   Answer        the responder's single proposal, echoing the offered proposal number (§3.3.1)
//   IsChosenFromOffer  initiator check: the responder picked one transform of each type out of one
//                 proposal we offered (§2.7: anything else is a protocol error)
/// <summary>Proposal conversions between configuration and SA payloads.</summary>
public static class ProposalWire
{
    /// <summary>Our SA payload. <paramref name="withoutKe"/> strips KE transforms (IKE_AUTH's child: no PFS there, §1.2).</summary>
    public static SaPayload ToSaPayload(IReadOnlyList<Cfg.Proposal> proposals, byte[] spi, bool withoutKe = false)
    {
        var list = new List<Proposal>();
        foreach (var p in proposals)
        {
            var ts = new List<Transform>();
            foreach (var t in p.Transforms)
            {
                if (withoutKe && t.Type == TransformType.KeyExchange) continue;
                ts.Add(ToWire(t));
            }
            if (p.Protocol == Cfg.ProposalProtocol.Esp && !ts.Any(t => t.TransformType == WireType.ExtendedSequenceNumbers))
                ts.Add(new Transform(WireType.ExtendedSequenceNumbers, (ushort)EsnId.NoEsn));
            list.Add(new Proposal((byte)(list.Count + 1), (ProtocolId)p.Protocol, spi, ts));
        }
        return new SaPayload(list);
    }

    /// <summary>The responder's answer: the chosen transforms under the offered proposal's number and our SPI.</summary>
    public static SaPayload Answer(Cfg.Proposal chosen, byte offeredNumber, byte[] spi) =>
        new([new Proposal(offeredNumber, (ProtocolId)chosen.Protocol, spi, chosen.Transforms.Select(ToWire).ToList())]);

    public static Transform ToWire(Cfg.Transform t) =>
        t.KeyBits > 0 ? Transform.WithKeyLength((WireType)(byte)t.Type, t.Id, (ushort)t.KeyBits) : new Transform((WireType)(byte)t.Type, t.Id);

    public static Cfg.Proposal FromWire(Proposal p) =>
        new((Cfg.ProposalProtocol)p.Protocol, p.Transforms.Select(t => new Cfg.Transform((TransformType)(byte)t.TransformType, t.TransformId, t.KeyLength ?? 0)));

    public static List<Cfg.Proposal> FromWire(SaPayload sa) =>
        sa.Proposals.Where(p => p.Protocol is ProtocolId.Ike or ProtocolId.Esp or ProtocolId.Ah).Select(FromWire).ToList();

    /// <summary>The configured proposals without their KE transforms (IKE_AUTH child selection).</summary>
    public static List<Cfg.Proposal> WithoutKe(IEnumerable<Cfg.Proposal> proposals) =>
        proposals.Select(p => new Cfg.Proposal(p.Protocol, p.Transforms.Where(t => t.Type != TransformType.KeyExchange))).ToList();

    /// <summary>The configured proposals with only <paramref name="group"/> as KE (responder: prefer the group the initiator's KE uses).</summary>
    public static List<Cfg.Proposal> OnlyGroup(IEnumerable<Cfg.Proposal> proposals, DhGroup group) =>
        proposals.Where(p => p.Of(TransformType.KeyExchange).Any(t => t.Id == (ushort)group))
            .Select(p => new Cfg.Proposal(p.Protocol, p.Transforms.Where(t => t.Type != TransformType.KeyExchange || t.Id == (ushort)group))).ToList();

    /// <summary>True when every transform of <paramref name="chosen"/> is in one offered proposal, one per type
    /// (a missing ESN transform means NO_EXT_SEQ).</summary>
    public static bool IsChosenFromOffer(Cfg.Proposal chosen, IReadOnlyList<Cfg.Proposal> offered)
    {
        var types = chosen.Transforms.Select(t => t.Type).ToList();
        if (types.Distinct().Count() != types.Count) return false;
        foreach (var o in offered)
        {
            if (o.Protocol != chosen.Protocol) continue;
            bool all = true;
            foreach (var t in chosen.Transforms)
            {
                if (o.Transforms.Contains(t)) continue;
                if (t.Type == TransformType.ExtendedSequenceNumbers && t.Id == (ushort)EsnId.NoEsn && !o.Of(TransformType.ExtendedSequenceNumbers).Any()) continue;
                if (t.Type == TransformType.Integrity && t.Id == (ushort)IntegId.None && !o.Of(TransformType.Integrity).Any()) continue;
                all = false;
                break;
            }
            if (all) return true;
        }
        return false;
    }
}
