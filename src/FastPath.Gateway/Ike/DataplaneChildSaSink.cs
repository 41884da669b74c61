using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Numerics;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
using FastPath.Ike.Engine;
using Microsoft.Extensions.Logging;

namespace FastPath.Gateway.Ike;

// IChildSaSink on the dataplane: CHILD_SAs become inbound/outbound ESP SAs, their traffic
// selectors become eroutes, %trap eroutes stand for routed connections, and the dataplane's
// events (ACQUIRE, lifetimes) go back to the engine.
//
//   one CHILD_SA group per ReqId (stable across rekeys) ─► a dataplane policy group G (1..2^24-1)
//     InstallInbound(sa)   ─► Dataplane.InstallInboundInGroup(in SA, G): decrypted packets must, reversed,
//                             select an SA eroute of G — whichever outbound SPI it names
//     InstallOutbound(sa)  ─► Dataplane.InstallOutbound(out SA) ─► [running: WaitForCommands, so no
//                             eroute names an SPI its owner does not have yet]
//                          ─► ONE ErouteTable.Apply per family: every LocalTs×RemoteTs selector
//                             → tun0x<new out SPI> (group G); selectors the group had before and
//                             no longer has fall back (below) ─► held %trap packets released
//                             (ResolveAcquire) ─► the replaced outbound SA (ReplacesOutboundSpi, or
//                             the group's previous one) deleted after an RCU grace period
//     DeleteOutbound(spi)  ─► if the group's eroutes name it: they fall back, atomically — %trap when
//                             the connection is routed, else removed (no eroute = NoPolicy drop,
//                             never cleartext) ─► grace period ─► SA deleted
//     DeleteInbound(spi)   ─► SA deleted
//   Route(conn)            ─► %trap eroutes for its configured selectors (kept under an SA eroute)
//   Dispatch(event)        ─► ACQUIRE of a %trap eroute → OnAcquire(its connection, trigger flow);
//                             Soft/HardLifetime, SequenceExhausted of our SAs → OnChildLifetime
//
// Make-before-break (DESIGN.md §3, IIkeHost.cs): new inbound on both sides, then each side
// switches its outbound; at every moment a packet from either SA of the pair passes the group check,
// so a rekey loses nothing and never drops PolicyMismatch (tests/FastPath.Gateway.Tests/Ike).
// Threads: the engine calls the IChildSaSink methods on its thread, Route/Unroute come from the
// control socket, Dispatch from the gateway's pump: one lock serializes the sink's state; the
// engine is called outside it.

/// <summary>What the dataplane holds for one CHILD_SA direction (no keys).</summary>
public readonly record struct ChildSaDataplaneInfo(SaHandle Handle, string Connection, string Suite, int ReplayWindow, IPAddress LocalAddress,
    IPAddress RemoteAddress, bool Transport, bool UdpEncapsulation, int LocalPort, int RemotePort);

/// <summary>Where the sink sends dataplane events for IKE (the engine; a fake in tests).</summary>
public interface IIkeEventTarget
{
    void OnAcquire(string connection, IPAddress source, IPAddress destination, byte protocol, ushort sourcePort, ushort destinationPort);
    void OnChildLifetime(uint spi, bool inbound, bool hard);
}

/// <summary>The dataplane implementation of <see cref="IChildSaSink"/> plus routing of connections.</summary>
public sealed class DataplaneChildSaSink : IChildSaSink, IChildSaSinkBarrier, IDisposable
{
    private sealed class Group
    {
        public required uint Id;
        public required string Connection;
        public uint OutboundSpi;                 // the SPI the group's eroutes name now (0 = none)
        public IPAddress? Peer;
        public ChildSelectors Selectors = new([], []);
    }

    private sealed class RouteEntry
    {
        public required IkeConnection Connection;
        public required ChildSelectors Selectors;
    }

    private sealed class SaEntry
    {
        public required SaHandle Handle;
        public required uint ReqId;
        public required string Connection;
        public required ChildSaInstall Install;
        public required SaParameters Parameters;
        public long LastPackets;
        public long LastUsed;
    }

    private readonly record struct PendingAcquire(bool Ipv6, int ErouteId, long Since);

    private readonly Dataplane.Pipeline.Dataplane _dp;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly Dictionary<uint, Group> _groups = new();               // by ReqId
    private readonly Dictionary<string, RouteEntry> _routes = new(StringComparer.Ordinal);
    private readonly Dictionary<ErouteSelector<uint>, string> _trapOwner4 = new();
    private readonly Dictionary<ErouteSelector<UInt128>, string> _trapOwner6 = new();
    private readonly Dictionary<uint, SaEntry> _outbound = new();
    private readonly Dictionary<uint, SaEntry> _inbound = new();
    private readonly Dictionary<string, List<PendingAcquire>> _pending = new(StringComparer.Ordinal);
    private uint _nextGroup;
    private System.Threading.Timer? _expiry;
    private bool _disposed;

    /// <summary>How long a command or a grace period may take on a running dataplane before the sink gives up (throws).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>An ACQUIRE that the engine neither answered with an SA nor failed is resolved as failed after this
    /// (so the next packet raises a new ACQUIRE: keyingtries). Default: the dataplane's hold time is 2 s typically; 30 s.</summary>
    public TimeSpan AcquireTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often pending ACQUIREs are checked for <see cref="AcquireTimeout"/> while any is pending
    /// (a timer: a trapped flow whose ACQUIRE is pending raises no further events that could do it);
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> = only on Dispatch / ExpireAcquires.</summary>
    public TimeSpan ExpiryInterval { get; init; } = TimeSpan.FromSeconds(1);

