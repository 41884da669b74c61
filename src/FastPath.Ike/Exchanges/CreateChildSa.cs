using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using FastPath.Ike.Crypto;
using FastPath.Ike.Engine;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using WireProposal = FastPath.Ike.Messages.Proposal;
using WireTransform = FastPath.Ike.Messages.Transform;
using TransformType = FastPath.Ike.Crypto.TransformType;
using WireTransformType = FastPath.Ike.Messages.TransformType;

namespace FastPath.Ike.Exchanges;

// CREATE_CHILD_SA (RFC 7296 §1.3) as payload-level functions. The engine owns message IDs,
// retransmission, SK encryption and sockets; these functions only turn payload lists into payload
// lists and results, so they hold no state between calls (what the initiator must remember between
// its request and the response travels in CreateChildSaPending). Flow:
//
//   initiator                                           responder
//   BuildNewChild / BuildChildRekey / BuildIkeRekey
//     -> (payloads, pending)  ── SK{...} ──────────►    ProcessRequest(payloads, state)
//                                                         -> (response payloads, outcome)
//   ProcessResponse(pending, payloads) ◄── SK{...} ──
//     -> outcome
//
// Outcomes: ChildSaCreated (new or rekeyed CHILD_SA: suite, SPIs, KEYMAT of §2.17, narrowed TS),
// IkeSaRekeyed (§2.18: the new IkeSaKeys and SPIs), CreateChildSaFailed (the error notify sent or
// received, with "retry with group X" for INVALID_KE_PAYLOAD). This file holds the types and the
// conversions between the proposal model (Proposals/) and the SA payload (Messages/).

/// <summary>Which CREATE_CHILD_SA exchange (RFC 7296 §1.3.1, §1.3.2, §1.3.3).</summary>
public enum CreateChildSaKind
{
    /// <summary>A new CHILD_SA (§1.3.1): SA, Ni, [KEi], TSi, TSr.</summary>
    NewChild,
    /// <summary>Rekeying a CHILD_SA (§1.3.3): N(REKEY_SA) naming the old SA, then as a new one.</summary>
    ChildRekey,
    /// <summary>Rekeying the IKE SA (§1.3.2): SA (IKE proposals with the new SPI), Ni, KEi.</summary>
    IkeRekey,
}

/// <summary>What the functions need from the IKE SA and the engine. Immutable; the engine builds one per IKE SA
/// (and a new one after an IKE rekey, with the new keys).</summary>
public sealed class CreateChildSaContext
{
    /// <summary>Keys of the IKE SA the exchange runs under: SK_d and the PRF derive the CHILD_SA's KEYMAT (§2.17)
    /// and the next IKE SA's SKEYSEED (§2.18).</summary>
    public required IkeSaKeys IkeKeys { get; init; }
    public required IkeConnection Connection { get; init; }
    /// <summary>The IKE SA's current addresses (host selectors when the connection names no subnets).</summary>
    public required IPAddress LocalAddress { get; init; }
    public required IPAddress RemoteAddress { get; init; }
    /// <summary>A fresh inbound ESP SPI (non-zero, unique in the local SAD; RFC 4303 §2.1 reserves 1..255).</summary>
    public required Func<uint> AllocateChildSpi { get; init; }
    /// <summary>A fresh local IKE SPI (non-zero) for an IKE rekey; null = IKE rekeys are refused (NO_PROPOSAL_CHOSEN).</summary>
    public Func<ulong>? AllocateIkeSpi { get; init; }
    /// <summary>Random nonce bytes of the given length (RFC 7296 §2.10: MUST be random).</summary>
    public Func<int, byte[]> NonceGenerator { get; init; } = IkeRandom.GetBytes;
    /// <summary>A fresh ephemeral key pair (tests inject known-answer keys).</summary>
    public Func<DhGroup, KeyExchange> KeyExchangeFactory { get; init; } = KeyExchange.Create;
    /// <summary>Nonce length: 32 bytes ≥ half the key of every PRF offered (SHA-512 HMAC: 64/2), §2.10.</summary>
    public int NonceLength { get; init; } = 32;

    internal IReadOnlyList<Proposals.Proposal> EspProposals => ProposalParser.Effective(Connection.EspProposals, ProposalProtocol.Esp);
    internal IReadOnlyList<Proposals.Proposal> IkeProposals => ProposalParser.Effective(Connection.IkeProposals, ProposalProtocol.Ike);

    /// <summary>Configured local selectors, or the local address as a host selector.</summary>
    internal IReadOnlyList<TrafficSelector> LocalTs => Connection.LocalTs.Count > 0 ? Connection.LocalTs : [TrafficSelectors.FromAddress(LocalAddress)];
    internal IReadOnlyList<TrafficSelector> RemoteTs => Connection.RemoteTs.Count > 0 ? Connection.RemoteTs : [TrafficSelectors.FromAddress(RemoteAddress)];
}

