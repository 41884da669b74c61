using System;
using System.Collections.Generic;
using System.Net;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;

namespace FastPath.Ike.Engine;

// The engine's three seams to the rest of the gateway (FastPath.Ike must not reference
// FastPath.Dataplane; the Gateway implements these on top of it):
//
//   IIkeTransport   engine ─► UDP 500/4500 (Transport/UdpIkeTransport; tests: in-memory pairs)
//   IChildSaSink    engine ─► the dataplane: install/delete ESP SAs, point eroutes at them
//                             (Gateway/Ike/DataplaneChildSaSink), usage counters for DPD/status/lifetimes
//   IIkeObserver    engine ─► updown hooks, metrics, log-independent notifications (optional)
//
// Input to the engine goes the other way through IkeEngine's methods (OnDatagram, OnAcquire,
// OnChildLifetime, Initiate/Terminate), which only queue work for the engine's own thread.
//
// Make-before-break rekey (DESIGN.md §3) is expressed with these calls, in this order:
//   InstallInbound(new) → [peer switches] → InstallOutbound(new, replaces: old out SPI) → ...
//   → DeleteOutbound(old) is implied by the replace → DeleteInbound(old) once drained/deleted.

/// <summary>Sends IKE messages. <paramref name="local"/>.Port 4500 means: prepend the 4-byte
/// non-ESP marker (RFC 3948 §2.2) and send from the 4500 socket.</summary>
public interface IIkeTransport
{
    void Send(ReadOnlySpan<byte> ikeMessage, IPEndPoint local, IPEndPoint remote);
}

/// <summary>A transport whose sockets the IKE engine's own thread can wait on and read (IkeEngine.ReceiveOnEngineThread):
/// no receive threads, no hand-off per datagram.</summary>
public interface IPolledIkeTransport : IIkeTransport
{
    int DescriptorCount { get; }
    /// <summary>File descriptor of socket <paramref name="index"/>, to poll for reading.</summary>
    int Descriptor(int index);
    /// <summary>Switches to polled mode; <paramref name="handler"/> gets every IKE message ReceiveOne reads.</summary>
    void StartPolled(Transport.IkeDatagramHandler handler);
    /// <summary>Reads one waiting datagram of socket <paramref name="index"/> without blocking; false when none was waiting.</summary>
    bool ReceiveOne(int index);
}

/// <summary>Everything the dataplane needs to install one direction pair of a CHILD_SA.
/// Keys follow SaKeyFactory.CreateChildSa: AEAD encryption keys include the 4-byte salt.</summary>
public sealed record ChildSaInstall
{
    public required string Connection { get; init; }
    /// <summary>The IKE SA serial (#1) and the CHILD_SA serial (#2) of the log lines.</summary>
    public required int IkeSerial { get; init; }
    public required int ChildSerial { get; init; }
    /// <summary>Stable across rekeys of the same child (strongSwan's reqid): eroutes and inbound policy
    /// checks key on it, so a rekey never opens a gap.</summary>
    public required uint ReqId { get; init; }

    public required uint InboundSpi { get; init; }
    public required uint OutboundSpi { get; init; }
    public required ChildSuite Suite { get; init; }
    public required byte[] InboundEncryptionKey { get; init; }
    public required byte[] InboundIntegrityKey { get; init; }
    public required byte[] OutboundEncryptionKey { get; init; }
    public required byte[] OutboundIntegrityKey { get; init; }

    public bool Transport { get; init; }
    public required IPAddress LocalAddress { get; init; }
    public required IPAddress RemoteAddress { get; init; }
    /// <summary>ESP in UDP (RFC 3948) with these ports (4500/4500 normally; the peer's NATed port).</summary>
    public bool UdpEncapsulation { get; init; }
    public int LocalPort { get; init; } = 4500;
    public int RemotePort { get; init; } = 4500;

    /// <summary>The negotiated (narrowed) selectors: local = our side (TSi when we initiated).</summary>
    public required IReadOnlyList<TrafficSelector> LocalTs { get; init; }
    public required IReadOnlyList<TrafficSelector> RemoteTs { get; init; }

