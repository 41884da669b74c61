using System;
using System.Collections.Generic;
using System.Net;
using FastPath.Ike.Engine;
using Microsoft.Extensions.Logging;

namespace FastPath.Ike.Transport;

// PLACEHOLDER SIGNATURES — the ike-engine work fills this in.
// IKE over UDP: one socket on 500 and one on 4500 per address family (RFC 7296 §2.23, RFC 3948).
// On 4500 a datagram starting with four zero bytes is IKE (marker stripped); a single 0xFF byte is
// a NAT keepalive (ignored, counted); anything else is ESP, which the dataplane takes before the
// kernel (nft guard) — if one arrives here it is counted and dropped.

/// <summary>A received IKE message.</summary>
public delegate void IkeDatagramHandler(ReadOnlySpan<byte> ikeMessage, IPEndPoint local, IPEndPoint remote);

/// <summary>The UDP sockets of the IKE daemon.</summary>
public sealed class UdpIkeTransport : IIkeTransport, IDisposable
{
    /// <param name="bind">Addresses to bind (IPAddress.Any / IPv6Any for all).</param>
    /// <param name="ikePort">500 normally (tests on loopback may use others).</param>
    /// <param name="natTPort">4500 normally.</param>
    public UdpIkeTransport(IReadOnlyList<IPAddress> bind, int ikePort, int natTPort, ILogger logger) => throw new NotImplementedException();

    /// <summary>Starts the receive thread(s); every IKE message goes to <paramref name="handler"/>.</summary>
    public void Start(IkeDatagramHandler handler) => throw new NotImplementedException();

    public void Send(ReadOnlySpan<byte> ikeMessage, IPEndPoint local, IPEndPoint remote) => throw new NotImplementedException();

    /// <summary>Sends a NAT keepalive (one 0xFF byte from 4500, RFC 3948 §2.3).</summary>
    public void SendKeepalive(IPEndPoint local, IPEndPoint remote) => throw new NotImplementedException();

    public void Dispose() { }
}