    public DataplaneChildSaSink(FastPath.Dataplane.Pipeline.Dataplane dataplane, ILogger logger)
        : this(dataplane, logger, TimeProvider.System)
    {
    }

    public DataplaneChildSaSink(FastPath.Dataplane.Pipeline.Dataplane dataplane, ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(dataplane);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        _dp = dataplane;
        _log = logger;
        _time = time;
        // Wakes the completion thread when a worker applied commands (asynchronous mode); chained, not replaced.
        Action? previous = _dp.CommandsAppliedCallback;
        _dp.CommandsAppliedCallback = () =>
        {
            previous?.Invoke();
            if (Asynchronous) _wake.Set();
        };
    }

    // ---- routing -----------------------------------------------------------------------------

    /// <summary>auto=route: %trap eroutes for the connection's LocalTs → RemoteTs (ipsec route NAME).
    /// Selectors an SA eroute holds now keep it (they fall back to %trap when the SA goes).</summary>
    public void Route(IkeConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var (local, remote) = ChildSaMapping.ConfiguredTs(connection);
        ChildSelectors sel = ChildSaMapping.ToSelectors(local, remote);
        lock (_gate)
        {
            if (_routes.TryGetValue(connection.Name, out RouteEntry? old)) RemoveTraps(old, except: sel);
            _routes[connection.Name] = new RouteEntry { Connection = connection, Selectors = sel };
            var c4 = new List<ErouteChange<uint>>();
            var c6 = new List<ErouteChange<UInt128>>();
            foreach (var s in sel.V4)
            {
                _trapOwner4[s] = connection.Name;
                if (!HoldsSa(_dp.ErouteV4, s)) c4.Add(new(new(s, ErouteAction.Trap)));
            }
            foreach (var s in sel.V6)
            {
                _trapOwner6[s] = connection.Name;
                if (!HoldsSa(_dp.ErouteV6, s)) c6.Add(new(new(s, ErouteAction.Trap)));
            }
            _dp.ErouteV4.Apply(c4.ToArray());
            _dp.ErouteV6.Apply(c6.ToArray());
        }
        _log.LogInformation("\"{Connection}\": routed, {Count} %trap eroute(s)", connection.Name, sel.Count);
    }

    /// <summary>ipsec unroute NAME: its %trap eroutes removed (SA eroutes stay until the SA goes).</summary>
    public void Unroute(string connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        lock (_gate)
        {
            if (!_routes.Remove(connection, out RouteEntry? r)) return;
            RemoveTraps(r, except: null);
            FailPendingLocked(connection);
        }
        _log.LogInformation("\"{Connection}\": unrouted", connection);
    }

    /// <summary>True when <paramref name="connection"/> has %trap eroutes (auto=route / ipsec route).</summary>
    public bool IsRouted(string connection)
    {
        lock (_gate) return _routes.ContainsKey(connection);
    }

    private void RemoveTraps(RouteEntry r, ChildSelectors? except)
    {
        var c4 = new List<ErouteChange<uint>>();
        var c6 = new List<ErouteChange<UInt128>>();
        foreach (var s in r.Selectors.V4)
        {
            if (except is not null && except.V4.Contains(s)) continue;
            if (_trapOwner4.TryGetValue(s, out string? o) && o == r.Connection.Name) _trapOwner4.Remove(s);
            if (IsTrap(_dp.ErouteV4, s)) c4.Add(new(new(s, ErouteAction.Trap), Delete: true));
        }
        foreach (var s in r.Selectors.V6)
        {
            if (except is not null && except.V6.Contains(s)) continue;
            if (_trapOwner6.TryGetValue(s, out string? o) && o == r.Connection.Name) _trapOwner6.Remove(s);
            if (IsTrap(_dp.ErouteV6, s)) c6.Add(new(new(s, ErouteAction.Trap), Delete: true));
        }
        _dp.ErouteV4.Apply(c4.ToArray());
        _dp.ErouteV6.Apply(c6.ToArray());
    }

    private static bool HoldsSa<TKey>(ErouteTable<TKey> t, in ErouteSelector<TKey> s) where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey> =>
        t.TryGet(s, out ErouteEntry<TKey> e) && e.Action.Kind == ErouteActionKind.Sa;

    private static bool IsTrap<TKey>(ErouteTable<TKey> t, in ErouteSelector<TKey> s) where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey> =>
        t.TryGet(s, out ErouteEntry<TKey> e) && e.Action.Kind is ErouteActionKind.Trap or ErouteActionKind.Hold;

