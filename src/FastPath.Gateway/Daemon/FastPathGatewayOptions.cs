using System;
using System.Collections.Generic;
using FastPath.Config;

namespace FastPath.Gateway.Daemon;

// The options of one FastPathGateway (Microsoft.Extensions.Options: bind them from configuration with
// services.Configure<FastPathGatewayOptions>(...) or build them in code). Nothing here is static:
// several gateways per process each get their own options object.

/// <summary>Options of an embeddable gateway.</summary>
public sealed class FastPathGatewayOptions
{
    /// <summary>ipsec.conf to load (default /etc/ipsec.conf); ignored when <see cref="Config"/> is set.</summary>
    public string ConfigPath { get; set; } = "/etc/ipsec.conf";
    /// <summary>ipsec.secrets (default /etc/ipsec.secrets); a missing file is no error unless a conn needs a secret.</summary>
    public string? SecretsPath { get; set; } = "/etc/ipsec.secrets";
    /// <summary>Policy-group files (default: ipsec.d/policies next to the config file).</summary>
    public string? PoliciesDirectory { get; set; }
    /// <summary>ipsec.conf dialect (auto-detected by default).</summary>
    public ConfigDialect Dialect { get; set; } = ConfigDialect.Auto;
    /// <summary>Refuse group/world-readable secrets files (as Pluto did); tests in temp dirs may turn it off.</summary>
    public bool CheckSecretsPermissions { get; set; } = true;
    /// <summary>A configuration built in code instead of <see cref="ConfigPath"/> (reload then re-applies it).</summary>
    public IpsecConfig? Config { get; set; }

    /// <summary>The protected (cleartext) interface.</summary>
    public string InsideInterface { get; set; } = "inside";
    /// <summary>The public (ESP) interface.</summary>
    public string OutsideInterface { get; set; } = "outside";
    public GatewayIoKind Io { get; set; } = GatewayIoKind.AfPacket;
    public int Workers { get; set; } = 1;
    public IReadOnlyList<int>? Cpus { get; set; }
    public int BatchSize { get; set; } = 64;
    /// <summary>Forwarding off + nft ingress guard (turn off only to test the guard itself).</summary>
    public bool KernelGuard { get; set; } = true;

    /// <summary>Directory for pid, ready, counters.json (null: none are written).</summary>
    public string? RunDirectory { get; set; }

    /// <summary>IKE ports (RFC 7296 §2, RFC 3948); tests on loopback may use others.</summary>
    public int IkePort { get; set; } = 500;
    public int NatTPort { get; set; } = 4500;

    /// <summary>Upper bound of one updown script run (then it is killed and the kill logged).</summary>
    public TimeSpan UpdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Loopback TCP port of the Prometheus text endpoint (null = off; 0 = any free port).</summary>
    public int? MetricsPort { get; set; }
}
