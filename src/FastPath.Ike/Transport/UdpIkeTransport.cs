using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using FastPath.Ike.Engine;
using FastPath.Ike.Messages;
using Microsoft.Extensions.Logging;

namespace FastPath.Ike.Transport;

// IKE over UDP: one socket on 500 and one on 4500 per bound address (RFC 7296 §2.23, RFC 3948).
// On 4500 a datagram starting with four zero bytes is IKE (marker stripped); a single 0xFF byte is
// a NAT keepalive (ignored, counted); anything else is ESP, which the dataplane takes before the
// kernel (nft guard) — if one arrives here it is counted and dropped.
//
// Flow:
//   constructor  sockets are created and bound here (so a caller can create them inside a network
//                namespace and leave it again: a socket stays in the namespace it was made in);
//                IP_PKTINFO / IPV6_RECVPKTINFO on each, so a wildcard-bound socket still tells
//                the local address a message arrived on
//   Start        one receive thread per socket; ReceiveMessageFrom → classify → handler(message,
//                local, remote); any exception is counted and the loop continues; Dispose closes
//                the sockets, which ends the threads
//   or polled    (IPolledIkeTransport, what the daemon and the load tool use) no threads: the IKE
//                engine's own thread polls Descriptor(i) and calls ReceiveOne(i, handler) for a
//                readable socket (IkeEngine.Polled.cs) — the same receive step, one buffer
//   Send         the socket of the local endpoint's port and address family (the bound address
//                itself when bound to specific addresses); on the NAT-T port the 4-byte non-ESP
//                marker goes first (RFC 3948 §2.2)

/// <summary>A received IKE message.</summary>
public delegate void IkeDatagramHandler(ReadOnlySpan<byte> ikeMessage, IPEndPoint local, IPEndPoint remote);

/// <summary>The UDP sockets of the IKE daemon.</summary>
public sealed class UdpIkeTransport : IPolledIkeTransport, IDisposable
{
    private sealed record Bound(Socket Socket, IPAddress Address, int Port, bool NatT);

    private readonly List<Bound> _sockets = [];
    private readonly List<Thread> _threads = [];
    private readonly ILogger _log;
    private readonly int _ikePort;
    private readonly int _natTPort;
    private volatile bool _disposed;
    private IkeDatagramHandler? _handler;
    private byte[]? _polledBuffer;
    private long _received, _keepalives, _espDropped, _invalid, _errors;

    /// <param name="bind">Addresses to bind (IPAddress.Any / IPv6Any for all).</param>
    /// <param name="ikePort">500 normally (tests on loopback may use others).</param>
    /// <param name="natTPort">4500 normally.</param>
    public UdpIkeTransport(IReadOnlyList<IPAddress> bind, int ikePort, int natTPort, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(bind);
        ArgumentNullException.ThrowIfNull(logger);
        if (bind.Count == 0) throw new ArgumentException("at least one address to bind", nameof(bind));
        _log = logger;
        _ikePort = ikePort;
        _natTPort = natTPort;
        try
        {
            foreach (var a in bind)
            {
                _sockets.Add(Open(a, ikePort, natT: false));
                _sockets.Add(Open(a, natTPort, natT: true));
            }
        }
        catch
        {
            foreach (var s in _sockets) s.Socket.Dispose();
            throw;
        }
    }

