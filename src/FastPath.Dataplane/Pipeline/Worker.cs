using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Pipeline;

// One worker: a thread pinned to one core that owns an inside and an outside port, a frame slab,
// its batches, one ESP engine, the SAs assigned to it, and its counters. Nothing it touches per
// packet is shared for writing with another thread (wireguard-go's per-peer goroutines, VPP's
// per-thread nodes), so there is no lock and no atomic per packet.
//
//   loop (RunOnce):
//     drain the command ring (SA install/delete, stop)        ─ Commands.cs
//     quiescent point (RCU: no eroute snapshot held across it) ─ Policy/PerErouteState.cs
//     poll %trap hold queues: release → outbound path, fail/timeout → ShuntHold drop
//     drain the handoff rings (packets of our SAs that reached other workers) ─ Handoff.cs
//     RX inside  ─► classify ─► TTL ─► eroute (batched) ─► runs per SA ─► ESP encap ─► next hop ─► L2 ─► TX outside
//                                                      └► %pass ─► next hop ─► L2 ─► TX outside   (Outbound.cs)
//     RX outside ─► classify ─► ESP/ESP-in-UDP ─► decap (SAD, replay, ICV) ─► inbound policy ─► TTL ─► next hop ─► TX inside
//                           └► transit cleartext ─► CheckCleartextFromOutside ─► %pass ─► TTL ─► TX inside   (Inbound.cs)
//     return every frame to the slab (except held ones)
//   idle: both ports checked without waiting, then one waited on for ≤ PollTimeoutMs (1 ms), so
//   commands are drained at least every ~1 ms even with no traffic.
//
// Frames: Receive copies into slab frames at the slab's headroom (128 B), at the Ethernet header.
// The classifier moves the data window onto the IP header; ESP grows it in place into the
// headroom/tailroom; egress moves it back by 14 bytes for the new Ethernet header (Egress.cs).
// Verdicts inside a batch: Forward (to encrypt, or encrypted/decrypted and ready to send), Drop
// (counted), Clear (NotEsp: forward in clear, skipped by the ESP engine), Held (ToControlPlane:
// the frame now belongs to a %trap hold queue, or is an IKE copy the kernel has).

/// <summary>One dataplane worker (see the flow at the top of Worker.cs). Created by <see cref="Dataplane"/>.</summary>
[SkipLocalsInit]
public sealed unsafe partial class Worker : IDisposable
{
    /// <summary>Forward in clear (the ESP engine skips packets whose verdict is not Forward).</summary>
    private const PacketVerdict Clear = PacketVerdict.NotEsp;
    /// <summary>Not ours any more (held for %trap) or consumed without a drop (IKE copy).</summary>
    private const PacketVerdict Held = PacketVerdict.ToControlPlane;

    private readonly IPacketIo _inside;
    private readonly IPacketIo _outside;
    private readonly FrameSlab _slab;
    private readonly PacketBatch _rxInside;
    private readonly PacketBatch _rxOutside;
    private readonly PacketBatch _released;
    private readonly PacketBatch _handoff;
    private SaOwnerMap? _owners;
    private HandoffRing?[]? _toOutbound, _toInbound, _fromOutbound, _fromInbound;
    private readonly Packet[] _tx;
    private readonly EspProcessor _esp;
    private readonly SadTable _sad = new();
    private readonly Dictionary<uint, OutboundSa> _outboundSas = new();
    private readonly Dictionary<uint, InboundSa> _inboundSas = new();
    private readonly ErouteTable<uint> _eroutes4;
    private readonly ErouteTable<UInt128> _eroutes6;
    private readonly WorkerEpoch _epoch;
    private readonly HitCounters _hits4;
    private readonly HitCounters _hits6;
    private readonly TrapHoldQueue<Packet, uint> _hold4;
    private readonly TrapHoldQueue<Packet, UInt128> _hold6;
    private readonly NextHopTable _nextHops;
    private readonly RejectRateLimiter _reject;
    private readonly RejectRateLimiter _timeExceeded;
    private readonly IpAddress16 _icmpSource4;
    private readonly IpAddress16 _icmpSource6;
    private readonly LocalAddresses _local;
    private readonly BoundedMpscRing<DataplaneEvent> _events;
    private readonly int _pollTimeoutMs;
    private readonly long _holdTicks;
    private readonly long _dedupeTicks;
    private long _lastRefresh;
    private long _unpublished;
    private bool _stopRequested;
    private bool _pollOutsideNext;
    private int _disposed;

