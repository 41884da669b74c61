using FastPath.Ike.Crypto;
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Threading;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using Microsoft.Extensions.Logging;

namespace FastPath.Ike.Engine;

// The IKEv2 engine (RFC 7296). One thread owns all state; every public method only queues work
// for it (Post), timers of the TimeProvider queue their work the same way, so nothing here needs
// a lock and tests can drive time with a fake clock.
//
// Flow of a received datagram (OnDatagram → Receive, engine thread):
//   parse (never throws; failure = counted drop)
//   IKE_SA_INIT request, SPIr = 0  → duplicate of a known (remote, SPIi)? resend our cached response;
//                                    else RespondSaInit (cookies, proposal, INVALID_KE, new half-open SA)
//   else look the SA up by our SPI (SPIr when the sender is the original initiator, SPIi otherwise);
//     unknown → counted, ignored
//   response: its ID must be the outstanding request's, else stale (counted, ignored)
//   request:  ID = last answered → resend the cached response (§2.1); ID = expected → handle;
//             anything else ignored (window 1, §2.3)
//   SK opened / SKF reassembled first (a message failing its ICV changes nothing, §2.21.1)
// Sending: one outstanding request per SA (window 1), others wait in sa.Waiting; retransmission
// after RetransmitBase·RetransmitFactor^n, n < RetransmitTries, then the exchange times out.
// Exchange handlers: IkeEngine.SaInit.cs, IkeEngine.Auth.cs, IkeEngine.Informational.cs.

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
    /// <summary>The UDP port IKE floats to (RFC 7296 §2.23, RFC 3948); the transport prepends the non-ESP marker on it.</summary>
    public int NatTPort { get; init; } = 4500;
    /// <summary>A responder's half-open IKE SA (IKE_SA_INIT answered, no IKE_AUTH) is dropped after this (strongSwan half_open_timeout).</summary>
    public TimeSpan HalfOpenTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Pause before keying try n+1 after try n failed (multiplied by n, at most 60 s).</summary>
    public TimeSpan KeyingRetryDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Unprotected error replies (INVALID_IKE_SPI, UNSUPPORTED_CRITICAL_PAYLOAD to IKE_SA_INIT) per second, engine-wide
    /// (a token bucket with a burst of the same size); 0 = never send them. Anyone can trigger them with a spoofed source.</summary>
    public double UnprotectedRepliesPerSecond { get; init; } = 10;
    /// <summary>After a CHILD_SA rekey's delete exchange the old inbound SA stays installed this much longer, so the
    /// peer's packets sent on it just before the delete (and still queued in the dataplane) are accepted; 0 = at once.</summary>
    public TimeSpan RekeyedInboundLinger { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Where an initiator's IKE_SA_INIT key pair comes from; null (the default, and the only setting for a
    /// gateway) = a fresh one per IKE SA. Load generators (tools/FastPath.IkeLoad --reuse-ke) hand out one shared key
    /// (KeyExchange.Shared) so that the side not under test is cheaper than the responder it drives.</summary>
    public Func<FastPath.Ike.Crypto.DhGroup, FastPath.Ike.Crypto.KeyExchange>? InitiatorKeyExchange { get; init; }
}

/// <summary>The IKEv2 keying daemon core: connections, IKE SAs and their CHILD_SAs, on one thread of its own.</summary>
public sealed partial class IkeEngine : IDisposable
{
    private readonly IkeEngineOptions _options;
    private readonly IIkeTransport _transport;
    private readonly IChildSaSink _sink;
    private readonly IChildSaSinkBarrier? _barrier;
    private readonly ILogger _log;
    private readonly IIkeObserver? _observer;
    private readonly TimeProvider _time;
    private readonly BlockingCollection<Action> _queue = new();
    // Held by the engine thread around each work item and each polled receive: "on the engine" = holding it (OnEngine).
    private readonly object _gate = new();
    private readonly Thread _thread;
    private int _pending;
    private volatile bool _disposed;
    private bool _started;

    // Engine-thread state.
    private readonly Dictionary<string, IkeConnection> _connections = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, IkeSa> _sas = [];
    private readonly Dictionary<(IPEndPoint, ulong), IkeSa> _initIndex = [];
    private readonly Dictionary<string, uint> _reqIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _keyingTries = new(StringComparer.Ordinal);
    private readonly HashSet<uint> _inboundSpis = [];
    private readonly CookieJar _cookies = new();
    private readonly Random _random = new();
    private int _serial;
    private uint _nextReqId = 1;

    // Counters (written on the engine thread, read by GetStatus there too).
    private long _messagesIn, _messagesOut, _retransmits, _invalid, _ikeUp, _childUp, _childRekeys, _ikeRekeys, _authFailures, _cookiesSent, _dpdTimeouts;
    private long _staleResponses, _unknownSpi;

