// This file is the example of docs/embedding.md, verbatim (EmbeddingTests runs it).
using System;
using System.Linq;
using System.Text;
using FastPath.Gateway.Daemon;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FastPath.Gateway.Tests.Daemon;

public static class EmbeddingExample
{
    /// <summary>Starts a gateway from an ipsec.conf on the interfaces "inside" and "outside".</summary>
    public static FastPathGateway StartGateway(string configPath, ILoggerFactory loggers)
    {
        var options = Options.Create(new FastPathGatewayOptions
        {
            ConfigPath = configPath,          // FreeS/WAN, Libreswan or strongSwan ipsec.conf
            SecretsPath = null,               // no ipsec.secrets: manual keys and shunts only
            InsideInterface = "inside",
            OutsideInterface = "outside",
            RunDirectory = null,              // no pid/ready/counters files
            MetricsPort = 0,                  // Prometheus text on 127.0.0.1:<any free port>/metrics
        });
        var gateway = new FastPathGateway(options, loggers);
        gateway.Start();                      // ConfigException: every error with file:line:col
        return gateway;
    }

    /// <summary>One line per conn, then the eroute table (what `fastpath status` / `eroute` print).</summary>
    public static string Describe(FastPathGateway gateway)
    {
        var sb = new StringBuilder();
        foreach (ConnectionReport c in gateway.ConnectionReports().Where(c => c.Kind != "policygroup"))
            sb.Append($"{c.Name}: {c.Kind} {c.State}, {c.Eroutes} eroutes, {c.Sas} SAs\n");
        sb.Append(gateway.FormatEroutes());
        return sb.ToString();
    }

    /// <summary>Takes a conn down and up again; the other conns are not touched.</summary>
    public static void Bounce(FastPathGateway gateway, string connection)
    {
        gateway.Down(connection);
        gateway.Up(connection);
    }
}
