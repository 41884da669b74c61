using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Text.Json;

namespace FastPath.IkeLoad;

// fastpath-ikeload: IKE SA + first CHILD_SA establishment rate (issue 6).
//
//   fastpath-ikeload --target 198.51.100.1 --sources 198.51.100.10+16 --concurrency 64 \
//                    --warmup 2 --seconds 10 [--label fastpath] [--json out.json] [--slot-offset N] [--start-at UNIX] [--reuse-ke]
//       load generator (LoadGenerator.cs): prints one JSON result (stdout and --json); --reuse-ke: one X25519 key
//       pair for all of the generator's SAs (cheaper initiator; the responder's work per SA is unchanged)
//   fastpath-ikeload --respond --bind 198.51.100.1 [--cookie-threshold N] [--seconds N] [--dataplane]
//       FastPath responder host (ResponderHost.cs); --dataplane: CHILD_SAs into a running FastPath
//       dataplane (one worker) through the gateway's DataplaneChildSaSink instead of a counting sink;
//       --sink-sync: that sink in its synchronous mode (each call waits for the worker; the pre-2026-12-02 behaviour)
// Common: --psk S, --ike aes128gcm16-prfsha256-x25519, --esp aes128gcm16.
// Exit codes: 0 ok, 2 bad arguments, 1 failure. Run inside the network namespace meant to send.
internal static class Program
{
    public static int Main(string[] args)
    {
        Dictionary<string, string> a;
        try { a = ParseArgs(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("fastpath-ikeload: " + e.Message);
            Usage();
            return 2;
        }
        try
        {
            string psk = a.GetValueOrDefault("psk", "fastpath-ike-rate-psk-0123456789");
            string ike = a.GetValueOrDefault("ike", "aes128gcm16-prfsha256-x25519");
            string esp = a.GetValueOrDefault("esp", "aes128gcm16");
            if (a.ContainsKey("respond"))
            {
                var bind = Ip(a, "bind");
                return ResponderHost.Run(bind, psk, Int(a, "cookie-threshold", int.MaxValue), Int(a, "seconds", 0), ike, esp, a.ContainsKey("dataplane"), a.ContainsKey("sink-sync"));
            }
            var options = new LoadOptions
            {
                Target = Ip(a, "target"),
                Sources = Sources(a.GetValueOrDefault("sources") ?? throw new ArgumentException("--sources A.B.C.D+N is required")),
                Concurrency = Int(a, "concurrency", 64),
                Warmup = double.Parse(a.GetValueOrDefault("warmup", "2"), CultureInfo.InvariantCulture),
                Seconds = Int(a, "seconds", 10),
                Psk = psk,
                IkeProposal = ike,
                EspProposal = esp,
                Label = a.GetValueOrDefault("label"),
                SlotOffset = Int(a, "slot-offset", 0),
                StartAt = a.TryGetValue("start-at", out var at) ? double.Parse(at, CultureInfo.InvariantCulture) : null,
                ReuseKe = a.ContainsKey("reuse-ke"),
            };
            if (options.SlotOffset < 0 || options.SlotOffset + options.Concurrency > 256) throw new ArgumentException("--slot-offset + --concurrency ≤ 256");
            if (options.Concurrency is < 1 or > 256 || options.Seconds < 1 || options.Seconds > 600 || options.Warmup < 0)
                throw new ArgumentException("1 ≤ --concurrency ≤ 256, 1 ≤ --seconds ≤ 600, --warmup ≥ 0");
            var result = new LoadGenerator(options).Run();
            string json = JsonSerializer.Serialize(result, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase });
            Console.WriteLine(json);
            if (a.TryGetValue("json", out var path)) File.WriteAllText(path, json + "\n");
            return 0;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("fastpath-ikeload: " + e.Message);
            return 2;
        }
        catch (Exception e) when (e is FormatException or System.Net.Sockets.SocketException or IOException or InvalidOperationException)
        {
            Console.Error.WriteLine("fastpath-ikeload: " + e.Message);
            return 1;
        }
    }

    private static void Usage() => Console.Error.WriteLine("""
        usage: fastpath-ikeload --target IP --sources IP+N [--concurrency N] [--warmup S] [--seconds N] [--label L] [--json FILE] [--slot-offset N] [--start-at UNIX] [--reuse-ke]
               fastpath-ikeload --respond --bind IP [--cookie-threshold N] [--seconds N] [--dataplane [--sink-sync]]
               common: --psk S --ike PROPOSAL --esp PROPOSAL
        """);

    private static Dictionary<string, string> ParseArgs(string[] args)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{args[i]}'");
            string k = args[i][2..];
            if (k is "respond" or "dataplane" or "sink-sync" or "reuse-ke") { d[k] = "1"; continue; }
            if (i + 1 >= args.Length) throw new ArgumentException($"--{k} needs a value");
            d[k] = args[++i];
        }
        return d;
    }

    private static IPAddress Ip(Dictionary<string, string> a, string key) =>
        a.TryGetValue(key, out var v) && IPAddress.TryParse(v, out var ip) ? ip : throw new ArgumentException($"--{key} needs an IP address");

    private static int Int(Dictionary<string, string> a, string key, int fallback) =>
        !a.TryGetValue(key, out var v) ? fallback : int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : throw new ArgumentException($"--{key} needs an integer");

    /// <summary>"198.51.100.10+16": 16 consecutive IPv4 addresses from .10.</summary>
    internal static IReadOnlyList<IPAddress> Sources(string spec)
    {
        var parts = spec.Split('+');
        if (parts.Length is < 1 or > 2 || !IPAddress.TryParse(parts[0], out var first) || first.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            throw new ArgumentException("--sources A.B.C.D[+N]");
        int n = parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 1;
        if (n is < 1 or > 250) throw new ArgumentException("--sources: 1..250 addresses");
        var b = first.GetAddressBytes();
        uint v = (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
        var list = new List<IPAddress>();
        for (uint i = 0; i < n; i++)
        {
            uint x = v + i;
            list.Add(new IPAddress(new[] { (byte)(x >> 24), (byte)(x >> 16), (byte)(x >> 8), (byte)x }));
        }
        return list;
    }
}
