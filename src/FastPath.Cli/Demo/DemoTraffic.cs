// Traffic through the demo tunnel, every run bounded in count and time:
//   ping   `ping -n -c 5 -i 0.2 -W 1` sunset ↔ sunrise, IPv4 and IPv6, both directions; the first
//          packets resolve next hops, so each pair is warmed (≤ 6 single pings) before it counts
//   iperf3 TCP sunset → sunrise: server `iperf3 -s -1` in sunrise under `timeout`, client
//          `iperf3 -c 192.0.2.138 -t N -i 1 -f m --forceflush` under `timeout`; its per-second
//          interval lines feed the live display, its "receiver" line is the result
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace FastPath.Cli.Demo;

internal sealed record PingResult(string From, string To, int Sent, int Received, double AvgRttMs);

internal sealed record IperfInterval(double Start, double End, double Mbits);

internal sealed record IperfResult(double Seconds, double SenderMbits, double ReceiverMbits, long Retransmits, IReadOnlyList<IperfInterval> Intervals);

internal static partial class DemoTraffic
{
    public static async Task<PingResult> PingAsync(string ns, string from, string target, CancellationToken cancel, int count = 5)
    {
        string family = target.Contains(':', StringComparison.Ordinal) ? "-6" : "-4";
        for (int i = 0; i < 6; i++)
        {
            var (code, _) = await DemoShell.RunAsync(["ip", "netns", "exec", ns, "ping", family, "-n", "-c", "1", "-W", "1", target], 5000, cancel).ConfigureAwait(false);
            if (code == 0) break;
        }
        var (_, output) = await DemoShell.RunAsync(["ip", "netns", "exec", ns, "ping", family, "-n", "-c", count.ToString(CultureInfo.InvariantCulture), "-i", "0.2", "-W", "1", target],
            count * 1000 + 10_000, cancel).ConfigureAwait(false);
        Match m = PingStats().Match(output);
        Match rtt = PingRtt().Match(output);
        return new PingResult(from, target,
            m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : count,
            m.Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0,
            rtt.Success ? double.Parse(rtt.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN);
    }

    /// <summary>iperf3 TCP from <paramref name="clientNs"/> to <paramref name="target"/> in <paramref name="serverNs"/>;
    /// <paramref name="onInterval"/> sees each second's throughput as it arrives.</summary>
    public static async Task<IperfResult> IperfAsync(string clientNs, string serverNs, string target, int seconds, Action<IperfInterval> onInterval,
        Action<DemoProcess> started, CancellationToken cancel)
    {
        int port = 5201 + Random.Shared.Next(0, 400);
        string sec = seconds.ToString(CultureInfo.InvariantCulture);
        string bound = (seconds + 20).ToString(CultureInfo.InvariantCulture);
        var serverLines = new List<string>();
        using var server = DemoProcess.StartPiped("iperf3 server", ["ip", "netns", "exec", serverNs, "timeout", bound, "iperf3", "-s", "-1", "--forceflush", "-p", port.ToString(CultureInfo.InvariantCulture)],
            l => { lock (serverLines) serverLines.Add(l); });
        started(server);
        try
        {
            // The server listens within a few ms; wait until it says so (bounded), not a blind sleep.
            for (int i = 0; i < 40; i++)
            {
                lock (serverLines) if (serverLines.Exists(l => l.Contains("listening", StringComparison.OrdinalIgnoreCase))) break;
                if (server.HasExited) throw new DemoException("iperf3 server exited: " + string.Join('\n', serverLines));
                await Task.Delay(50, cancel).ConfigureAwait(false);
            }
            var lines = new List<string>();
            var intervals = new List<IperfInterval>();
            double sender = 0, receiver = 0, total = 0;
            long retr = 0;
            using var client = DemoProcess.StartPiped("iperf3 client",
                ["ip", "netns", "exec", clientNs, "timeout", bound, "iperf3", "-c", target, "-p", port.ToString(CultureInfo.InvariantCulture), "-t", sec, "-i", "1", "-f", "m", "--forceflush"],
                l =>
                {
                    lock (lines) lines.Add(l);
                    Match m = IperfLine().Match(l);
                    if (!m.Success) return;
                    double a = D(m.Groups[1].Value), b = D(m.Groups[2].Value), mbits = D(m.Groups[3].Value);
                    string tail = m.Groups[4].Value;
                    if (tail.Contains("sender", StringComparison.Ordinal))
                    {
                        sender = mbits; total = b;
                        Match r = Regex.Match(tail, @"^\s*(\d+)");
                        if (r.Success) retr = long.Parse(r.Groups[1].Value, CultureInfo.InvariantCulture);
                    }
                    else if (tail.Contains("receiver", StringComparison.Ordinal)) receiver = mbits;
                    else
                    {
                        var iv = new IperfInterval(a, b, mbits);
                        lock (intervals) intervals.Add(iv);
                        onInterval(iv);
                    }
                });
            started(client);
            try { await client.WaitAsync(cancel).ConfigureAwait(false); }
            finally { client.Stop(1000); }
            if (client.ExitCode != 0 && receiver == 0)
                throw new DemoException($"iperf3 failed (exit {client.ExitCode}):\n{string.Join('\n', lines)}");
            lock (intervals) return new IperfResult(total, sender, receiver, retr, intervals.ToArray());
        }
        finally
        {
            server.Stop(1000);
        }
    }

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) (?:packets )?received")]
    private static partial Regex PingStats();

    [GeneratedRegex(@"= [\d.]+/([\d.]+)/")]
    private static partial Regex PingRtt();

    // "[  5]   0.00-1.00   sec   112 MBytes   939 Mbits/sec    0    411 KBytes" (-f m: always Mbits/sec)
    [GeneratedRegex(@"^\[\s*\d+\]\s+([\d.]+)-([\d.]+)\s+sec\s+[\d.]+\s+\w?Bytes\s+([\d.]+)\s+Mbits/sec(.*)$")]
    private static partial Regex IperfLine();
}
