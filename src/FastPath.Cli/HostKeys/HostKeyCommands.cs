using System;
using System.IO;

namespace FastPath.Cli.HostKeys;

// PLACEHOLDER SIGNATURES — the demo work fills this in.
// `fastpath newhostkey` / `showhostkey`, after FreeS/WAN's `ipsec newhostkey` / `ipsec showhostkey`.

public sealed class NewHostKeyOptions
{
    /// <summary>rsa (default, 3072 bits) | ecdsa (P-256) | ed25519.</summary>
    public string Type { get; init; } = "rsa";
    public int Bits { get; init; } = 3072;
    /// <summary>ipsec.secrets to append to (default /etc/ipsec.secrets).</summary>
    public string Output { get; init; } = "/etc/ipsec.secrets";
}

public sealed class ShowHostKeyOptions
{
    public string Secrets { get; init; } = "/etc/ipsec.secrets";
    /// <summary>Print as leftrsasigkey= (left), rightrsasigkey= (right), or the bare key.</summary>
    public string? Side { get; init; }
    public bool Json { get; init; }
}

public static class HostKeyCommands
{
    public static int NewHostKey(NewHostKeyOptions options, TextWriter stdout, TextWriter stderr) => throw new NotImplementedException();
    public static int ShowHostKey(ShowHostKeyOptions options, TextWriter stdout, TextWriter stderr) => throw new NotImplementedException();
}
