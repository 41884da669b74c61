using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using FastPath.Ike.Crypto;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Proposals;
using FastPath.Ike.Transport;

namespace FastPath.IkeLoad;

// The load generator: FastPath's own IkeEngine as initiator, with Concurrency connections
// ("load-0" .. "load-N") that each keep one IKE SA + first CHILD_SA in flight at a time. Each
// connection has its own source address from a small pool (documentation addresses,
// 198.51.100.0/24), its identity is that address (ID_IPV4_ADDR), so one responder connection
// with right=%any and a wildcard PSK accepts them all; every IKE SA has its own SPIs. Child selectors:
// slot i asks for 192.0.2.(SlotOffset + i)/32 <-> 203.0.113.0/24 (so SlotOffset + Concurrency <= 256;
// several generator processes against one responder take disjoint offsets and source addresses).
// StartAt (unix seconds, optional): the window is [StartAt + Warmup, StartAt + Warmup + Seconds) on the
// wall clock, the same for every generator process, so the script can read the responder's CPU time
// exactly over the window (perf-scripts/ike-rate.sh).
//
// Life of one slot (all on the engine thread, through IIkeObserver and the engine's log event):
//   Initiate ─► IKE_SA_INIT ─► float to 4500 (encapsulation=yes, as kernel-libipsec needs) ─►
//   IKE_AUTH with the CHILD_SA ─► ChildSaUp: one establishment counted, latency recorded ─►
//   Terminate (INFORMATIONAL delete of the IKE SA) ─► "IKE SA deleted" ─► Initiate again.
//   A keying failure ends in "IKE SA deleted: <reason>" too: counted by reason, slot restarted.
//   A slot with no CHILD_SA after StuckTimeout is counted "stuck" and terminated (watchdog).
// The delete exchange is part of the load on purpose: it keeps the responder's SA table at about
// Concurrency entries (steady state) instead of growing for the whole run, for both responders.
// Counted: establishments in [warmup, warmup + seconds), per second; failures by reason;
// latency (Initiate → CHILD_SA installed) percentiles.
internal sealed class LoadGenerator : IIkeObserver
{
    private enum Phase { Idle, Pending, Deleting, Stuck }

    private sealed class Slot(string name)
    {
        public string Name { get; } = name;
        public Phase Phase { get; set; }
        public long StartTicks { get; set; }
        public long StuckTicks { get; set; }
    }

    private readonly LoadOptions _o;
    private readonly object _lock = new();
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly List<double> _latenciesMs = [];
    private readonly Dictionary<string, long> _failures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _failuresTotal = new(StringComparer.Ordinal);
    private readonly long[] _perSecond;
    private long _t0, _t1, _completedTotal, _started;
    private volatile bool _stopping;
    private IkeEngine? _engine;
    private readonly Dictionary<DhGroup, KeyExchange> _shared = new(); // --reuse-ke (engine thread only)

    public LoadGenerator(LoadOptions options)
    {
        _o = options;
        _perSecond = new long[Math.Max(1, options.Seconds)];
    }

