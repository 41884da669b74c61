using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using FastPath.Ike.Crypto;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;

using AuthMethod = FastPath.Ike.Messages.AuthMethod;
using CryptoAuthMethod = FastPath.Ike.Crypto.AuthMethod;

namespace FastPath.Ike.Engine;

// State of one IKE SA and its CHILD_SAs as the engine thread keeps it. Only the engine thread
// touches these objects (no locks). Life of an IKE SA (RFC 7296 §1.2, §2.1):
//
//   initiator: Connecting (IKE_SA_INIT sent; COOKIE / INVALID_KE_PAYLOAD restart it) → Authenticating
//              (IKE_AUTH sent) → Established → Deleting (INFORMATIONAL delete sent) → gone
//   responder: Connecting (IKE_SA_INIT answered, "half-open", counted for COOKIE §2.6) →
//              Established (IKE_AUTH verified and answered) → Deleting → gone
//
// Message IDs (§2.2): window size 1 both ways. NextRequestId numbers our requests; one request is
// outstanding at a time (Outstanding), later ones wait in Waiting. ExpectedPeerRequestId is the ID
// the peer's next request must carry; the response to the previous one is cached (LastResponse) and
// resent when that request is retransmitted (§2.1).

internal enum IkeSaState { Connecting, Authenticating, Established, Deleting, Dead }

internal enum ChildSaState { Installed, Deleting }

/// <summary>One request this side sent and awaits the response of (RFC 7296 §2.1 retransmission).</summary>
internal sealed class PendingRequest
{
    public required uint MessageId { get; init; }
    public required ExchangeType Exchange { get; init; }
    public required IReadOnlyList<byte[]> Datagrams { get; set; }
    /// <summary>Handler of the decrypted response (payloads are the inner ones, or the clear ones for IKE_SA_INIT).</summary>
    public required Action<IkeMessage, IReadOnlyList<IkePayload>> OnResponse { get; init; }
    /// <summary>Called once the retransmissions are exhausted.</summary>
    public required Action OnTimeout { get; init; }
    public int Retransmits { get; set; }
    public DateTimeOffset FirstSent { get; set; }
    /// <summary>Upper bound for the whole exchange (DPD: dpdtimeout); null = the retransmission schedule alone.</summary>
    public TimeSpan? Deadline { get; init; }
    public ITimer? Timer { get; set; }
    public bool IsLiveness { get; init; }
}

/// <summary>One CHILD_SA (an ESP pair).</summary>
internal sealed class ChildSa
{
    public required int Serial { get; init; }
    public required ChildSaInstall Install { get; set; }
    public ChildSaState State { get; set; } = ChildSaState.Installed;
    public DateTimeOffset Installed { get; init; }
    public uint InboundSpi => Install.InboundSpi;
    public uint OutboundSpi => Install.OutboundSpi;
    /// <summary>Inbound counter as last seen by the DPD check (activity = it moved).</summary>
    public long LastInboundPackets { get; set; }
    /// <summary>Our CREATE_CHILD_SA rekey of this child is outstanding.</summary>
    public bool Rekeying { get; set; }
    /// <summary>Responder of a rekey: the new SA whose outbound is installed once the initiator deleted this one.</summary>
    public ChildSa? PendingReplacement { get; set; }
    /// <summary>Responder of a rekey: this SA's outbound waits for the old one's delete.</summary>
    public bool OutboundPending { get; set; }
    public ITimer? RekeyTimer { get; set; }
    public ITimer? ExpireTimer { get; set; }
    public ITimer? ReplaceTimer { get; set; }

    public void CancelTimers()
    {
        RekeyTimer?.Dispose();
        ExpireTimer?.Dispose();
        ReplaceTimer?.Dispose();
        RekeyTimer = ExpireTimer = ReplaceTimer = null;
    }
}

/// <summary>What the initiator asked for in IKE_AUTH's (or CREATE_CHILD_SA's) child part.</summary>
internal sealed class ChildRequest
{
    public required uint InboundSpi { get; init; }
    public required IReadOnlyList<Proposals.Proposal> Proposals { get; init; }
    public required IReadOnlyList<TrafficSelector> TsI { get; init; }
    public required IReadOnlyList<TrafficSelector> TsR { get; init; }
}

/// <summary>The peer's half of a simultaneous IKE SA rekey (RFC 7296 §2.8.2): the SA its exchange created and that exchange's nonces.</summary>
internal sealed record CollidingIkeRekey(IkeSa NewSa, byte[] PeerNi, byte[] OurNr);

/// <summary>One IKE SA.</summary>
internal sealed class IkeSa
{
    /// <summary>Asynchronous sinks (IChildSaSinkBarrier): the sink mark of this SA's last child install/delete (0 = none
    /// pending); its messages wait in <see cref="Deferred"/> until the sink reached it (IkeEngine.Transmit).</summary>
    public long SinkMark;
    public Queue<(IReadOnlyList<byte[]> Datagrams, IPEndPoint? Local, IPEndPoint? Remote)>? Deferred;