    private static Bound Open(IPAddress address, int port, bool natT)
    {
        var s = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                s.DualMode = false; // IPv4 has its own socket: no v4-mapped endpoints reach the engine
                s.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.PacketInformation, true);
            }
            else
            {
                s.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
            }
            s.ReceiveBufferSize = 1 << 20;
            // Non-blocking: a send never stalls the engine thread. A blocking sendto waits while the socket's
            // send buffer is full, and replies to spoofed on-link sources fill it: each sits in the kernel's
            // queue of an unresolved neighbour (ARP/ND) for seconds. An IKE_SA_INIT flood from such sources
            // (issue 9, IkeDosTests) stopped the engine for over a minute. Now such a datagram is dropped
            // and counted (SendsDropped): UDP may lose it anyway, and IKE retransmits (RFC 7296 §2.1).
            s.Blocking = false;
            s.Bind(new IPEndPoint(address, port));
            return new Bound(s, address, ((IPEndPoint)s.LocalEndPoint!).Port, natT);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Ports actually bound (port 0 asks the kernel for one; tests use that).</summary>
    public int IkePort => _sockets.Count > 0 ? _sockets[0].Port : _ikePort;
    public int NatTPort => _sockets.Count > 1 ? _sockets[1].Port : _natTPort;

    /// <summary>Datagrams received, keepalives, ESP seen on the IKE socket, invalid datagrams, receive errors.</summary>
    public (long Received, long Keepalives, long EspDropped, long Invalid, long Errors) Counters =>
        (Interlocked.Read(ref _received), Interlocked.Read(ref _keepalives), Interlocked.Read(ref _espDropped), Interlocked.Read(ref _invalid), Interlocked.Read(ref _errors));

    /// <summary>Datagrams not sent because the socket's send buffer was full (non-blocking send).</summary>
    public long SendsDropped => Interlocked.Read(ref _sendsDropped);

    private long _sendsDropped;

    /// <summary>Starts the receive thread(s); every IKE message goes to <paramref name="handler"/>.</summary>
    public void Start(IkeDatagramHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_handler is not null) throw new InvalidOperationException("already started");
        _handler = handler;
        foreach (var b in _sockets)
        {
            var t = new Thread(() => ReceiveLoop(b)) { IsBackground = true, Name = $"fastpath-ike-rx-{b.Port}" };
            _threads.Add(t);
            t.Start();
        }
    }

    private void ReceiveLoop(Bound b)
    {
        Interop.ThreadNice.SetCurrentThread(Interop.ThreadNice.Ike); // as the engine thread (ThreadNice.cs)
        var buffer = new byte[65536];
        while (!_disposed)
        {
            try
            {
                // The socket is non-blocking (see Open): wait for a datagram here, at most 0.5 s so Dispose is seen.
                if (!b.Socket.Poll(500_000, SelectMode.SelectRead)) continue;
            }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { if (_disposed) return; continue; }
            if (ReceiveFrom(b, buffer, _handler!) < 0) return;
        }
    }

    /// <summary>Sockets for <see cref="IPolledIkeTransport"/>: one per bound address and port.</summary>
    public int DescriptorCount => _sockets.Count;

    /// <summary>The file descriptor of socket <paramref name="index"/> (to poll for reading).</summary>
    public int Descriptor(int index) => (int)_sockets[index].Socket.SafeHandle.DangerousGetHandle();

    /// <summary>Polled mode: from now on the caller receives (ReceiveOne) on its own thread; Start is refused.</summary>
    public void StartPolled(IkeDatagramHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_handler is not null) throw new InvalidOperationException("already started");
        _handler = handler;
        _polledBuffer = new byte[65536];
    }

    /// <summary>Receives one datagram from socket <paramref name="index"/> if one is waiting (never blocks) and hands an IKE
    /// message to the polled handler; false when nothing was waiting or the transport is closed. One caller thread only.</summary>
    public bool ReceiveOne(int index)
    {
        if (_polledBuffer is null) throw new InvalidOperationException("StartPolled first");
        return !_disposed && ReceiveFrom(_sockets[index], _polledBuffer, _handler!) > 0;
    }

    // One receive step of socket b: 1 = a datagram was read (handled, or counted and dropped), 0 = nothing waiting or a
    // receive error (counted), -1 = closed. Never throws.
    private int ReceiveFrom(Bound b, byte[] buffer, IkeDatagramHandler handler)
    {
        EndPoint any = b.Address.AddressFamily == AddressFamily.InterNetworkV6 ? AnyV6 : AnyV4;
        {
            int n;
            IPEndPoint remote;
            IPAddress localAddress;
            try
            {
                EndPoint from = any;
                var flags = SocketFlags.None;
                n = b.Socket.ReceiveMessageFrom(buffer, 0, buffer.Length, ref flags, ref from, out IPPacketInformation info);
                remote = (IPEndPoint)from;
                localAddress = info.Address ?? b.Address;
                if ((flags & SocketFlags.Truncated) != 0) { Interlocked.Increment(ref _invalid); return 1; }
            }
            catch (ObjectDisposedException) { return -1; }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                return 0; // woken, but the datagram was gone (or an error was reported and cleared)
            }
            catch (SocketException e)
            {
                if (_disposed) return -1;
                // ICMP port unreachable of an earlier send surfaces as ConnectionReset on Linux: keep going.
                Interlocked.Increment(ref _errors);
                _log.LogDebug("IKE socket {Port}: receive error {Error}", b.Port, e.SocketErrorCode);
                return 0;
            }
            try
            {
                Interlocked.Increment(ref _received);
                var data = new ReadOnlySpan<byte>(buffer, 0, n);
                if (b.NatT)
                {
                    switch (NatT.Classify4500(data))
                    {
                        case Port4500Kind.Keepalive: Interlocked.Increment(ref _keepalives); return 1;
                        case Port4500Kind.Esp: Interlocked.Increment(ref _espDropped); return 1;
                        case Port4500Kind.Invalid: Interlocked.Increment(ref _invalid); return 1;
                    }
                    data = data[NatT.NonEspMarkerLength..];
                }
                else if (n < IkeHeader.Size)
                {
                    Interlocked.Increment(ref _invalid);
                    return 1;
                }
                handler(data, new IPEndPoint(localAddress, b.Port), remote);
            }
#pragma warning disable CA1031 // the receive thread must never die on bad input or a handler bug
            catch (Exception e)
            {
                Interlocked.Increment(ref _errors);
                _log.LogWarning(e, "IKE socket {Port}: handler failed", b.Port);
            }
#pragma warning restore CA1031
            return 1;
        }
    }

    private static readonly IPEndPoint AnyV4 = new(IPAddress.Any, 0);
    private static readonly IPEndPoint AnyV6 = new(IPAddress.IPv6Any, 0);

    private Bound? SocketFor(IPEndPoint local, AddressFamily family)
    {
        bool natT = local.Port == NatTPort && NatTPort != IkePort;
        Bound? wildcard = null;
        foreach (var b in _sockets)
        {
            if (b.NatT != natT || b.Address.AddressFamily != family) continue;
            if (b.Address.Equals(local.Address)) return b;
            if (b.Address.Equals(IPAddress.Any) || b.Address.Equals(IPAddress.IPv6Any)) wildcard ??= b;
        }
        if (wildcard is not null) return wildcard;
        foreach (var b in _sockets)
            if (b.NatT == natT && b.Address.AddressFamily == family) return b;
        return null;
    }

    public void Send(ReadOnlySpan<byte> ikeMessage, IPEndPoint local, IPEndPoint remote)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var b = SocketFor(local, remote.AddressFamily) ?? throw new InvalidOperationException($"no IKE socket for {local} -> {remote}");
        try
        {
            if (b.NatT)
            {
                byte[] d = NatT.AddNonEspMarker(ikeMessage);
                b.Socket.SendTo(d, SocketFlags.None, remote);
            }
            else
            {
                b.Socket.SendTo(ikeMessage, SocketFlags.None, remote);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.NoBufferSpaceAvailable)
        {
            Interlocked.Increment(ref _sendsDropped); // send buffer full: dropped, not waited for (see Open)
        }
    }

    /// <summary>Sends a NAT keepalive (one 0xFF byte from 4500, RFC 3948 §2.3).</summary>
    public void SendKeepalive(IPEndPoint local, IPEndPoint remote)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var b = SocketFor(new IPEndPoint(local.Address, NatTPort), remote.AddressFamily) ?? throw new InvalidOperationException($"no NAT-T socket for {local}");
        try { b.Socket.SendTo(NatT.Keepalive(), SocketFlags.None, remote); }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.NoBufferSpaceAvailable) { Interlocked.Increment(ref _sendsDropped); }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var b in _sockets)
        {
            try { b.Socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
            b.Socket.Dispose();
        }
        foreach (var t in _threads) t.Join(TimeSpan.FromSeconds(2));
    }
}