/// <summary>An installed CHILD_SA as the engine knows it: what a rekey of it needs.</summary>
/// <param name="InboundSpi">Our SPI (the one the peer sends to; REKEY_SA carries it when we rekey, §1.3.3).</param>
/// <param name="OutboundSpi">The peer's SPI (REKEY_SA carries it when the peer rekeys).</param>
/// <param name="Suite">The SA's suite: the rekey proposes its DH group first (no INVALID_KE round trip).</param>
/// <param name="LocalTs">Its negotiated selectors; a rekey proposes them again.</param>
public sealed record ExistingChildSa(uint InboundSpi, uint OutboundSpi, ChildSuite? Suite,
    IReadOnlyList<TrafficSelector> LocalTs, IReadOnlyList<TrafficSelector> RemoteTs, bool Transport = false, uint ReqId = 0);

/// <summary>What the responder side needs to know about exchanges in flight (RFC 7296 §2.25).</summary>
public sealed record CreateChildSaResponderState
{
    /// <summary>The CHILD_SA whose outbound SPI (the peer's inbound, as REKEY_SA names it) is given; null = none.</summary>
    public Func<uint, ExistingChildSa?> FindChildByOutboundSpi { get; init; } = _ => null;
    /// <summary>True while our own IKE SA rekey request is outstanding.</summary>
    public bool IkeRekeyInProgress { get; init; }
    /// <summary>True while we are closing the IKE SA (our Delete is outstanding).</summary>
    public bool IkeDeleteInProgress { get; init; }
    /// <summary>True while one of our own CREATE_CHILD_SA (child) or child-Delete requests is outstanding.</summary>
    public bool ChildExchangeInProgress { get; init; }
    /// <summary>True when we are closing the CHILD_SA with this outbound SPI (our Delete outstanding).</summary>
    public Func<uint, bool> IsChildClosing { get; init; } = _ => false;
}

/// <summary>The initiator's request: payloads to put in SK, and what ProcessResponse needs afterwards.</summary>
public sealed record CreateChildSaRequest(IReadOnlyList<IkePayload> Payloads, CreateChildSaPending Pending);

/// <summary>The responder's answer: payloads to put in SK (an error notify on failure) and the outcome.</summary>
public sealed record CreateChildSaResponse(IReadOnlyList<IkePayload> Payloads, CreateChildSaOutcome Outcome);

/// <summary>What the initiator keeps between request and response. Holds the ephemeral DH key: dispose it when
/// the exchange ends (ProcessResponse does not).</summary>
public sealed class CreateChildSaPending : IDisposable
{
    public required CreateChildSaKind Kind { get; init; }
    public required byte[] Nonce { get; init; }
    /// <summary>The key pair of the KE payload sent; null without PFS.</summary>
    public KeyExchange? KeyExchange { get; init; }
    /// <summary>The proposals offered (to check the responder's choice is one of them).</summary>
    public required IReadOnlyList<Proposals.Proposal> Offered { get; init; }
    /// <summary>Our new inbound ESP SPI (child kinds).</summary>
    public uint ChildSpi { get; init; }
    /// <summary>Our new IKE SPI (IKE rekey): the new SA's SPIi (§2.18).</summary>
    public ulong IkeSpi { get; init; }
    public IReadOnlyList<TrafficSelector> ProposedTsi { get; init; } = [];
    public IReadOnlyList<TrafficSelector> ProposedTsr { get; init; } = [];
    public bool TransportRequested { get; init; }
    /// <summary>The SA being rekeyed (ChildRekey).</summary>
    public ExistingChildSa? Rekeyed { get; init; }

    public void Dispose() => KeyExchange?.Dispose();
}

/// <summary>Result of a CREATE_CHILD_SA on either side.</summary>
public abstract record CreateChildSaOutcome(CreateChildSaKind Kind);

/// <summary>A new or rekeyed CHILD_SA. "Initiator" in <see cref="Keys"/> is the exchange initiator (§2.17).</summary>
public sealed record ChildSaCreated(
    CreateChildSaKind Kind,
    ChildSuite Suite,
    ChildSaKeys Keys,
    bool LocalIsExchangeInitiator,
    uint InboundSpi,
    uint OutboundSpi,
    IReadOnlyList<TrafficSelector> LocalTs,
    IReadOnlyList<TrafficSelector> RemoteTs,
    bool Transport,
    byte[] Ni,
    byte[] Nr,
    ExistingChildSa? Rekeyed) : CreateChildSaOutcome(Kind)
{
    /// <summary>Keys of traffic we receive: the responder-to-initiator ones when we initiated the exchange.</summary>
    public ChildSaDirectionKeys InboundKeys => LocalIsExchangeInitiator ? Keys.ResponderToInitiator : Keys.InitiatorToResponder;
    public ChildSaDirectionKeys OutboundKeys => LocalIsExchangeInitiator ? Keys.InitiatorToResponder : Keys.ResponderToInitiator;
}

