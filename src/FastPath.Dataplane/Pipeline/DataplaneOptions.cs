using System;
using System.Collections.Generic;
using System.Net;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Pipeline;

/// <summary>How a <see cref="Dataplane"/> is built. Validated by <see cref="Validate"/> (the constructor calls it).</summary>
public sealed class DataplaneOptions
{
    /// <summary>Workers (threads), each with its own inside/outside port pair from the I/O factory.</summary>
    public int WorkerCount { get; init; } = 1;

    /// <summary>CPU of each worker (index = worker); null = not pinned. Fewer entries than workers:
    /// the rest are not pinned.</summary>
    public IReadOnlyList<int>? Cpus { get; init; }

    /// <summary>Packets per RX batch per port (DESIGN.md: 64-256).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>The gateway's own addresses (outside and inside): ESP/IKE is recognized when sent
    /// to one of them; anything else sent to them is LocalDelivery (the kernel's).</summary>
    public IReadOnlyList<IPAddress> LocalAddresses { get; init; } = [];

    /// <summary>Source of the ICMP errors sent to the inside (the gateway's inside IPv4 address); null: none sent.</summary>
    public IPAddress? IcmpSourceV4 { get; init; }

    /// <summary>Source of the ICMPv6 errors sent to the inside; null: none sent.</summary>
    public IPAddress? IcmpSourceV6 { get; init; }

    /// <summary>Frames in each worker's slab. Must cover two RX batches plus both hold queues plus a few.</summary>
    public int SlabFrames { get; init; } = 2048;

    /// <summary>Slab frame size (a multiple of 64): the largest frame plus headroom and ESP tailroom.</summary>
    public int FrameSize { get; init; } = FrameSlab.DefaultFrameSize;

    /// <summary>Headroom in front of each received frame (outer IP + UDP + ESP + IV, 72 at most, minus the 14 of the stripped Ethernet header).</summary>
    public int FrameHeadroom { get; init; } = FrameSlab.DefaultHeadroom;

    /// <summary>Slots of each worker's command ring (a power of two).</summary>
    public int CommandRingCapacity { get; init; } = 1024;

    /// <summary>Slots of the event rings (a power of two).</summary>
    public int EventRingCapacity { get; init; } = 1024;

    /// <summary>%trap packets held per worker and family.</summary>
    public int HoldQueueCapacity { get; init; } = 64;

    /// <summary>%trap packets held per eroute (per worker and family).</summary>
    public int HoldPerEroute { get; init; } = 8;

    /// <summary>How long a %trap packet waits for its SA before it is dropped (ShuntHold).</summary>
    public TimeSpan HoldTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A resolve request for one address is posted at most once per this interval per worker.</summary>
    public TimeSpan ResolveDedupeInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait on an idle port (bounds how late a command is applied).</summary>
    public int PollTimeoutMs { get; init; } = 1;

    /// <summary>ICMP errors per second per worker and kind (token bucket refill).</summary>
    public double IcmpPerSecond { get; init; } = 100;

    /// <summary>ICMP error burst per worker and kind.</summary>
    public int IcmpBurst { get; init; } = 10;

    /// <summary>Slots of each per-worker-pair handoff ring (a power of two; only with WorkerCount > 1).</summary>
    public int HandoffRingCapacity { get; init; } = 256;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting.</summary>
    public void Validate()
    {
        if (WorkerCount < 1 || WorkerCount > 256) throw new ArgumentException($"WorkerCount {WorkerCount} is not in 1..256", nameof(WorkerCount));
        if (Cpus is not null)
            foreach (int c in Cpus)
                if ((uint)c >= Interop.Libc.MaxCpus) throw new ArgumentException($"CPU {c} is not in 0..{Interop.Libc.MaxCpus - 1}", nameof(Cpus));
        if (BatchSize < 1 || BatchSize > 1024) throw new ArgumentException($"BatchSize {BatchSize} is not in 1..1024", nameof(BatchSize));
        if (FrameSize < 256 || FrameSize % 64 != 0) throw new ArgumentException($"FrameSize {FrameSize} is not a multiple of 64 >= 256", nameof(FrameSize));
        if (FrameHeadroom < 96 || FrameHeadroom > FrameSize - 128) throw new ArgumentException($"FrameHeadroom {FrameHeadroom} must be >= 96 (Ethernet + outer IPv6 + UDP + ESP + IV) and leave room for data", nameof(FrameHeadroom));
        if (HoldQueueCapacity < 1) throw new ArgumentException("HoldQueueCapacity must be >= 1", nameof(HoldQueueCapacity));
        if (HoldPerEroute < 1) throw new ArgumentException("HoldPerEroute must be >= 1", nameof(HoldPerEroute));
        int needed = 3 * BatchSize + 2 * HoldQueueCapacity + 16;
        if (SlabFrames < needed) throw new ArgumentException($"SlabFrames {SlabFrames} < {needed} (two RX batches + a handoff batch + two hold queues + 16)", nameof(SlabFrames));
        if (!IsPow2(HandoffRingCapacity)) throw new ArgumentException($"HandoffRingCapacity {HandoffRingCapacity} is not a power of two >= 2", nameof(HandoffRingCapacity));
        if (!IsPow2(CommandRingCapacity)) throw new ArgumentException($"CommandRingCapacity {CommandRingCapacity} is not a power of two >= 2", nameof(CommandRingCapacity));
        if (!IsPow2(EventRingCapacity)) throw new ArgumentException($"EventRingCapacity {EventRingCapacity} is not a power of two >= 2", nameof(EventRingCapacity));
        if (HoldTimeout <= TimeSpan.Zero) throw new ArgumentException("HoldTimeout must be positive", nameof(HoldTimeout));
        if (ResolveDedupeInterval < TimeSpan.Zero) throw new ArgumentException("ResolveDedupeInterval must not be negative", nameof(ResolveDedupeInterval));
        if (PollTimeoutMs < 0 || PollTimeoutMs > 100) throw new ArgumentException($"PollTimeoutMs {PollTimeoutMs} is not in 0..100", nameof(PollTimeoutMs));
        if (IcmpPerSecond < 0 || IcmpBurst < 1) throw new ArgumentException("IcmpPerSecond must be >= 0 and IcmpBurst >= 1", nameof(IcmpPerSecond));
        foreach (IPAddress a in LocalAddresses)
            if (a.AddressFamily is not (System.Net.Sockets.AddressFamily.InterNetwork or System.Net.Sockets.AddressFamily.InterNetworkV6))
                throw new ArgumentException($"{a} is not an IPv4/IPv6 address", nameof(LocalAddresses));
    }

    private static bool IsPow2(int n) => n >= 2 && (n & (n - 1)) == 0;
}
