using System;
using System.Diagnostics;
using System.IO;
using System.Text.Json;
using FastPath.Gateway.Control;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace FastPath.Gateway.Tests.Daemon;

/// <summary>The control protocol on a real Unix socket in a temp dir: round trips, bad requests,
/// the socket's mode, and SO_PEERCRED refusal of a client running as `nobody`.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ControlSocketTests : IDisposable
{
    private readonly string _dir;

    public ControlSocketTests()
    {
        _dir = Directory.CreateTempSubdirectory("fp-dmn-ctl-").FullName;
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101); // 0755: nobody may reach the socket file
    }

    public void Dispose() => Directory.Delete(_dir, true);

    private static ControlResponse Echo(ControlRequest r) => r.Verb switch
    {
        "up" => ControlResponse.Success($"up {r.Name}\n", new { name = r.Name, json = r.Json }),
        _ => ControlResponse.Failure(ExitCodes.UnknownConnection, $"no {r.Verb}"),
    };

    [Fact]
    public void Request_and_response_round_trip_with_text_data_and_exit_code()
    {
        using var server = new ControlServer(ControlProtocol.SocketPath(_dir), Echo, NullLogger.Instance);
        ControlResponse ok = ControlClient.Send(_dir, new ControlRequest("up", "west-east", Json: true));
        Assert.True(ok.Ok);
        Assert.Equal("up west-east\n", ok.Text);
        Assert.Equal("west-east", ok.Data!.Value.GetProperty("name").GetString());
        Assert.True(ok.Data.Value.GetProperty("json").GetBoolean());
        ControlResponse bad = ControlClient.Send(_dir, new ControlRequest("down", "x"));
        Assert.False(bad.Ok);
        Assert.Equal(ExitCodes.UnknownConnection, bad.Exit);
        Assert.Equal("no down", bad.Error);
    }

    [Fact]
    public void Socket_is_0600_and_removed_on_dispose()
    {
        string path = ControlProtocol.SocketPath(_dir);
        using (new ControlServer(path, Echo, NullLogger.Instance))
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.False(File.Exists(path));
        var e = Assert.Throws<ControlClientException>(() => ControlClient.Send(_dir, new ControlRequest("up", "x")));
        Assert.Equal(ExitCodes.NotRunning, e.Exit);
        Assert.Contains("not running", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_and_wrong_version_requests_get_a_usage_error()
    {
        using var server = new ControlServer(ControlProtocol.SocketPath(_dir), Echo, NullLogger.Instance);
        string raw = RawExchange(ControlProtocol.SocketPath(_dir), "{not json\n", asNobody: false);
        using var d = JsonDocument.Parse(raw);
        Assert.Equal(ExitCodes.Usage, d.RootElement.GetProperty("exit").GetInt32());
        Assert.StartsWith("malformed request", d.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var v = JsonDocument.Parse(RawExchange(ControlProtocol.SocketPath(_dir), "{\"version\":99,\"verb\":\"up\",\"name\":\"a\"}\n", asNobody: false));
        Assert.Contains("protocol version 99 not supported", v.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_that_is_neither_root_nor_the_daemons_uid_is_refused_by_peer_credentials()
    {
        // Mode 0666 so that `nobody` can connect at all: SO_PEERCRED is then the only wall.
        using var server = new ControlServer(ControlProtocol.SocketPath(_dir), Echo, NullLogger.Instance,
            new ControlServerOptions { SocketMode = (UnixFileMode)0b110_110_110 });
        string raw = RawExchange(ControlProtocol.SocketPath(_dir), "{\"version\":1,\"verb\":\"up\",\"name\":\"a\"}\n", asNobody: true);
        using var d = JsonDocument.Parse(raw);
        Assert.False(d.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(ExitCodes.PermissionDenied, d.RootElement.GetProperty("exit").GetInt32());
        Assert.Matches(@"^permission denied: uid 65534 may not control this FastPath daemon \(only root or uid 0\)", d.RootElement.GetProperty("error").GetString());
        // Root itself is let through.
        Assert.True(ControlClient.Send(_dir, new ControlRequest("up", "a")).Ok);
    }

    [Fact]
    public void With_the_default_0600_mode_nobody_cannot_even_connect()
    {
        using var server = new ControlServer(ControlProtocol.SocketPath(_dir), Echo, NullLogger.Instance);
        string raw = RawExchange(ControlProtocol.SocketPath(_dir), "{\"version\":1,\"verb\":\"up\",\"name\":\"a\"}\n", asNobody: true);
        Assert.Contains("PermissionError", raw, StringComparison.Ordinal);
    }

    /// <summary>Sends <paramref name="line"/> with a Python client (optionally as uid nobody via setpriv) and returns what came back.</summary>
    private static string RawExchange(string socket, string line, bool asNobody)
    {
        const string py = "import socket,sys\ntry:\n s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);s.sendall(sys.argv[2].encode());print(s.makefile().readline().strip())\nexcept OSError as e:\n print(type(e).__name__, e)\n";
        var psi = new ProcessStartInfo(asNobody ? "setpriv" : "/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asNobody) foreach (string a in new[] { "--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(py);
        psi.ArgumentList.Add(socket);
        psi.ArgumentList.Add(line);
        using var p = Process.Start(psi)!;
        string o = p.StandardOutput.ReadToEnd();
        string e = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(20_000), "client did not finish");
        Assert.True(p.ExitCode == 0, $"client failed: {e}");
        return o.Trim();
    }
}