    // ---- SAs ---------------------------------------------------------------------------------
    //
    // Synchronous (the default, and whenever the dataplane is not running): a call returns with its effect in
    // the dataplane. It waits for the owner worker to apply the SA command (WaitForCommands) and, before an
    // outbound SA is deleted, for two RCU grace periods (WaitForQuiescence). Both are 1 ms polls (workers never
    // signal), so on the engine thread they serialize every establishment: at least 4 sleeps per SA set up and
    // torn down, a bound of a few hundred establishments/s whatever the CPU (docs/ike-performance.md).
    //
    // Asynchronous (Asynchronous = true on a running dataplane): a call posts its SA command and returns. What
    // must wait becomes a step of one FIFO that the sink's completion thread runs, in order, once each step's
    // condition holds:
    //   InstallInbound  ─► post ─► step: worker W applied ticket T (CommandsApplied; no action)
    //   InstallOutbound ─► post ─► step: worker W applied ticket T ─► eroutes → SA, held %trap packets released,
    //                                                                 the replaced outbound SA retired
    //   DeleteOutbound  ─►         step (behind the earlier ones)   ─► eroutes fall back, SA retired
    //   DeleteInbound   ─► post at once: the command ring is FIFO per worker and an SPI keeps its owner, so
    //                      the delete is applied after the install of the same SPI
    //   retire          ─► a list apart (many SAs share grace periods): period 1 passed ─► period 2 (begun
    //                      after period 1 ended) passed ─► DeleteSa
    // Every step has a sequence number; IChildSaSinkBarrier says "done up to n". The engine holds the next
    // message of an IKE SA whose children it installed/deleted until the sink is done up to that call
    // (IkeEngine.Transmit), so the IKE_AUTH / CREATE_CHILD_SA response — after which the peer sends ESP on the
    // new SA — leaves only once the owner worker has published the inbound SA and the eroutes name the new
    // outbound one: what the peer can observe is the same as with the synchronous sink, and the engine thread
    // never sleeps. (Local traffic can see the new eroutes up to ~1–2 ms later than the engine's log line.)

    /// <summary>Post SA commands and return; eroute changes and deletes follow on the sink's completion thread,
    /// in call order (see the comment above). The engine waits for them per IKE SA through <see cref="IChildSaSinkBarrier"/>.</summary>
    public bool Asynchronous { get; init; }

    private sealed class Step
    {
        public required long Seq;
        public int Worker = -1;          // the worker whose command must be applied first (-1: none)
        public long Ticket;
        public Func<bool>? Apply;        // run under _gate; true = it moved eroutes away from an SA (see Grace)
        public long Since;
        public string? What;
        public bool Applied;
        // After eroutes moved away from an SA (a rekey's switch, a delete's fall-back) the step is done only once every
        // worker passed a quiescent point: a packet a worker looked up with the old snapshot and is encrypting with the
        // old SA has then left it. So the message the engine holds for this step (the DELETE of the old CHILD_SA after
        // our rekey, the INFORMATIONAL answer to the peer's delete) cannot overtake that packet on the wire — as with
        // the synchronous sink, which waited for the grace periods inline before it returned.
        public long Grace;
    }

    private sealed class Retiring
    {
        public required uint Spi;
        public SaEntry? Entry;           // what _outbound held when it was retired (a re-install of the SPI is not deleted)
        public long Period1;
        public long Period2;             // 0 until period 1 passed
        public long Since;
    }

    private readonly Queue<Step> _steps = new();                           // under _gate
    private readonly List<Retiring> _retiring = new();                     // under _gate
    private readonly List<(long Mark, Action Continuation)> _waiters = new(); // under _gate
    private long _requested;                                               // last step's Seq (under _gate)
    private long _completed;                                               // every step up to this is done
    private System.Threading.Thread? _completer;
    private readonly System.Threading.AutoResetEvent _wake = new(false);

    /// <summary>Under _gate: this call goes through the step FIFO (asynchronous mode on a running dataplane, or
    /// steps still queued from when it ran: their order is kept).</summary>
    private bool DeferLocked() => Asynchronous && !_disposed && (_steps.Count > 0 || _retiring.Count > 0 || _dp.IsRunning);

    /// <summary>Under _gate: queues <paramref name="s"/>, or runs it here and now when nothing is queued before it and
    /// its worker already applied the command (or it waits for none): no thread hop for the common cases (a delete;
    /// a worker that drained the ring already). Returns true when it ran here.</summary>
    private bool EnqueueLocked(Step s)
    {
        if (_steps.Count == 0 && (s.Worker < 0 || _dp.CommandsApplied(s.Worker, s.Ticket)))
        {
            bool moved;
            try { moved = s.Apply?.Invoke() ?? false; } // Monitor is reentrant: the actions take _gate themselves
            catch
            {
                System.Threading.Volatile.Write(ref _completed, s.Seq); // a failure (thrown to the caller) must not stall the barrier
                throw;
            }
            s.Applied = true;
            if (!moved || _dp.GracePeriodPassed(s.Grace = _dp.BeginGracePeriod())) // idle (offline) workers: passed at once
            {
                System.Threading.Volatile.Write(ref _completed, s.Seq);
                return true;
            }
            _steps.Enqueue(s);
            EnsureCompleterLocked();
            _wake.Set();
            return false;
        }
        _steps.Enqueue(s);
        EnsureCompleterLocked();
        // A step that waits for a worker's command is woken by that worker (CommandsAppliedCallback: the worker
        // cannot have applied it unseen — we checked under _gate, and the completion thread peeks under _gate);
        // only the others need the completion thread now.
        if (s.Worker < 0) _wake.Set();
        return false;
    }