    private int _engineThreadId;

    public IkeEngine(IkeEngineOptions options, IIkeTransport transport, IChildSaSink sink, ILogger logger, IIkeObserver? observer = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _transport = transport;
        _sink = sink;
        _barrier = sink as IChildSaSinkBarrier;
        _log = logger;
        _observer = observer;
        _time = time ?? TimeProvider.System;
        _thread = new Thread(Run) { IsBackground = true, Name = "fastpath-ike", Priority = ThreadPriority.BelowNormal };
        _thread.Start();
    }

    // ---- thread and queue -----------------------------------------------------------------

    private void Run()
    {
        _engineThreadId = Environment.CurrentManagedThreadId;
        Interop.ThreadNice.SetCurrentThread(Interop.ThreadNice.Ike); // the workers win the cores (ThreadNice.cs)
        while (true)
        {
            if (_polled is not null)
            {
                if (!PollOnce()) return;
                continue;
            }
            if (!_queue.TryTake(out var work, Timeout.Infinite)) return; // completed: disposed
            Execute(work);
        }
    }

    private void Execute(Action work)
    {
        lock (_gate)
        {
            try { work(); }
#pragma warning disable CA1031 // the engine thread survives any bug in a handler: log it, keep running
            catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
            finally { Interlocked.Decrement(ref _pending); }
        }
    }

    /// <summary>True on the engine thread inside a work item or a polled receive.</summary>
    private bool OnEngine => Monitor.IsEntered(_gate);

    private void Post(Action work)
    {
        if (_disposed) return;
        Interlocked.Increment(ref _pending);
        try { _queue.Add(work); }
        catch (InvalidOperationException) { Interlocked.Decrement(ref _pending); return; }
        WakePolled();
    }

    private T Invoke<T>(Func<T> f)
    {
        if (OnEngine || Environment.CurrentManagedThreadId == _engineThreadId) return f();
        if (_disposed) throw new ObjectDisposedException(nameof(IkeEngine));
        T result = default!;
        Exception? error = null;
        using var done = new ManualResetEventSlim();
        Post(() =>
        {
            try { result = f(); }
#pragma warning disable CA1031 // handed to the caller's thread
            catch (Exception e) { error = e; }
#pragma warning restore CA1031
            finally { done.Set(); }
        });
        if (!done.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException("IKE engine thread did not answer within 30 s");
        if (error is not null) throw new InvalidOperationException(error.Message, error);
        return result;
    }

    /// <summary>Work items queued or running (tests wait for 0).</summary>
    internal int PendingWork => Volatile.Read(ref _pending);

    private ITimer Schedule(TimeSpan due, Action work) =>
        _time.CreateTimer(_ => Post(work), null, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);

    private DateTimeOffset Now => _time.GetUtcNow();

    // ---- public API -------------------------------------------------------------------------

    public void AddConnection(IkeConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(connection.Name);
        Invoke(() =>
        {
            if (_connections.ContainsKey(connection.Name)) throw new ArgumentException($"connection \"{connection.Name}\" already exists", nameof(connection));
            _connections[connection.Name] = connection;
            LogConnectionAdded(connection.Name);
            if (_started && connection.StartAction == ConnectionStartAction.Start) InitiateCore(connection, null, null);
            return true;
        });
    }

    /// <summary>Replaces a connection's definition; SAs of an unchanged definition stay up.</summary>
    public void ReplaceConnection(IkeConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Invoke(() =>
        {
            if (!_connections.TryGetValue(connection.Name, out var old)) throw new ArgumentException($"no connection \"{connection.Name}\"", nameof(connection));
            _connections[connection.Name] = connection;
            // SAs keep the definition they were negotiated with (IkeConnection is immutable); new ones use the new one.
            _ = old;
            return true;
        });
    }

    /// <summary>Deletes the connection's SAs (INFORMATIONAL delete) and forgets it.</summary>
    public bool RemoveConnection(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Invoke(() =>
        {
            if (!_connections.Remove(name)) return false;
            TerminateCore(name);
            return true;
        });
    }

    public void Start() => Post(() =>
    {
        if (_started) return;
        _started = true;
        foreach (var c in _connections.Values.Where(c => c.StartAction == ConnectionStartAction.Start).ToList())
            InitiateCore(c, null, null);
    });

    /// <summary>Deletes every IKE SA (one INFORMATIONAL delete each, not waited for) and uninstalls the children.</summary>
    public void Stop()
    {
        if (_disposed) return;
        try
        {
            Invoke(() =>
            {
                _started = false;
                foreach (var sa in _sas.Values.ToList())
                {
                    if (sa.State == IkeSaState.Established && sa.Keys is not null) SendDeleteNoWait(sa);
                    Destroy(sa, "shutdown", restart: false);
                }
                DeleteLingeringInbound();
                return true;
            });
        }
        catch (TimeoutException) { }
    }

    /// <summary>A received IKE message (non-ESP marker already removed on 4500). Copies; never throws.</summary>
    public void OnDatagram(ReadOnlySpan<byte> ikeMessage, IPEndPoint local, IPEndPoint remote)
    {
        if (_disposed || local is null || remote is null) return;
        if (ikeMessage.Length > IkeMessage.MaxLength) { Interlocked.Increment(ref _invalid); return; }
        byte[] copy = ikeMessage.ToArray();
        Post(() => Receive(copy, local, remote));
    }

    /// <summary>`up NAME`: establish the IKE SA and the connection's CHILD_SA.</summary>
    public void Initiate(string connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Invoke(() =>
        {
            if (!_connections.TryGetValue(connection, out var c)) throw new ArgumentException($"no connection \"{connection}\"", nameof(connection));
            if (c.RemoteAddress is null) throw new InvalidOperationException($"\"{connection}\": right=%any cannot initiate");
            _keyingTries[c.Name] = 0;
            InitiateCore(c, null, null);
            return true;
        });
    }

    /// <summary>`down NAME`: delete its SAs.</summary>
    public void Terminate(string connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Post(() => TerminateCore(connection));
    }

    /// <summary>`rekey NAME` (swanctl --rekey): start a CREATE_CHILD_SA rekey now, of every CHILD_SA of the connection
    /// (<paramref name="ike"/> false) or of its IKE SA (true). False when the connection has no established IKE SA.</summary>
    public bool Rekey(string connection, bool ike)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return Invoke(() =>
        {
            if (!_connections.ContainsKey(connection)) throw new ArgumentException($"no connection \"{connection}\"", nameof(connection));
            bool any = false;
            foreach (var sa in _sas.Values.Where(s => s.Connection.Name == connection && s.State == IkeSaState.Established).ToList())
            {
                any = true;
                if (ike) RekeyIke(sa);
                else foreach (var ch in sa.Children.Where(c => c.State == ChildSaState.Installed && c.PendingReplacement is null && !c.OutboundPending).ToList()) RekeyChild(sa, ch);
            }
            return any;
        });
    }