    public LoadResult Run()
    {
        var sources = _o.Sources;
        var sink = new CountingSink();
        var logger = new EngineEventLogger(OnIkeSaDeleted);
        using var transport = new UdpIkeTransport(sources, 500, 4500, logger);
        var options = new IkeEngineOptions
        {
            RetransmitBase = TimeSpan.FromSeconds(2),
            RetransmitTries = 2,
            UniqueIds = false,
            HalfOpenTimeout = TimeSpan.FromSeconds(30),
            // --reuse-ke: one ephemeral key pair per group for all of this generator's IKE SAs (its X25519 key
            // generation is then paid once, not per SA). The generator is not the side under test; the responder
            // still generates a fresh key and computes a fresh shared secret per SA, exactly as before.
            InitiatorKeyExchange = _o.ReuseKe ? g => _shared.TryGetValue(g, out var k) ? k : _shared[g] = KeyExchange.Shared(KeyExchange.Create(g)) : null,
        };
        using var engine = new IkeEngine(options, transport, sink, logger, this);
        _engine = engine;
        engine.ReceiveOnEngineThread(transport); // as the daemon
        var ike = ProposalParser.Parse(_o.IkeProposal + "!", ProposalProtocol.Ike);
        var esp = ProposalParser.Parse(_o.EspProposal + "!", ProposalProtocol.Esp);
        for (int i = 0; i < _o.Concurrency; i++)
        {
            var c = new IkeConnection
            {
                Name = $"load-{_o.SlotOffset + i}",
                LocalAddress = sources[i % sources.Count],
                RemoteAddress = _o.Target,
                IkeProposals = ike,
                EspProposals = esp,
                LocalCredentials = new IkeCredentials { Psk = Encoding.ASCII.GetBytes(_o.Psk) },
                // Inner selectors: a /32 of its own per slot behind the responder's 203.0.113.0/24. Host-to-host
                // selectors are not possible: kernel-libipsec refuses a CHILD_SA whose route would capture the IKE
                // traffic itself ("conflicts with IKE traffic") and answers TS_UNACCEPTABLE.
                LocalTs = [TrafficSelectors.FromPrefix($"192.0.2.{_o.SlotOffset + i}/32")],
                RemoteTs = [TrafficSelectors.FromPrefix("203.0.113.0/24")],
                Encapsulation = EncapsulationMode.Force,
                KeyingTries = 1,
                Fragmentation = false,
                Rekey = false,
                StartAction = ConnectionStartAction.None,
            };
            engine.AddConnection(c);
            _slots[c.Name] = new Slot(c.Name);
        }
        engine.Start();

        long freq = Stopwatch.Frequency;
        long begin = Stopwatch.GetTimestamp();
        var cpuBegin = Process.GetCurrentProcess().TotalProcessorTime;
        double startIn = _o.StartAt is double at ? at - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 : 0;
        _t0 = begin + (long)((Math.Max(0, startIn) + _o.Warmup) * freq);
        _t1 = _t0 + (long)_o.Seconds * freq;
        foreach (var s in _slots.Values)
        {
            lock (_lock) Begin(s);
            TryInitiate(s.Name);
        }

        // Watchdog + progress until the window ends.
        long stuckTicks = (long)(_o.StuckTimeout.TotalSeconds * freq);
        while (Stopwatch.GetTimestamp() < _t1)
        {
            Thread.Sleep(200);
            long now = Stopwatch.GetTimestamp();
            List<Slot> stuck = [], dead = [];
            lock (_lock)
            {
                foreach (var s in _slots.Values)
                {
                    if (s.Phase == Phase.Pending && now - s.StartTicks > stuckTicks)
                    {
                        Fail($"stuck: no CHILD_SA within {_o.StuckTimeout.TotalSeconds:0} s");
                        s.Phase = Phase.Stuck;
                        s.StuckTicks = now;
                        stuck.Add(s);
                    }
                    else if (s.Phase == Phase.Stuck && now - s.StuckTicks > 5 * freq)
                    {
                        Begin(s); // the terminate found no SA to delete: start over directly
                        dead.Add(s);
                    }
                }
            }
            foreach (var s in stuck) engine.Terminate(s.Name);
            foreach (var s in dead) TryInitiate(s.Name);
        }
        _stopping = true;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBegin).TotalSeconds;
        double wallSeconds = (Stopwatch.GetTimestamp() - begin) / (double)freq;
        int pendingAtEnd;
        lock (_lock) pendingAtEnd = _slots.Values.Count(s => s.Phase is Phase.Pending or Phase.Stuck);
        var status = engine.GetStatus();
        engine.Stop();