    private void EnsureCompleterLocked()
    {
        if (_completer is not null) return;
        _completer = new System.Threading.Thread(CompleteSteps) { IsBackground = true, Name = "fastpath-sa-sink" };
        _completer.Start();
    }

    private Step NewStepLocked(string what, int worker = -1, long ticket = 0, Func<bool>? apply = null) =>
        new() { Seq = ++_requested, Worker = worker, Ticket = ticket, Apply = apply, Since = _time.GetTimestamp(), What = what };

    long IChildSaSinkBarrier.Mark()
    {
        lock (_gate) return _requested;
    }

    bool IChildSaSinkBarrier.IsApplied(long mark) => System.Threading.Volatile.Read(ref _completed) >= mark;

    void IChildSaSinkBarrier.WhenApplied(long mark, Action continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        lock (_gate)
        {
            if (System.Threading.Volatile.Read(ref _completed) < mark && !_disposed)
            {
                _waiters.Add((mark, continuation)); // fired by the completion thread once the steps up to mark ran
                return;
            }
        }
        continuation();
    }

    /// <summary>Waits until every call made so far is in effect (asynchronous mode; at once otherwise), bounded by
    /// <paramref name="timeout"/>. For tests (a test counts the dataplane's SAs); never called on the engine thread or
    /// the data path. The retirement wait polls at 1 ms: the completion thread retires SAs on its own ~1 ms cadence, so
    /// a signal would not make it return sooner.</summary>
    public bool WaitApplied(TimeSpan timeout)
    {
        long mark;
        lock (_gate) mark = _requested;
        using var done = new System.Threading.ManualResetEventSlim();
        ((IChildSaSinkBarrier)this).WhenApplied(mark, done.Set);
        bool ok = done.Wait(timeout);
        if (!ok) return false;
        // Retirements too (a test may count the dataplane's SAs).
        long deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        while (true)
        {
            lock (_gate) if (_retiring.Count == 0) return true;
            if (_time.GetTimestamp() > deadline) return false;
            System.Threading.Thread.Sleep(1); // test-only helper (above)
        }
    }

    /// <summary>The completion thread: runs the steps whose condition holds (in order), the retirements whose grace
    /// periods passed, then the continuations of marks now reached; polls every ~1 ms while anything waits (the
    /// workers drain commands within a batch, or ~1 ms when idle, and quiesce as often).</summary>
    private void CompleteSteps()
    {
        var fire = new List<Action>();
        long max = (long)(CommandTimeout.TotalSeconds * _time.TimestampFrequency);
        while (true)
        {
            bool running = _dp.IsRunning;
            while (true)
            {
                lock (_gate)
                {
                    // The head step runs under _gate while it is still queued: a call made meanwhile queues behind it
                    // (EnqueueLocked runs a step in place only when nothing is queued), so the order is the call order.
                    if (_disposed) break;
                    if (!_steps.TryPeek(out Step? s)) break;
                    bool late = _time.GetTimestamp() - s.Since > max;
                    if (!s.Applied)
                    {
                        if (s.Worker >= 0 && running && !_dp.CommandsApplied(s.Worker, s.Ticket))
                        {
                            if (!late) break;
                            _log.LogWarning("{What}: worker {Worker} did not apply the SA within {Timeout} s; going on", s.What, s.Worker, CommandTimeout.TotalSeconds);
                        }
                        bool moved = false;
                        try { moved = s.Apply?.Invoke() ?? false; }
#pragma warning disable CA1031 // the completion thread survives a failing step (as the engine thread survives a failing sink call)
                        catch (Exception e) { _log.LogError(e, "{What}: dataplane step failed", s.What); }
#pragma warning restore CA1031
                        s.Applied = true;
                        if (moved) s.Grace = _dp.BeginGracePeriod();
                    }
                    if (s.Grace != 0 && !_dp.GracePeriodPassed(s.Grace) && !late) break; // polled below
                    _steps.Dequeue();
                    System.Threading.Volatile.Write(ref _completed, s.Seq);
                }
            }
            bool more;
            lock (_gate)
            {
                long fresh = 0;
                long now = _time.GetTimestamp();
                for (int i = _retiring.Count - 1; i >= 0; i--)
                {
                    Retiring r = _retiring[i];
                    bool late = now - r.Since > 2 * max;
                    if (r.Period2 == 0)
                    {
                        if (!_dp.GracePeriodPassed(r.Period1) && !late) continue;
                        r.Period2 = fresh != 0 ? fresh : fresh = _dp.BeginGracePeriod();
                    }
                    if (!_dp.GracePeriodPassed(r.Period2) && !late) continue;
                    if (late) _log.LogWarning("outbound SA 0x{Spi:x8}: workers did not pass a quiescent point within {Timeout} s; deleting anyway", r.Spi, CommandTimeout.TotalSeconds);
                    _retiring.RemoveAt(i);
                    DeleteRetiredLocked(r.Spi, r.Entry);
                }
                long done = System.Threading.Volatile.Read(ref _completed);
                for (int i = 0; i < _waiters.Count; i++)
                    if (_waiters[i].Mark <= done || _disposed) fire.Add(_waiters[i].Continuation);
                if (fire.Count > 0) _waiters.RemoveAll(w => w.Mark <= done || _disposed);
                more = _steps.Count > 0 || _retiring.Count > 0 || _waiters.Count > 0;
            }
            foreach (Action a in fire)
            {
                try { a(); }
#pragma warning disable CA1031
                catch (Exception e) { _log.LogError(e, "dataplane step continuation failed"); }
#pragma warning restore CA1031
            }
            fire.Clear();
            if (_disposed) return;
            if (!more) _wake.WaitOne();
            else
            {
                // Steps wait for a worker's commands: the worker's CommandsAppliedCallback wakes us (the 5 ms timeout
                // only covers a dataplane that stopped); retirements and busy workers' grace periods are polled at ~1 ms.
                bool poll;
                lock (_gate) poll = _retiring.Count > 0 || _steps.TryPeek(out Step? head) && head.Applied;
                _wake.WaitOne(poll ? 1 : 5);
            }
        }
    }