    /// <summary>A %trap eroute of <paramref name="connection"/> caught a packet (dataplane ACQUIRE).</summary>
    public void OnAcquire(string connection, IPAddress source, IPAddress destination, byte protocol, ushort sourcePort, ushort destinationPort)
    {
        if (connection is null || source is null || destination is null) return;
        Post(() =>
        {
            if (!_connections.TryGetValue(connection, out var c) || c.RemoteAddress is null) return;
            if (_sas.Values.Any(s => s.Connection.Name == c.Name && s.State is IkeSaState.Connecting or IkeSaState.Authenticating)) return;
            if (_sas.Values.Any(s => s.Connection.Name == c.Name && s.State == IkeSaState.Established && s.Children.Count > 0
                && s.Children.Any(ch => ch.Install.LocalTs.Any(t => TrafficSelectors.Intersect(t, TrafficSelectors.FromAddress(source)) is not null)
                    && ch.Install.RemoteTs.Any(t => TrafficSelectors.Intersect(t, TrafficSelectors.FromAddress(destination)) is not null)))) return;
            // §2.9: the first selector pair is the packet that triggered the request, with its ports when a
            // port-carrying protocol; the responder may then narrow to it.
            bool ports = protocol is 6 or 17 or 132;
            var tsI = TrafficSelectors.FromAddress(source, protocol, ports ? sourcePort : (ushort)0, ports ? sourcePort : (ushort)65535);
            var tsR = TrafficSelectors.FromAddress(destination, protocol, ports ? destinationPort : (ushort)0, ports ? destinationPort : (ushort)65535);
            LogAcquire(c.Name, TrafficSelectors.Format(tsI), TrafficSelectors.Format(tsR));
            _keyingTries[c.Name] = 0;
            InitiateCore(c, tsI, tsR);
        });
    }

    /// <summary>The dataplane reached a volume limit of an SA (soft: rekey; hard: it is gone).</summary>
    public void OnChildLifetime(uint spi, bool inbound, bool hard) => Post(() =>
    {
        foreach (var sa in _sas.Values.ToList())
            foreach (var ch in sa.Children.ToList())
            {
                if ((inbound ? ch.InboundSpi : ch.OutboundSpi) != spi) continue;
                if (hard)
                {
                    LogChildExpired(sa.Connection.Name, ch.Serial, "hard volume limit");
                    DeleteChild(sa, ch, notifyPeer: true, "hard lifetime");
                }
                else
                {
                    LogChildExpired(sa.Connection.Name, ch.Serial, "soft volume limit: rekeying");
                    RekeyChild(sa, ch);
                }
            }
    });