    // Per-batch scratch, sized once: eroute keys and results per family, the SA handle per packet.
    private readonly FlowKey<uint>[] _keys4;
    private readonly ErouteMatch[] _results4;
    private readonly int[] _index4;
    private readonly FlowKey<UInt128>[] _keys6;
    private readonly ErouteMatch[] _results6;
    private readonly int[] _index6;
    private readonly uint[] _handle;
    private readonly uint[] _spi;
    // Outbound stages (Outbound.cs EncapsulateStaged): the SA, next hop (or miss) of every packet.
    private readonly OutboundSa?[] _outSa;
    private readonly NextHop[] _hopOf;
    private readonly bool[] _hopOk;
    private readonly DropReason[] _missOf;
    // Inbound policy check (Inbound.cs): the reversed inner keys of a batch, their matches, the packets.
    private readonly InboundSa?[] _inSa;
    private readonly FlowKey<uint>[] _policyKeys4;
    private readonly ErouteMatch[] _policyResults4;
    private readonly int[] _policyIndex4;
    private readonly FlowKey<UInt128>[] _policyKeys6;
    private readonly ErouteMatch[] _policyResults6;
    private readonly int[] _policyIndex6;

    // Resolve-request dedupe (Egress.cs): a direct-mapped cache of recently requested addresses.
    private const int RecentSlots = 64;
    private readonly IpAddress16[] _recentAddress = new IpAddress16[RecentSlots];
    private readonly long[] _recentWhen = new long[RecentSlots];

    internal Worker(int index, DataplaneOptions options, IPacketIo inside, IPacketIo outside, ErouteTable<uint> eroutes4, ErouteTable<UInt128> eroutes6,
        AcquireBroker<uint> broker4, AcquireBroker<UInt128> broker6, NextHopTable nextHops, LocalAddresses local, BoundedMpscRing<DataplaneEvent> events)
    {
        Index = index;
        _inside = inside;
        _outside = outside;
        int batch = options.BatchSize;
        int scratch = Math.Max(batch, options.HoldQueueCapacity);
        _slab = new FrameSlab(options.SlabFrames, options.FrameSize, options.FrameHeadroom);
        _rxInside = new PacketBatch(batch);
        _rxOutside = new PacketBatch(batch);
        _released = new PacketBatch(Math.Max(1, 2 * options.HoldQueueCapacity));
        _handoff = new PacketBatch(batch);
        _tx = new Packet[scratch * 2];
        _esp = new EspProcessor(scratch * 2);
        _eroutes4 = eroutes4;
        _eroutes6 = eroutes6;
        _epoch = eroutes4.Quiescent.Register();
        _hits4 = eroutes4.CreateHitCounters();
        _hits6 = eroutes6.CreateHitCounters();
        _hold4 = new TrapHoldQueue<Packet, uint>(broker4, options.HoldQueueCapacity, options.HoldPerEroute);
        _hold6 = new TrapHoldQueue<Packet, UInt128>(broker6, options.HoldQueueCapacity, options.HoldPerEroute);
        _nextHops = nextHops;
        _reject = new RejectRateLimiter(options.IcmpPerSecond, options.IcmpBurst, Stopwatch.GetTimestamp());
        _timeExceeded = new RejectRateLimiter(options.IcmpPerSecond, options.IcmpBurst, Stopwatch.GetTimestamp());
        _icmpSource4 = options.IcmpSourceV4 is { } a4 ? IpAddress16.From(a4) : default;
        _icmpSource6 = options.IcmpSourceV6 is { } a6 ? IpAddress16.From(a6) : default;
        _local = local;
        _events = events;
        _pollTimeoutMs = options.PollTimeoutMs;
        _holdTicks = (long)(options.HoldTimeout.TotalSeconds * Stopwatch.Frequency);
        _dedupeTicks = (long)(options.ResolveDedupeInterval.TotalSeconds * Stopwatch.Frequency);
        _keys4 = new FlowKey<uint>[scratch * 2];
        _results4 = new ErouteMatch[scratch * 2];
        _index4 = new int[scratch * 2];
        _keys6 = new FlowKey<UInt128>[scratch * 2];
        _results6 = new ErouteMatch[scratch * 2];
        _index6 = new int[scratch * 2];
        _handle = new uint[scratch * 2];
        _spi = new uint[scratch * 2];
        _outSa = new OutboundSa?[scratch * 2];
        _hopOf = new NextHop[scratch * 2];
        _hopOk = new bool[scratch * 2];
        _missOf = new DropReason[scratch * 2];
        _inSa = new InboundSa?[scratch * 2];
        _policyKeys4 = new FlowKey<uint>[scratch * 2];
        _policyResults4 = new ErouteMatch[scratch * 2];
        _policyIndex4 = new int[scratch * 2];
        _policyKeys6 = new FlowKey<UInt128>[scratch * 2];
        _policyResults6 = new ErouteMatch[scratch * 2];
        _policyIndex6 = new int[scratch * 2];
        Commands = new SpscRing<WorkerCommand>(options.CommandRingCapacity);
    }

