using System;
using System.Threading;
using System.Threading.Tasks;

namespace FastPath.Cli.Demo;

// PLACEHOLDER SIGNATURES — the demo work fills this in. `fastpath demo` (README's main command).

/// <summary>Options of `fastpath demo`.</summary>
public sealed class DemoOptions
{
    /// <summary>Seconds of traffic.</summary>
    public int Seconds { get; init; } = 5;
    /// <summary>manual | ikev2 (ikev2 once the IKE daemon runs tunnels).</summary>
    public string Keying { get; init; } = "ikev2";
    public string Io { get; init; } = "afpacket";
    /// <summary>Keep the namespaces for inspection (printed how to delete them).</summary>
    public bool Keep { get; init; }
    public bool Json { get; init; }
}

public static class DemoCommand
{
    /// <summary>Runs the demo; returns the process exit code.</summary>
    public static Task<int> RunAsync(DemoOptions options, CancellationToken cancel) => throw new NotImplementedException();
}