    public IkeStatus GetStatus() => Invoke(BuildStatus);

    public void Dispose()
    {
        if (_disposed) return;
        try
        {
            Invoke(() =>
            {
                foreach (var sa in _sas.Values.ToList()) sa.CancelTimers();
                return true;
            });
        }
        catch (TimeoutException) { }
        catch (ObjectDisposedException) { }
        _disposed = true;
        _queue.CompleteAdding();
        WakePolled();
        if (Environment.CurrentManagedThreadId != _engineThreadId) _thread.Join(TimeSpan.FromSeconds(5));
        _queue.Dispose();
        if (_eventFd >= 0) { Interop.PollInterop.Close(_eventFd); _eventFd = -1; }
    }

    // ---- receive ------------------------------------------------------------------------------

    private void Receive(byte[] bytes, IPEndPoint local, IPEndPoint remote)
    {
        _messagesIn++;
        var parsed = IkeMessage.Parse(bytes);
        if (!parsed.Ok)
        {
            _invalid++;
            LogInvalidMessage(remote.ToString(), parsed.Error.ToString());
            if (!ReplyInvalidMajorVersion(bytes, parsed.Error, local, remote))
                ReplyUnsupportedCriticalSaInit(bytes, parsed.Error, local, remote);
            return;
        }
        var msg = parsed.Value!;
        var h = msg.Header;
        if (h.Exchange == ExchangeType.IkeSaInit && !h.IsResponse)
        {
            if (h.ResponderSpi != 0 || h.MessageId != 0 || !h.IsInitiator) { _invalid++; return; }
            if (_initIndex.TryGetValue((remote, h.InitiatorSpi), out var known))
            {
                // A retransmitted IKE_SA_INIT (§2.1): the same response again, no new state.
                if (known.InitRequest.AsSpan().SequenceEqual(bytes) && known.InitResponse.Length > 0)
                    Transmit(known, [known.InitResponse], local, remote);
                return;
            }
            RespondSaInit(msg, bytes, local, remote);
            return;
        }
        ulong ourSpi = h.IsInitiator ? h.ResponderSpi : h.InitiatorSpi;
        if (!_sas.TryGetValue(ourSpi, out var sa) || (sa.Initiator == h.IsInitiator))
        {
            _unknownSpi++;
            LogUnknownSpi(remote.ToString(), ExchangeName(h.Exchange), h.InitiatorSpi, h.ResponderSpi);
            ReplyInvalidIkeSpi(h, local, remote);
            return;
        }
        if (h.Exchange == ExchangeType.IkeSaInit)
        {
            if (sa.State == IkeSaState.Connecting && sa.Outstanding is { Exchange: ExchangeType.IkeSaInit } && h.MessageId == 0)
                HandleSaInitResponse(sa, msg, bytes, local, remote);
            else
                _staleResponses++;
            return;
        }
        if (sa.Keys is null || (sa.Initiator && sa.SpiR != h.ResponderSpi)) { _unknownSpi++; return; }

        if (h.IsResponse)
        {
            if (sa.Outstanding is null || sa.Outstanding.MessageId != h.MessageId || sa.Outstanding.Exchange != h.Exchange)
            {
                _staleResponses++;
                LogStaleResponse(sa.Connection.Name, sa.Serial, h.MessageId);
                return;
            }
            var inner = Open(sa, msg, bytes, out _, out _);
            if (inner is null) return;
            sa.LastInbound = Now;
            var req = sa.Outstanding;
            req.Timer?.Dispose();
            sa.Outstanding = null;
            req.OnResponse(msg, inner);
            PumpWaiting(sa);
            return;
        }

        // A request from the peer.
        if (h.MessageId == sa.LastResponseId && sa.LastResponse is not null)
        {
            var again = Open(sa, msg, bytes, out bool alreadyComplete, out byte againCritical);
            if (again is not null || againCritical != 0 || (alreadyComplete && msg.Fragment?.FragmentNumber == 1))
            {
                LogResendResponse(sa.Connection.Name, sa.Serial, h.MessageId);
                Transmit(sa, sa.LastResponse, local, remote);
            }
            return;
        }
        if (h.MessageId != sa.ExpectedPeerRequestId)
        {
            _staleResponses++;
            return;
        }
        var payloads = Open(sa, msg, bytes, out _, out byte critical);
        if (payloads is null)
        {
            // Authentic, but it names a critical payload type we do not know: the request is rejected
            // with that type (§2.5), and it consumed its message ID.
            if (critical != 0) ReplyUnsupportedCritical(sa, h, critical);
            return;
        }
        sa.LastInbound = Now;
        // The peer's current address (a NAT may have changed its port; §2.23: the responder replies
        // to where the request came from, from where it arrived).
        sa.Local = local;
        sa.Remote = remote;
        switch (h.Exchange)
        {
            case ExchangeType.IkeAuth:
                HandleAuthRequest(sa, msg, payloads);
                break;
            case ExchangeType.Informational:
                HandleInformationalRequest(sa, msg, payloads);
                break;
            case ExchangeType.CreateChildSa:
                HandleCreateChildSaRequest(sa, msg, payloads);
                break;
            default:
                _invalid++;
                break;
        }
    }

