using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FastPath.Gateway.Control;

// The control protocol between `fastpath VERB` and the daemon (the whack ↔ Pluto equivalent):
//
//   RUNDIR/fastpath.ctl, a Unix stream socket, mode 0600, peer checked with SO_PEERCRED
//   (uid 0 or the daemon's own uid; anyone else gets exit 4 "permission denied").
//   One request per connection, one line of JSON each way (UTF-8, '\n'-terminated, ≤ 64 KiB):
//     → {"version":1,"verb":"status","name":null,"json":true}
//     ← {"ok":true,"exit":0,"text":"...human text...","data":{...},"error":null}
//   "text" is what the CLI prints without --json; "data" is the same information as JSON
//   (printed with --json). "exit" is the CLI's exit code (ExitCodes). docs/operations.md lists the verbs.

/// <summary>One request.</summary>
public sealed record ControlRequest(string Verb, string? Name = null, bool Json = false)
{
    public int Version { get; init; } = ControlProtocol.Version;
}

/// <summary>One response.</summary>
public sealed record ControlResponse(bool Ok, int Exit, string Text, JsonElement? Data = null, string? Error = null)
{
    public static ControlResponse Success(string text, object? data = null) =>
        new(true, ExitCodes.Ok, text, data is null ? null : JsonSerializer.SerializeToElement(data, ControlProtocol.Json));

    public static ControlResponse Failure(int exit, string error) => new(false, exit, "", null, error);
}

/// <summary>Exit codes of the `fastpath` command (docs/operations.md, "Exit codes").</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The verb ran and failed (verify found a problem, an SA could not be installed, ...).</summary>
    public const int Failed = 1;
    /// <summary>Bad command line (unknown verb, missing NAME, bad option value).</summary>
    public const int Usage = 2;
    /// <summary>No daemon answers on RUNDIR/fastpath.ctl.</summary>
    public const int NotRunning = 3;
    /// <summary>Not root / not the daemon's user (socket mode or SO_PEERCRED), or an action needing root.</summary>
    public const int PermissionDenied = 4;
    /// <summary>The named connection is not loaded.</summary>
    public const int UnknownConnection = 5;
    /// <summary>ipsec.conf / ipsec.secrets / policy files have errors (file:line:col listed).</summary>
    public const int BadConfig = 6;
}

public static class ControlProtocol
{
    public const int Version = 1;
    public const string SocketName = "fastpath.ctl";
    public const int MaxLine = 64 * 1024;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string SocketPath(string runDirectory) => System.IO.Path.Combine(runDirectory, SocketName);
}
