using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using FastPath.Ike.Crypto;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using TransformType = FastPath.Ike.Crypto.TransformType;

namespace FastPath.Ike.Exchanges;

// Responder side of CREATE_CHILD_SA (RFC 7296 §1.3). Flow of ProcessRequest(payloads, state):
//   SA or Ni missing                          -> INVALID_SYNTAX
//   kind: an IKE proposal in SA -> IkeRekey; N(REKEY_SA) -> ChildRekey; else NewChild
//   RekeyCollision.Admit (§2.25)              -> TEMPORARY_FAILURE while we rekey/close what it touches
//   REKEY_SA names no SA of ours              -> CHILD_SA_NOT_FOUND (SPI copied, §2.25)
//   child: TSi/TSr missing -> INVALID_SYNTAX; proposal selection (the KE's group preferred; our
//          order wins, ProposalSelector) -> NO_PROPOSAL_CHOSEN; PFS chosen but KEi of another group
//          or none -> INVALID_KE_PAYLOAD naming the group we want (§1.3.1, §3.10.1: 2-byte group);
//          TS narrowing (TrafficSelectors.Narrow, §2.9) -> TS_UNACCEPTABLE when either side is empty;
//          mode: USE_TRANSPORT_MODE accepted when configured (echoed); a transport conn refuses tunnel
//   IKE rekey: KEi missing -> INVALID_SYNTAX; selection -> NO_PROPOSAL_CHOSEN; KE group -> INVALID_KE_PAYLOAD
//   keys: SaKeyFactory.CreateChildSa(SK_d, [g^ir |] Ni | Nr) / SaKeyFactory.RekeyIkeSa (§2.18)
// The response is SA (the chosen proposal with its number and our SPI), Nr, [KEr], [TSi, TSr],
// [N(USE_TRANSPORT_MODE)]; an error response is the one notify. Never throws on peer input.

