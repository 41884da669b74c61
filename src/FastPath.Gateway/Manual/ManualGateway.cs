using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastPath.Gateway.Manual;

// A manually keyed gateway (`fastpath manual`, FreeS/WAN's `ipsec manual --up`): the SAs and
// eroutes of a ManualKeyScript installed into a GatewayRuntime, in the fail-closed order:
//   1. runtime built: kernel guard on, rings open, the eroute tables empty (everything NoPolicy)
//   2. SAs installed (inbound first, so a peer that starts sending at once is accepted), then the
//      eroutes that name them: a packet never selects an SA that is not there yet
//   3. peers' next hops resolved, workers started
// Direction of an SA: its destination is one of this gateway's addresses → inbound (KLIPS looked
// SAs up by destination, SPI and protocol). An inbound SA is checked after decryption against the
// eroute group of the tunnel it belongs to (the outbound SA to the same peer: PolicyMismatch
// otherwise, fixing seed 000 #7) and, when the script gives them, its own --inner-src/--inner-dst.

/// <summary>A gateway keyed by a manual-keying script.</summary>
public sealed class ManualGateway : IDisposable
{
    private readonly GatewayRuntime _runtime;
    private readonly ILogger _log;
    private readonly List<SaHandle> _handles = [];

    public ManualKeyScript Script { get; }
    public GatewayRuntime Runtime => _runtime;
    public IReadOnlyList<SaHandle> Sas => _handles;

    public ManualGateway(ManualKeyScript script, GatewayRuntimeOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(script);
        Script = script;
        _log = logger ?? NullLogger.Instance;
        _runtime = new GatewayRuntime(options, _log);
        try
        {
            Install();
            _runtime.StartResolver();
            foreach (var peer in script.Sas.Where(s => !IsLocal(s.Destination)).Select(s => s.Destination).Distinct())
                _runtime.PreResolve(peer);
            _runtime.Start();
        }
        catch
        {
            _runtime.Dispose();
            throw;
        }
    }

    private bool IsLocal(IPAddress a) => _runtime.LocalAddresses.Contains(a);

    private void Install()
    {
        var dp = _runtime.Dataplane;
        foreach (var sa in Script.Sas.OrderBy(s => IsLocal(s.Destination) ? 0 : 1))
        {
            bool inbound = IsLocal(sa.Destination);
            if (!inbound && !IsLocal(sa.Source))
                throw new ManualKeyException($"{Script.FileName}:{sa.Line}: {sa.Said}: neither --edst {sa.Destination} nor --src {sa.Source} is an address of this gateway ({string.Join(", ", _runtime.LocalAddresses)})");
            var p = new SaParameters
            {
                Spi = sa.Spi,
                Suite = sa.Suite,
                KeyMaterial = sa.KeyMaterial,
                Esn = sa.Esn,
                Mode = sa.Transport ? IpsecMode.Transport : IpsecMode.Tunnel,
                LocalAddress = IpAddress16.From(inbound ? sa.Destination : sa.Source),
                RemoteAddress = IpAddress16.From(inbound ? sa.Source : sa.Destination),
                UdpEncapsulation = sa.UdpEncapsulation,
                NatSourcePort = inbound ? sa.DestinationPort : sa.SourcePort,
                NatDestinationPort = inbound ? sa.SourcePort : sa.DestinationPort,
                ReplayWindow = sa.ReplayWindow,
                InnerSource = sa.InnerSource is null ? null : IpPrefix.Parse(sa.InnerSource),
                InnerDestination = sa.InnerDestination is null ? null : IpPrefix.Parse(sa.InnerDestination),
            };
            if (inbound)
            {
                // The tunnel's eroute group: the outbound SA of this script towards the same peer.
                uint group = Script.Sas.Where(o => !IsLocal(o.Destination) && o.Destination.Equals(sa.Source) && Script.Eroutes.Any(e => e.Kind == ManualErouteKind.Sa && e.Spi == o.Spi))
                    .Select(o => o.Spi).FirstOrDefault();
                _handles.Add(dp.InstallInbound(p, group));
                _log.LogInformation("inbound SA {Said} {Suite}{Encap}, policy group {Group}", sa.Said, sa.Suite, sa.UdpEncapsulation ? " udp-encap" : "", group == 0 ? "none" : $"tun0x{group:x}");
            }
            else
            {
                _handles.Add(dp.InstallOutbound(p));
                _log.LogInformation("outbound SA {Said} {Suite}{Encap}", sa.Said, sa.Suite, sa.UdpEncapsulation ? " udp-encap" : "");
            }
        }
        // Not started yet: the workers apply these commands before their first batch.
        foreach (var e in Script.Eroutes)
        {
            ErouteAction action = e.Kind switch
            {
                ManualErouteKind.Sa => ErouteAction.Sa(e.Spi),
                ManualErouteKind.Pass => ErouteAction.Pass,
                ManualErouteKind.Drop => ErouteAction.Drop,
                ManualErouteKind.Reject => ErouteAction.Reject,
                ManualErouteKind.Trap => ErouteAction.Trap,
                ManualErouteKind.Hold => ErouteAction.Hold,
                _ => ErouteAction.Passthrough,
            };
            if (e.IsIpv6) Apply(dp.ErouteV6, e, action);
            else Apply(dp.ErouteV4, e, action);
            _log.LogInformation("eroute {Op} {Src} -> {Dst} => {Action}", e.Operation, e.Source, e.Destination, e.Kind == ManualErouteKind.Sa ? $"tun0x{e.Spi:x}@{e.Peer}" : action.ToString());
        }
    }

    private static void Apply<TKey>(ErouteTable<TKey> table, ManualEroute e, ErouteAction action)
        where TKey : unmanaged, System.Numerics.IBinaryInteger<TKey>, System.Numerics.IUnsignedNumber<TKey>
    {
        var selector = ErouteSelector<TKey>.Parse(e.Source, e.Destination, e.Protocol);
        switch (e.Operation)
        {
            case "add": table.Add(selector, action, e.Peer); break;
            case "replace": table.Replace(selector, action, e.Peer); break;
            default: table.Delete(selector); break;
        }
    }

    /// <summary>The eroute listing in FreeS/WAN's format (IPv4 then IPv6).</summary>
    public string FormatEroutes() => _runtime.Dataplane.ErouteV4.Format() + _runtime.Dataplane.ErouteV6.Format();

    public void Dispose() => _runtime.Dispose();
}
