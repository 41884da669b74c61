using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Pipeline;

// The dataplane facade: what the control plane (IKE, manual keying, the gateway) calls.
//
//   new Dataplane(options, worker => (insideIo, outsideIo))
//     ├─ ErouteV4 / ErouteV6      shared RCU tables: Add/Replace/Delete/Apply publish atomically
//     ├─ NextHops                 shared RCU table: the resolver publishes destination → MACs, MTU
//     ├─ InstallOutbound/Inbound  build the SA here (allocation, key schedule), post it to the owner
//     │  DeleteSa                 worker's command ring; applied between two of its batches
//     ├─ TryReadEvent             ACQUIRE, lifetimes, sequence exhaustion, next-hop resolve requests
//     ├─ Start / Stop             one thread per worker (pinned when Cpus says so)
//     └─ Step                     one iteration of every worker on the calling thread (tests, benchmarks)
//
// Fail closed: before Start (or between Stop and Start) nothing is received or forwarded; an empty
// eroute table drops everything (NoPolicy). The control plane installs eroutes and SAs first.
// Control-plane methods may be called from any thread: commands to one worker are serialized by a
// lock on the producer side of its SPSC ring (never taken by the worker); TryReadEvent takes a lock
// on the consumer side of the event rings.

/// <summary>An installed SA as the control plane sees it: where it lives and its counters.</summary>
public sealed class SaHandle
{
    internal SaHandle(SecurityAssociation sa, int worker)
    {
        Sa = sa;
        Worker = worker;
    }

    internal SecurityAssociation Sa { get; }
    public uint Spi => Sa.Spi;
    public SaDirection Direction => Sa.Direction;
    /// <summary>The worker that owns the SA (its sequence counter or replay window).</summary>
    public int Worker { get; }
    /// <summary>Per-SA packets, bytes and drops (written by the owner once per batch).</summary>
    public SaCounters Counters => Sa.Counters;
    /// <summary>Outbound: the last sequence number sent; inbound: 0.</summary>
    public ulong Sequence => Sa is OutboundSa o ? o.Sequence : 0;
    /// <inheritdoc/>
    public override string ToString() => $"{(Direction == SaDirection.Outbound ? "out" : "in")} SA 0x{Spi:x} on worker {Worker}";
}

/// <summary>Sums over all workers (a racy snapshot while workers run).</summary>
public readonly record struct DataplaneTotals(
    long RxInside, long RxOutside, long TxInside, long TxOutside, long Encapsulated, long Decapsulated,
    long ClearOutbound, long ClearInbound, long IkeSeen, long Drops, long Held, long Released, long ResolveRequests, long IcmpSent);

/// <summary>The FastPath dataplane: workers, their ports, the shared tables and the command/event API.</summary>
public sealed class Dataplane : IDisposable
{
    private readonly DataplaneOptions _options;
    private readonly Worker[] _workers;
    private readonly object[] _commandLocks;
    private readonly long[] _posted;
    // Commands posted before Start that did not fit a worker's command ring (e.g. `fastpath manual`
    // with 10,000 SAs and a 1024-slot ring): kept here in order (under _commandLocks[i]) and fed into
    // the ring once the worker runs (Start) or steps (Step), as fast as it drains it.
    private readonly Queue<WorkerCommand>[] _overflow;
    private readonly Thread?[] _threads;
    private readonly BoundedMpscRing<DataplaneEvent> _events;
    private readonly SaEventQueue _saEvents;
    private readonly AcquireBroker<uint> _broker4;
    private readonly AcquireBroker<UInt128> _broker6;
    private readonly Dictionary<uint, int> _outboundOwner = new();
    private readonly Dictionary<uint, int> _inboundOwner = new();
    private readonly object _ownerLock = new();
    private readonly SaOwnerMap? _owners;
    private readonly List<HandoffRing> _rings = new();
    private readonly object _eventLock = new();
    private readonly object _lifecycle = new();
    private bool _running;
    private bool _disposed;
    private int _nextWorker;

