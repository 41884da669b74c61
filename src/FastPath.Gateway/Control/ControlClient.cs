using System;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace FastPath.Gateway.Control;

// The CLI's end of the control socket: connect, one request line, one response line. Connection
// failures become the documented exit codes: no socket / refused → 3 (not running), EACCES → 4.

/// <summary>A control request could not be delivered; <see cref="Exit"/> is the CLI exit code.</summary>
public sealed class ControlClientException : Exception
{
    public int Exit { get; }
    public ControlClientException(int exit, string message) : base(message) => Exit = exit;
    public ControlClientException() { }
    public ControlClientException(string message) : base(message) { }
    public ControlClientException(string message, Exception inner) : base(message, inner) { }
}

public static class ControlClient
{
    /// <summary>Sends one request to the daemon of <paramref name="runDirectory"/>.</summary>
    public static ControlResponse Send(string runDirectory, ControlRequest request, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(runDirectory);
        ArgumentNullException.ThrowIfNull(request);
        string path = ControlProtocol.SocketPath(runDirectory);
        if (!Directory.Exists(runDirectory))
            throw new ControlClientException(ExitCodes.NotRunning, $"FastPath daemon not running: the run directory {runDirectory} does not exist (give the --rundir the daemon was started with; default /run/fastpath)");
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        int ms = (int)(timeout ?? TimeSpan.FromSeconds(60)).TotalMilliseconds;
        s.ReceiveTimeout = ms;
        s.SendTimeout = ms;
        try { s.Connect(new UnixDomainSocketEndPoint(path)); }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.ConnectionRefused || !File.Exists(path))
        {
            throw new ControlClientException(ExitCodes.NotRunning, $"FastPath daemon not running: nothing answers on {path} (start it with `fastpath start --rundir {runDirectory}`, or give the --rundir it was started with)");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new ControlClientException(ExitCodes.PermissionDenied, $"permission denied: {path} is only for root and the daemon's user (run the command as root)");
        }
        using var stream = new NetworkStream(s, ownsSocket: false);
        byte[] req = JsonSerializer.SerializeToUtf8Bytes(request, ControlProtocol.Json);
        try
        {
            stream.Write(req);
            stream.WriteByte((byte)'\n');
            using var reader = new StreamReader(stream, Encoding.UTF8);
            string? line = reader.ReadLine();
            if (line is null) throw new ControlClientException(ExitCodes.Failed, $"the daemon on {path} closed the connection without an answer (see its log)");
            return JsonSerializer.Deserialize<ControlResponse>(line, ControlProtocol.Json)
                ?? throw new ControlClientException(ExitCodes.Failed, "empty answer from the daemon");
        }
        catch (IOException e)
        {
            throw new ControlClientException(ExitCodes.Failed, $"talking to the daemon on {path}: {e.Message}");
        }
        catch (JsonException e)
        {
            throw new ControlClientException(ExitCodes.Failed, $"unreadable answer from the daemon on {path}: {e.Message}");
        }
    }
}
