using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading;
using FastPath.Dataplane;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Pipeline;
using FastPath.Gateway.Kernel;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastPath.Gateway;

// The running gateway below any keying: kernel guard, packet I/O on the two interfaces, the
// dataplane's workers, the next-hop resolver and the control-plane pump that serves the dataplane's
// events. Manual keying (Manual/ManualGateway.cs) and, later, IKE install SAs and eroutes into
// Dataplane; this class owns the order in which things start and stop:
//
//   Start:  KernelGuard.Apply (forwarding off, nft ingress guard)  ─► fail closed before any ring opens
//           Dataplane(options, io factory)                          ─► rings open, nothing forwarded yet
//           NeighborResolver.Start                                  ─► next hops on demand
//           [keying installs SAs + eroutes, pre-resolves peers]
//           Dataplane.Start                                         ─► workers run
//           pump thread: events (ResolveNextHop → resolver, lifetimes → log), counters.json each second
//   Stop:   Dataplane.Stop (workers leave between batches) ─► resolver, I/O disposed; the guard stays
//           (forwarding stays off: nothing crosses while FastPath is down, seed 000 #8).

/// <summary>Which packet I/O to open on the gateway's interfaces.</summary>
public enum GatewayIoKind { AfPacket, AfXdp, Auto }

/// <summary>Options of a gateway's dataplane side.</summary>
public sealed class GatewayRuntimeOptions
{
    /// <summary>The protected (cleartext) interface.</summary>
    public required string InsideInterface { get; init; }
    /// <summary>The public (ESP) interface.</summary>
    public required string OutsideInterface { get; init; }
    public GatewayIoKind Io { get; init; } = GatewayIoKind.AfPacket;
    public int Workers { get; init; } = 1;
    /// <summary>CPUs to pin workers to (one per worker), or null.</summary>
    public IReadOnlyList<int>? Cpus { get; init; }
    /// <summary>Directory for the pid, ready and counters files (created).</summary>
    public string? RunDirectory { get; init; }
    /// <summary>Install the kernel guard (tests of the guard itself turn it off).</summary>
    public bool KernelGuard { get; init; } = true;
    public int BatchSize { get; init; } = 64;
    /// <summary>Called first for every dataplane event on the pump thread (the daemon routes ACQUIRE and
    /// lifetimes to the IKE engine); true = handled, the runtime does nothing more with it.</summary>
    public Func<DataplaneEvent, bool>? EventHandler { get; init; }
}

/// <summary>The dataplane side of a running gateway.</summary>
public sealed class GatewayRuntime : IDisposable
{
    private readonly GatewayRuntimeOptions _options;
    private readonly ILogger _log;
    private readonly List<IPacketIo> _ios = [];
    private NeighborResolver? _resolver;
    private Thread? _pump;
    private volatile bool _stopping;
    private bool _disposed;

    public Dataplane.Pipeline.Dataplane Dataplane { get; }
    public NeighborResolver Resolver => _resolver ?? throw new InvalidOperationException("not started");
    public IReadOnlyList<IPAddress> LocalAddresses { get; }
    public string IoDescription { get; private set; } = "";