    public void InstallInbound(ChildSaInstall sa)
    {
        ArgumentNullException.ThrowIfNull(sa);
        SaParameters p = ChildSaMapping.ToSaParameters(sa, inbound: true);
        lock (_gate)
        {
            Group g = GroupOf(sa);
            SaHandle h = _dp.InstallInboundInGroup(p, g.Id);
            _inbound[sa.InboundSpi] = new SaEntry { Handle = h, ReqId = sa.ReqId, Connection = sa.Connection, Install = sa, Parameters = p };
            // The engine answers the exchange (and the peer starts sending on the SA: a CHILD_SA rekey's
            // initiator switches its outbound as soon as it has our response) right after this returns, so
            // the owner worker must hold the SA by then; else the peer's first packets drop as NoState
            // (one lost ping per charon-initiated rekey at 10 ms intervals before this wait). Asynchronous:
            // the engine holds that response until this step is done (IChildSaSinkBarrier).
            if (DeferLocked())
                EnqueueLocked(NewStepLocked($"{sa}: inbound SA 0x{sa.InboundSpi:x8}", h.Worker, _dp.CommandsPosted(h.Worker)));
            else if (_dp.IsRunning && !_dp.WaitForCommands(CommandTimeout))
                throw new TimeoutException($"{sa}: the dataplane did not apply the inbound SA within {CommandTimeout.TotalSeconds:0.#} s");
        }
        _log.LogInformation("{Sa}: inbound SA 0x{Spi:x8} installed ({Suite}{Encap}), policy group {Group}", sa, sa.InboundSpi, p.Suite,
            sa.UdpEncapsulation ? $" udp-encap {sa.LocalPort}<-{sa.RemotePort}" : "", sa.ReqId);
    }

    public void InstallOutbound(ChildSaInstall sa)
    {
        ArgumentNullException.ThrowIfNull(sa);
        SaParameters p = ChildSaMapping.ToSaParameters(sa, inbound: false);
        ChildSelectors sel = ChildSaMapping.ToSelectors(sa.LocalTs, sa.RemoteTs);
        if (sel.Count == 0) throw new ArgumentException($"{sa}: the traffic selectors {string.Join(" ", sa.LocalTs.Select(FastPath.Ike.Exchanges.TrafficSelectors.Format))} === {string.Join(" ", sa.RemoteTs.Select(FastPath.Ike.Exchanges.TrafficSelectors.Format))} give no eroute");
        lock (_gate)
        {
            GroupOf(sa);
            SaHandle h = _dp.InstallOutbound(p);
            _outbound[sa.OutboundSpi] = new SaEntry { Handle = h, ReqId = sa.ReqId, Connection = sa.Connection, Install = sa, Parameters = p };
            // The owner must have the SA before an eroute names it (else NoState for the first packets).
            if (DeferLocked())
            {
                EnqueueLocked(NewStepLocked($"{sa}: outbound SA 0x{sa.OutboundSpi:x8}", h.Worker, _dp.CommandsPosted(h.Worker), () => PointEroutes(sa, p, sel, deferred: true)));
                return;
            }
            if (_dp.IsRunning && !_dp.WaitForCommands(CommandTimeout))
                throw new TimeoutException($"{sa}: the dataplane did not apply the outbound SA within {CommandTimeout.TotalSeconds:0.#} s");
        }
        PointEroutes(sa, p, sel, deferred: false);
    }

