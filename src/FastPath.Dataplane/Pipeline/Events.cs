using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Pipeline;

// Worker -> control plane events (DESIGN.md §3 "one multi-producer ring back"). Three sources,
// merged by Dataplane.TryReadEvent so the control plane has one place to read:
//
//   SA lifetimes / sequence exhaustion ── SaEventQueue (Sad/, raised by the SA in the owner worker)
//   %trap ACQUIRE (IPv4, IPv6)         ── AcquireBroker<uint>, AcquireBroker<UInt128> (Policy/)
//   next-hop resolve requests          ── BoundedMpscRing<DataplaneEvent> (this pipeline)
//
// Each is a bounded lock-free multi-producer ring: a worker never blocks on a slow control plane;
// when a ring is full the event is lost and counted (the drop that caused it is counted anyway, and
// every kind is re-raised: ACQUIRE by the next trapped packet, resolve requests after the dedupe
// interval). Resolve requests are deduplicated per worker (Egress.cs) so a burst of packets to one
// unresolved destination costs the ring one event, not one per packet.

/// <summary>What a <see cref="DataplaneEvent"/> reports.</summary>
public enum DataplaneEventKind : byte
{
    /// <summary>A packet hit a %trap eroute: negotiate an SA for <see cref="DataplaneEvent.ErouteId"/>
    /// (then replace the eroute's action and call Dataplane.ResolveAcquire).</summary>
    Acquire,
    /// <summary>SA soft lifetime reached: rekey (RFC 4301 §4.4.2.1).</summary>
    SoftLifetime,
    /// <summary>SA hard lifetime reached: the SA carries nothing more.</summary>
    HardLifetime,
    /// <summary>Outbound sequence number exhausted (RFC 4303 §3.3.3).</summary>
    SequenceExhausted,
    /// <summary>No next hop for <see cref="DataplaneEvent.Address"/> (route or neighbor missing): resolve it
    /// and publish it in the NextHopTable. <see cref="DataplaneEvent.Reason"/> is NoRoute or NoNeighbor.</summary>
    ResolveNextHop,
}

/// <summary>
/// One event for the control plane. Fields that do not apply to the kind are zero.
/// Acquire: <see cref="IsIpv6"/>, <see cref="ErouteId"/>, <see cref="Generation"/> and the trigger
/// packet's addresses/protocol/ports. Lifetime/sequence: <see cref="Spi"/>, <see cref="Direction"/>,
/// <see cref="Packets"/>, <see cref="Bytes"/>. ResolveNextHop: <see cref="Address"/>, <see cref="Reason"/>,
/// <see cref="Worker"/>.
/// </summary>
public readonly record struct DataplaneEvent(
    DataplaneEventKind Kind,
    uint Spi = 0,
    SaDirection Direction = default,
    ulong Packets = 0,
    ulong Bytes = 0,
    bool IsIpv6 = false,
    int ErouteId = -1,
    long Generation = 0,
    IpAddress16 Source = default,
    IpAddress16 Address = default,
    byte Protocol = 0,
    ushort SourcePort = 0,
    ushort DestinationPort = 0,
    DropReason Reason = default,
    int Worker = -1)
{
    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        DataplaneEventKind.Acquire => $"ACQUIRE eroute {ErouteId} gen {Generation}: {Source} -> {Address} proto {Protocol} {SourcePort}->{DestinationPort}",
        DataplaneEventKind.ResolveNextHop => $"resolve {Address} ({Reason}) from worker {Worker}",
        _ => $"{Kind} {Direction} SA 0x{Spi:x} after {Packets} packets / {Bytes} bytes",
    };
}