    /// <summary>Opens SK or reassembles SKF; null when not (yet) a whole authentic message. <paramref name="unsupportedCritical"/>:
    /// the message was authentic but its inner chain has an unknown payload type with the critical bit (that type; 0 otherwise).</summary>
    private List<IkePayload>? Open(IkeSa sa, IkeMessage msg, byte[] bytes, out bool alreadyComplete, out byte unsupportedCritical)
    {
        alreadyComplete = false;
        unsupportedCritical = 0;
        if (msg.Encrypted is not null)
        {
            var r = msg.DecryptSk(bytes, sa.InboundCipher);
            if (!r.Ok)
            {
                _invalid++;
                if (r.Error.Code == ParseErrorCode.UnsupportedCriticalPayload) unsupportedCritical = r.Error.PayloadType;
                LogDecryptFailed(sa.Connection.Name, sa.Serial, msg.Header.MessageId, r.Error.ToString());
                return null;
            }
            return r.Value!.ToList();
        }
        if (msg.Fragment is not null)
        {
            var r = sa.Reassembler.Add(msg, bytes, sa.InboundCipher, Now.ToUnixTimeMilliseconds());
            switch (r.Status)
            {
                case ReassemblyStatus.Complete:
                    LogReassembled(sa.Connection.Name, sa.Serial, msg.Header.MessageId, msg.Fragment.TotalFragments);
                    return r.Payloads!.ToList();
                case ReassemblyStatus.AlreadyComplete:
                    alreadyComplete = true;
                    return null;
                case ReassemblyStatus.Discarded:
                    _invalid++;
                    if (r.Error.Code == ParseErrorCode.UnsupportedCriticalPayload) unsupportedCritical = r.Error.PayloadType;
                    return null;
                default:
                    return null;
            }
        }
        _invalid++;
        return null;
    }

    // ---- send ---------------------------------------------------------------------------------

    private void Transmit(IkeSa sa, IReadOnlyList<byte[]> datagrams, IPEndPoint? local = null, IPEndPoint? remote = null)
    {
        // An asynchronous sink (IChildSaSinkBarrier): the message waits until the dataplane changes this SA asked
        // for are in effect — the IKE_AUTH or CREATE_CHILD_SA response must not reach the peer (which then sends
        // ESP on the new SA) before the inbound SA is in its worker and the eroutes name the outbound one. Later
        // messages of the SA queue behind it (order kept); other SAs are not held up, the engine thread never waits.
        if (sa.SinkMark != 0 && _barrier is { } b)
        {
            if (sa.Deferred is null && b.IsApplied(sa.SinkMark))
            {
                sa.SinkMark = 0;
            }
            else
            {
                bool first = sa.Deferred is null;
                (sa.Deferred ??= new()).Enqueue((datagrams, local, remote));
                if (first) b.WhenApplied(sa.SinkMark, () => Post(() => FlushDeferred(sa)));
                return;
            }
        }
        TransmitNow(sa, datagrams, local, remote);
    }

    /// <summary>The sink caught up with <see cref="IkeSa.SinkMark"/> as it was: sends what waited (the SA may be
    /// gone meanwhile: a queued DELETE response still goes), or waits again when the SA touched the sink since.</summary>
    private void FlushDeferred(IkeSa sa)
    {
        if (sa.Deferred is not { } q) return;
        if (_barrier is { } b && sa.SinkMark != 0 && !b.IsApplied(sa.SinkMark))
        {
            b.WhenApplied(sa.SinkMark, () => Post(() => FlushDeferred(sa)));
            return;
        }
        sa.SinkMark = 0;
        sa.Deferred = null;
        while (q.TryDequeue(out var m)) TransmitNow(sa, m.Datagrams, m.Local, m.Remote);
    }

    /// <summary>After sink calls for <paramref name="sa"/>'s children: its next message waits for them (asynchronous sinks).</summary>
    private void SinkTouched(IkeSa sa)
    {
        if (_barrier is { } b) sa.SinkMark = b.Mark();
    }

