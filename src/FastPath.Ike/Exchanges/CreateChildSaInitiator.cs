using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using FastPath.Ike.Crypto;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;

namespace FastPath.Ike.Exchanges;

// Initiator side of CREATE_CHILD_SA (RFC 7296 §1.3). Flow:
//   BuildNewChild      SA(ESP proposals, our new inbound SPI), Ni, [KEi], TSi, TSr, [N(USE_TRANSPORT_MODE)]
//   BuildChildRekey    N(REKEY_SA, ESP, the old SA's inbound SPI) + as BuildNewChild with the old SA's selectors
//   BuildIkeRekey      SA(IKE proposals, our new IKE SPI), Ni, KEi (§1.3.2)
//   ProcessResponse    an error notify -> CreateChildSaFailed (INVALID_KE_PAYLOAD -> "retry with group X" when X
//                      was offered and differs from the group sent; CHILD_SA_NOT_FOUND -> recreate from scratch);
//                      otherwise: one proposal that is a sub-choice of what we offered, Nr, KEr of the chosen group,
//                      TS inside what we proposed (AllWithin), the mode asked for -> keys (§2.17 / §2.18).
// The KE group sent is the one the caller names (the retry), else the old SA's group when still offered
// (no INVALID_KE round trip on a rekey, as strongSwan), else the first group of the first proposal.

/// <summary>CREATE_CHILD_SA as payload-level functions (state-free with respect to the engine).</summary>
public static partial class CreateChildSaExchange
{
    /// <summary>Request for a new CHILD_SA. <paramref name="tsi"/>/<paramref name="tsr"/> override the configured
    /// selectors (an ACQUIRE puts the triggering packet's selectors first, §2.9).</summary>
    public static CreateChildSaRequest BuildNewChild(CreateChildSaContext context, IReadOnlyList<TrafficSelector>? tsi = null,
        IReadOnlyList<TrafficSelector>? tsr = null, DhGroup keGroup = DhGroup.None)
    {
        ArgumentNullException.ThrowIfNull(context);
        return BuildChild(context, CreateChildSaKind.NewChild, null, tsi ?? context.LocalTs, tsr ?? context.RemoteTs,
            context.Connection.Transport, keGroup, DhGroup.None);
    }