    /// <summary>Builds the workers; <paramref name="ioFactory"/> gives each worker its (inside,
    /// outside) ports, which the dataplane owns and disposes from then on.</summary>
    public Dataplane(DataplaneOptions options, Func<int, (IPacketIo Inside, IPacketIo Outside)> ioFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ioFactory);
        options.Validate();
        _options = options;
        var quiescent = new QuiescentState();
        ErouteV4 = new ErouteTable<uint>(quiescent);
        ErouteV6 = new ErouteTable<UInt128>(quiescent);
        NextHops = new NextHopTable();
        _events = new BoundedMpscRing<DataplaneEvent>(options.EventRingCapacity);
        _saEvents = new SaEventQueue(options.EventRingCapacity);
        _broker4 = new AcquireBroker<uint>(options.EventRingCapacity);
        _broker6 = new AcquireBroker<UInt128>(options.EventRingCapacity);
        ErouteV4.Register(_broker4);
        ErouteV6.Register(_broker6);
        var local = new LocalAddresses(options.LocalAddresses);
        int n = options.WorkerCount;
        _workers = new Worker[n];
        _commandLocks = new object[n];
        _posted = new long[n];
        _overflow = new Queue<WorkerCommand>[n];
        _threads = new Thread?[n];
        try
        {
            for (int i = 0; i < n; i++)
            {
                (IPacketIo inside, IPacketIo outside) = ioFactory(i);
                if (inside is null || outside is null) throw new ArgumentException($"the I/O factory returned no port for worker {i}", nameof(ioFactory));
                _workers[i] = new Worker(i, options, inside, outside, ErouteV4, ErouteV6, _broker4, _broker6, NextHops, local, _events);
                _commandLocks[i] = new object();
                _overflow[i] = new Queue<WorkerCommand>();
            }
        }
        catch
        {
            foreach (Worker? w in _workers) w?.Dispose();
            throw;
        }
        if (n > 1)
        {
            // Per ordered worker pair, one ring for outbound and one for inbound packets (Handoff.cs).
            _owners = new SaOwnerMap();
            var toOut = new HandoffRing?[n][];
            var toIn = new HandoffRing?[n][];
            var fromOut = new HandoffRing?[n][];
            var fromIn = new HandoffRing?[n][];
            for (int i = 0; i < n; i++)
            {
                toOut[i] = new HandoffRing?[n]; toIn[i] = new HandoffRing?[n];
                fromOut[i] = new HandoffRing?[n]; fromIn[i] = new HandoffRing?[n];
            }
            for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                var o = new HandoffRing(options.HandoffRingCapacity, options.FrameSize - options.FrameHeadroom);
                var r = new HandoffRing(options.HandoffRingCapacity, options.FrameSize - options.FrameHeadroom);
                _rings.Add(o);
                _rings.Add(r);
                toOut[i][j] = fromOut[j][i] = o;
                toIn[i][j] = fromIn[j][i] = r;
            }
            for (int i = 0; i < n; i++) _workers[i].ConnectHandoff(_owners, toOut[i], toIn[i], fromOut[i], fromIn[i]);
        }
    }

    /// <summary>IPv4 eroutes (shared by all workers; changes are atomic publications).</summary>
    public ErouteTable<uint> ErouteV4 { get; }

    /// <summary>IPv6 eroutes.</summary>
    public ErouteTable<UInt128> ErouteV6 { get; }

    /// <summary>Destination → next hop (the resolver's output).</summary>
    public NextHopTable NextHops { get; }

    /// <summary>The workers (counters, I/O counters).</summary>
    public IReadOnlyList<Worker> Workers => _workers;

    public int WorkerCount => _workers.Length;

    /// <summary>True between <see cref="Start"/> and <see cref="Stop"/>.</summary>
    public bool IsRunning { get { lock (_lifecycle) return _running; } }

    // ---- SAs ---------------------------------------------------------------------------------

    /// <summary>Builds the outbound SA (keys, IV generator) and hands it to its owner worker
    /// (<paramref name="worker"/>, or round robin when -1). The SA carries traffic once the owner
    /// drained the command (within a batch or ~1 ms; <see cref="WaitForCommands"/>) and an eroute
    /// names its SPI. Replaces an outbound SA with the same SPI.</summary>
    public SaHandle InstallOutbound(SaParameters parameters, int worker = -1)
    {
        var sa = new OutboundSa(WithEvents(parameters));
        int owner = Owner(_outboundOwner, sa.Spi, worker);
        Post(owner, WorkerCommand.InstallOut(sa), sa);
        return new SaHandle(sa, owner);
    }

    /// <summary>
    /// Builds the inbound SA (keys, replay window) and hands it to its owner worker. With
    /// <paramref name="policyGroup"/> set (the outbound SPI of the same tunnel, as named by the
    /// eroutes), every packet decrypted with it must, reversed, select an eroute of that group
    /// (else PolicyMismatch); 0 = only the SA's own selectors (InnerSource/InnerDestination).
    /// </summary>
    public SaHandle InstallInbound(SaParameters parameters, uint policyGroup = 0, int worker = -1)
    {
        var sa = new InboundSa(WithEvents(parameters));
        int owner = Owner(_inboundOwner, sa.Spi, worker);
        Post(owner, WorkerCommand.InstallIn(sa, policyGroup), sa);
        return new SaHandle(sa, owner);
    }

    /// <summary>
    /// As <see cref="InstallInbound"/>, but the inbound policy check is by the stable policy group
    /// <paramref name="group"/> (1..ErouteAction.MaxGroup) that the tunnel's eroutes carry
    /// (ErouteAction.Sa(spi, group)): the packets must, reversed, select an SA eroute of that group
    /// whatever outbound SPI it names, so a rekey can switch the eroutes' SPI without one inbound
    /// SA failing the check (IKE CHILD_SAs: one group per reqid).
    /// </summary>
    public SaHandle InstallInboundInGroup(SaParameters parameters, uint group, int worker = -1)
    {
        if (group == 0 || group > ErouteAction.MaxGroup) throw new ArgumentOutOfRangeException(nameof(group), $"policy group {group} is not in 1..{ErouteAction.MaxGroup}");
        var sa = new InboundSa(WithEvents(parameters));
        int owner = Owner(_inboundOwner, sa.Spi, worker);
        Post(owner, WorkerCommand.InstallIn(sa, group, stable: true), sa);
        return new SaHandle(sa, owner);
    }

    /// <summary>
    /// Waits until every running worker passed a quiescent point after this call (RCU grace period):
    /// no worker still uses an eroute snapshot published before it. Idle (offline) workers count as
    /// passed. Only for a started dataplane (with <see cref="Step"/> the next Step is the grace
    /// period); false on timeout.
    /// </summary>
    public bool WaitForQuiescence(TimeSpan timeout)
    {
        QuiescentState q = ErouteV4.Quiescent;
        long epoch = q.Advance();
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!q.AllPassed(epoch))
        {
            if (Stopwatch.GetTimestamp() > deadline) return false;
            Thread.Sleep(1); // control plane: workers quiesce once per batch or ~1 ms when idle
        }
        return true;
    }

    /// <summary>Non-blocking form of <see cref="WaitForQuiescence"/>: starts a grace period now and returns its
    /// tag; <see cref="GracePeriodPassed"/>(tag) is true once every running worker passed a quiescent point
    /// after this call (idle workers count as passed). For control planes that must not block a thread.</summary>
    public long BeginGracePeriod() => ErouteV4.Quiescent.Advance();

    /// <summary>True when the grace period <paramref name="tag"/> (<see cref="BeginGracePeriod"/>) is over.</summary>
    public bool GracePeriodPassed(long tag) => ErouteV4.Quiescent.AllPassed(tag);

    /// <summary>Non-blocking form of <see cref="WaitForCommands"/> for one worker: the number of commands
    /// posted to worker <paramref name="worker"/> so far (a ticket; <see cref="CommandsApplied"/>).</summary>
    public long CommandsPosted(int worker)
    {
        lock (_commandLocks[worker]) return _posted[worker];
    }

    /// <summary>Called on a worker's thread each time it applied a batch of commands (at most once per batch it
    /// drained, never per packet): lets a control plane wait for <see cref="CommandsApplied"/> without 1 ms polls.
    /// Must be short and must not block (e.g. set an event). May be set while running (workers see it within a batch).</summary>
    public Action? CommandsAppliedCallback
    {
        get => _workers[0].CommandsApplied;
        set { foreach (Worker w in _workers) w.CommandsApplied = value; }
    }

    /// <summary>True when worker <paramref name="worker"/> applied (and, for inbound SAs, published) every
    /// command up to <paramref name="ticket"/> (<see cref="CommandsPosted"/>).</summary>
    public bool CommandsApplied(int worker, long ticket) => _workers[worker].Counters.Commands >= ticket;

    /// <summary>Deletes (and, on its owner, disposes) the SA; false when no such SA was installed.</summary>
    public bool DeleteSa(uint spi, SaDirection direction)
    {
        int owner;
        lock (_ownerLock)
        {
            Dictionary<uint, int> map = direction == SaDirection.Outbound ? _outboundOwner : _inboundOwner;
            if (!map.Remove(spi, out owner)) return false;
            _owners?.Publish(_outboundOwner, _inboundOwner);
        }
        Post(owner, WorkerCommand.Delete(spi, direction), null);
        return true;
    }

    /// <summary>Waits until every worker applied every command posted so far; false on timeout.
    /// (With <see cref="Step"/> instead of threads, Step applies them.)</summary>
    public bool WaitForCommands(TimeSpan timeout)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        for (int i = 0; i < _workers.Length; i++)
        {
            long target = Volatile.Read(ref _posted[i]);
            while (_workers[i].Counters.Commands < target)
            {
                if (Stopwatch.GetTimestamp() > deadline) return false;
                // Control-plane wait: workers never signal (that would cost them per command batch);
                // they drain commands at least every PollTimeoutMs, so 1 ms polls are enough.
                Thread.Sleep(1);
            }
        }
        return true;
    }

    private int Owner(Dictionary<uint, int> map, uint spi, int worker)
    {
        if (worker < -1 || worker >= _workers.Length) throw new ArgumentOutOfRangeException(nameof(worker), $"worker {worker} is not in 0..{_workers.Length - 1} (or -1)");
        lock (_ownerLock)
        {
            // Re-installing an SPI keeps its owner: the replacement must reach the worker that holds the old one.
            if (map.TryGetValue(spi, out int existing))
            {
                if (worker >= 0 && worker != existing) throw new InvalidOperationException($"SA 0x{spi:x} is owned by worker {existing}; delete it before moving it to worker {worker}");
                return existing;
            }
            int owner = worker >= 0 ? worker : _nextWorker++ % _workers.Length;
            map[spi] = owner;
            _owners?.Publish(_outboundOwner, _inboundOwner);
            return owner;
        }
    }

    private void Post(int worker, in WorkerCommand command, SecurityAssociation? sa)
    {
        lock (_commandLocks[worker])
        {
            Queue<WorkerCommand> overflow = _overflow[worker];
            // Not started (no thread drains the ring), or commands already waiting (order): queue it.
            // Start/Step feed the queue to the worker; nothing is lost and the order is kept.
            if (overflow.Count == 0)
            {
                if (_workers[worker].Commands.TryEnqueue(command))
                {
                    _posted[worker]++;
                    return;
                }
                if (Volatile.Read(ref _running))
                {
                    Enqueue(worker, command, sa); // the worker drains it within a batch or ~1 ms
                    return;
                }
            }
            overflow.Enqueue(command);
        }
    }

    /// <summary>Feeds the commands queued before Start into worker <paramref name="worker"/>'s ring:
    /// all of them, waiting for the running worker to drain the ring (<paramref name="wait"/>), or as many
    /// as fit now (Step). Caller holds _commandLocks[worker].</summary>
    private void FeedOverflow(int worker, bool wait)
    {
        Queue<WorkerCommand> overflow = _overflow[worker];
        while (overflow.TryPeek(out WorkerCommand c))
        {
            if (wait) Enqueue(worker, c, null);
            else if (_workers[worker].Commands.TryEnqueue(c)) _posted[worker]++;
            else return;
            overflow.Dequeue();
        }
    }

    /// <summary>Commands queued before Start, not yet in a worker's ring (tests; `fastpath status`).</summary>
    public int PendingCommands
    {
        get
        {
            int n = 0;
            for (int i = 0; i < _workers.Length; i++)
                lock (_commandLocks[i]) n += _overflow[i].Count;
            return n;
        }
    }

    private void Enqueue(int worker, in WorkerCommand command, SecurityAssociation? sa)
    {
        {
            var spin = new SpinWait();
            long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency; // 1 s
            while (!_workers[worker].Commands.TryEnqueue(command))
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    sa?.Dispose();
                    throw new InvalidOperationException($"worker {worker}'s command ring ({_options.CommandRingCapacity} slots) stayed full for 1 s: the worker is not running (Start, or call Step)");
                }
                spin.SpinOnce();
            }
            _posted[worker]++;
        }
    }

    private SaParameters WithEvents(SaParameters p)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (p.Events is not null && !ReferenceEquals(p.Events, _saEvents))
            throw new ArgumentException("SaParameters.Events must be null: the dataplane routes SA events through TryReadEvent", nameof(p));
        return new SaParameters
        {
            Spi = p.Spi, Suite = p.Suite, KeyMaterial = p.KeyMaterial, Engine = p.Engine, Esn = p.Esn, Mode = p.Mode,
            LocalAddress = p.LocalAddress, RemoteAddress = p.RemoteAddress, UdpEncapsulation = p.UdpEncapsulation,
            NatSourcePort = p.NatSourcePort, NatDestinationPort = p.NatDestinationPort, Ttl = p.Ttl, DfBit = p.DfBit,
            HideTos = p.HideTos, Lifetime = p.Lifetime, ReplayWindow = p.ReplayWindow, InnerSource = p.InnerSource,
            InnerDestination = p.InnerDestination, Events = _saEvents,
        };
    }

    // ---- events ------------------------------------------------------------------------------

    /// <summary>Takes the next event (next-hop requests, SA lifetime/sequence events, ACQUIREs); false when none.</summary>
    public bool TryReadEvent(out DataplaneEvent e)
    {
        lock (_eventLock)
        {
            if (_events.TryDequeue(out e)) return true;
            if (_saEvents.TryDequeue(out SaEvent s))
            {
                DataplaneEventKind kind = s.Kind switch
                {
                    SaEventKind.SoftLifetime => DataplaneEventKind.SoftLifetime,
                    SaEventKind.HardLifetime => DataplaneEventKind.HardLifetime,
                    _ => DataplaneEventKind.SequenceExhausted,
                };
                e = new DataplaneEvent(kind, Spi: s.Spi, Direction: s.Direction, Packets: s.Packets, Bytes: s.Bytes);
                return true;
            }
            if (_broker4.TryTakeAcquire(out AcquireEvent<uint> a4))
            {
                FlowKey<uint> k = a4.Trigger;
                e = new DataplaneEvent(DataplaneEventKind.Acquire, IsIpv6: false, ErouteId: a4.ErouteId, Generation: a4.Generation,
                    Source: IpAddress16.FromIpv4Raw(BinaryPrimitives.ReverseEndianness(k.Src)), Address: IpAddress16.FromIpv4Raw(BinaryPrimitives.ReverseEndianness(k.Dst)),
                    Protocol: k.Protocol, SourcePort: k.SrcPort, DestinationPort: k.DstPort);
                return true;
            }
            if (_broker6.TryTakeAcquire(out AcquireEvent<UInt128> a6))
            {
                FlowKey<UInt128> k = a6.Trigger;
                e = new DataplaneEvent(DataplaneEventKind.Acquire, IsIpv6: true, ErouteId: a6.ErouteId, Generation: a6.Generation,
                    Source: FromHost128(k.Src), Address: FromHost128(k.Dst), Protocol: k.Protocol, SourcePort: k.SrcPort, DestinationPort: k.DstPort);
                return true;
            }
            e = default;
            return false;
        }
    }

    /// <summary>Negotiation for the %trap eroute <paramref name="erouteId"/> (from an ACQUIRE) ended.
    /// On success replace the eroute's action with the SA first: the held packets are then looked
    /// up again and encrypted; on failure they are dropped (ShuntHold).</summary>
    public void ResolveAcquire(bool ipv6, int erouteId, bool success)
    {
        if (ipv6) _broker6.Resolve(erouteId, success);
        else _broker4.Resolve(erouteId, success);
    }

    /// <summary>SA events lost because the ring was full.</summary>
    public long SaEventOverflows => _saEvents.Overflows;

    private static IpAddress16 FromHost128(UInt128 v)
    {
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(b, v);
        return System.Runtime.InteropServices.MemoryMarshal.Read<IpAddress16>(b);
    }

    // ---- counters ----------------------------------------------------------------------------

    /// <summary>Drops for <paramref name="reason"/> summed over workers (pipeline + ESP engine).</summary>
    public long Drops(DropReason reason)
    {
        long s = 0;
        foreach (Worker w in _workers) s += w.Drops(reason);
        return s;
    }

    /// <summary>Every non-zero drop reason with its count (for status output and test messages).</summary>
    public IReadOnlyDictionary<DropReason, long> DropsByReason()
    {
        var d = new SortedDictionary<DropReason, long>();
        for (var r = (DropReason)0; r < DropReason.Count; r++)
        {
            long n = Drops(r);
            if (n != 0) d[r] = n;
        }
        return d;
    }

    /// <summary>Sums over workers.</summary>
    public DataplaneTotals Totals
    {
        get
        {
            long rxi = 0, rxo = 0, txi = 0, txo = 0, enc = 0, dec = 0, co = 0, ci = 0, ike = 0, drops = 0, held = 0, rel = 0, res = 0, icmp = 0;
            foreach (Worker w in _workers)
            {
                WorkerCounters c = w.Counters;
                rxi += c.RxInside; rxo += c.RxOutside; txi += c.TxInside; txo += c.TxOutside;
                enc += w.EspCounters.Encapsulated; dec += w.EspCounters.Decapsulated;
                co += c.ClearOutbound; ci += c.ClearInbound; ike += c.IkeSeen;
                drops += c.TotalDrops + w.EspCounters.TotalDrops;
                held += c.Held; rel += c.Released; res += c.ResolveRequests; icmp += c.IcmpSent;
            }
            return new DataplaneTotals(rxi, rxo, txi, txo, enc, dec, co, ci, ike, drops, held, rel, res, icmp);
        }
    }

    // ---- running -----------------------------------------------------------------------------

    /// <summary>One iteration of every worker on the calling thread (no threads: tests and
    /// benchmarks). Returns the frames received. Not allowed while started.</summary>
    public int Step()
    {
        if (Volatile.Read(ref _running)) throw new InvalidOperationException("Step is for a dataplane that is not started");
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int i = 0; i < _workers.Length; i++)
        {
            lock (_commandLocks[i])
                if (_overflow[i].Count > 0) FeedOverflow(i, wait: false);
        }
        int n = 0;
        foreach (Worker w in _workers) n += w.RunOnce();
        return n;
    }

    /// <summary>Starts one thread per worker (pinned to Options.Cpus[i] when given). Throws
    /// <see cref="IOException"/> when a worker cannot be pinned (the others are stopped again).</summary>
    public void Start()
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_running) throw new InvalidOperationException("already started");
            using var ready = new CountdownEvent(_workers.Length);
            for (int i = 0; i < _workers.Length; i++)
            {
                Worker w = _workers[i];
                int cpu = _options.Cpus is { } cpus && i < cpus.Count ? cpus[i] : -1;
                w.ResetStop();
                var t = new Thread(() =>
                {
                    w.PinError = cpu >= 0 ? Interop.Libc.PinCurrentThread(cpu) : 0;
                    ready.Signal();
                    if (w.PinError == 0) w.Run();
                })
                {
                    IsBackground = true,
                    Name = $"fastpath-worker-{i}",
                };
                _threads[i] = t;
                t.Start();
            }
            ready.Wait();
            Volatile.Write(ref _running, true);
            for (int i = 0; i < _workers.Length; i++)
            {
                if (_workers[i].PinError != 0)
                {
                    int cpu = _options.Cpus![i];
                    int errno = _workers[i].PinError;
                    StopLocked();
                    throw new IOException($"sched_setaffinity(worker {i}, CPU {cpu}) failed: {Interop.Errno.Describe(errno)}");
                }
            }
            // Commands that did not fit the rings before Start: fed now, in order, as the workers
            // drain them (a worker drains its ring before every batch, or every PollTimeoutMs idle).
            for (int i = 0; i < _workers.Length; i++)
                lock (_commandLocks[i]) FeedOverflow(i, wait: true);
        }
    }

    /// <summary>Stops every worker after its current batch and joins the threads. Nothing is
    /// forwarded afterwards (fail closed). Idempotent.</summary>
    public void Stop()
    {
        lock (_lifecycle) StopLocked();
    }

    private void StopLocked()
    {
        if (!_running) return;
        for (int i = 0; i < _workers.Length; i++)
        {
            if (_threads[i] is null || _workers[i].PinError != 0) continue; // a thread that failed to pin never ran
            Post(i, WorkerCommand.StopWorker, null);
        }
        for (int i = 0; i < _workers.Length; i++)
        {
            _threads[i]?.Join();
            _threads[i] = null;
        }
        Volatile.Write(ref _running, false);
    }

    public void Dispose()
    {
        lock (_lifecycle)
        {
            if (_disposed) return;
            StopLocked();
            _disposed = true;
            for (int i = 0; i < _workers.Length; i++)
            {
                lock (_commandLocks[i])
                {
                    while (_overflow[i].TryDequeue(out WorkerCommand c))
                    {
                        c.Outbound?.Dispose();
                        c.Inbound?.Dispose();
                    }
                }
            }
            foreach (Worker w in _workers) w.Dispose();
            foreach (HandoffRing r in _rings) r.Dispose();
        }
    }
}
