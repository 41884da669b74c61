using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Pipeline;

// Control plane -> worker commands. The control plane builds everything that allocates (the SA
// runtime objects with their key schedules, counters and replay bitmaps) on its own thread and
// posts only references through the worker's SpscRing; the worker applies a command between two
// batches (after TX, before the next RX), so a batch never sees an SA half installed and no lock
// is taken per packet.
//
//   Dataplane.InstallOutbound(p) ─► new OutboundSa(p) ─► ring[owner] ─► worker: _outbound[spi] = sa
//   Dataplane.InstallInbound(p)  ─► new InboundSa(p)  ─► ring[owner] ─► worker: _sad.Install(sa)
//   Dataplane.DeleteSa(spi, dir) ─────────────────────► ring[owner] ─► worker: remove, Dispose()
//   Dataplane.Stop()            ─────────────────────► ring[each]  ─► worker: leaves its loop
//
// A deleted SA is disposed by its owner right after removal: the owner is the only worker that
// ever touches it (SA ownership, DESIGN.md §2) and it is between batches, so no packet can still
// hold it — no grace period is needed. Eroute changes do NOT go through these rings: the eroute
// tables are RCU snapshots that every worker reads once per batch (ErouteTable.Replace is atomic),
// so "switch the eroute to the new SA" is one publication by the control plane.

/// <summary>What a <see cref="WorkerCommand"/> asks.</summary>
public enum WorkerCommandKind : byte
{
    /// <summary>Nothing (an empty slot).</summary>
    None = 0,
    /// <summary>Install (or replace) the outbound SA <see cref="WorkerCommand.Outbound"/>.</summary>
    InstallOutbound,
    /// <summary>Install (or replace) the inbound SA <see cref="WorkerCommand.Inbound"/> (with its policy group).</summary>
    InstallInbound,
    /// <summary>Remove and dispose the SA with <see cref="WorkerCommand.Spi"/> / <see cref="WorkerCommand.Direction"/>.</summary>
    DeleteSa,
    /// <summary>Leave the worker loop after this batch.</summary>
    Stop,
}

/// <summary>One command for a worker (a small struct: kind, SPI, direction and the SA object).</summary>
/// <remarks><see cref="StableGroup"/>: <see cref="PolicyGroup"/> is a stable group (ErouteAction.Group), not an outbound SPI.</remarks>
public readonly record struct WorkerCommand(WorkerCommandKind Kind, uint Spi, SaDirection Direction, OutboundSa? Outbound, InboundSa? Inbound, uint PolicyGroup, bool StableGroup = false)
{
    internal static WorkerCommand InstallOut(OutboundSa sa) => new(WorkerCommandKind.InstallOutbound, sa.Spi, SaDirection.Outbound, sa, null, 0);
    internal static WorkerCommand InstallIn(InboundSa sa, uint policyGroup, bool stable = false) => new(WorkerCommandKind.InstallInbound, sa.Spi, SaDirection.Inbound, null, sa, policyGroup, stable);
    internal static WorkerCommand Delete(uint spi, SaDirection direction) => new(WorkerCommandKind.DeleteSa, spi, direction, null, null, 0);
    internal static WorkerCommand StopWorker => new(WorkerCommandKind.Stop, 0, default, null, null, 0);
}