    private void TransmitNow(IkeSa sa, IReadOnlyList<byte[]> datagrams, IPEndPoint? local, IPEndPoint? remote)
    {
        foreach (var d in datagrams)
        {
            _messagesOut++;
            try { _transport.Send(d, local ?? sa.Local, remote ?? sa.Remote); }
#pragma warning disable CA1031 // a failing socket (no route, interface down) is a lost datagram: retransmission copes
            catch (Exception e) { LogSendFailed((remote ?? sa.Remote).ToString(), e.Message); }
#pragma warning restore CA1031
        }
    }

    /// <summary>SK-protected message of <paramref name="sa"/>; RFC 7383 fragments when both sides support them and it is too big.</summary>
    private IReadOnlyList<byte[]> BuildProtected(IkeSa sa, ExchangeType exchange, bool response, uint messageId, IReadOnlyList<IkePayload> inner)
    {
        var flags = (sa.Initiator ? IkeFlags.Initiator : IkeFlags.None) | (response ? IkeFlags.Response : IkeFlags.None);
        var header = IkeHeader.Create(sa.SpiI, sa.SpiR, exchange, flags, messageId);
        byte[] whole = IkeMessageBuilder.BuildEncrypted(header, [], inner, sa.OutboundCipher);
        int limit = _options.FragmentSize - (sa.Local.Port == _options.NatTPort ? NatT.NonEspMarkerLength : 0);
        if (sa.PeerFragmentation && sa.Connection.Fragmentation && whole.Length > limit)
        {
            var frags = IkeMessageBuilder.BuildFragments(header, inner, sa.OutboundCipher, limit);
            LogFragmented(sa.Connection.Name, sa.Serial, ExchangeName(exchange), whole.Length, frags.Count);
            return frags;
        }
        return [whole];
    }

    /// <summary>Sends (or queues, window 1) a request on an SA with keys.</summary>
    private void SendRequest(IkeSa sa, ExchangeType exchange, Func<List<IkePayload>> inner, Action<IkeMessage, IReadOnlyList<IkePayload>> onResponse,
        Action onTimeout, bool liveness = false, TimeSpan? deadline = null)
    {
        void Go()
        {
            if (sa.State == IkeSaState.Dead) return;
            uint id = sa.NextRequestId++;
            var req = new PendingRequest
            {
                MessageId = id,
                Exchange = exchange,
                Datagrams = BuildProtected(sa, exchange, false, id, inner()),
                OnResponse = onResponse,
                OnTimeout = onTimeout,
                FirstSent = Now,
                IsLiveness = liveness,
                Deadline = deadline,
            };
            StartRequest(sa, req);
        }
        if (sa.Outstanding is null) Go();
        else sa.Waiting.Enqueue(Go);
    }

    private void StartRequest(IkeSa sa, PendingRequest req)
    {
        sa.Outstanding = req;
        Transmit(sa, req.Datagrams);
        ArmRetransmit(sa, req);
    }

    private void ArmRetransmit(IkeSa sa, PendingRequest req)
    {
        var delay = TimeSpan.FromTicks((long)(_options.RetransmitBase.Ticks * Math.Pow(_options.RetransmitFactor, req.Retransmits)));
        if (req.Deadline is { } dl)
        {
            var left = req.FirstSent + dl - Now;
            if (left < delay) delay = left;
        }
        req.Timer?.Dispose();
        req.Timer = Schedule(delay, () => OnRetransmitTimer(sa, req));
    }

    private void OnRetransmitTimer(IkeSa sa, PendingRequest req)
    {
        if (sa.Outstanding != req || sa.State == IkeSaState.Dead) return;
        bool pastDeadline = req.Deadline is { } dl && Now - req.FirstSent >= dl;
        if (req.Retransmits >= _options.RetransmitTries || pastDeadline)
        {
            sa.Outstanding = null;
            LogExchangeTimeout(sa.Connection.Name, sa.Serial, ExchangeName(req.Exchange), req.MessageId, req.Retransmits);
            req.OnTimeout();
            return;
        }
        req.Retransmits++;
        _retransmits++;
        LogRetransmit(sa.Connection.Name, sa.Serial, ExchangeName(req.Exchange), req.MessageId, req.Retransmits);
        Transmit(sa, req.Datagrams);
        ArmRetransmit(sa, req);
    }

    private void PumpWaiting(IkeSa sa)
    {
        while (sa.Outstanding is null && sa.Waiting.Count > 0 && sa.State != IkeSaState.Dead)
            sa.Waiting.Dequeue()();
    }