    /// <summary>The owner has the outbound SA: ONE ErouteTable.Apply per family points the group's selectors at it,
    /// held %trap packets are released, the replaced outbound SA retired.</summary>
    private bool PointEroutes(ChildSaInstall sa, SaParameters p, ChildSelectors sel, bool deferred)
    {
        var replaced = new List<uint>();
        List<PendingAcquire>? release;
        bool moved;
        lock (_gate)
        {
            Group g = GroupOf(sa);
            ErouteAction action = ErouteAction.Sa(sa.OutboundSpi, g.Id);
            var c4 = new List<ErouteChange<uint>>();
            var c6 = new List<ErouteChange<UInt128>>();
            foreach (var s in sel.V4) c4.Add(new(new(s, action, sa.RemoteAddress)));
            foreach (var s in sel.V6) c6.Add(new(new(s, action, sa.RemoteAddress)));
            // Selectors the group had and the new SA does not (a rekey that narrowed differently).
            int changes = c4.Count + c6.Count;
            foreach (var s in g.Selectors.V4) if (!sel.V4.Contains(s) && NamesGroup(_dp.ErouteV4, s, g)) c4.Add(FallBack(s, _trapOwner4));
            foreach (var s in g.Selectors.V6) if (!sel.V6.Contains(s) && NamesGroup(_dp.ErouteV6, s, g)) c6.Add(FallBack(s, _trapOwner6));
            moved = c4.Count + c6.Count > changes;
            _dp.ErouteV4.Apply(c4.ToArray());
            _dp.ErouteV6.Apply(c6.ToArray());

            if (sa.ReplacesOutboundSpi != 0 && sa.ReplacesOutboundSpi != sa.OutboundSpi) replaced.Add(sa.ReplacesOutboundSpi);
            if (g.OutboundSpi != 0 && g.OutboundSpi != sa.OutboundSpi && !replaced.Contains(g.OutboundSpi)) replaced.Add(g.OutboundSpi);
            g.OutboundSpi = sa.OutboundSpi;
            g.Peer = sa.RemoteAddress;
            g.Selectors = sel;
            _pending.Remove(sa.Connection, out release);
        }
        // Packets held by %trap eroutes of this connection: looked up again now (they find the SA).
        if (release is not null)
            foreach (PendingAcquire a in release) _dp.ResolveAcquire(a.Ipv6, a.ErouteId, success: true);
        _log.LogInformation("{Sa}: outbound SA 0x{Spi:x8} installed ({Suite}), {Count} eroute(s) => tun0x{Spi2:x}@{Peer}{Replaces}", sa, sa.OutboundSpi, p.Suite,
            sel.Count, sa.OutboundSpi, sa.RemoteAddress, replaced.Count > 0 ? $", replacing 0x{string.Join(", 0x", replaced.Select(r => r.ToString("x8")))}" : "");
        foreach (uint old in replaced) RetireOutbound(old, deferred);
        return replaced.Count > 0 || moved;
    }

    public void DeleteInbound(uint spi)
    {
        bool had;
        lock (_gate) had = _inbound.Remove(spi);
        if (_dp.DeleteSa(spi, SaDirection.Inbound) || had)
            _log.LogInformation("inbound SA 0x{Spi:x8} deleted", spi);
    }

    public void DeleteOutbound(uint spi)
    {
        lock (_gate)
        {
            if (DeferLocked())
            {
                EnqueueLocked(NewStepLocked($"outbound SA 0x{spi:x8}: delete", apply: () => FallBackAndRetire(spi, deferred: true)));
                return;
            }
        }
        FallBackAndRetire(spi, deferred: false);
    }

    private bool FallBackAndRetire(uint spi, bool deferred)
    {
        bool moved = false;
        lock (_gate)
        {
            if (_outbound.TryGetValue(spi, out SaEntry? e) && _groups.TryGetValue(e.ReqId, out Group? g) && g.OutboundSpi == spi)
            {
                // The group's eroutes name this SA: they fall back in one publication per family.
                var c4 = new List<ErouteChange<uint>>();
                var c6 = new List<ErouteChange<UInt128>>();
                foreach (var s in g.Selectors.V4) if (NamesGroup(_dp.ErouteV4, s, g)) c4.Add(FallBack(s, _trapOwner4));
                foreach (var s in g.Selectors.V6) if (NamesGroup(_dp.ErouteV6, s, g)) c6.Add(FallBack(s, _trapOwner6));
                _dp.ErouteV4.Apply(c4.ToArray());
                _dp.ErouteV6.Apply(c6.ToArray());
                g.OutboundSpi = 0;
                g.Selectors = new([], []);
                moved = c4.Count + c6.Count > 0;
                _log.LogInformation("\"{Connection}\": eroutes of tun0x{Spi:x} fall back ({Count}: {Kind})", g.Connection, spi, c4.Count + c6.Count,
                    _routes.ContainsKey(g.Connection) ? "%trap" : "removed, no policy");
            }
        }
        RetireOutbound(spi, deferred);
        return moved;
    }

    /// <summary>Deletes an outbound SA that no eroute names any more, after every worker let go of the
    /// snapshots that might have named it (RCU grace period; on a dataplane driven by Step the next
    /// Step is that period: commands are applied before its batch). Two grace periods: one for the lookup,
    /// one for a packet handed off to the SA's owner between that lookup and the owner's next command drain
    /// (Handoff.cs). <paramref name="deferred"/>: queued for the completion thread instead of waited for here.</summary>
    private void RetireOutbound(uint spi, bool deferred)
    {
        if (deferred)
        {
            lock (_gate)
            {
                var r = new Retiring { Spi = spi, Entry = _outbound.GetValueOrDefault(spi), Period1 = _dp.BeginGracePeriod(), Since = _time.GetTimestamp() };
                // Workers that are idle (offline) pass every grace period at once: then both are over here and now.
                if (_retiring.Count == 0 && _dp.GracePeriodPassed(r.Period1) && _dp.GracePeriodPassed(r.Period2 = _dp.BeginGracePeriod()))
                {
                    DeleteRetiredLocked(spi, r.Entry);
                    return;
                }
                _retiring.Add(r);
                EnsureCompleterLocked();
                _wake.Set();
            }
            return;
        }
        if (_dp.IsRunning)
        {
            if (!_dp.WaitForQuiescence(CommandTimeout) || !_dp.WaitForQuiescence(CommandTimeout))
                _log.LogWarning("outbound SA 0x{Spi:x8}: workers did not pass a quiescent point within {Timeout} s; deleting anyway", spi, CommandTimeout.TotalSeconds);
        }
        lock (_gate) DeleteRetiredLocked(spi, _outbound.GetValueOrDefault(spi));
    }

