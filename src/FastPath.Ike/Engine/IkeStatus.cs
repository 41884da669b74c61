using System;
using System.Collections.Generic;

namespace FastPath.Ike.Engine;

// A snapshot of the engine for `fastpath status` / `trafficstatus` / --json (the daemon formats it).
// Plain data: safe to serialize, no keys.

public sealed record IkeStatus(IReadOnlyList<ConnectionStatus> Connections, IReadOnlyList<IkeSaStatus> IkeSas, IkeEngineCounters Counters);

/// <summary>One loaded connection.</summary>
public sealed record ConnectionStatus(string Name, string Local, string Remote, string LocalId, string RemoteId, string Auth,
    string IkeProposals, string EspProposals, string LocalTs, string RemoteTs, string StartAction, string DpdAction);

/// <summary>One IKE SA. State is the RFC 7296-style phase: CONNECTING (IKE_SA_INIT sent), AUTHENTICATING,
/// ESTABLISHED, REKEYING, REKEYED, DELETING.</summary>
public sealed record IkeSaStatus(int Serial, string Connection, string State, bool Initiator, ulong SpiI, ulong SpiR,
    string Local, string Remote, string LocalId, string RemoteId, string Suite, bool NatDetected,
    DateTimeOffset? Established, DateTimeOffset? RekeyAt, IReadOnlyList<ChildSaStatus> Children);

/// <summary>One CHILD_SA (ESP pair).</summary>
public sealed record ChildSaStatus(int Serial, uint ReqId, string State, uint InboundSpi, uint OutboundSpi, string Suite, bool UdpEncapsulation,
    string Mode, string LocalTs, string RemoteTs, long BytesIn, long PacketsIn, long BytesOut, long PacketsOut,
    DateTimeOffset Installed, DateTimeOffset? RekeyAt, DateTimeOffset? ExpiresAt);

/// <summary>Engine counters (metrics: fastpath_ike_*).</summary>
public sealed record IkeEngineCounters(long MessagesIn, long MessagesOut, long Retransmits, long InvalidMessages,
    long IkeSasEstablished, long ChildSasEstablished, long ChildRekeys, long IkeRekeys, long AuthFailures, long CookiesSent,
    long HalfOpen, long DpdTimeouts);
