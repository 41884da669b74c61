using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FastPath.Ike.Tests.Engine;

// Test doubles for engine↔engine runs: a fake clock (TimeProvider), an in-memory "wire" between
// engines that can drop/duplicate/hold datagrams, a recording IChildSaSink and a logger that
// keeps the lines. Everything here is real engine code on both sides; only UDP and the dataplane
// are replaced.

/// <summary>A TimeProvider whose time moves only by Advance; due timers fire in order.</summary>
public sealed class FakeTime : TimeProvider
{
    private readonly object _lock = new();
    private DateTimeOffset _now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly List<FakeTimer> _timers = [];

    public override DateTimeOffset GetUtcNow() { lock (_lock) return _now; }
    public override long GetTimestamp() { lock (_lock) return _now.UtcTicks; }
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new FakeTimer(this, callback, state);
        t.Change(dueTime, period);
        return t;
    }

    /// <summary>Moves time forward, firing each due timer at its due time.</summary>
    public void Advance(TimeSpan by)
    {
        DateTimeOffset target;
        lock (_lock) target = _now + by;
        while (true)
        {
            FakeTimer? next = null;
            lock (_lock)
            {
                foreach (var t in _timers)
                    if (t.Due is { } d && d <= target && (next is null || d < next.Due)) next = t;
                if (next is null) { _now = target; return; }
                _now = next.Due!.Value;
                next.Due = next.Period > TimeSpan.Zero ? _now + next.Period : null;
                if (next.Due is null) _timers.Remove(next);
            }
            next.Callback(next.State);
        }
    }

    private sealed class FakeTimer(FakeTime owner, TimerCallback callback, object? state) : ITimer
    {
        public TimerCallback Callback { get; } = callback;
        public object? State { get; } = state;
        public DateTimeOffset? Due { get; set; }
        public TimeSpan Period { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                if (dueTime == Timeout.InfiniteTimeSpan) { Due = null; return true; }
                Due = owner._now + dueTime;
                owner._timers.Add(this);
            }
            return true;
        }

        public void Dispose() { lock (owner._lock) { owner._timers.Remove(this); Due = null; } }
        public System.Threading.Tasks.ValueTask DisposeAsync() { Dispose(); return default; }
    }
}

/// <summary>One datagram on the in-memory wire.</summary>
public sealed record WireDatagram(int Index, byte[] Bytes, IPEndPoint From, IPEndPoint To)
{
    public IkeHeader Header { get { IkeHeader.TryRead(Bytes, out var h, out _); return h; } }
    public bool IsFragment => Bytes.Length > 16 && Header.NextPayload == PayloadType.EncryptedFragment;
}

/// <summary>What the wire does with a datagram.</summary>
public enum WireAction { Deliver, Drop, Duplicate, Hold }

/// <summary>An in-memory network of engines keyed by IP address.</summary>
public sealed class Wire
{
    private readonly ConcurrentDictionary<IPAddress, IkeEngine> _nodes = new();
    private readonly List<WireDatagram> _log = [];
    private readonly List<WireDatagram> _held = [];
    private int _index;

    public Func<WireDatagram, WireAction> Filter { get; set; } = _ => WireAction.Deliver;

    public void Attach(IPAddress address, IkeEngine engine) => _nodes[address] = engine;

    public List<WireDatagram> Sent { get { lock (_log) return _log.ToList(); } }

    public IIkeTransport TransportFor(IPAddress self) => new Port(this, self);

    public void ReleaseHeld(bool reverse = false)
    {
        List<WireDatagram> h;
        lock (_log) { h = _held.ToList(); _held.Clear(); }
        if (reverse) h.Reverse();
        foreach (var d in h) Deliver(d);
    }

    private void Deliver(WireDatagram d)
    {
        if (_nodes.TryGetValue(d.To.Address, out var e)) e.OnDatagram(d.Bytes, d.To, d.From);
    }

    private sealed class Port(Wire wire, IPAddress self) : IIkeTransport
    {
        public void Send(ReadOnlySpan<byte> ikeMessage, IPEndPoint local, IPEndPoint remote)
        {
            var from = local.Address.Equals(IPAddress.Any) ? new IPEndPoint(self, local.Port) : local;
            WireDatagram d;
            lock (wire._log)
            {
                d = new WireDatagram(wire._index++, ikeMessage.ToArray(), from, remote);
                wire._log.Add(d);
            }
            switch (wire.Filter(d))
            {
                case WireAction.Drop: return;
                case WireAction.Hold: lock (wire._log) wire._held.Add(d); return;
                case WireAction.Duplicate: wire.Deliver(d); wire.Deliver(d); return;
                default: wire.Deliver(d); return;
            }
        }
    }
}