    public required int Serial { get; init; }
    public required IkeConnection Connection { get; set; }
    public required bool Initiator { get; init; }
    public ulong SpiI { get; set; }
    public ulong SpiR { get; set; }
    public ulong LocalSpi => Initiator ? SpiI : SpiR;
    public IkeSaState State { get; set; } = IkeSaState.Connecting;
    public required IPEndPoint Local { get; set; }
    public required IPEndPoint Remote { get; set; }

    // IKE_SA_INIT.
    public byte[] Ni { get; set; } = [];
    public byte[] Nr { get; set; } = [];
    public KeyExchange? Dh { get; set; }
    public DhGroup DhGroup { get; set; }
    public byte[]? Cookie { get; set; }
    public IkeSuite? Suite { get; set; }
    public IkeSaKeys? Keys { get; set; }
    /// <summary>The IKE_SA_INIT request and response as on the wire (the AUTH payloads sign them, §2.15).</summary>
    public byte[] InitRequest { get; set; } = [];
    public byte[] InitResponse { get; set; } = [];
    public int InvalidKeRetries { get; set; }
    public int CookieRetries { get; set; }

    // Capabilities the peer announced.
    public bool PeerFragmentation { get; set; }
    public List<ushort> PeerSignatureHashes { get; } = [];
    public bool PeerCertReq { get; set; }
    /// <summary>NAT_DETECTION_*: this side is behind a NAT (our source hash did not match), the peer is.</summary>
    public bool NatLocal { get; set; }
    public bool NatRemote { get; set; }
    public bool UdpEncapsulation { get; set; }

    // Message IDs.
    public uint NextRequestId { get; set; }
    public uint ExpectedPeerRequestId { get; set; }
    public PendingRequest? Outstanding { get; set; }
    public Queue<Action> Waiting { get; } = new();
    public uint LastResponseId { get; set; } = uint.MaxValue;
    public IReadOnlyList<byte[]>? LastResponse { get; set; }
    public FragmentReassembler Reassembler { get; } = new();

    // Authentication and children.
    public IkeIdentity? PeerId { get; set; }
    public IkeIdentity? LocalId { get; set; }
    public ChildRequest? FirstChild { get; set; }
    public List<ChildSa> Children { get; } = [];
    public AuthMethod PeerAuthMethod { get; set; }
    public AuthMethod LocalAuthMethod { get; set; }

    // Timers and liveness.
    public DateTimeOffset Created { get; init; }
    public DateTimeOffset? Established { get; set; }
    public DateTimeOffset LastInbound { get; set; }
    public ITimer? HalfOpenTimer { get; set; }
    public ITimer? DpdTimer { get; set; }
    public ITimer? KeepaliveTimer { get; set; }
    public ITimer? LifetimeTimer { get; set; }
    /// <summary>Which keying try of the connection this SA is (1-based; keyingtries=).</summary>
    public int KeyingTry { get; set; } = 1;
    /// <summary>(remote endpoint, SPIi) key of the responder's IKE_SA_INIT index.</summary>
    public (IPEndPoint, ulong)? InitKey { get; set; }
    /// <summary>Set when the SA came from an ACQUIRE: the first TS pair is the triggering packet (§2.9).</summary>
    public TrafficSelector? AcquireTsI { get; set; }
    public TrafficSelector? AcquireTsR { get; set; }
    public bool RestartOnClose { get; set; }
    public ITimer? RekeyTimer { get; set; }
    /// <summary>Our IKE SA rekey is outstanding.</summary>
    public bool IkeRekeying { get; set; }
    /// <summary>§2.8.2: the peer's IKE SA rekey that we answered while ours was outstanding. Its new SA exists
    /// (it can receive the peer's delete) but holds no children until the collision is resolved.</summary>
    public CollidingIkeRekey? CollidingRekey { get; set; }

    public string StateName => State switch
    {
        IkeSaState.Connecting => "CONNECTING",
        IkeSaState.Authenticating => "AUTHENTICATING",
        IkeSaState.Established => "ESTABLISHED",
        IkeSaState.Deleting => "DELETING",
        _ => "DESTROYING",
    };

    public ISkCipher OutboundCipher => Keys!.Outbound(Initiator);
    public ISkCipher InboundCipher => Keys!.Inbound(Initiator);

    public void CancelTimers()
    {
        HalfOpenTimer?.Dispose();
        DpdTimer?.Dispose();
        KeepaliveTimer?.Dispose();
        LifetimeTimer?.Dispose();
        RekeyTimer?.Dispose();
        Outstanding?.Timer?.Dispose();
        foreach (var c in Children) c.CancelTimers();
        HalfOpenTimer = DpdTimer = KeepaliveTimer = LifetimeTimer = null;
    }
}