    /// <summary>This worker's index (0-based).</summary>
    public int Index { get; }

    /// <summary>The pipeline's counters (drops by reason, where packets went).</summary>
    public WorkerCounters Counters { get; } = new();

    /// <summary>The ESP engine's counters (encapsulated, decapsulated, ESP drops by reason).</summary>
    public EspWorkerCounters EspCounters => _esp.Counters;

    /// <summary>I/O counters of the inside port.</summary>
    public IoCounters InsideIo => _inside.Counters;

    /// <summary>I/O counters of the outside port.</summary>
    public IoCounters OutsideIo => _outside.Counters;

    /// <summary>Drops for <paramref name="reason"/>: the pipeline's plus the ESP engine's.</summary>
    public long Drops(DropReason reason) => Counters[reason] + _esp.Counters[reason];

    /// <summary>Frames held in the %trap queues now (owner thread's view; racy elsewhere).</summary>
    public int HeldNow => _hold4.Count + _hold6.Count;

    /// <summary>Free frames in the slab (owner thread's view; racy elsewhere).</summary>
    public int FreeFrames => _slab.FreeCount;

    /// <summary>errno of a failed sched_setaffinity (0 when pinned or not asked to pin).</summary>
    public int PinError { get; internal set; }

    /// <summary>The command ring (control plane → this worker).</summary>
    internal SpscRing<WorkerCommand> Commands { get; }

    internal bool StopRequested => _stopRequested;

    /// <summary>Before a (re)start: forget the Stop command of the last run.</summary>
    internal void ResetStop() => _stopRequested = false;

    /// <summary>
    /// One iteration: drain commands, quiescent point, held packets, one inside batch, one outside
    /// batch. Returns the number of frames received (0: idle). Never throws or allocates in steady state.
    /// </summary>
    public int RunOnce()
    {
        DrainCommands();
        _epoch.Quiesce();
        long now = Stopwatch.GetTimestamp();
        PollHolds(now);
        DrainHandoffs(now);
        int moved = 0;
        if (_inside.Receive(_rxInside, _slab) > 0)
        {
            moved += _rxInside.Count;
            ProcessInside(_rxInside, now);
        }
        if (_outside.Receive(_rxOutside, _slab) > 0)
        {
            moved += _rxOutside.Count;
            ProcessOutside(_rxOutside, now);
        }
        if (moved != 0) Counters._batches++;
        if (now - _lastRefresh > Stopwatch.Frequency / 100)
        {
            _lastRefresh = now;
            _inside.RefreshCounters();
            _outside.RefreshCounters();
        }
        return moved;
    }