    /// <summary>Sends our response to the peer's request <paramref name="messageId"/> and caches it for retransmitted requests.</summary>
    private void SendResponse(IkeSa sa, ExchangeType exchange, uint messageId, IReadOnlyList<IkePayload> inner)
    {
        var d = BuildProtected(sa, exchange, true, messageId, inner);
        sa.LastResponseId = messageId;
        sa.LastResponse = d;
        sa.ExpectedPeerRequestId = messageId + 1;
        Transmit(sa, d);
    }

    // ---- SA table -----------------------------------------------------------------------------

    private int NextSerial() => Interlocked.Increment(ref _serial);

    private ulong NewSpi()
    {
        Span<byte> b = stackalloc byte[8];
        ulong v;
        do
        {
            IkeRandom.Fill(b);
            v = BitConverter.ToUInt64(b);
        } while (v == 0 || _sas.ContainsKey(v));
        return v;
    }

    private uint NewChildSpi()
    {
        Span<byte> b = stackalloc byte[4];
        uint v;
        do
        {
            IkeRandom.Fill(b);
            v = BitConverter.ToUInt32(b);
        } while (v < 0x100 || _inboundSpis.Contains(v)); // SPIs 1..255 are reserved (RFC 4303 §2.1)
        _inboundSpis.Add(v);
        return v;
    }

    private uint ReqIdOf(IkeConnection c)
    {
        if (!_reqIds.TryGetValue(c.Name, out uint r)) _reqIds[c.Name] = r = _nextReqId++;
        return r;
    }

    /// <summary>Removes the SA and uninstalls its children; applies keyingtries/DPD restart when asked.</summary>
    private void Destroy(IkeSa sa, string reason, bool restart)
    {
        if (sa.State == IkeSaState.Dead) return;
        bool wasUp = sa.State == IkeSaState.Established || sa.State == IkeSaState.Deleting && sa.Established is not null;
        sa.State = IkeSaState.Dead;
        sa.CancelTimers();
        sa.Outstanding = null;
        sa.Waiting.Clear();
        foreach (var ch in sa.Children.ToList()) UninstallChild(sa, ch, reason, rekey: false);
        sa.Children.Clear();
        _sas.Remove(sa.LocalSpi);
        if (sa.InitKey is { } k && _initIndex.TryGetValue(k, out var x) && x == sa) _initIndex.Remove(k);
        sa.Dh?.Dispose();
        sa.Dh = null;
        LogIkeSaDeleted(sa.Connection.Name, sa.Serial, reason);
        if (wasUp)
        {
            try { _observer?.IkeSaDown(sa.Connection, sa.Serial, reason); }
#pragma warning disable CA1031 // an observer must not break the engine
            catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
        }
        if (restart && _connections.TryGetValue(sa.Connection.Name, out var c) && c.RemoteAddress is not null)
        {
            LogRestart(c.Name, sa.Serial);
            _keyingTries[c.Name] = 0;
            InitiateCore(c, sa.AcquireTsI, sa.AcquireTsR);
        }
    }

    private void UninstallChild(IkeSa sa, ChildSa ch, string reason, bool rekey)
    {
        ch.CancelTimers();
        try
        {
            _sink.DeleteOutbound(ch.OutboundSpi);
            _sink.DeleteInbound(ch.InboundSpi);
        }
#pragma warning disable CA1031 // the dataplane failing to delete must not leave the engine inconsistent
        catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
        SinkTouched(sa);
        _inboundSpis.Remove(ch.InboundSpi);
        LogChildDeleted(sa.Connection.Name, ch.Serial, ch.InboundSpi, ch.OutboundSpi, reason);
        try { _observer?.ChildSaDown(sa.Connection, ch.Install, rekey, reason); }
#pragma warning disable CA1031
        catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
    }

    private void TerminateCore(string name)
    {
        foreach (var sa in _sas.Values.Where(s => s.Connection.Name == name).ToList())
        {
            _keyingTries[name] = int.MinValue; // no keying retries after an explicit down
            if (sa.State == IkeSaState.Established && sa.Keys is not null) DeleteIkeSa(sa, "terminated by request");
            else Destroy(sa, "terminated by request", restart: false);
        }
    }

    /// <summary>Keying try failed: retry per keyingtries= (0 = forever) with a growing pause.</summary>
    private void KeyingFailed(IkeSa sa, string reason)
    {
        var c = sa.Connection;
        int tries = sa.KeyingTry;
        Destroy(sa, reason, restart: false);
        if (!_connections.TryGetValue(c.Name, out var current) || current.RemoteAddress is null) return;
        if (_keyingTries.TryGetValue(c.Name, out int marker) && marker == int.MinValue) return;
        if (current.KeyingTries != 0 && tries >= current.KeyingTries)
        {
            LogKeyingGaveUp(c.Name, tries);
            return;
        }
        var delay = TimeSpan.FromTicks(Math.Min(_options.KeyingRetryDelay.Ticks * tries, TimeSpan.FromSeconds(60).Ticks));
        LogKeyingRetry(c.Name, tries + 1, delay.TotalSeconds);
        var tsI = sa.AcquireTsI;
        var tsR = sa.AcquireTsR;
        Schedule(delay, () =>
        {
            if (!_connections.TryGetValue(c.Name, out var cc)) return;
            if (_keyingTries.TryGetValue(c.Name, out int m) && m == int.MinValue) return;
            if (_sas.Values.Any(s => s.Connection.Name == c.Name && s.State != IkeSaState.Dead)) return;
            InitiateCore(cc, tsI, tsR, tries + 1);
        });
    }