        double[] lat;
        lock (_lock) lat = _latenciesMs.OrderBy(x => x).ToArray();
        long inWindow = _perSecond.Sum();
        return new LoadResult
        {
            Target = _o.Target.ToString(),
            Label = _o.Label,
            Concurrency = _o.Concurrency,
            SourceAddresses = sources.Count,
            WarmupSeconds = _o.Warmup,
            Seconds = _o.Seconds,
            Established = inWindow,
            EstablishedPerSecond = inWindow / (double)_o.Seconds,
            PerSecond = _perSecond,
            MedianPerSecond = Median(_perSecond.Select(x => (double)x).ToArray()),
            EstablishedTotal = Interlocked.Read(ref _completedTotal),
            InitiatedTotal = Interlocked.Read(ref _started),
            Failures = new Dictionary<string, long>(_failures),
            FailuresTotal = new Dictionary<string, long>(_failuresTotal),
            LatencyMs = new LatencySummary(lat.Length, Pct(lat, 50), Pct(lat, 90), Pct(lat, 99), lat.Length > 0 ? lat[^1] : 0),
            GeneratorRetransmits = status.Counters.Retransmits,
            GeneratorInvalidMessages = status.Counters.InvalidMessages,
            GeneratorWarnings = logger.Warnings,
            PendingAtEnd = pendingAtEnd,
            GeneratorCpuSeconds = cpuSeconds,
            GeneratorWallSeconds = wallSeconds,
        };
    }

    private static double Pct(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];

    internal static double Median(double[] v)
    {
        if (v.Length == 0) return 0;
        var s = v.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private void Begin(Slot s)
    {
        s.Phase = Phase.Pending;
        s.StartTicks = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _started);
    }

    private void TryInitiate(string name)
    {
        try { _engine!.Initiate(name); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or TimeoutException)
        {
            lock (_lock) Fail("initiate: " + e.Message);
        }
    }

    private bool InWindow(long t) => t >= _t0 && t < _t1;

    private void Fail(string reason)
    {
        if (reason.Length > 100) reason = reason[..100];
        _failuresTotal[reason] = _failuresTotal.GetValueOrDefault(reason) + 1;
        if (InWindow(Stopwatch.GetTimestamp())) _failures[reason] = _failures.GetValueOrDefault(reason) + 1;
    }

    // Engine thread: the CHILD_SA of a slot is installed — one establishment.
    public void ChildSaUp(IkeConnection connection, ChildSaInstall sa, bool rekey)
    {
        if (rekey) return;
        long now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            if (!_slots.TryGetValue(connection.Name, out var s) || s.Phase != Phase.Pending) return;
            s.Phase = Phase.Deleting;
            Interlocked.Increment(ref _completedTotal);
            if (InWindow(now))
            {
                _perSecond[Math.Min(_perSecond.Length - 1, (now - _t0) / Stopwatch.Frequency)]++;
                _latenciesMs.Add((now - s.StartTicks) * 1000.0 / Stopwatch.Frequency);
            }
        }
        if (!_stopping) _engine!.Terminate(connection.Name);
    }

    // Engine thread (inside the engine's Destroy): an IKE SA of a slot is gone — restart the slot.
    private void OnIkeSaDeleted(string connection, string reason)
    {
        Slot? s;
        lock (_lock)
        {
            if (!_slots.TryGetValue(connection, out s)) return;
            if (_stopping) { s.Phase = Phase.Idle; return; }
            if (s.Phase == Phase.Pending) Fail(reason);
            else if (s.Phase == Phase.Idle) return;
            Begin(s);
        }
        TryInitiate(connection); // on the engine thread: Initiate runs inline
    }
}

internal sealed record LatencySummary(int Count, double P50, double P90, double P99, double Max);

internal sealed class LoadResult
{
    public required string Target { get; init; }
    public string? Label { get; init; }
    public int Concurrency { get; init; }
    public int SourceAddresses { get; init; }
    public double WarmupSeconds { get; init; }
    public int Seconds { get; init; }
    public long Established { get; init; }
    public double EstablishedPerSecond { get; init; }
    public required long[] PerSecond { get; init; }
    public double MedianPerSecond { get; init; }
    public long EstablishedTotal { get; init; }
    public long InitiatedTotal { get; init; }
    public required Dictionary<string, long> Failures { get; init; }
    public required Dictionary<string, long> FailuresTotal { get; init; }
    public required LatencySummary LatencyMs { get; init; }
    public long GeneratorRetransmits { get; init; }
    public long GeneratorInvalidMessages { get; init; }
    public long GeneratorWarnings { get; init; }
    /// <summary>Slots still waiting for their CHILD_SA when the window closed (neither success nor failure).</summary>
    public int PendingAtEnd { get; init; }
    /// <summary>The generator's own CPU time over warm-up + window: near the wall time means the generator, not the responder, was the limit.</summary>
    public double GeneratorCpuSeconds { get; init; }
    public double GeneratorWallSeconds { get; init; }
}

internal sealed class LoadOptions
{
    public required IPAddress Target { get; init; }
    public required IReadOnlyList<IPAddress> Sources { get; init; }
    public int Concurrency { get; init; } = 64;
    public double Warmup { get; init; } = 2;
    public int Seconds { get; init; } = 10;
    public string Psk { get; init; } = "fastpath-ike-rate-psk-0123456789";
    public string IkeProposal { get; init; } = "aes128gcm16-prfsha256-x25519";
    public string EspProposal { get; init; } = "aes128gcm16";
    public TimeSpan StuckTimeout { get; init; } = TimeSpan.FromSeconds(15);
    public string? Label { get; init; }
    /// <summary>First slot number (child selector 192.0.2.SlotOffset/32, connection load-SlotOffset).</summary>
    public int SlotOffset { get; init; }
    /// <summary>Wall-clock start of the warm-up (unix seconds); null = now.</summary>
    public double? StartAt { get; init; }
    /// <summary>--reuse-ke: one initiator key pair for all SAs (IkeEngineOptions.InitiatorKeyExchange).</summary>
    public bool ReuseKe { get; init; }
}