    /// <summary>The thread body: RunOnce until a Stop command; waits on the ports when idle.</summary>
    internal void Run()
    {
        int idle = 0;
        while (!_stopRequested)
        {
            if (RunOnce() != 0)
            {
                idle = 0;
                continue;
            }
            if (++idle < 32)
            {
                Thread.SpinWait(64);
                continue;
            }
            // Idle: hold no snapshot while waiting (reclamation need not wait for us), check both
            // ports, then block on one for at most PollTimeoutMs, alternating which one: the other is
            // looked at again within that time. (With AF_PACKET both fds could go into one poll(2);
            // IPacketIo exposes one wait per port, so the worst-case extra latency is one timeout.)
            _epoch.Offline();
            if (_inside.WaitForReceive(0) || _outside.WaitForReceive(0)) continue;
            _pollOutsideNext = !_pollOutsideNext;
            (_pollOutsideNext ? _outside : _inside).WaitForReceive(_pollTimeoutMs);
        }
        _epoch.Offline();
    }

    private void DrainCommands()
    {
        bool any = false;
        while (Commands.TryDequeue(out WorkerCommand c))
        {
            Apply(c);
            any = true;
            // Counted only once the SAD snapshot with it is published (below), so WaitForCommands
            // never returns before an installed inbound SA is visible.
            if (c.Kind != WorkerCommandKind.InstallInbound && c.Kind != WorkerCommandKind.DeleteSa) Counters._commands++;
            else _unpublished++;
        }
        if (any)
        {
            _sad.PublishStaged();
            Counters._commands += _unpublished;
            _unpublished = 0;
            // Per drained command batch (control-plane rate, never per packet): a control plane that waits for
            // its commands without polling is told (Dataplane.CommandsAppliedCallback).
            CommandsApplied?.Invoke();
        }
    }

    /// <summary>Called on this worker's thread after it applied (and published) a batch of commands; must be short and not block.</summary>
    internal Action? CommandsApplied;

    private void Apply(in WorkerCommand c)
    {
        switch (c.Kind)
        {
            case WorkerCommandKind.InstallOutbound:
                if (_outboundSas.Remove(c.Spi, out OutboundSa? oldOut) && !ReferenceEquals(oldOut, c.Outbound)) oldOut.Dispose();
                _outboundSas[c.Spi] = c.Outbound!;
                break;
            case WorkerCommandKind.InstallInbound:
                if (_inboundSas.Remove(c.Spi, out InboundSa? oldIn) && !ReferenceEquals(oldIn, c.Inbound))
                {
                    _sad.Stage(c.Inbound!); // the new one replaces the old in one publication
                    oldIn.Dispose();         // (no packet is processed before DrainCommands publishes)
                }
                else
                {
                    _sad.Stage(c.Inbound!);
                }
                _inboundSas[c.Spi] = c.Inbound!;
                // The policy group on the SA itself (low 32 bits: an outbound SPI, or a stable group when
                // bit 32 is set), so the inbound check after decryption needs no lookup by SPI.
                c.Inbound!.PolicyGroupWord = c.PolicyGroup == 0 ? 0 : c.PolicyGroup | (c.StableGroup ? 1UL << 32 : 0);
                break;
            case WorkerCommandKind.DeleteSa:
                if (c.Direction == SaDirection.Outbound)
                {
                    if (_outboundSas.Remove(c.Spi, out OutboundSa? o)) o.Dispose();
                }
                else
                {
                    _sad.Unstage(c.Spi);
                    if (_inboundSas.Remove(c.Spi, out InboundSa? i)) i.Dispose();
                }
                break;
            case WorkerCommandKind.Stop:
                _stopRequested = true;
                break;
        }
    }

    /// <summary>Counts a pipeline drop of <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Drop(ref Packet p, DropReason reason)
    {
        p.SetDrop(reason);
        Counters.AddDrop(reason);
    }

    /// <summary>Gives frames back to the slab, except those a hold queue now owns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Recycle(PacketBatch batch, bool keepHeld)
    {
        Span<Packet> pk = batch.Packets;
        for (int i = 0; i < pk.Length; i++)
        {
            ref Packet p = ref pk[i];
            if (keepHeld && p.Verdict == Held) continue;
            _slab.Return(p);
        }
        batch.Clear();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        // Held frames die with the slab.
        foreach (OutboundSa sa in _outboundSas.Values) sa.Dispose();
        foreach (InboundSa sa in _inboundSas.Values) sa.Dispose();
        _outboundSas.Clear();
        _inboundSas.Clear();
        DisposeHooks();
        _inside.Dispose();
        _outside.Dispose();
        _slab.Dispose();
        _eroutes4.Quiescent.Unregister(_epoch);
    }
}