    public int ReplayWindow { get; init; } = 32;
    public bool HideTos { get; init; }
    /// <summary>Volume limits the dataplane enforces (soft → OnChildLifetime(hard: false), hard → delete); 0 = none.</summary>
    public long SoftLifeBytes { get; init; }
    public long HardLifeBytes { get; init; }
    public long SoftLifePackets { get; init; }
    public long HardLifePackets { get; init; }

    /// <summary>On rekey: the outbound SPI this SA's outbound replaces (eroutes switch atomically; the old outbound is then deleted).</summary>
    public uint ReplacesOutboundSpi { get; init; }

    public override string ToString() => $"\"{Connection}\" #{ChildSerial} {{ESP{(UdpEncapsulation ? "/NAT" : "")}=>0x{OutboundSpi:x8} <0x{InboundSpi:x8} xfrm={Suite}}}";
}

/// <summary>Counters of one ESP SA as the dataplane has them.</summary>
public readonly record struct ChildSaUsage(bool Exists, long Packets, long Bytes, long LastUsedTicks);

/// <summary>The dataplane side of CHILD_SAs.</summary>
public interface IChildSaSink
{
    /// <summary>Installs the inbound SA of <paramref name="sa"/> (keys: Inbound*). Packets arriving on it
    /// are checked against sa.LocalTs/RemoteTs (reversed) after decryption.</summary>
    void InstallInbound(ChildSaInstall sa);

    /// <summary>Installs the outbound SA and points the eroutes for LocalTs → RemoteTs at it, atomically
    /// replacing whatever they pointed at (a %trap, or the rekeyed SA named by ReplacesOutboundSpi,
    /// which is then deleted). Held %trap packets are released into it.</summary>
    void InstallOutbound(ChildSaInstall sa);

    /// <summary>Deletes an inbound SA.</summary>
    void DeleteInbound(uint spi);

    /// <summary>Deletes an outbound SA; if eroutes still point at it they fall back to the connection's
    /// routed state (%trap when routed, else removed: no policy = drop, never cleartext).</summary>
    void DeleteOutbound(uint spi);

    /// <summary>The SA's counters (DPD uses inbound activity; status shows both).</summary>
    ChildSaUsage Usage(uint spi, bool inbound);
}

/// <summary>
/// Optional second face of an <see cref="IChildSaSink"/> whose calls return before their effect is in the
/// dataplane (DataplaneChildSaSink with Asynchronous: the SA is posted to its worker's command ring, the
/// eroutes follow once the worker has it). The engine never lets the peer see the difference: a message of
/// an IKE SA whose children it just installed or deleted leaves only once everything requested up to then is
/// in effect (IkeEngine.Transmit) — so the IKE_AUTH / CREATE_CHILD_SA response, after which the peer sends
/// ESP on the new SA, never precedes the inbound SA in the worker, and the engine thread never waits.
/// </summary>
public interface IChildSaSinkBarrier
{
    /// <summary>A mark covering every call made on the sink so far.</summary>
    long Mark();

    /// <summary>True when everything up to <paramref name="mark"/> is in effect.</summary>
    bool IsApplied(long mark);

    /// <summary>Runs <paramref name="continuation"/> (on any thread, once) when everything up to <paramref name="mark"/> is in effect
    /// (at once, on the calling thread, when it already is).</summary>
    void WhenApplied(long mark, Action continuation);
}

/// <summary>Notifications for updown scripts and metrics. All methods are called on the engine thread; keep them short.</summary>
public interface IIkeObserver
{
    void IkeSaUp(IkeConnection connection, int ikeSerial, IPEndPoint local, IPEndPoint remote, IkeIdentity peerId) { }
    void IkeSaDown(IkeConnection connection, int ikeSerial, string reason) { }
    void ChildSaUp(IkeConnection connection, ChildSaInstall sa, bool rekey) { }
    void ChildSaDown(IkeConnection connection, ChildSaInstall sa, bool rekey, string reason) { }
}
