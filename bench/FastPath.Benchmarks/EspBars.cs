using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace FastPath.Benchmarks;

/// <summary>
/// The ESP engine bars (issue 3), measured in one run with BenchmarkDotNet in process
/// (MemoryDiagnoser) on <see cref="EspEngineBenchmarks"/>: AES-128-GCM tunnel-mode encapsulation
/// ≥ 5 Mpps at 64 B and ≥ 20 Gbit/s of inner payload at 1420 B on one core, decapsulation within
/// 15% of encapsulation, 0 bytes allocated per packet. `--all` also runs AES-128-CBC+HMAC-SHA1 and
/// 3DES-SHA1 at 64/512/1420 B for the report table.
/// </summary>
internal static class EspBars
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Result(string Suite, string Method, int Size, double Ns, double MinNs, long AllocatedBytes);

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        bool all = args.Contains("--all");
        string? outFile = null;
        int oi = Array.IndexOf(args, "--out");
        if (oi >= 0 && oi + 1 < args.Length) outFile = args[oi + 1];

        var config = BarsConfig.Create(quick, iterations: 11, iterationMs: 250, "fastpath-bench-esp");

        var sw = Stopwatch.StartNew();
        Console.Error.WriteLine("fastpath esp bars: running EspEngineBenchmarks (in-process)...");
        BenchmarkRunInfo info = BenchmarkConverter.TypeToBenchmarks(typeof(EspEngineBenchmarks), config);
        var cases = info.BenchmarksCases.Where(c => (all || (P(c, "Suite") == "aes128gcm16" && P(c, "Size") is "64" or "1420"))
            && (c.Descriptor.WorkloadMethod.Name != "BclAesGcmSeal" || P(c, "Suite")!.Contains("gcm", StringComparison.Ordinal))).ToArray();
        Summary summary = BenchmarkRunner.Run(new BenchmarkRunInfo(cases, info.Type, info.Config));
        var results = new List<Result>();
        foreach (BenchmarkReport r in summary.Reports)
        {
            if (r.ResultStatistics is null) continue;
            BenchmarkCase c = r.BenchmarkCase;
            results.Add(new Result(P(c, "Suite")!, c.Descriptor.WorkloadMethod.Name, int.Parse(P(c, "Size")!, Inv),
                r.ResultStatistics.Median, r.ResultStatistics.Min, r.GcStats.GetBytesAllocatedPerOperation(c) ?? -1));
        }
        double Ns(string suite, string method, int size) => results.FirstOrDefault(r => r.Suite == suite && r.Method == method && r.Size == size)?.Ns ?? double.NaN;

        var report = new StringBuilder();
        report.AppendLine("## ESP engine, tunnel mode IPv4-in-IPv4, one core, batch of 64, per packet (median of iterations; bars use the median)");
        report.AppendLine("| suite | inner size | encap ns | encap Mpps | encap Gbit/s (inner) | decap ns | decap Mpps | decap Gbit/s | decap/encap | best encap/decap ns | transform-only seal ns | BCL AesGcm seal ns | BCL/encap | B/op |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var g in results.GroupBy(r => (r.Suite, r.Size)).OrderBy(g => g.Key.Suite).ThenBy(g => g.Key.Size))
        {
            double e = Ns(g.Key.Suite, "Encapsulate", g.Key.Size), d = Ns(g.Key.Suite, "Decapsulate", g.Key.Size);
            double eMin = g.FirstOrDefault(r => r.Method == "Encapsulate")?.MinNs ?? double.NaN, dMin = g.FirstOrDefault(r => r.Method == "Decapsulate")?.MinNs ?? double.NaN;
            double sealOnly = Ns(g.Key.Suite, "SealOnly", g.Key.Size), bcl = Ns(g.Key.Suite, "BclAesGcmSeal", g.Key.Size);
            long engineAlloc = g.Where(r => r.Method is "Encapsulate" or "Decapsulate").Max(r => r.AllocatedBytes);
            report.AppendLine(Inv, $"| {g.Key.Suite} | {g.Key.Size} | {e:F0} | {1e3 / e:F2} | {g.Key.Size * 8 / e:F1} | {d:F0} | {1e3 / d:F2} | {g.Key.Size * 8 / d:F1} | {d / e:F2} | {eMin:F0} / {dMin:F0} | {sealOnly:F0} | {(double.IsNaN(bcl) ? "" : bcl.ToString("F0", Inv))} | {(double.IsNaN(bcl) ? "" : (bcl / e).ToString("F2", Inv))} | {engineAlloc} |");
        }

        var bars = new List<(string Name, double Value, double Floor, bool Pass)>();
        void Bar(string name, double value, double floor, bool higherIsBetter = true) =>
            bars.Add((name, value, floor, !double.IsNaN(value) && (higherIsBetter ? value >= floor : value <= floor)));
        double e64 = Ns("aes128gcm16", "Encapsulate", 64), d64 = Ns("aes128gcm16", "Decapsulate", 64);
        double e1420 = Ns("aes128gcm16", "Encapsulate", 1420), d1420 = Ns("aes128gcm16", "Decapsulate", 1420);
        Bar("esp_aes128gcm_tunnel_encap_64B_mpps", 1e3 / e64, 5.0);
        Bar("esp_aes128gcm_tunnel_encap_1420B_gbps", 1420 * 8 / e1420, 20.0);
        Bar("esp_aes128gcm_decap_over_encap_64B", d64 / e64, 1.15, higherIsBetter: false);
        Bar("esp_aes128gcm_decap_over_encap_1420B", d1420 / e1420, 1.15, higherIsBetter: false);
        Bar("esp_max_bytes_allocated_per_packet", results.Where(r => r.Suite == "aes128gcm16" && r.Method is "Encapsulate" or "Decapsulate").Select(r => (double)r.AllocatedBytes).DefaultIfEmpty(-1).Max(), 0, higherIsBetter: false);

        Console.WriteLine(report.ToString());
        Console.WriteLine($"(BenchmarkDotNet in-process, {sw.Elapsed.TotalSeconds:F0} s, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})");
        foreach (var b in bars)
            Console.WriteLine(string.Create(Inv, $"BAR {b.Name} {b.Value:0.###} {b.Floor:0.###} {(b.Pass ? "PASS" : "FAIL")}"));
        if (outFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
            var doc = new
            {
                date = DateTime.UtcNow.ToString("o", Inv),
                results = results.Select(r => new { r.Suite, r.Method, r.Size, ns = r.Ns, r.AllocatedBytes }),
                bars = bars.Select(b => new { b.Name, b.Value, b.Floor, b.Pass }),
            };
            File.WriteAllText(outFile, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
            File.WriteAllText(Path.ChangeExtension(outFile, ".md"), report.ToString());
        }
        return bars.All(b => b.Pass) ? 0 : 1;
    }

    private static string? P(BenchmarkCase c, string name) =>
        c.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value?.ToString();
}
