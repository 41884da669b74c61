using System;
using FastPath.Ike.Engine;
using Microsoft.Extensions.Logging;

namespace FastPath.Gateway.Ike;

// PLACEHOLDER SIGNATURES — the gateway-sink work fills this in.
// IChildSaSink on the dataplane: CHILD_SAs become inbound/outbound ESP SAs, their traffic
// selectors become eroutes (keyed by ReqId, stable across rekeys), %trap eroutes for routed
// connections, and the dataplane's events (ACQUIRE, lifetimes) go back to the engine.

/// <summary>The dataplane implementation of <see cref="IChildSaSink"/> plus routing of connections.</summary>
public sealed class DataplaneChildSaSink : IChildSaSink
{
    public DataplaneChildSaSink(FastPath.Dataplane.Pipeline.Dataplane dataplane, ILogger logger) => throw new NotImplementedException();

    /// <summary>auto=route: %trap eroutes for the connection's LocalTs → RemoteTs (ipsec route NAME).</summary>
    public void Route(IkeConnection connection) => throw new NotImplementedException();
    /// <summary>ipsec unroute NAME: its %trap eroutes removed (SA eroutes stay until the SA goes).</summary>
    public void Unroute(string connection) => throw new NotImplementedException();

    /// <summary>Routes one dataplane event to the engine (ACQUIRE of a %trap → OnAcquire of its connection;
    /// lifetimes → OnChildLifetime). False when the event is not IKE's (next-hop requests etc.).</summary>
    public bool Dispatch(in FastPath.Dataplane.Pipeline.DataplaneEvent e, IkeEngine engine) => throw new NotImplementedException();

    public void InstallInbound(ChildSaInstall sa) => throw new NotImplementedException();
    public void InstallOutbound(ChildSaInstall sa) => throw new NotImplementedException();
    public void DeleteInbound(uint spi) => throw new NotImplementedException();
    public void DeleteOutbound(uint spi) => throw new NotImplementedException();
    public ChildSaUsage Usage(uint spi, bool inbound) => throw new NotImplementedException();
}