/// <summary>A new IKE SA from an IKE rekey (§2.18). The rekey's initiator is the new SA's original initiator.</summary>
public sealed record IkeSaRekeyed(
    IkeSuite Suite,
    IkeSaKeys Keys,
    ulong InitiatorSpi,
    ulong ResponderSpi,
    bool LocalIsExchangeInitiator,
    byte[] Ni,
    byte[] Nr) : CreateChildSaOutcome(CreateChildSaKind.IkeRekey)
{
    /// <summary>Our SPI of the new IKE SA.</summary>
    public ulong LocalSpi => LocalIsExchangeInitiator ? InitiatorSpi : ResponderSpi;
    public ulong RemoteSpi => LocalIsExchangeInitiator ? ResponderSpi : InitiatorSpi;
}

/// <summary>The exchange failed. On the responder, <see cref="Notify"/> is the error sent; on the initiator, the
/// error received (or the one that describes why the response was refused).</summary>
/// <param name="RetryWithGroup">INVALID_KE_PAYLOAD: the group the responder wants and we also offered; None = do not retry.</param>
/// <param name="DeletePeerChildSpi">Non-zero: the responder created a CHILD_SA with this SPI that we refuse; send an
/// INFORMATIONAL Delete for it (RFC 7296 §1.3: the initiator deletes an SA it does not accept).</param>
/// <param name="ChildSaNotFoundSpi">CHILD_SA_NOT_FOUND: the SPI named (ours, from our REKEY_SA): delete that SA silently and
/// create a new one from scratch (§2.25).</param>
public sealed record CreateChildSaFailed(
    CreateChildSaKind Kind,
    NotifyType Notify,
    string Reason,
    DhGroup RetryWithGroup = DhGroup.None,
    uint DeletePeerChildSpi = 0,
    uint ChildSaNotFoundSpi = 0) : CreateChildSaOutcome(Kind)
{
    public override string ToString() => $"{Kind}: {Notify}: {Reason}";
}

/// <summary>Conversions between the proposal model and the SA payload.</summary>
internal static class ChildSaWire
{
    public static WireProposal ToWire(Proposals.Proposal p, byte number, byte[] spi) =>
        new(number, (ProtocolId)(byte)p.Protocol, spi,
            p.Transforms.Select(t => t.KeyBits != 0
                ? WireTransform.WithKeyLength((WireTransformType)(byte)t.Type, t.Id, (ushort)t.KeyBits)
                : new WireTransform((WireTransformType)(byte)t.Type, t.Id)).ToArray());

    /// <summary>The model of a received proposal. A transform with an attribute other than Key Length is made
    /// unselectable (type 0): RFC 7296 §3.3.6 says a proposal with an unknown attribute is not chosen.</summary>
    public static Proposals.Proposal FromWire(WireProposal w) =>
        new((ProposalProtocol)(byte)w.Protocol, w.Transforms.Select(t =>
            t.Attributes.Any(a => a.AttributeType != TransformAttribute.KeyLengthType || !a.IsTv)
                ? new Proposals.Transform(0, t.TransformId)
                : new Proposals.Transform((TransformType)(byte)t.TransformType, t.TransformId, t.KeyLength ?? 0)));

    public static SaPayload SaOf(IReadOnlyList<Proposals.Proposal> proposals, byte[] spi)
    {
        var list = new List<WireProposal>(proposals.Count);
        for (int i = 0; i < proposals.Count; i++) list.Add(ToWire(proposals[i], (byte)(i + 1), spi));
        return new SaPayload(list);
    }

    /// <summary>Proposals in the order offered where <paramref name="keGroup"/> is the only DH alternative left
    /// (and ones without DH are dropped): used to prefer what the KE payload already carries (§1.3.1).</summary>
    public static Proposals.Proposal RestrictDh(Proposals.Proposal p, DhGroup keGroup)
    {
        bool hadDh = p.Of(TransformType.KeyExchange).Any(t => t.Id != 0);
        var kept = p.Transforms.Where(t => t.Type != TransformType.KeyExchange || t.Id == (ushort)keGroup).ToList();
        // A proposal that offered only other groups must not turn into a no-PFS one: make it unselectable.
        if (hadDh && !kept.Any(t => t.Type == TransformType.KeyExchange)) kept.Add(new Proposals.Transform(0, 0));
        return new(p.Protocol, kept);
    }

    public static byte[] Spi32(uint spi) => [(byte)(spi >> 24), (byte)(spi >> 16), (byte)(spi >> 8), (byte)spi];

    public static byte[] Spi64(ulong spi)
    {
        var b = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(b, spi);
        return b;
    }

    public static NotifyPayload Error(NotifyType type, byte[]? data = null, ProtocolId protocol = ProtocolId.None, byte[]? spi = null) =>
        new(protocol, type, spi ?? [], data ?? []);

    public static byte[] Group(DhGroup g) => [(byte)((ushort)g >> 8), (byte)g];

    /// <summary>DH groups of the given proposals, in order, without duplicates or None.</summary>
    public static List<DhGroup> Groups(IEnumerable<Proposals.Proposal> proposals) =>
        proposals.SelectMany(p => p.Of(TransformType.KeyExchange)).Select(t => (DhGroup)t.Id).Where(g => g != DhGroup.None).Distinct().ToList();
}