    /// <summary>Request to rekey <paramref name="old"/> (§1.3.3).</summary>
    public static CreateChildSaRequest BuildChildRekey(CreateChildSaContext context, ExistingChildSa old, DhGroup keGroup = DhGroup.None)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(old);
        return BuildChild(context, CreateChildSaKind.ChildRekey, old,
            old.LocalTs.Count > 0 ? old.LocalTs : context.LocalTs, old.RemoteTs.Count > 0 ? old.RemoteTs : context.RemoteTs,
            old.Transport, keGroup, old.Suite?.Dh ?? DhGroup.None);
    }

    /// <summary>Request to rekey the IKE SA (§1.3.2). Needs <see cref="CreateChildSaContext.AllocateIkeSpi"/>.</summary>
    public static CreateChildSaRequest BuildIkeRekey(CreateChildSaContext context, DhGroup keGroup = DhGroup.None)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.AllocateIkeSpi is null) throw new InvalidOperationException("an IKE rekey needs CreateChildSaContext.AllocateIkeSpi");
        var offered = context.IkeProposals;
        var groups = ChildSaWire.Groups(offered);
        var group = PickGroup(groups, keGroup, context.IkeKeys.Suite.Dh);
        ulong spi = context.AllocateIkeSpi();
        byte[] ni = context.NonceGenerator(context.NonceLength);
        var ke = context.KeyExchangeFactory(group);
        var payloads = new List<IkePayload>
        {
            ChildSaWire.SaOf(offered, ChildSaWire.Spi64(spi)),
            new NoncePayload(ni),
            new KePayload((ushort)group, ke.PublicValue),
        };
        return new(payloads, new CreateChildSaPending
        {
            Kind = CreateChildSaKind.IkeRekey, Nonce = ni, KeyExchange = ke, Offered = offered, IkeSpi = spi,
        });
    }

    private static CreateChildSaRequest BuildChild(CreateChildSaContext context, CreateChildSaKind kind, ExistingChildSa? old,
        IReadOnlyList<TrafficSelector> tsi, IReadOnlyList<TrafficSelector> tsr, bool transport, DhGroup keGroup, DhGroup previous)
    {
        var offered = context.EspProposals;
        var groups = ChildSaWire.Groups(offered);
        KeyExchange? ke = null;
        DhGroup group = DhGroup.None;
        if (groups.Count > 0)
        {
            group = PickGroup(groups, keGroup, previous);
            ke = context.KeyExchangeFactory(group);
        }
        uint spi = context.AllocateChildSpi();
        byte[] ni = context.NonceGenerator(context.NonceLength);
        var payloads = new List<IkePayload>();
        if (old is not null) payloads.Add(new NotifyPayload(ProtocolId.Esp, NotifyType.RekeySa, ChildSaWire.Spi32(old.InboundSpi), []));
        if (transport) payloads.Add(new NotifyPayload(NotifyType.UseTransportMode, []));
        payloads.Add(ChildSaWire.SaOf(offered, ChildSaWire.Spi32(spi)));
        payloads.Add(new NoncePayload(ni));
        if (ke is not null) payloads.Add(new KePayload((ushort)group, ke.PublicValue));
        payloads.Add(new TsPayload(true, tsi));
        payloads.Add(new TsPayload(false, tsr));
        return new(payloads, new CreateChildSaPending
        {
            Kind = kind, Nonce = ni, KeyExchange = ke, Offered = offered, ChildSpi = spi,
            ProposedTsi = tsi, ProposedTsr = tsr, TransportRequested = transport, Rekeyed = old,
        });
    }

    private static DhGroup PickGroup(List<DhGroup> offered, DhGroup asked, DhGroup previous)
    {
        if (asked != DhGroup.None)
        {
            if (!offered.Contains(asked)) throw new ArgumentException($"KE group {IkeIana.Name(asked)} is not in the proposals", nameof(asked));
            return asked;
        }
        if (previous != DhGroup.None && offered.Contains(previous)) return previous;
        if (offered.Count == 0) throw new InvalidOperationException("the proposals name no DH group");
        return offered[0];
    }

    /// <summary>Processes the responder's answer (the decrypted SK payloads) to the request <paramref name="pending"/> was made with.</summary>
    public static CreateChildSaOutcome ProcessResponse(CreateChildSaContext context, CreateChildSaPending pending, IReadOnlyList<IkePayload> payloads)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(payloads);
        var kind = pending.Kind;
        foreach (var p in payloads)
            if (p is NotifyPayload { IsError: true } n) return FromErrorNotify(pending, n);

        var sa = IkeMessage.Find<SaPayload>(payloads);
        var nonce = IkeMessage.Find<NoncePayload>(payloads);
        if (sa is null || nonce is null)
            return new CreateChildSaFailed(kind, NotifyType.InvalidSyntax, $"response lacks {(sa is null ? "SA" : "Nr")}");
        if (nonce.Nonce.Length is < NoncePayload.MinLength or > NoncePayload.MaxLength)
            return new CreateChildSaFailed(kind, NotifyType.InvalidSyntax, $"Nr of {nonce.Nonce.Length} bytes (16..256, §3.9)");
        if (sa.Proposals.Count != 1)
            return new CreateChildSaFailed(kind, NotifyType.InvalidSyntax, $"response SA has {sa.Proposals.Count} proposals, must have one (§2.7)");
        var wire = sa.Proposals[0];
        return kind == CreateChildSaKind.IkeRekey
            ? IkeResponse(context, pending, payloads, wire, nonce.Nonce)
            : ChildResponse(context, pending, payloads, wire, nonce.Nonce);
    }

    private static CreateChildSaFailed FromErrorNotify(CreateChildSaPending pending, NotifyPayload n)
    {
        var kind = pending.Kind;
        switch (n.NotifyType)
        {
            case NotifyType.InvalidKePayload:
            {
                if (n.Data.Length != 2) return new(kind, n.NotifyType, $"INVALID_KE_PAYLOAD with {n.Data.Length} data bytes (must be 2, §3.10.1)");
                var want = (DhGroup)BinaryPrimitives.ReadUInt16BigEndian(n.Data);
                var sent = pending.KeyExchange?.Group ?? DhGroup.None;
                bool offered = ChildSaWire.Groups(pending.Offered).Contains(want) && KeyExchange.IsSupported(want);
                if (!offered || want == sent)
                    return new(kind, n.NotifyType, $"peer wants {IkeIana.Name(want)}, which we {(want == sent ? "sent already" : "did not offer")}");
                return new(kind, n.NotifyType, $"peer wants {IkeIana.Name(want)} instead of {IkeIana.Name(sent)}", RetryWithGroup: want);
            }
            case NotifyType.ChildSaNotFound:
                return new(kind, n.NotifyType, "peer has no CHILD_SA with the SPI in REKEY_SA: delete ours and create a new one (§2.25)",
                    ChildSaNotFoundSpi: pending.Rekeyed?.InboundSpi ?? 0);
            case NotifyType.TemporaryFailure:
                return new(kind, n.NotifyType, "peer is busy (rekey or delete in progress): retry later, not at once (§2.25)");
            default:
                return new(kind, n.NotifyType, $"peer answered {n.NotifyType}");
        }
    }

    private static CreateChildSaOutcome ChildResponse(CreateChildSaContext context, CreateChildSaPending pending, IReadOnlyList<IkePayload> payloads,
        Messages.Proposal wire, byte[] nr)
    {
        var kind = pending.Kind;
        if (wire.Protocol != ProtocolId.Esp || wire.Spi.Length != 4)
            return new CreateChildSaFailed(kind, NotifyType.InvalidSyntax, $"response proposal is {wire.Protocol} with a {wire.Spi.Length}-byte SPI, expected ESP with 4");
        uint peerSpi = BinaryPrimitives.ReadUInt32BigEndian(wire.Spi);
        var reject = (NotifyType t, string why) => new CreateChildSaFailed(kind, t, why, DeletePeerChildSpi: peerSpi);
        if (peerSpi < 256) return new CreateChildSaFailed(kind, NotifyType.InvalidSyntax, $"peer SPI 0x{peerSpi:x8} is reserved (RFC 4303 §2.1)");
        if (!AcceptedChoice(pending.Offered, ChildSaWire.FromWire(wire), ProposalProtocol.Esp, out var childSuite, out _))
            return reject(NotifyType.NoProposalChosen, "responder chose a proposal we did not offer");
        var suite = (ChildSuite)childSuite!;
        byte[] gir = [];
        if (suite.Dh != DhGroup.None)
        {
            var ke = IkeMessage.Find<KePayload>(payloads);
            if (ke is null || pending.KeyExchange is null || ke.DhGroup != (ushort)suite.Dh || pending.KeyExchange.Group != suite.Dh)
                return reject(NotifyType.InvalidKePayload, $"PFS with {IkeIana.Name(suite.Dh)} chosen, but KEr {(ke is null ? "is missing" : $"is group {ke.DhGroup}")}");
            if (!pending.KeyExchange.TryComputeSharedSecret(ke.KeyData, out gir, out string err))
                return reject(NotifyType.InvalidSyntax, err);
        }
        var tsi = IkeMessage.Find<TsPayload>(payloads.Where(p => p.Type == PayloadType.TsInitiator).ToList());
        var tsr = IkeMessage.Find<TsPayload>(payloads.Where(p => p.Type == PayloadType.TsResponder).ToList());
        if (tsi is null || tsr is null) return reject(NotifyType.InvalidSyntax, "response lacks TSi or TSr");
        if (!TrafficSelectors.AllWithin(tsi.Selectors, pending.ProposedTsi) || !TrafficSelectors.AllWithin(tsr.Selectors, pending.ProposedTsr))
            return reject(NotifyType.TsUnacceptable, $"responder's selectors {TrafficSelectors.Format(tsi.Selectors)} === {TrafficSelectors.Format(tsr.Selectors)} are not inside ours (§2.9)");
        bool transport = IkeMessage.FindNotify(payloads, NotifyType.UseTransportMode) is not null;
        if (transport != pending.TransportRequested)
            return reject(NotifyType.NoProposalChosen, pending.TransportRequested ? "responder did not accept transport mode" : "responder answered USE_TRANSPORT_MODE we did not ask for");
        var keys = SaKeyFactory.CreateChildSa(context.IkeKeys, suite, gir, pending.Nonce, nr);
        Wipe(gir);
        return new ChildSaCreated(kind, suite, keys, LocalIsExchangeInitiator: true, pending.ChildSpi, peerSpi,
            tsi.Selectors, tsr.Selectors, transport, pending.Nonce, nr, pending.Rekeyed);
    }

    private static CreateChildSaOutcome IkeResponse(CreateChildSaContext context, CreateChildSaPending pending, IReadOnlyList<IkePayload> payloads,
        Messages.Proposal wire, byte[] nr)
    {
        const CreateChildSaKind kind = CreateChildSaKind.IkeRekey;
        if (wire.Protocol != ProtocolId.Ike || wire.Spi.Length != 8)
            return new CreateChildSaFailed(kind, NotifyType.InvalidSyntax, $"response proposal is {wire.Protocol} with a {wire.Spi.Length}-byte SPI, expected IKE with 8");
        ulong spiR = BinaryPrimitives.ReadUInt64BigEndian(wire.Spi);
        if (spiR == 0) return new CreateChildSaFailed(kind, NotifyType.InvalidSyntax, "responder's new IKE SPI is zero");
        if (!AcceptedChoice(pending.Offered, ChildSaWire.FromWire(wire), ProposalProtocol.Ike, out var s, out _))
            return new CreateChildSaFailed(kind, NotifyType.NoProposalChosen, "responder chose an IKE proposal we did not offer");
        var suite = (IkeSuite)s!;
        var ke = IkeMessage.Find<KePayload>(payloads);
        if (ke is null || pending.KeyExchange is null || ke.DhGroup != (ushort)suite.Dh || pending.KeyExchange.Group != suite.Dh)
            return new CreateChildSaFailed(kind, NotifyType.InvalidKePayload, $"{IkeIana.Name(suite.Dh)} chosen, KEr {(ke is null ? "missing" : $"is group {ke.DhGroup}")}");
        if (!pending.KeyExchange.TryComputeSharedSecret(ke.KeyData, out var gir, out string err))
            return new CreateChildSaFailed(kind, NotifyType.InvalidSyntax, err);
        IkeSaKeys keys;
        try
        {
            keys = SaKeyFactory.RekeyIkeSa(context.IkeKeys, suite, gir, pending.Nonce, nr, pending.IkeSpi, spiR);
        }
        finally
        {
            Wipe(gir);
        }
        return new IkeSaRekeyed(suite, keys, pending.IkeSpi, spiR, LocalIsExchangeInitiator: true, pending.Nonce, nr);
    }

    /// <summary>The responder's single-choice proposal must be one our selector would also accept from what we offered
    /// (same transforms, one per type), and must name a complete suite.</summary>
    private static bool AcceptedChoice(IReadOnlyList<Proposals.Proposal> offered, Proposals.Proposal chosen, ProposalProtocol protocol,
        out object? suite, out Proposals.Proposal? normalized)
    {
        suite = null;
        normalized = null;
        try
        {
            if (chosen.Protocol != protocol) return false;
            if (protocol == ProposalProtocol.Esp)
            {
                var mine = ProposalSelector.ToChildSuite(chosen);
                if (!ProposalSelector.TrySelectChild(offered, [chosen], out var s, out normalized, out _) || s != mine) return false;
                suite = s;
            }
            else
            {
                var mine = ProposalSelector.ToIkeSuite(chosen);
                if (!ProposalSelector.TrySelectIke(offered, [chosen], out var s, out normalized, out _) || s != mine) return false;
                suite = s;
            }
            return true;
        }
        catch (FormatException)
        {
            return false; // a type missing or repeated in the "single" choice
        }
    }

    internal static void Wipe(byte[] secret) => System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret);
}
