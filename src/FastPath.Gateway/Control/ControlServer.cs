using System;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace FastPath.Gateway.Control;

// The daemon's end of the control socket (ControlProtocol.cs has the wire format):
//   bind RUNDIR/fastpath.ctl ─► chmod 0600 ─► listen
//   accept ─► SO_PEERCRED: uid 0 or ours? no → one refusal line (exit 4), close
//          ─► read one line (≤ 64 KiB, 5 s) ─► handler ─► one response line, close
// A client cannot stall others: each connection runs on its own task with a read timeout. A stale
// socket file from a crashed daemon is replaced (the caller checked that nothing answers on it).

/// <summary>Options of the control socket.</summary>
public sealed class ControlServerOptions
{
    /// <summary>The socket file's mode (0600: only the owner can connect at all).</summary>
    public UnixFileMode SocketMode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    /// <summary>Besides root, the uid allowed to talk (default: the daemon's own effective uid).</summary>
    public uint AllowedUid { get; init; } = PeerCredentials.EffectiveUid;
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>The Unix-socket control server.</summary>
public sealed partial class ControlServer : IDisposable
{
    private readonly Socket _listen;
    private readonly Func<ControlRequest, ControlResponse> _handler;
    private readonly ControlServerOptions _options;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _accept;

    public string Path { get; }

    public ControlServer(string socketPath, Func<ControlRequest, ControlResponse> handler, ILogger logger, ControlServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(socketPath);
        Path = socketPath;
        _handler = handler ?? throw new ArgumentNullException(nameof(handler));
        _log = logger ?? throw new ArgumentNullException(nameof(logger));
        _options = options ?? new ControlServerOptions();
        if (File.Exists(socketPath)) File.Delete(socketPath);
        _listen = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listen.Bind(new UnixDomainSocketEndPoint(socketPath));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(socketPath, _options.SocketMode);
            _listen.Listen(16);
        }
        catch
        {
            _listen.Dispose();
            throw;
        }
        _accept = new Thread(AcceptLoop) { IsBackground = true, Name = "fastpath-control" };
        _accept.Start();
    }

    private void AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = _listen.Accept(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private void Serve(Socket client)
    {
        using (client)
        using (var stream = new NetworkStream(client, ownsSocket: false))
        {
            try
            {
                PeerCredentials peer = PeerCredentials.Of(client);
                client.ReceiveTimeout = (int)_options.ReadTimeout.TotalMilliseconds;
                if (peer.Uid != 0 && peer.Uid != _options.AllowedUid)
                {
                    // The request is read (and ignored) first, so the client is not cut off mid-send
                    // and always gets the refusal line instead of a broken pipe.
                    ReadLine(stream);
                    LogRefused(peer.Uid, peer.Pid);
                    Write(stream, ControlResponse.Failure(ExitCodes.PermissionDenied,
                        $"permission denied: uid {peer.Uid} may not control this FastPath daemon (only root or uid {_options.AllowedUid}); run the command as root"));
                    return;
                }
                string? line = ReadLine(stream);
                ControlResponse response;
                if (line is null) response = ControlResponse.Failure(ExitCodes.Usage, "empty or oversized request (one JSON line of at most 64 KiB)");
                else
                {
                    ControlRequest? req = null;
                    try { req = JsonSerializer.Deserialize<ControlRequest>(line, ControlProtocol.Json); }
                    catch (JsonException e) { response = ControlResponse.Failure(ExitCodes.Usage, $"malformed request: {e.Message}"); Write(stream, response); return; }
                    if (req is null || string.IsNullOrEmpty(req.Verb)) response = ControlResponse.Failure(ExitCodes.Usage, "request without a verb");
                    else if (req.Version != ControlProtocol.Version) response = ControlResponse.Failure(ExitCodes.Usage, $"protocol version {req.Version} not supported (this daemon speaks {ControlProtocol.Version}); use the fastpath command of the same build");
                    else
                    {
                        LogRequest(req.Verb, req.Name ?? "", peer.Uid, peer.Pid);
                        response = _handler(req);
                    }
                }
                Write(stream, response);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                LogClientError(e.Message);
            }
        }
    }

    private static string? ReadLine(Stream s)
    {
        var buf = new MemoryStream();
        Span<byte> one = stackalloc byte[512];
        while (buf.Length <= ControlProtocol.MaxLine)
        {
            int n = s.Read(one);
            if (n == 0) break;
            int nl = one[..n].IndexOf((byte)'\n');
            if (nl >= 0) { buf.Write(one[..nl]); return Encoding.UTF8.GetString(buf.GetBuffer(), 0, (int)buf.Length); }
            buf.Write(one[..n]);
        }
        return buf.Length is > 0 and <= ControlProtocol.MaxLine ? Encoding.UTF8.GetString(buf.GetBuffer(), 0, (int)buf.Length) : null;
    }

    private static void Write(Stream s, ControlResponse r)
    {
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(r, ControlProtocol.Json);
        s.Write(bytes);
        s.WriteByte((byte)'\n');
        s.Flush();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listen.Dispose();
        _accept.Join(2000);
        try { File.Delete(Path); } catch (IOException) { }
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "control: refused uid {Uid} (pid {Pid}): not root and not the daemon's uid")]
    private partial void LogRefused(uint uid, int pid);
    [LoggerMessage(Level = LogLevel.Debug, Message = "control: {Verb} {Name} from uid {Uid} (pid {Pid})")]
    private partial void LogRequest(string verb, string name, uint uid, int pid);
    [LoggerMessage(Level = LogLevel.Debug, Message = "control: client error: {Error}")]
    private partial void LogClientError(string error);
}
