using System;
using System.Net;
using Microsoft.Extensions.Logging;

namespace FastPath.Ike.Engine;

// PLACEHOLDER SIGNATURES — the ike-engine work fills this file in (and may add files under
// Engine/ and Exchanges/). The public surface below is what the Gateway codes against.

/// <summary>Engine-wide settings (strongswan.conf charon.* equivalents).</summary>
public sealed class IkeEngineOptions
{
    /// <summary>Retransmission (RFC 7296 §2.1): timeout = Base * Factor^n, n &lt; Tries; then the exchange fails.</summary>
    public TimeSpan RetransmitBase { get; init; } = TimeSpan.FromSeconds(2);
    public double RetransmitFactor { get; init; } = 1.8;
    public int RetransmitTries { get; init; } = 5;
    /// <summary>Half-open IKE SAs from which on responders demand a COOKIE (RFC 7296 §2.6).</summary>
    public int CookieThreshold { get; init; } = 30;
    /// <summary>NAT keepalive interval (RFC 3948 §2.3) when this side is behind a NAT; zero = off.</summary>
    public TimeSpan NatKeepalive { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>IKE messages larger than this are sent as RFC 7383 fragments (when the peer supports them).</summary>
    public int FragmentSize { get; init; } = 1280;
    /// <summary>Log SK_* and ESP keys (debug only; off by default, never in production).</summary>
    public bool LogSensitive { get; init; }
    /// <summary>uniqueids=yes: a new IKE SA with the same peer identity replaces the old one (INITIAL_CONTACT too).</summary>
    public bool UniqueIds { get; init; } = true;
}

/// <summary>The IKEv2 keying daemon core: connections, IKE SAs and their CHILD_SAs, on one thread of its own.</summary>
public sealed partial class IkeEngine : IDisposable
{
    public IkeEngine(IkeEngineOptions options, IIkeTransport transport, IChildSaSink sink, ILogger logger, IIkeObserver? observer = null, TimeProvider? time = null)
    {
        throw new NotImplementedException();
    }

    public void AddConnection(IkeConnection connection) => throw new NotImplementedException();
    /// <summary>Replaces a connection's definition; SAs of an unchanged definition stay up.</summary>
    public void ReplaceConnection(IkeConnection connection) => throw new NotImplementedException();
    /// <summary>Deletes the connection's SAs (INFORMATIONAL delete) and forgets it.</summary>
    public bool RemoveConnection(string name) => throw new NotImplementedException();

    public void Start() => throw new NotImplementedException();
    public void Stop() => throw new NotImplementedException();

    /// <summary>A received IKE message (non-ESP marker already removed on 4500). Copies; never throws.</summary>
    public void OnDatagram(ReadOnlySpan<byte> ikeMessage, IPEndPoint local, IPEndPoint remote) => throw new NotImplementedException();

    /// <summary>`up NAME`: establish the IKE SA and the connection's CHILD_SA.</summary>
    public void Initiate(string connection) => throw new NotImplementedException();
    /// <summary>`down NAME`: delete its SAs.</summary>
    public void Terminate(string connection) => throw new NotImplementedException();

    /// <summary>A %trap eroute of <paramref name="connection"/> caught a packet (dataplane ACQUIRE).</summary>
    public void OnAcquire(string connection, IPAddress source, IPAddress destination, byte protocol, ushort sourcePort, ushort destinationPort) => throw new NotImplementedException();

    /// <summary>The dataplane reached a volume limit of an SA (soft: rekey; hard: it is gone).</summary>
    public void OnChildLifetime(uint spi, bool inbound, bool hard) => throw new NotImplementedException();

    public IkeStatus GetStatus() => throw new NotImplementedException();

    public void Dispose() { }
}