    public GatewayRuntime(GatewayRuntimeOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _log = logger ?? NullLogger.Instance;
        var inside = Interface(options.InsideInterface);
        Interface(options.OutsideInterface); // fails early, with the name, when it does not exist
        LocalAddresses = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(u => u.Address))
            .Where(a => !IPAddress.IsLoopback(a)).Distinct().ToArray();
        IPAddress? icmp4 = Addresses(inside).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        IPAddress? icmp6 = Addresses(inside).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal);

        if (options.KernelGuard)
        {
            new KernelGuard(options.InsideInterface, options.OutsideInterface).Apply();
            _log.LogInformation("kernel guard in place: forwarding off, nft table netdev {Table} on {Inside} and {Outside}", Kernel.KernelGuard.TableName, options.InsideInterface, options.OutsideInterface);
        }
        var dpOptions = new DataplaneOptions
        {
            WorkerCount = options.Workers,
            Cpus = options.Cpus,
            BatchSize = options.BatchSize,
            LocalAddresses = LocalAddresses,
            IcmpSourceV4 = icmp4,
            IcmpSourceV6 = icmp6,
        };
        Dataplane = new Dataplane.Pipeline.Dataplane(dpOptions, worker => (OpenIo(options.InsideInterface, worker), OpenIo(options.OutsideInterface, worker)));
        _log.LogInformation("dataplane: {Workers} worker(s); {Io}", options.Workers, IoDescription);
    }

    private IPacketIo OpenIo(string ifname, int worker)
    {
        var kind = _options.Io switch
        {
            GatewayIoKind.AfXdp => PacketIoKind.AfXdp,
            GatewayIoKind.Auto => PacketIoKind.Auto,
            _ => PacketIoKind.AfPacket,
        };
        // One AF_XDP socket per worker on queue = worker index; AF_PACKET workers share a fanout group.
        var r = PacketIoFactory.Open(ifname, kind, queue: worker, new PacketIoOpenOptions
        {
            FanoutGroup = _options.Workers > 1 ? (ifname == _options.InsideInterface ? 0x4650 : 0x4651) : null,
            // The protected side's hosts may hand up unfinished checksums (CHECKSUM_PARTIAL) that AF_XDP cannot flag.
            AssumeChecksumNotReady = ifname == _options.InsideInterface,
        });
        if (r.FallbackReason is not null) _log.LogWarning("{Interface}: {Description}", ifname, r.Description);
        lock (_ios)
        {
            _ios.Add(r.Io);
            IoDescription = string.Join("; ", new[] { IoDescription, r.Description }.Where(d => d.Length > 0));
        }
        return r.Io;
    }

    /// <summary>Starts the resolver (before keying, so peers can be pre-resolved).</summary>
    public void StartResolver()
    {
        _resolver = new NeighborResolver(Dataplane.NextHops);
        _resolver.Start();
    }

    /// <summary>Resolves <paramref name="destination"/> now (peers, at install); logs a failure (the
    /// dataplane asks again on the first packet).</summary>
    public void PreResolve(IPAddress destination)
    {
        var r = Resolver.Resolve(destination);
        if (r.DropReason is not null) _log.LogWarning("next hop of {Destination}: {Status} (will retry on traffic)", destination, r.Status);
        else _log.LogInformation("next hop of {Destination}: {Result}", destination, r);
    }

    /// <summary>Starts the workers and the control-plane pump; writes RunDirectory/ready.</summary>
    public void Start()
    {
        Dataplane.Start();
        _pump = new Thread(Pump) { IsBackground = true, Name = "fastpath-pump", Priority = ThreadPriority.BelowNormal };
        _pump.Start();
        if (_options.RunDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            WriteCounters();
            File.WriteAllText(Path.Combine(dir, "ready"), DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        }
    }

    private void Pump()
    {
        long nextCounters = Environment.TickCount64 + 1000;
        while (!_stopping)
        {
            bool any = false;
            while (Dataplane.TryReadEvent(out DataplaneEvent e))
            {
                any = true;
                if (_options.EventHandler is { } handler && handler(e)) continue;
                switch (e.Kind)
                {
                    case DataplaneEventKind.ResolveNextHop:
                        _resolver?.Request(e.Address);
                        break;
                    case DataplaneEventKind.Acquire:
                        _log.LogInformation("{Event}: no keying daemon for manual keying; the held packets time out", e);
                        break;
                    default:
                        _log.LogWarning("{Event}", e);
                        break;
                }
            }
            if (Environment.TickCount64 >= nextCounters)
            {
                WriteCounters();
                nextCounters = Environment.TickCount64 + 1000;
                _trimmer.Tick(Environment.TickCount64);
            }
            // Idle: the event rings are lock-free and workers never signal (no syscall on the data
            // path), so the low-priority pump polls; 2 ms adds at most that to a next-hop resolution.
            if (!any) Thread.Sleep(2);
        }
    }

    /// <summary>Counters as JSON (also written to RunDirectory/counters.json every second and at stop).</summary>
    public string CountersJson()
    {
        var t = Dataplane.Totals;
        var doc = new Dictionary<string, object>
        {
            ["totals"] = t,
            ["drops"] = Dataplane.DropsByReason().ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
            ["io"] = _ios.Select(io => io.Counters.ToString()).ToArray(),
            ["next_hops"] = Dataplane.NextHops.List().Select(kv => $"{kv.Key} -> if {kv.Value.InterfaceIndex} {NextHop.FormatMac(kv.Value.DestinationMac)} mtu {kv.Value.Mtu}").ToArray(),
        };
        return JsonSerializer.Serialize(doc, CountersJsonOptions);
    }

    // One instance for the process: System.Text.Json keeps a serializer's metadata (and the accessors
    // it emits and the JIT compiles) per options instance; a new one every second (as before) had the
    // shared cache rebuild them whenever a full GC had cleared its weak references (CA1869).
    private static readonly JsonSerializerOptions CountersJsonOptions = new()
    {
        WriteIndented = true, IncludeFields = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly NativeHeapTrimmer _trimmer = new();

    /// <summary>The native heap trims after JIT activity (NativeHeapTrimmer.cs), done by the pump.</summary>
    public long NativeHeapTrims => _trimmer.Trims;

    // Start (caller's thread), the pump (every second) and Stop can each write the file; one lock
    // keeps two writers off the same .tmp (seen as "cannot write counters" at start).
    private readonly Lock _countersFileLock = new();

    private void WriteCounters()
    {
        if (_options.RunDirectory is not { } dir) return;
        lock (_countersFileLock)
        try
        {
            string tmp = Path.Combine(dir, "counters.json.tmp");
            File.WriteAllText(tmp, CountersJson());
            File.Move(tmp, Path.Combine(dir, "counters.json"), overwrite: true);
        }
        catch (IOException e)
        {
            _log.LogWarning("cannot write counters: {Message}", e.Message);
        }
    }

    public void Stop()
    {
        _stopping = true;
        _pump?.Join();
        if (Dataplane.IsRunning) Dataplane.Stop();
        WriteCounters();
        if (_options.RunDirectory is { } dir) File.Delete(Path.Combine(dir, "ready"));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Stop();
        _resolver?.Dispose();
        Dataplane.Dispose();
        lock (_ios) foreach (var io in _ios) io.Dispose();
    }

    private static NetworkInterface Interface(string name) =>
        NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == name)
        ?? throw new ArgumentException($"no interface '{name}' in this network namespace (ip link shows what there is)");

    private static IEnumerable<IPAddress> Addresses(NetworkInterface n) => n.GetIPProperties().UnicastAddresses.Select(u => u.Address);
}