    /// <summary>Under _gate: the grace periods of a retired outbound SA are over. An SPI installed again meanwhile
    /// (its entry is another one) is not deleted: the re-install replaced the old SA in the dataplane already.</summary>
    private void DeleteRetiredLocked(uint spi, SaEntry? retired)
    {
        if (_outbound.TryGetValue(spi, out SaEntry? now) && retired is not null && !ReferenceEquals(now, retired)) return;
        bool had = _outbound.Remove(spi);
        if (_dp.DeleteSa(spi, SaDirection.Outbound) || had)
            _log.LogInformation("outbound SA 0x{Spi:x8} deleted", spi);
    }

    private ErouteChange<TKey> FallBack<TKey>(in ErouteSelector<TKey> s, Dictionary<ErouteSelector<TKey>, string> owners)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey> =>
        owners.TryGetValue(s, out string? conn) && _routes.ContainsKey(conn)
            ? new(new(s, ErouteAction.Trap))
            : new(new(s, default), Delete: true);

    private static bool NamesGroup<TKey>(ErouteTable<TKey> t, in ErouteSelector<TKey> s, Group g) where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey> =>
        t.TryGet(s, out ErouteEntry<TKey> e) && e.Action.Kind == ErouteActionKind.Sa && e.Action.Group == g.Id;

    private Group GroupOf(ChildSaInstall sa)
    {
        if (_groups.TryGetValue(sa.ReqId, out Group? g))
        {
            g.Connection = sa.Connection;
            return g;
        }
        if (_nextGroup >= ErouteAction.MaxGroup) throw new InvalidOperationException($"out of dataplane policy groups ({ErouteAction.MaxGroup})");
        g = new Group { Id = ++_nextGroup, Connection = sa.Connection };
        _groups.Add(sa.ReqId, g);
        return g;
    }

    public ChildSaUsage Usage(uint spi, bool inbound)
    {
        lock (_gate)
        {
            if (!(inbound ? _inbound : _outbound).TryGetValue(spi, out SaEntry? e)) return default;
            long packets = System.Threading.Volatile.Read(ref e.Handle.Counters.Packets);
            long bytes = System.Threading.Volatile.Read(ref e.Handle.Counters.Bytes);
            // The dataplane counts per batch, not per time: "last used" is when a call first saw the count move.
            if (packets != e.LastPackets)
            {
                e.LastPackets = packets;
                e.LastUsed = _time.GetTimestamp();
            }
            return new ChildSaUsage(true, packets, bytes, e.LastUsed);
        }
    }

    /// <summary>The dataplane side of one installed SA (for `fastpath spi` / `status`): its handle (worker,
    /// counters, sequence) and what it was installed with (keys are not part of it).</summary>
    public bool TryGetSa(uint spi, bool inbound, out ChildSaDataplaneInfo info)
    {
        lock (_gate)
        {
            if (!(inbound ? _inbound : _outbound).TryGetValue(spi, out SaEntry? e)) { info = default; return false; }
            ChildSaInstall i = e.Install;
            info = new ChildSaDataplaneInfo(e.Handle, e.Connection, e.Parameters.Suite.ToString(), e.Parameters.ReplayWindow, i.LocalAddress, i.RemoteAddress,
                i.Transport, i.UdpEncapsulation, i.LocalPort, i.RemotePort);
            return true;
        }
    }

    /// <summary>How many SAs (both directions) the dataplane holds for a connection.</summary>
    public int SaCount(string connection)
    {
        lock (_gate) return _inbound.Values.Count(e => e.Connection == connection) + _outbound.Values.Count(e => e.Connection == connection);
    }

    /// <summary>The connection an eroute belongs to: the CHILD_SA group it names, or the route (%trap) that put it there.</summary>
    public string? OwnerOf(in ErouteEntry<uint> e) => Owner(e.Action, _trapOwner4, e.Selector);

    /// <inheritdoc cref="OwnerOf(in ErouteEntry{uint})"/>
    public string? OwnerOf(in ErouteEntry<UInt128> e) => Owner(e.Action, _trapOwner6, e.Selector);

