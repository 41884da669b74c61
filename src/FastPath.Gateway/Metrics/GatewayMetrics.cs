using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using FastPath.Gateway.Daemon;
using Microsoft.Extensions.Logging;

namespace FastPath.Gateway.Metrics;

// Counters of one gateway, two ways:
//   System.Diagnostics.Metrics: Meter "FastPath" (one per gateway: no global state) with observable
//     counters read at collection time from the dataplane's own counters (no per-packet cost):
//       fastpath.child_sa.bytes / .packets {conn, direction, spi}, fastpath.drops {reason},
//       fastpath.ike.messages {direction}, fastpath.ike.sas_established, fastpath.ike.auth_failures, ...
//   Prometheus text format 0.0.4 on 127.0.0.1:PORT/metrics (opt-in; loopback only, no ASP.NET: a
//     TcpListener answers one GET per connection): fastpath_child_sa_bytes_total{conn,direction} ...

/// <summary>The metrics of one <see cref="FastPathGateway"/>.</summary>
public sealed class GatewayMetrics : IDisposable
{
    private readonly FastPathGateway _gateway;
    private readonly ILogger _log;
    private readonly Meter _meter;
    private readonly TcpListener? _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task? _serve;

    /// <summary>The loopback endpoint serving /metrics (null when no port was asked for).</summary>
    public IPEndPoint? Endpoint { get; }

    public GatewayMetrics(FastPathGateway gateway, int? port, ILogger logger, IMeterFactory? meterFactory = null)
    {
        _gateway = gateway ?? throw new ArgumentNullException(nameof(gateway));
        _log = logger ?? throw new ArgumentNullException(nameof(logger));
        _meter = meterFactory?.Create("FastPath") ?? new Meter("FastPath");
        _meter.CreateObservableCounter("fastpath.child_sa.bytes", () => Sa(s => s.Bytes), "By", "ESP payload bytes per SA");
        _meter.CreateObservableCounter("fastpath.child_sa.packets", () => Sa(s => s.Packets), "{packet}", "ESP packets per SA");
        _meter.CreateObservableCounter("fastpath.drops", () => _gateway.IsRunning
            ? _gateway.Drops().Select(kv => new Measurement<long>(kv.Value, new KeyValuePair<string, object?>("reason", kv.Key.ToString()))) : [], "{packet}", "packets dropped, by reason");
        _meter.CreateObservableCounter("fastpath.ike.messages", () => Ike(c => [(c.MessagesIn, "in"), (c.MessagesOut, "out")]), "{message}");
        _meter.CreateObservableCounter("fastpath.ike.sas_established", () => Ike(c => [(c.IkeSasEstablished, "ike"), (c.ChildSasEstablished, "child")]), "{sa}");
        if (port is { } p)
        {
            _listener = new TcpListener(IPAddress.Loopback, p);
            _listener.Start();
            Endpoint = (IPEndPoint)_listener.LocalEndpoint;
            _serve = Task.Run(ServeAsync);
            _log.LogInformation("Prometheus metrics on http://{Endpoint}/metrics", Endpoint);
        }
    }

    public Meter Meter => _meter;

    private IEnumerable<Measurement<long>> Sa(Func<SaReport, long> value) => !_gateway.IsRunning ? [] :
        _gateway.SaReports().Select(s => new Measurement<long>(value(s),
            new KeyValuePair<string, object?>("conn", s.Connection), new KeyValuePair<string, object?>("direction", s.Direction),
            new KeyValuePair<string, object?>("spi", $"0x{s.Spi:x8}")));

    private IEnumerable<Measurement<long>> Ike(Func<FastPath.Ike.Engine.IkeEngineCounters, (long, string)[]> f) =>
        _gateway.IkeStatusSnapshot() is { } s ? f(s.Counters).Select(v => new Measurement<long>(v.Item1, new KeyValuePair<string, object?>("kind", v.Item2))) : [];