public static partial class CreateChildSaExchange
{
    /// <summary>Answers a CREATE_CHILD_SA request (the decrypted SK payloads).</summary>
    public static CreateChildSaResponse ProcessRequest(CreateChildSaContext context, IReadOnlyList<IkePayload> payloads, CreateChildSaResponderState? state = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(payloads);
        state ??= new CreateChildSaResponderState();
        var sa = IkeMessage.Find<SaPayload>(payloads);
        var kind = sa is not null && sa.Proposals.Any(p => p.Protocol == ProtocolId.Ike) ? CreateChildSaKind.IkeRekey
            : IkeMessage.FindNotify(payloads, NotifyType.RekeySa) is not null ? CreateChildSaKind.ChildRekey
            : CreateChildSaKind.NewChild;
        try
        {
            return Respond(context, payloads, state, sa, kind);
        }
        catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException or CryptographicException)
        {
            // Our own configuration cannot realize what was chosen (e.g. a suite the SK/ESP code lacks): refuse, do not crash.
            return Fail(kind, NotifyType.NoProposalChosen, $"cannot use the chosen suite: {e.Message}");
        }
    }

    private static CreateChildSaResponse Fail(CreateChildSaKind kind, NotifyType type, string reason, byte[]? data = null,
        ProtocolId protocol = ProtocolId.None, byte[]? spi = null, DhGroup group = DhGroup.None) =>
        new([ChildSaWire.Error(type, data, protocol, spi)], new CreateChildSaFailed(kind, type, reason, RetryWithGroup: group));

    private static CreateChildSaResponse Respond(CreateChildSaContext context, IReadOnlyList<IkePayload> payloads, CreateChildSaResponderState state,
        SaPayload? sa, CreateChildSaKind kind)
    {
        var nonce = IkeMessage.Find<NoncePayload>(payloads);
        if (sa is null || nonce is null) return Fail(kind, NotifyType.InvalidSyntax, $"request lacks {(sa is null ? "SA" : "Ni")}");
        if (nonce.Nonce.Length is < NoncePayload.MinLength or > NoncePayload.MaxLength)
            return Fail(kind, NotifyType.InvalidSyntax, $"Ni of {nonce.Nonce.Length} bytes (16..256, §3.9)");

        ExistingChildSa? old = null;
        if (kind == CreateChildSaKind.ChildRekey)
        {
            var rekey = IkeMessage.FindNotify(payloads, NotifyType.RekeySa)!;
            if (rekey.Protocol != ProtocolId.Esp || rekey.Spi.Length != 4)
                return Fail(kind, NotifyType.InvalidSyntax, $"REKEY_SA for {rekey.Protocol} with a {rekey.Spi.Length}-byte SPI (ESP, 4 expected)");
            uint spi = BinaryPrimitives.ReadUInt32BigEndian(rekey.Spi);
            var busy = RekeyCollision.Admit(kind, state, spi);
            if (busy is { } b) return Fail(kind, b, "a rekey or delete of ours is in progress (§2.25)");
            old = state.FindChildByOutboundSpi(spi);
            if (old is null)
                return Fail(kind, NotifyType.ChildSaNotFound, $"no CHILD_SA with SPI 0x{spi:x8}", protocol: ProtocolId.Esp, spi: (byte[])rekey.Spi.Clone());
        }
        else if (RekeyCollision.Admit(kind, state, 0) is { } b)
        {
            return Fail(kind, b, kind == CreateChildSaKind.IkeRekey
                ? "a CHILD_SA exchange or IKE delete of ours is in progress (§2.25.2)"
                : "our IKE SA rekey or delete is in progress (§2.25.2)");
        }
        return kind == CreateChildSaKind.IkeRekey
            ? RespondIke(context, payloads, sa, nonce.Nonce)
            : RespondChild(context, payloads, sa, nonce.Nonce, kind, old);
    }

    private static CreateChildSaResponse RespondChild(CreateChildSaContext context, IReadOnlyList<IkePayload> payloads, SaPayload sa, byte[] ni,
        CreateChildSaKind kind, ExistingChildSa? old)
    {
        TsPayload? tsi = null, tsr = null;
        foreach (var p in payloads)
            if (p is TsPayload ts)
            {
                if (ts.IsInitiator) tsi ??= ts;
                else tsr ??= ts;
            }
        if (tsi is null || tsr is null) return Fail(kind, NotifyType.InvalidSyntax, "request lacks TSi or TSr");

        // ESP proposals with a 4-byte SPI only; others are skipped (§3.3.1: SPI size is per protocol).
        var offeredWire = sa.Proposals.Where(p => p.Protocol == ProtocolId.Esp && p.Spi.Length == 4).ToList();
        var ke = IkeMessage.Find<KePayload>(payloads);
        if (!Select(context.EspProposals, offeredWire, ke, ProposalProtocol.Esp, out var chosen, out var index))
            return Fail(kind, NotifyType.NoProposalChosen, "no acceptable ESP proposal");
        var suite = ProposalSelector.ToChildSuite(chosen!);

        if (suite.Dh != DhGroup.None && (ke is null || ke.DhGroup != (ushort)suite.Dh))
            return Fail(kind, NotifyType.InvalidKePayload, $"PFS with {IkeIana.Name(suite.Dh)}, KEi {(ke is null ? "missing" : $"is group {ke.DhGroup}")}",
                ChildSaWire.Group(suite.Dh), group: suite.Dh);

        bool wantsTransport = IkeMessage.FindNotify(payloads, NotifyType.UseTransportMode) is not null;
        bool transport = wantsTransport && context.Connection.Transport;
        if (context.Connection.Transport && !wantsTransport)
            return Fail(kind, NotifyType.NoProposalChosen, "connection is type=transport, peer asked for tunnel mode");

        // Narrowing (§2.9): TSi is the initiator's (remote) side, TSr ours.
        var remote = TrafficSelectors.Narrow(tsi.Selectors, context.RemoteTs);
        var local = TrafficSelectors.Narrow(tsr.Selectors, context.LocalTs);
        if (remote.Count == 0 || local.Count == 0)
            return Fail(kind, NotifyType.TsUnacceptable,
                $"{TrafficSelectors.Format(tsi.Selectors)} === {TrafficSelectors.Format(tsr.Selectors)} outside {TrafficSelectors.Format(context.RemoteTs)} === {TrafficSelectors.Format(context.LocalTs)}");

        byte[] gir = [];
        KeyExchange? ours = null;
        try
        {
            if (suite.Dh != DhGroup.None)
            {
                ours = context.KeyExchangeFactory(suite.Dh);
                if (!ours.TryComputeSharedSecret(ke!.KeyData, out gir, out string err))
                    return Fail(kind, NotifyType.InvalidSyntax, $"KEi: {err}");
            }
            var wire = offeredWire[index];
            uint peerSpi = BinaryPrimitives.ReadUInt32BigEndian(wire.Spi);
            if (peerSpi < 256) return Fail(kind, NotifyType.InvalidSyntax, $"initiator SPI 0x{peerSpi:x8} is reserved (RFC 4303 §2.1)");
            uint spi = context.AllocateChildSpi();
            byte[] nr = context.NonceGenerator(context.NonceLength);
            var keys = SaKeyFactory.CreateChildSa(context.IkeKeys, suite, gir, ni, nr);

            var response = new List<IkePayload>();
            if (transport) response.Add(new NotifyPayload(NotifyType.UseTransportMode, []));
            response.Add(new SaPayload([ChildSaWire.ToWire(chosen!, wire.Number, ChildSaWire.Spi32(spi))]));
            response.Add(new NoncePayload(nr));
            if (ours is not null) response.Add(new KePayload((ushort)suite.Dh, ours.PublicValue));
            response.Add(new TsPayload(true, remote));
            response.Add(new TsPayload(false, local));
            return new(response, new ChildSaCreated(kind, suite, keys, LocalIsExchangeInitiator: false, spi, peerSpi,
                local, remote, transport, ni, nr, old));
        }
        finally
        {
            ours?.Dispose();
            Wipe(gir);
        }
    }

    private static CreateChildSaResponse RespondIke(CreateChildSaContext context, IReadOnlyList<IkePayload> payloads, SaPayload sa, byte[] ni)
    {
        const CreateChildSaKind kind = CreateChildSaKind.IkeRekey;
        if (context.AllocateIkeSpi is null) return Fail(kind, NotifyType.NoProposalChosen, "IKE SA rekeying is not enabled here");
        var ke = IkeMessage.Find<KePayload>(payloads);
        if (ke is null) return Fail(kind, NotifyType.InvalidSyntax, "IKE rekey request lacks KEi (§1.3.2)");
        var offeredWire = sa.Proposals.Where(p => p.Protocol == ProtocolId.Ike && p.Spi.Length == 8 && BinaryPrimitives.ReadUInt64BigEndian(p.Spi) != 0).ToList();
        if (!Select(context.IkeProposals, offeredWire, ke, ProposalProtocol.Ike, out var chosen, out var index))
            return Fail(kind, NotifyType.NoProposalChosen, "no acceptable IKE proposal");
        var suite = ProposalSelector.ToIkeSuite(chosen!);
        if (ke.DhGroup != (ushort)suite.Dh)
            return Fail(kind, NotifyType.InvalidKePayload, $"{IkeIana.Name(suite.Dh)} chosen, KEi is group {ke.DhGroup}", ChildSaWire.Group(suite.Dh), group: suite.Dh);
        using var ours = context.KeyExchangeFactory(suite.Dh);
        if (!ours.TryComputeSharedSecret(ke.KeyData, out var gir, out string err)) return Fail(kind, NotifyType.InvalidSyntax, $"KEi: {err}");
        try
        {
            var wire = offeredWire[index];
            ulong spiI = BinaryPrimitives.ReadUInt64BigEndian(wire.Spi);
            ulong spiR = context.AllocateIkeSpi();
            byte[] nr = context.NonceGenerator(context.NonceLength);
            var keys = SaKeyFactory.RekeyIkeSa(context.IkeKeys, suite, gir, ni, nr, spiI, spiR);
            var response = new List<IkePayload>
            {
                new SaPayload([ChildSaWire.ToWire(chosen!, wire.Number, ChildSaWire.Spi64(spiR))]),
                new NoncePayload(nr),
                new KePayload((ushort)suite.Dh, ours.PublicValue),
            };
            return new(response, new IkeSaRekeyed(suite, keys, spiI, spiR, LocalIsExchangeInitiator: false, ni, nr));
        }
        finally
        {
            Wipe(gir);
        }
    }

    /// <summary>Proposal selection preferring the group the KE payload already carries (no INVALID_KE round trip,
    /// §1.3.1 "the responder SHOULD choose ... the group of KEi when acceptable"), then without that preference.</summary>
    private static bool Select(IReadOnlyList<Proposals.Proposal> configured, List<Messages.Proposal> offeredWire, KePayload? ke,
        ProposalProtocol protocol, out Proposals.Proposal? chosen, out int index)
    {
        var offered = offeredWire.Select(ChildSaWire.FromWire).ToList();
        if (ke is not null)
        {
            var restricted = offered.Select(p => ChildSaWire.RestrictDh(p, (DhGroup)ke.DhGroup)).ToList();
            // Only proposals that still offer a DH transform after the restriction count (or ESP ones offering none).
            if (TrySelect(configured, restricted, protocol, out chosen, out index) &&
                (protocol == ProposalProtocol.Esp || chosen!.Of(TransformType.KeyExchange).Any()))
                return true;
        }
        return TrySelect(configured, offered, protocol, out chosen, out index);
    }

    private static bool TrySelect(IReadOnlyList<Proposals.Proposal> configured, List<Proposals.Proposal> offered, ProposalProtocol protocol,
        out Proposals.Proposal? chosen, out int index)
    {
        if (protocol == ProposalProtocol.Esp) return ProposalSelector.TrySelectChild(configured, offered, out _, out chosen, out index);
        return ProposalSelector.TrySelectIke(configured, offered, out _, out chosen, out index);
    }
}