/// <summary>The dataplane as a list: what was installed and deleted.</summary>
public sealed class RecordingSink : IChildSaSink
{
    public ConcurrentDictionary<uint, ChildSaInstall> Inbound { get; } = new();
    public ConcurrentDictionary<uint, ChildSaInstall> Outbound { get; } = new();
    public ConcurrentQueue<string> Events { get; } = new();
    public ConcurrentDictionary<uint, long> InboundPackets { get; } = new();

    public void InstallInbound(ChildSaInstall sa) { Inbound[sa.InboundSpi] = sa; Events.Enqueue($"in+ {sa.InboundSpi:x8}"); }
    public void InstallOutbound(ChildSaInstall sa) { Outbound[sa.OutboundSpi] = sa; Events.Enqueue($"out+ {sa.OutboundSpi:x8}"); }
    public void DeleteInbound(uint spi) { Inbound.TryRemove(spi, out _); Events.Enqueue($"in- {spi:x8}"); }
    public void DeleteOutbound(uint spi) { Outbound.TryRemove(spi, out _); Events.Enqueue($"out- {spi:x8}"); }
    public ChildSaUsage Usage(uint spi, bool inbound) =>
        inbound ? new ChildSaUsage(Inbound.ContainsKey(spi), InboundPackets.GetValueOrDefault(spi), 0, 0) : new ChildSaUsage(Outbound.ContainsKey(spi), 0, 0, 0);
}

/// <summary>Keeps log lines and echoes them to the xunit output.</summary>
public sealed class ListLogger(string name, ITestOutputHelper? output) : ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();
    public IReadOnlyList<string> Lines => _lines.ToList();
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string line = $"{name} {logLevel.ToString()[..4]}: {formatter(state, exception)}" + (exception is null ? "" : " " + exception);
        _lines.Enqueue(line);
        try { output?.WriteLine(line); } catch (InvalidOperationException) { }
    }
}

/// <summary>Two engines ("west" 203.0.113.1, "east" 203.0.113.2) on one wire and one fake clock.</summary>
public sealed class EnginePair : IDisposable
{
    public static readonly IPAddress WestIp = IPAddress.Parse("203.0.113.1"), EastIp = IPAddress.Parse("203.0.113.2");
    public const string Psk = "fastpath-engine-test-psk-0123456789";

    public FakeTime Time { get; } = new();
    public Wire Wire { get; } = new();
    public RecordingSink WestSink { get; } = new();
    public RecordingSink EastSink { get; } = new();
    public ListLogger WestLog { get; }
    public ListLogger EastLog { get; }
    public IkeEngine West { get; }
    public IkeEngine East { get; }

    public EnginePair(ITestOutputHelper? output, IkeEngineOptions? westOptions = null, IkeEngineOptions? eastOptions = null)
    {
        WestLog = new ListLogger("west", output);
        EastLog = new ListLogger("east", output);
        West = new IkeEngine(westOptions ?? new IkeEngineOptions(), Wire.TransportFor(WestIp), WestSink, WestLog, time: Time);
        East = new IkeEngine(eastOptions ?? new IkeEngineOptions(), Wire.TransportFor(EastIp), EastSink, EastLog, time: Time);
        Wire.Attach(WestIp, West);
        Wire.Attach(EastIp, East);
    }

    public static IkeConnection Conn(string name, IPAddress local, IPAddress? remote, string ike = "aes128gcm16-prfsha256-x25519!", string esp = "aes128gcm16!",
        string? localTs = null, string? remoteTs = null, Func<IkeConnection, IkeConnection>? edit = null) => new()
    {
        Name = name,
        LocalAddress = local,
        RemoteAddress = remote,
        IkeProposals = ProposalParser.Parse(ike, ProposalProtocol.Ike),
        EspProposals = ProposalParser.Parse(esp, ProposalProtocol.Esp),
        LocalTs = localTs is null ? [] : [TrafficSelectors.FromPrefix(localTs)],
        RemoteTs = remoteTs is null ? [] : [TrafficSelectors.FromPrefix(remoteTs)],
        LocalCredentials = new IkeCredentials { Psk = System.Text.Encoding.ASCII.GetBytes(Psk) },
        Encapsulation = EncapsulationMode.Force,
        KeyingTries = 1,
    };

    /// <summary>Waits until both engine threads have nothing queued (a few consecutive looks).</summary>
    public void Settle()
    {
        int quiet = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (quiet < 3)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("engines did not settle");
            if (West.PendingWork == 0 && East.PendingWork == 0) quiet++;
            else quiet = 0;
            Thread.Sleep(2);
        }
    }

    /// <summary>Advances the fake clock in steps, settling after each.</summary>
    public void Run(TimeSpan total, TimeSpan? step = null)
    {
        var s = step ?? TimeSpan.FromSeconds(1);
        Settle();
        for (var t = TimeSpan.Zero; t < total; t += s)
        {
            Time.Advance(s);
            Settle();
        }
    }

    public void Dispose()
    {
        West.Dispose();
        East.Dispose();
    }
}