    /// <summary>The Prometheus text exposition (format 0.0.4) of the gateway's counters now.</summary>
    public static string PrometheusText(FastPathGateway gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        var sb = new StringBuilder();
        void Family(string name, string help) => sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(" counter\n");
        void Line(string name, long value, params (string K, string V)[] labels)
        {
            sb.Append(name);
            if (labels.Length > 0) sb.Append('{').Append(string.Join(",", labels.Select(l => $"{l.K}=\"{Escape(l.V)}\""))).Append('}');
            sb.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        if (!gateway.IsRunning) return "# gateway not running\n";
        IReadOnlyList<SaReport> sas = gateway.SaReports();
        Family("fastpath_child_sa_bytes_total", "ESP payload bytes per SA and direction.");
        foreach (SaReport s in sas) Line("fastpath_child_sa_bytes_total", s.Bytes, ("conn", s.Connection), ("direction", s.Direction), ("spi", $"0x{s.Spi:x8}"));
        Family("fastpath_child_sa_packets_total", "ESP packets per SA and direction.");
        foreach (SaReport s in sas) Line("fastpath_child_sa_packets_total", s.Packets, ("conn", s.Connection), ("direction", s.Direction), ("spi", $"0x{s.Spi:x8}"));
        Family("fastpath_drops_total", "Packets dropped by the dataplane, by reason.");
        foreach (var kv in gateway.Drops().OrderBy(kv => kv.Key.ToString(), StringComparer.Ordinal)) Line("fastpath_drops_total", kv.Value, ("reason", kv.Key.ToString()));
        Family("fastpath_eroute_hits_total", "Packets that matched each eroute.");
        foreach (ErouteReport e in gateway.ErouteReports()) Line("fastpath_eroute_hits_total", e.Hits, ("src", e.Source), ("dst", e.Destination), ("action", e.Action));
        if (gateway.IkeStatusSnapshot() is { } ike)
        {
            var c = ike.Counters;
            foreach (var (name, value) in new (string, long)[]
            {
                ("fastpath_ike_messages_in_total", c.MessagesIn), ("fastpath_ike_messages_out_total", c.MessagesOut),
                ("fastpath_ike_retransmits_total", c.Retransmits), ("fastpath_ike_invalid_messages_total", c.InvalidMessages),
                ("fastpath_ike_sas_established_total", c.IkeSasEstablished), ("fastpath_child_sas_established_total", c.ChildSasEstablished),
                ("fastpath_child_sa_rekeys_total", c.ChildRekeys), ("fastpath_ike_sa_rekeys_total", c.IkeRekeys),
                ("fastpath_ike_auth_failures_total", c.AuthFailures), ("fastpath_ike_dpd_timeouts_total", c.DpdTimeouts),
            })
            {
                Family(name, "IKE engine counter.");
                Line(name, value);
            }
        }
        return sb.ToString();
    }

    private static string Escape(string v) => v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener!.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            using (client)
            {
                try
                {
                    client.ReceiveTimeout = 2000;
                    client.SendTimeout = 2000;
                    NetworkStream ns = client.GetStream();
                    using var reader = new StreamReader(ns, Encoding.ASCII, false, 1024, leaveOpen: true);
                    string? request = await reader.ReadLineAsync(_stop.Token).ConfigureAwait(false);
                    while (await reader.ReadLineAsync(_stop.Token).ConfigureAwait(false) is { Length: > 0 }) { } // headers
                    string[] parts = request?.Split(' ') ?? [];
                    bool ok = parts.Length >= 2 && parts[0] == "GET" && (parts[1] == "/metrics" || parts[1] == "/");
                    string body = ok ? PrometheusText(_gateway) : "only GET /metrics\n";
                    byte[] bytes = Encoding.UTF8.GetBytes(body);
                    string head = $"HTTP/1.1 {(ok ? "200 OK" : "404 Not Found")}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
                    await ns.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token).ConfigureAwait(false);
                    await ns.WriteAsync(bytes, _stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or InvalidOperationException)
                {
                    _log.LogDebug("metrics request: {Error}", e.Message);
                }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener?.Stop();
        try { _serve?.Wait(2000); } catch (AggregateException) { }
        _stop.Dispose();
        _meter.Dispose();
    }
}