    private string? Owner<TKey>(ErouteAction action, Dictionary<ErouteSelector<TKey>, string> traps, ErouteSelector<TKey> selector)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        lock (_gate)
        {
            if (action.Kind == ErouteActionKind.Sa)
                foreach (Group g in _groups.Values)
                    if (g.Id == action.Group) return g.Connection;
            return action.Kind is ErouteActionKind.Trap or ErouteActionKind.Hold && traps.TryGetValue(selector, out string? c) ? c : null;
        }
    }

    /// <summary>The dataplane policy group of a reqid (0 = none yet): what its eroutes and inbound SAs carry.</summary>
    public uint PolicyGroupOf(uint reqId)
    {
        lock (_gate) return _groups.TryGetValue(reqId, out Group? g) ? g.Id : 0;
    }

    // ---- events ------------------------------------------------------------------------------

    /// <summary>Routes one dataplane event to the engine (ACQUIRE of a %trap → OnAcquire of its connection;
    /// lifetimes → OnChildLifetime). False when the event is not IKE's (next-hop requests etc.).</summary>
    public bool Dispatch(in FastPath.Dataplane.Pipeline.DataplaneEvent e, IkeEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return Dispatch(e, new EngineTarget(engine));
    }

    /// <summary>As <see cref="Dispatch(in DataplaneEvent, IkeEngine)"/> with any target.</summary>
    public bool Dispatch(in FastPath.Dataplane.Pipeline.DataplaneEvent e, IIkeEventTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        ExpireAcquires();
        switch (e.Kind)
        {
            case DataplaneEventKind.Acquire:
            {
                string? conn;
                lock (_gate)
                {
                    conn = e.IsIpv6 ? TrapOwner(_dp.ErouteV6, e.ErouteId, _trapOwner6) : TrapOwner(_dp.ErouteV4, e.ErouteId, _trapOwner4);
                    if (conn is not null)
                    {
                        if (!_pending.TryGetValue(conn, out var list)) _pending[conn] = list = [];
                        bool v6 = e.IsIpv6;
                        int id = e.ErouteId;
                        if (!list.Any(a => a.Ipv6 == v6 && a.ErouteId == id))
                            list.Add(new PendingAcquire(v6, id, _time.GetTimestamp()));
                        if (_expiry is null && !_disposed && ExpiryInterval != System.Threading.Timeout.InfiniteTimeSpan)
                            _expiry = new System.Threading.Timer(_ => ExpireAcquires(), null, ExpiryInterval, ExpiryInterval);
                    }
                }
                if (conn is null) return false; // not an IKE %trap (a manual one, or gone meanwhile)
                _log.LogInformation("\"{Connection}\": ACQUIRE {Source} -> {Destination} proto {Protocol} (eroute {Id})", conn, e.Source, e.Address, e.Protocol, e.ErouteId);
                target.OnAcquire(conn, e.Source.ToIPAddress(), e.Address.ToIPAddress(), e.Protocol, e.SourcePort, e.DestinationPort);
                return true;
            }
            case DataplaneEventKind.SoftLifetime or DataplaneEventKind.HardLifetime or DataplaneEventKind.SequenceExhausted:
            {
                bool inbound = e.Direction == SaDirection.Inbound;
                bool ours;
                lock (_gate) ours = (inbound ? _inbound : _outbound).ContainsKey(e.Spi);
                if (!ours) return false;
                // Sequence exhaustion (RFC 4303 §3.3.3) ends the SA as a hard limit does.
                target.OnChildLifetime(e.Spi, inbound, hard: e.Kind != DataplaneEventKind.SoftLifetime);
                return true;
            }
            default:
                return false;
        }
    }

    private static string? TrapOwner<TKey>(ErouteTable<TKey> t, int id, Dictionary<ErouteSelector<TKey>, string> owners)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey> =>
        t.TryGet(id, out ErouteEntry<TKey> entry) && owners.TryGetValue(entry.Selector, out string? conn) ? conn : null;

    /// <summary>Negotiation for <paramref name="connection"/> failed: its held packets are dropped
    /// (ShuntHold) and the next packet raises a new ACQUIRE.</summary>
    public void AcquireFailed(string connection)
    {
        lock (_gate) FailPendingLocked(connection);
    }

    /// <summary>Resolves as failed the ACQUIREs older than <see cref="AcquireTimeout"/> (also done on each Dispatch).</summary>
    public int ExpireAcquires()
    {
        long now = _time.GetTimestamp();
        long max = (long)(AcquireTimeout.TotalSeconds * _time.TimestampFrequency);
        int n = 0;
        lock (_gate)
        {
            foreach (var (conn, list) in _pending.ToArray())
            {
                n += list.RemoveAll(a =>
                {
                    if (now - a.Since <= max) return false;
                    _dp.ResolveAcquire(a.Ipv6, a.ErouteId, success: false);
                    return true;
                });
                if (list.Count == 0) _pending.Remove(conn);
            }
        }
        return n;
    }

    private void FailPendingLocked(string connection)
    {
        if (!_pending.Remove(connection, out var list)) return;
        foreach (PendingAcquire a in list) _dp.ResolveAcquire(a.Ipv6, a.ErouteId, success: false);
    }

    /// <summary>Stops the expiry timer (the dataplane is not the sink's to dispose).</summary>
    public void Dispose()
    {
        System.Threading.Thread? completer;
        lock (_gate)
        {
            _disposed = true;
            _expiry?.Dispose();
            _expiry = null;
            completer = _completer;
            _wake.Set();
        }
        // The completion thread fires the waiting continuations and ends; steps not yet run are dropped
        // (the dataplane goes with the gateway).
        if (completer is not null && completer != System.Threading.Thread.CurrentThread) completer.Join(TimeSpan.FromSeconds(2));
    }

    private sealed class EngineTarget(IkeEngine engine) : IIkeEventTarget
    {
        public void OnAcquire(string connection, IPAddress source, IPAddress destination, byte protocol, ushort sourcePort, ushort destinationPort) =>
            engine.OnAcquire(connection, source, destination, protocol, sourcePort, destinationPort);

        public void OnChildLifetime(uint spi, bool inbound, bool hard) => engine.OnChildLifetime(spi, inbound, hard);
    }
}