    // ---- status -------------------------------------------------------------------------------

    private IkeStatus BuildStatus()
    {
        var conns = _connections.Values.Select(c => new ConnectionStatus(c.Name,
            $"{c.LocalAddress?.ToString() ?? "%any"}[{c.LocalPort}]", $"{c.RemoteAddress?.ToString() ?? "%any"}[{c.RemotePort}]",
            (c.LocalId ?? (c.LocalAddress is null ? null : IkeIdentity.FromAddress(c.LocalAddress)))?.ToString() ?? "%any",
            (c.RemoteId ?? (c.RemoteAddress is null ? null : IkeIdentity.FromAddress(c.RemoteAddress)))?.ToString() ?? "%any",
            $"{c.LocalAuth}/{c.RemoteAuth}",
            string.Join(",", c.IkeProposals.Proposals), string.Join(",", c.EspProposals.Proposals),
            TrafficSelectors.Format(c.LocalTs), TrafficSelectors.Format(c.RemoteTs), c.StartAction.ToString(), c.DpdAction.ToString())).ToList();
        var sas = _sas.Values.OrderBy(s => s.Serial).Select(s => new IkeSaStatus(s.Serial, s.Connection.Name, s.StateName, s.Initiator, s.SpiI, s.SpiR,
            s.Local.ToString(), s.Remote.ToString(), s.LocalId?.ToString() ?? "", s.PeerId?.ToString() ?? "", s.Suite?.ToString() ?? "",
            s.NatLocal || s.NatRemote, s.Established, null,
            s.Children.Select(ch =>
            {
                var i = SafeUsage(ch.InboundSpi, true);
                var o = SafeUsage(ch.OutboundSpi, false);
                return new ChildSaStatus(ch.Serial, ch.Install.ReqId, ch.State == ChildSaState.Installed ? "INSTALLED" : "DELETING", ch.InboundSpi, ch.OutboundSpi,
                    ch.Install.Suite.ToString(), ch.Install.UdpEncapsulation, ch.Install.Transport ? "TRANSPORT" : "TUNNEL",
                    TrafficSelectors.Format(ch.Install.LocalTs), TrafficSelectors.Format(ch.Install.RemoteTs), i.Bytes, i.Packets, o.Bytes, o.Packets,
                    ch.Installed, null, ch.Installed + s.Connection.ChildLifetime);
            }).ToList())).ToList();
        int halfOpen = _sas.Values.Count(s => !s.Initiator && s.State == IkeSaState.Connecting);
        var counters = new IkeEngineCounters(_messagesIn, _messagesOut, _retransmits, _invalid + _staleResponses + _unknownSpi, _ikeUp, _childUp, _childRekeys, _ikeRekeys,
            _authFailures, _cookiesSent, halfOpen, _dpdTimeouts);
        return new IkeStatus(conns, sas, counters);
    }

    private ChildSaUsage SafeUsage(uint spi, bool inbound)
    {
        try { return _sink.Usage(spi, inbound); }
#pragma warning disable CA1031 // status must not fail because the dataplane does
        catch (Exception) { return default; }
#pragma warning restore CA1031
    }

    /// <summary>Test seam: one protected request of <paramref name="exchange"/> with exactly <paramref name="inner"/> over the
    /// connection's established IKE SA; <paramref name="onResponse"/> gets the decrypted response payloads.</summary>
    internal void SendRequestForTest(string connection, ExchangeType exchange, IReadOnlyList<IkePayload> inner, Action<IReadOnlyList<IkePayload>> onResponse) => Invoke(() =>
    {
        var sa = _sas.Values.First(s => s.Connection.Name == connection && s.State == IkeSaState.Established);
        SendRequest(sa, exchange, () => [.. inner], (_, p) => onResponse(p), () => { });
        return true;
    });

    /// <summary>Drops of peer input by reason, for tests and metrics: (invalid, stale responses/requests, unknown SPI).</summary>
    internal (long Invalid, long Stale, long UnknownSpi) DropCounters => Invoke(() => (_invalid, _staleResponses, _unknownSpi));
}
