using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Threading;
using FastPath.Config;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
using FastPath.Gateway.Ike;
using FastPath.Gateway.Manual;
using FastPath.Gateway.Metrics;
using FastPath.Gateway.Updown;
using FastPath.Ike.Engine;
using FastPath.Ike.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FastPath.Gateway.Daemon;

// The embeddable gateway: one ipsec.conf (+ secrets, + policy groups) run on one GatewayRuntime.
//
//   Start:  load config + secrets (ConfigException lists file:line:col errors)
//           GatewayRuntime (kernel guard, rings; nothing forwarded)            ─► fail closed first
//           plan = GatewayPlan.Build(config, secrets, local addresses)
//           auto=route|start shunts/groups ─► eroutes; manual auto=start|route ─► SAs (inbound first) + eroutes
//           IKE conns (if any) ─► IkeEngine(UdpIkeTransport, DataplaneChildSaSink, UpdownObserver)
//           runtime.Start (workers; ready file) ─► engine.Start, auto=route ─► sink.Route, auto=start ─► Initiate
//   Verbs:  Add/Delete/Route/Unroute/Up/Down/Replace NAME, Reload, RereadSecrets, RereadGroups — each
//           touches only the named conns; the eroutes of others are never republished differently
//           (the table swaps snapshots atomically, so a change never opens a gap: DESIGN.md §2).
//   Stop:   IKE engine (deletes), runtime.Stop (workers leave; the kernel guard stays: nothing forwards).
//
// Thread safety: every public method takes _lock (control-socket clients and the pump's ACQUIRE
// handling may run at once); the dataplane itself is lock-free for the workers.

/// <summary>State of a conn in the gateway.</summary>
public enum ConnectionState { Loaded, Routed, Up, Failed }

/// <summary>A FastPath gateway built from an ipsec.conf (or an <see cref="IpsecConfig"/>).</summary>
public sealed partial class FastPathGateway : IDisposable
{
    private readonly FastPathGatewayOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly object _lock = new();
    private readonly Dictionary<string, ConnEntry> _conns = new(StringComparer.Ordinal);
    private readonly Dictionary<(bool V6, string Src, string Dst, byte Proto), string> _erouteOwner = [];
    private readonly Dictionary<(bool V6, int Id), string> _oeTraps = [];
    private readonly DateTimeOffset _created = DateTimeOffset.UtcNow;
    // IKE conn name → its plan, readable without _lock: the engine thread reports CHILD_SAs up/down
    // (IkeUpdown) while Stop holds _lock and waits for that very thread (IkeEngine.Stop) — taking
    // _lock there deadlocked `fastpath stop` of every daemon with an established CHILD_SA.
    private readonly ConcurrentDictionary<string, PlannedConnection> _ikePlans = new(StringComparer.Ordinal);
    private GatewayRuntime? _runtime;
    private IpsecConfig? _config;
    private IpsecSecrets? _secrets;
    private GatewayPlan? _plan;
    private IkeEngine? _engine;
    private UdpIkeTransport? _transport;
    private DataplaneChildSaSink? _sink;
    private string? _ikeUnavailable;
    private UpdownRunner? _updown;
    private GatewayMetrics? _metrics;
    private bool _disposed;
    private volatile bool _stopping;

    private sealed class ConnEntry(PlannedConnection plan)
    {
        public PlannedConnection Plan { get; set; } = plan;
        public ConnectionState State { get; set; }
        public bool Routed { get; set; }
        public string? Error { get; set; }
        public List<PlannedEroute> Installed { get; } = [];
        public List<SaHandle> Sas { get; } = [];
        public DateTimeOffset? UpSince { get; set; }
    }

    public FastPathGateway(IOptions<FastPathGatewayOptions> options, ILoggerFactory? loggerFactory = null)
        : this((options ?? throw new ArgumentNullException(nameof(options))).Value, loggerFactory) { }

    public FastPathGateway(FastPathGatewayOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
        _log = _loggers.CreateLogger("FastPath.Gateway");
    }

    public FastPathGatewayOptions Options => _options;
    public bool IsRunning { get { lock (_lock) return _runtime is not null; } }
    /// <summary>The running dataplane side (null before Start).</summary>
    public GatewayRuntime? Runtime => _runtime;
    public IpsecConfig? Config => _config;
    public IpsecSecrets? Secrets => _secrets;
    /// <summary>The IKE engine, when IKE conns are loaded and the engine is available.</summary>
    public IkeEngine? Ike => _engine;
    /// <summary>Why IKE conns cannot run (null when they can or there are none).</summary>
    public string? IkeUnavailable => _ikeUnavailable;
    public DateTimeOffset Created => _created;
    public GatewayMetrics? Metrics => _metrics;

    /// <summary>Loads the configuration and starts forwarding. Throws <see cref="ConfigException"/> on a bad
    /// config (nothing started), <see cref="ArgumentException"/> on a missing interface.</summary>
    public void Start()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_runtime is not null) throw new InvalidOperationException("already started");
            (IpsecConfig config, IpsecSecrets? secrets) = LoadConfig();
            _updown = new UpdownRunner(_options.UpdownTimeout, _loggers.CreateLogger("FastPath.Updown"));
            var runtime = new GatewayRuntime(new GatewayRuntimeOptions
            {
                InsideInterface = _options.InsideInterface,
                OutsideInterface = _options.OutsideInterface,
                Io = _options.Io,
                Workers = _options.Workers,
                Cpus = _options.Cpus,
                BatchSize = _options.BatchSize,
                KernelGuard = _options.KernelGuard,
                RunDirectory = _options.RunDirectory,
                EventHandler = OnDataplaneEvent,
            }, _loggers.CreateLogger("FastPath.Runtime"));
            try
            {
                _runtime = runtime;
                _config = config;
                _secrets = secrets;
                _plan = GatewayPlan.Build(config, secrets, Context());
                foreach (PlanError e in _plan.Errors) _log.LogError("{Error}", e);
                runtime.StartResolver();
                foreach (PlannedConnection p in _plan.Connections) AddLocked(p, initial: true);
                runtime.Start();
                _engine?.Start();
                foreach (ConnEntry c in _conns.Values.Where(c => c.Plan.Kind == PlannedKind.Ike).ToArray())
                    ApplyAutoIke(c);
                if (_options.MetricsPort is { } port)
                    _metrics = new GatewayMetrics(this, port, _loggers.CreateLogger("FastPath.Metrics"));
                _log.LogInformation("FastPath gateway started: {Conns} conns from {Config} ({Dialect}); {Io}", _conns.Count, config.Path, config.Dialect, runtime.IoDescription);
            }
            catch
            {
                StopLocked();
                throw;
            }
        }
    }

    /// <summary>Stops forwarding (the kernel guard stays in place: nothing crosses while stopped).</summary>
    public void Stop()
    {
        lock (_lock) StopLocked();
    }

    private void StopLocked()
    {
        if (_runtime is null) return;
        _stopping = true;
        foreach (ConnEntry c in _conns.Values) if (c.Routed || c.State == ConnectionState.Up) RunUpdown(c, c.State == ConnectionState.Up ? "down" : "unroute");
        _engine?.Stop(); // deletes the SAs: down-client of each CHILD_SA runs now (IkeUpdown, synchronously while _stopping)
        _updown?.Drain(_options.UpdownTimeout);
        _engine?.Dispose();
        _transport?.Dispose();
        _metrics?.Dispose();
        _engine = null; _transport = null; _sink = null; _metrics = null;
        _runtime.Dispose();
        _runtime = null;
        _conns.Clear();
        _ikePlans.Clear();
        _erouteOwner.Clear();
        _oeTraps.Clear();
        _stopping = false;
        _log.LogInformation("FastPath gateway stopped");
    }

    public void Dispose()
    {
        if (_disposed) return;
        Stop();
        _disposed = true;
    }

    // ---- configuration -----------------------------------------------------------------------

    private (IpsecConfig, IpsecSecrets?) LoadConfig()
    {
        IpsecConfig config = _options.Config ?? IpsecConfLoader.Load(_options.ConfigPath, new IpsecConfigOptions { Dialect = _options.Dialect, PoliciesDirectory = _options.PoliciesDirectory });
        foreach (ConfigDiagnostic w in config.Warnings) _log.LogWarning("{Warning}", w);
        return (config, LoadSecrets());
    }

    private IpsecSecrets? LoadSecrets()
    {
        if (_options.SecretsPath is not { } path || !File.Exists(path)) return null;
        IpsecSecrets s = IpsecSecrets.Load(path, new SecretsOptions { CheckPermissions = _options.CheckSecretsPermissions });
        foreach (ConfigDiagnostic w in s.Warnings) _log.LogWarning("{Warning}", w);
        return s;
    }

    private PlanContext Context()
    {
        var outside = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == _options.OutsideInterface);
        return new PlanContext
        {
            LocalAddresses = _runtime!.LocalAddresses,
            OutsideAddresses = outside?.GetIPProperties().UnicastAddresses.Select(u => u.Address).Where(a => !a.IsIPv6LinkLocal).ToArray() ?? [],
            IkePort = _options.IkePort,
            NatTPort = _options.NatTPort,
        };
    }

    private GatewayRuntime Running => _runtime ?? throw new InvalidOperationException("the gateway is not running");

    private ConnEntry Conn(string name) =>
        _conns.TryGetValue(name, out ConnEntry? c) ? c : throw new UnknownConnectionException(name, _conns.Keys);

    // ---- verbs -------------------------------------------------------------------------------

    /// <summary>`add NAME`: (re)reads the conn from the config file and loads it without routing it.</summary>
    public string Add(string name)
    {
        lock (_lock)
        {
            Running.ToString();
            PlannedConnection p = FreshPlan(name);
            if (_conns.ContainsKey(name)) DeleteLocked(name);
            AddLocked(p, initial: false);
            return $"\"{name}\": added ({p.Kind})";
        }
    }

    /// <summary>`delete NAME`: down, unroute, forget.</summary>
    public string Delete(string name)
    {
        lock (_lock)
        {
            Conn(name);
            DeleteLocked(name);
            return $"\"{name}\": deleted";
        }
    }

    /// <summary>`route NAME`: shunts/groups install their eroutes; IKE conns get %trap eroutes.</summary>
    public string Route(string name)
    {
        lock (_lock)
        {
            ConnEntry c = Conn(name);
            RouteLocked(c);
            return $"\"{name}\": routed ({c.Installed.Count} eroutes)";
        }
    }

    public string Unroute(string name)
    {
        lock (_lock)
        {
            ConnEntry c = Conn(name);
            UnrouteLocked(c);
            return $"\"{name}\": unrouted";
        }
    }

    /// <summary>`up NAME`: manual conns install their SAs + eroutes; IKE conns initiate.</summary>
    public string Up(string name)
    {
        lock (_lock)
        {
            ConnEntry c = Conn(name);
            switch (c.Plan.Kind)
            {
                case PlannedKind.Manual:
                    UpManual(c);
                    return $"\"{name}\": manually keyed SAs installed ({c.Sas.Count} SAs, {c.Installed.Count} eroutes)";
                case PlannedKind.Ike:
                    Engine(c).Initiate(name);
                    return $"\"{name}\": initiating (fastpath status shows the IKE SA)";
                default:
                    RouteLocked(c);
                    return $"\"{name}\": a {c.Plan.Config.Type.ToString().ToLowerInvariant()} shunt has no SA; routed ({c.Installed.Count} eroutes)";
            }
        }
    }

    /// <summary>`rekey NAME` / `rekey-ike NAME` (swanctl --rekey --child / --ike): a CREATE_CHILD_SA rekey of NAME's
    /// CHILD_SAs or of its IKE SA, now (the lifetimes' schedule starts again on the new SAs).</summary>
    public string Rekey(string name, bool ike)
    {
        lock (_lock)
        {
            ConnEntry c = Conn(name);
            if (c.Plan.Kind != PlannedKind.Ike) throw new InvalidOperationException($"\"{name}\" is not keyed by IKE: nothing to rekey");
            return Engine(c).Rekey(name, ike)
                ? $"\"{name}\": rekeying its {(ike ? "IKE SA" : "CHILD_SAs")} (fastpath status shows the new SAs)"
                : throw new InvalidOperationException($"\"{name}\" has no established IKE SA to rekey");
        }
    }

    public string Down(string name)
    {
        lock (_lock)
        {
            ConnEntry c = Conn(name);
            switch (c.Plan.Kind)
            {
                case PlannedKind.Manual: DownManual(c); break;
                case PlannedKind.Ike: Engine(c).Terminate(name); break;
                default: UnrouteLocked(c); break;
            }
            return $"\"{name}\": down";
        }
    }

    /// <summary>`replace NAME`: re-read the conn and re-apply its auto= (only this conn changes).</summary>
    public string Replace(string name)
    {
        lock (_lock)
        {
            Running.ToString();
            PlannedConnection p = FreshPlan(name);
            if (_conns.TryGetValue(name, out ConnEntry? old) && old.Plan.Fingerprint == p.Fingerprint && old.Error is null)
                return $"\"{name}\": unchanged";
            if (old is not null) DeleteLocked(name);
            AddLocked(p, initial: false);
            return $"\"{name}\": replaced";
        }
    }

    /// <summary>`reload`: re-read everything; unchanged conns (same effective settings) are not touched.</summary>
    public string Reload()
    {
        lock (_lock)
        {
            Running.ToString();
            (IpsecConfig config, IpsecSecrets? secrets) = LoadConfig();
            GatewayPlan plan = GatewayPlan.Build(config, secrets, Context());
            foreach (PlanError e in plan.Errors) _log.LogError("{Error}", e);
            _config = config;
            _secrets = secrets;
            _plan = plan;
            int kept = 0, replaced = 0, added = 0, removed = 0;
            foreach (string name in _conns.Keys.Where(n => plan.Find(n) is null).ToArray()) { DeleteLocked(name); removed++; }
            foreach (PlannedConnection p in plan.Connections)
            {
                if (_conns.TryGetValue(p.Name, out ConnEntry? old))
                {
                    if (old.Plan.Fingerprint == p.Fingerprint && old.Error is null) { kept++; continue; }
                    DeleteLocked(p.Name);
                    replaced++;
                }
                else added++;
                AddLocked(p, initial: false);
            }
            return $"reloaded {config.Path}: {kept} unchanged, {replaced} replaced, {added} added, {removed} deleted" +
                (plan.Errors.Count > 0 ? $"; {plan.Errors.Count} conns not loaded:\n" + string.Join("\n", plan.Errors) : "");
        }
    }

    /// <summary>`rereadsecrets`: new credentials for IKE conns (their SAs stay; new exchanges use them).</summary>
    public string RereadSecrets()
    {
        lock (_lock)
        {
            Running.ToString();
            _secrets = LoadSecrets();
            GatewayPlan plan = GatewayPlan.Build(_config!, _secrets, Context());
            int n = 0;
            foreach (ConnEntry c in _conns.Values.Where(c => c.Plan.Kind == PlannedKind.Ike).ToArray())
            {
                if (plan.Find(c.Plan.Name) is not { Ike: not null } p) continue;
                c.Plan = p;
                _ikePlans[p.Name] = p;
                if (_engine is not null) { _engine.ReplaceConnection(p.Ike!); n++; }
            }
            return $"secrets re-read from {_options.SecretsPath} ({_secrets?.Entries.Count ?? 0} entries); {n} IKE conns updated";
        }
    }

    /// <summary>`rereadgroups`: re-read the policy-group files; only changed groups' eroutes change.</summary>
    public string RereadGroups()
    {
        lock (_lock)
        {
            Running.ToString();
            // The loader re-reads the policy files (and refuses a subnet claimed by two groups); only the
            // groups' eroutes are changed here, the conns keep what they run until `replace`/`reload`.
            (IpsecConfig config, _) = LoadConfig();
            string dir = _options.PoliciesDirectory ?? Path.Combine(Path.GetDirectoryName(config.Path) ?? "/etc", "ipsec.d", "policies");
            IReadOnlyList<PolicyGroup> groups = config.PolicyGroups;
            GatewayPlan plan = GatewayPlan.Build(config, _secrets, Context());
            int changed = 0;
            foreach (PlannedConnection p in plan.Connections.Where(p => p.Kind == PlannedKind.PolicyGroup))
            {
                if (_conns.TryGetValue(p.Name, out ConnEntry? old) && old.Plan.Fingerprint == p.Fingerprint) continue;
                if (old is not null) DeleteLocked(p.Name);
                AddLocked(p, initial: false);
                changed++;
            }
            foreach (string gone in _conns.Values.Where(c => c.Plan.Kind == PlannedKind.PolicyGroup && plan.Find(c.Plan.Name) is null).Select(c => c.Plan.Name).ToArray())
            {
                DeleteLocked(gone);
                changed++;
            }
            return $"policy groups re-read from {dir}: {groups.Count} groups, {changed} changed";
        }
    }

    private PlannedConnection FreshPlan(string name)
    {
        (IpsecConfig config, IpsecSecrets? secrets) = LoadConfig();
        GatewayPlan plan = GatewayPlan.Build(config, secrets, Context());
        if (plan.Errors.FirstOrDefault(e => e.Connection == name) is { } err) throw new PlanException(err.ToString());
        PlannedConnection p = plan.Find(name) ?? throw new UnknownConnectionException(name, plan.Connections.Select(c => c.Name));
        _config = config;
        _secrets = secrets;
        _plan = plan;
        return p;
    }

    // ---- the work --------------------------------------------------------------------------

    private void AddLocked(PlannedConnection p, bool initial)
    {
        var c = new ConnEntry(p);
        _conns[p.Name] = c;
        AutoAction auto = p.Config.Auto;
        try
        {
            switch (p.Kind)
            {
                case PlannedKind.Shunt or PlannedKind.PolicyGroup:
                    if (auto is AutoAction.Route or AutoAction.Start or AutoAction.Keep) RouteLocked(c);
                    break;
                case PlannedKind.Manual:
                    // FreeS/WAN brought manual conns up from `manualstart=` (config setup); auto= works too.
                    if (auto is AutoAction.Route or AutoAction.Start or AutoAction.Keep || (initial && ManualStart().Contains(p.Name))) UpManual(c);
                    break;
                case PlannedKind.Ike:
                    IkeEngine? engine = EnsureEngine();
                    if (engine is null) { c.State = ConnectionState.Failed; c.Error = _ikeUnavailable; break; }
                    _ikePlans[p.Name] = p;
                    engine.AddConnection(p.Ike!);
                    if (!initial) ApplyAutoIke(c);
                    break;
            }
        }
        catch (Exception e) when (e is PlanException or InvalidOperationException or ArgumentException or ManualKeyException)
        {
            c.State = ConnectionState.Failed;
            c.Error = e.Message.Split('\n')[0].Trim();
            _log.LogError("\"{Conn}\": {Error}", p.Name, e.Message);
        }
    }

    private HashSet<string> ManualStart() =>
        _config?.Setup.Settings.TryGetValue("manualstart", out ConfigValue? v) == true
            ? v.Value.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal) : [];

    private void ApplyAutoIke(ConnEntry c)
    {
        if (_engine is null || _sink is null || c.State == ConnectionState.Failed) return;
        // auto=start: the engine initiates by itself (StartAction.Start, on Start or on add).
        if (c.Plan.Config.Auto == AutoAction.Route) RouteLocked(c);
    }

    private void DeleteLocked(string name)
    {
        ConnEntry c = _conns[name];
        if (c.Plan.Kind == PlannedKind.Manual) DownManual(c);
        UnrouteLocked(c);
        if (c.Plan.Kind == PlannedKind.Ike && _engine is not null && c.State != ConnectionState.Failed) _engine.RemoveConnection(name);
        _ikePlans.TryRemove(name, out _);
        _conns.Remove(name);
    }

    private void RouteLocked(ConnEntry c)
    {
        if (c.State == ConnectionState.Failed) throw new InvalidOperationException($"\"{c.Plan.Name}\" is not loaded: {c.Error}");
        if (c.Routed) return;
        if (c.Plan.Kind == PlannedKind.Ike)
        {
            Engine(c);
            _sink!.Route(c.Plan.Ike!);
        }
        else if (c.Plan.Kind == PlannedKind.Manual)
        {
            UpManual(c);
            return;
        }
        else
        {
            InstallEroutes(c, c.Plan.Eroutes);
            foreach (PlannedEroute e in c.Plan.Eroutes.Where(e => e.Action.Kind == ErouteActionKind.Trap))
                if (TryGetId(e, out int id)) _oeTraps[(e.IsIpv6, id)] = c.Plan.Name;
        }
        c.Routed = true;
        if (c.State == ConnectionState.Loaded) c.State = ConnectionState.Routed;
        RunUpdown(c, "route");
    }

    private void UnrouteLocked(ConnEntry c)
    {
        if (!c.Routed && c.Installed.Count == 0) return;
        if (c.Plan.Kind == PlannedKind.Ike) _sink?.Unroute(c.Plan.Name);
        foreach (var kv in _oeTraps.Where(kv => kv.Value == c.Plan.Name).ToArray()) _oeTraps.Remove(kv.Key);
        if (c.Plan.Kind != PlannedKind.Manual) RemoveEroutes(c);
        if (c.Routed) RunUpdown(c, "unroute");
        c.Routed = false;
        if (c.State == ConnectionState.Routed) c.State = ConnectionState.Loaded;
    }

    private void UpManual(ConnEntry c)
    {
        if (c.State == ConnectionState.Up) return;
        ManualKeyScript script = c.Plan.Manual!;
        Dataplane.Pipeline.Dataplane dp = Running.Dataplane;
        IReadOnlyList<IPAddress> local = Running.LocalAddresses;
        // Inbound first: a peer that starts sending at once is accepted; then outbound, then the
        // eroutes that name it (a packet never selects an SA that is not there yet).
        foreach (Manual.ManualSa sa in script.Sas.OrderBy(s => local.Contains(s.Destination) ? 0 : 1))
        {
            bool inbound = local.Contains(sa.Destination);
            var p = new SaParameters
            {
                Spi = sa.Spi, Suite = sa.Suite, KeyMaterial = sa.KeyMaterial, Esn = sa.Esn,
                Mode = sa.Transport ? IpsecMode.Transport : IpsecMode.Tunnel,
                LocalAddress = IpAddress16.From(inbound ? sa.Destination : sa.Source),
                RemoteAddress = IpAddress16.From(inbound ? sa.Source : sa.Destination),
                UdpEncapsulation = sa.UdpEncapsulation,
                NatSourcePort = inbound ? sa.DestinationPort : sa.SourcePort,
                NatDestinationPort = inbound ? sa.SourcePort : sa.DestinationPort,
                ReplayWindow = sa.ReplayWindow,
                HideTos = _config?.Setup.HideTos ?? true,
                InnerSource = inbound && c.Plan.RemoteEnd.Subnets.Count == 1 ? IpPrefix.Parse(c.Plan.RemoteEnd.Subnets[0].ToString()) : null,
                InnerDestination = inbound && c.Plan.LocalEnd.Subnets.Count == 1 ? IpPrefix.Parse(c.Plan.LocalEnd.Subnets[0].ToString()) : null,
            };
            if (inbound)
            {
                uint group = script.Sas.Where(o => !local.Contains(o.Destination)).Select(o => o.Spi).FirstOrDefault();
                c.Sas.Add(dp.InstallInbound(p, group));
            }
            else
            {
                c.Sas.Add(dp.InstallOutbound(p));
                Running.PreResolve(sa.Destination);
            }
            _log.LogInformation("\"{Conn}\": {Dir} SA {Said} {Suite}", c.Plan.Name, inbound ? "inbound" : "outbound", sa.Said, sa.Suite);
        }
        InstallEroutes(c, c.Plan.Eroutes);
        c.State = ConnectionState.Up;
        c.Routed = true;
        c.UpSince = DateTimeOffset.UtcNow;
        _log.LogInformation("\"{Conn}\" #0: IPsec SA established (manual keys) {{ESP=>0x{Out:x8} <0x{In:x8}}}", c.Plan.Name,
            c.Sas.FirstOrDefault(s => s.Direction == SaDirection.Outbound)?.Spi ?? 0, c.Sas.FirstOrDefault(s => s.Direction == SaDirection.Inbound)?.Spi ?? 0);
        RunUpdown(c, "up");
    }

    private void DownManual(ConnEntry c)
    {
        if (c.State != ConnectionState.Up) return;
        // Eroutes first (traffic falls back to no policy = drop, never cleartext), then the SAs.
        RemoveEroutes(c);
        foreach (SaHandle h in c.Sas) Running.Dataplane.DeleteSa(h.Spi, h.Direction);
        c.Sas.Clear();
        c.State = ConnectionState.Loaded;
        c.Routed = false;
        c.UpSince = null;
        RunUpdown(c, "down");
    }

    private void InstallEroutes(ConnEntry c, IReadOnlyList<PlannedEroute> eroutes)
    {
        foreach (PlannedEroute e in eroutes)
            if (_erouteOwner.TryGetValue(Key(e), out string? owner) && owner != c.Plan.Name)
                throw new InvalidOperationException($"eroute {e.Source} -> {e.Destination} already belongs to conn \"{owner}\" (two conns may not claim the same eroute)");
        var v4 = eroutes.Where(e => !e.IsIpv6).Select(e => new ErouteChange<uint>(new ErouteSpec<uint>(ErouteSelector<uint>.Parse(e.Source, e.Destination, e.Protocol), e.Action, e.Peer))).ToArray();
        var v6 = eroutes.Where(e => e.IsIpv6).Select(e => new ErouteChange<UInt128>(new ErouteSpec<UInt128>(ErouteSelector<UInt128>.Parse(e.Source, e.Destination, e.Protocol), e.Action, e.Peer))).ToArray();
        if (v4.Length > 0) Running.Dataplane.ErouteV4.Apply(v4);
        if (v6.Length > 0) Running.Dataplane.ErouteV6.Apply(v6);
        foreach (PlannedEroute e in eroutes)
        {
            _erouteOwner[Key(e)] = c.Plan.Name;
            c.Installed.Add(e);
        }
    }

    private void RemoveEroutes(ConnEntry c)
    {
        if (c.Installed.Count == 0) return;
        var v4 = c.Installed.Where(e => !e.IsIpv6).Select(e => new ErouteChange<uint>(new ErouteSpec<uint>(ErouteSelector<uint>.Parse(e.Source, e.Destination, e.Protocol), default), Delete: true)).ToArray();
        var v6 = c.Installed.Where(e => e.IsIpv6).Select(e => new ErouteChange<UInt128>(new ErouteSpec<UInt128>(ErouteSelector<UInt128>.Parse(e.Source, e.Destination, e.Protocol), default), Delete: true)).ToArray();
        if (v4.Length > 0) Running.Dataplane.ErouteV4.Apply(v4);
        if (v6.Length > 0) Running.Dataplane.ErouteV6.Apply(v6);
        foreach (PlannedEroute e in c.Installed) _erouteOwner.Remove(Key(e));
        c.Installed.Clear();
    }

    private static (bool, string, string, byte) Key(PlannedEroute e) => (e.IsIpv6, e.Source, e.Destination, e.Protocol);

    private bool TryGetId(PlannedEroute e, out int id)
    {
        bool ok;
        if (e.IsIpv6) { ok = Running.Dataplane.ErouteV6.TryGet(ErouteSelector<UInt128>.Parse(e.Source, e.Destination, e.Protocol), out var en); id = en.Id; }
        else { ok = Running.Dataplane.ErouteV4.TryGet(ErouteSelector<uint>.Parse(e.Source, e.Destination, e.Protocol), out var en); id = en.Id; }
        return ok;
    }

    // ---- IKE ---------------------------------------------------------------------------------

    private IkeEngine Engine(ConnEntry c) =>
        c.State == ConnectionState.Failed ? throw new InvalidOperationException($"\"{c.Plan.Name}\" is not loaded: {c.Error}")
        : _engine ?? throw new InvalidOperationException($"\"{c.Plan.Name}\": {_ikeUnavailable ?? "no IKE engine"}");

    /// <summary>The IKE engine on UDP 500/4500, made on the first IKE conn.</summary>
    private IkeEngine? EnsureEngine()
    {
        if (_engine is not null || _ikeUnavailable is not null) return _engine;
        try
        {
            ILogger ikeLog = _loggers.CreateLogger("FastPath.Ike");
            // Asynchronous: SA installs/deletes never block the engine thread; the engine holds each IKE SA's next
            // message until its dataplane changes are in effect (DataplaneChildSaSink, IChildSaSinkBarrier).
            _sink = new DataplaneChildSaSink(Running.Dataplane, ikeLog) { Asynchronous = true };
            _transport = new UdpIkeTransport([IPAddress.Any, IPAddress.IPv6Any], _options.IkePort, _options.NatTPort, ikeLog);
            _engine = new IkeEngine(new IkeEngineOptions { NatTPort = _options.NatTPort, UniqueIds = _config?.Setup.UniqueIds is not (UniqueIdsPolicy.No or UniqueIdsPolicy.Never) },
                _transport, _sink, ikeLog, new UpdownObserver(this));
            _engine.ReceiveOnEngineThread(_transport); // no receive threads (IkeEngine.Polled.cs)
            if (Running.Dataplane.IsRunning) _engine.Start();
            return _engine;
        }
        catch (SocketException e)
        {
            _ikeUnavailable = $"cannot open the IKE ports {_options.IkePort}/{_options.NatTPort}: {e.Message} (is another IKE daemon running? fastpath verify checks)";
        }
        _log.LogError("{Reason}", _ikeUnavailable);
        _transport?.Dispose();
        _engine = null; _transport = null; _sink = null;
        return null;
    }

    /// <summary>Pump thread: ACQUIREs of opportunistic groups get their failure shunt; IKE's events go to the engine.</summary>
    private bool OnDataplaneEvent(DataplaneEvent e)
    {
        if (e.Kind == DataplaneEventKind.Acquire)
        {
            // Stop holds the lock while it joins this (pump) thread: never block on it then.
            while (!Monitor.TryEnter(_lock, 50))
                if (_stopping) return true;
            try
            {
                if (_oeTraps.TryGetValue((e.IsIpv6, e.ErouteId), out string? group) && _conns.TryGetValue(group, out ConnEntry? c))
                {
                    ApplyFailureShunt(c, e);
                    return true;
                }
            }
            finally
            {
                Monitor.Exit(_lock);
            }
        }
        IkeEngine? engine = _engine;
        DataplaneChildSaSink? sink = _sink;
        if (engine is null || sink is null) return false;
        return sink.Dispatch(e, engine);
    }

    private void ApplyFailureShunt(ConnEntry c, DataplaneEvent e)
    {
        // Opportunistic encryption needs DNS keys (FreeS/WAN OE); FastPath has none yet, so every
        // attempt fails at once and the group's failureshunt applies for this host pair, as Pluto did.
        IPAddress src = e.Source.ToIPAddress(), dst = e.Address.ToIPAddress();
        int bits = e.IsIpv6 ? 128 : 32;
        var shunt = new PlannedEroute($"{src}/{bits}", $"{dst}/{bits}", c.Plan.FailureShunt ?? ErouteAction.Drop);
        if (!_erouteOwner.ContainsKey(Key(shunt)))
        {
            InstallEroutes(c, [shunt]);
            _log.LogInformation("\"{Conn}\": opportunistic encryption {Src} -> {Dst} not available; failureshunt {Shunt}", c.Plan.Name, src, dst, shunt.Action.ShuntName);
        }
        Running.Dataplane.ResolveAcquire(e.IsIpv6, e.ErouteId, success: false);
    }

    private void RunUpdown(ConnEntry c, string verb)
    {
        string? script = c.Plan.LocalEnd.UpDown;
        if (script is null || _updown is null || c.Plan.Kind == PlannedKind.Ike && verb is "up" or "down") return;
        foreach (PlannedEroute e in c.Installed.Count > 0 ? c.Installed : c.Plan.Eroutes.Take(1).ToList())
            _updown.Run(script, UpdownEnvironment.ForEroute(verb, c.Plan, e, _options.OutsideInterface, 0));
    }

    /// <summary>On the IKE engine thread (never takes _lock: see _ikePlans). Runs are queued in order so the
    /// engine never waits for a script; while the gateway stops, down-client runs at once (before the
    /// daemon exits), as Pluto ran its updown calls synchronously.</summary>
    internal void IkeUpdown(IkeConnection conn, ChildSaInstall sa, string verb)
    {
        if (!_ikePlans.TryGetValue(conn.Name, out PlannedConnection? p) || _updown is not { } updown) return;
        var env = UpdownEnvironment.ForChild(verb, p, sa, _options.OutsideInterface);
        if (p.LocalEnd.UpDown is not { } script)
        {
            if (p.LocalEnd.Firewall) updown.NoteFirewall(conn.Name, env["PLUTO_VERB"]);
            return;
        }
        if (_stopping) updown.Run(script, env);
        else updown.RunInBackground(script, env);
    }
}

/// <summary>A verb named a conn that is not loaded.</summary>
public sealed class UnknownConnectionException : Exception
{
    public string Connection { get; } = "";

    public UnknownConnectionException(string name, IEnumerable<string> known)
        : base($"no connection \"{name}\" is loaded" + (known.Any() ? $" (loaded: {string.Join(", ", known.Order(StringComparer.Ordinal))})" : " (none are loaded)"))
        => Connection = name;

    public UnknownConnectionException() { }
    public UnknownConnectionException(string message) : base(message) { }
    public UnknownConnectionException(string message, Exception inner) : base(message, inner) { }
}
