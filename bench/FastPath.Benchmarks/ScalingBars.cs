using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace FastPath.Benchmarks;

/// <summary>
/// Scaling (issue 8), in one run (`-- scaling [--quick] [--out DIR]`, perf-scripts/scaling.sh):
///   1. the in-memory pipeline (both gateways, one core, AES-128-GCM) with 1, 100, 1,000 and 10,000
///      tunnels, traffic spread round robin over them (PipelineRig), at 64 B, 1420 B and IMIX; the
///      same 10,048-frame source pool for every N; rounds interleave the N (thread CPU time, median);
///   2. eroute lookups (batched, IPv4, the realistic mix of ErouteWorkload) at 1, 10, 100, 1k, 10k,
///      100k, 1M eroutes (ErouteBars' harness).
/// Writes DIR/scaling-sas.csv and DIR/scaling-eroutes.csv (gnuplot input) and DIR/scaling.md, and
/// ends with `BAR sa_scaling_10k_over_1_{64B,1420B,imix} measured 0.9 PASS|FAIL`.
/// </summary>
internal static class ScalingBars
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int oi = Array.IndexOf(args, "--out");
        string dir = oi >= 0 && oi + 1 < args.Length ? args[oi + 1] : "perf-scripts/results";
        bool skipEroutes = args.Contains("--no-eroutes");
        Directory.CreateDirectory(dir);
        int rounds = quick ? 5 : 9;
        double sliceMs = quick ? 30 : 60;
        int[] counts = [1, 100, 1_000, 10_000];
        string[] sizes = ["64", "1420", "imix"];
        var total = Stopwatch.StartNew();
        var csv = new StringBuilder("size,sas,ns_per_packet,mpps,gbps_inner,relative_to_1_sa\n");
        var md = new StringBuilder();
        md.AppendLine("## Pipeline throughput vs active SAs (in memory, both gateways on one core, AES-128-GCM, traffic spread round robin)");
        md.AppendLine("| inner size | SAs | ns/packet | Mpps | Gbit/s inner | × 1 SA |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        var bars = new List<(string Name, double Value, double Floor, bool Pass)>();
        foreach (string size in sizes)
        {
            Console.Error.WriteLine($"fastpath scaling: {size} B, setting up {string.Join("/", counts)} tunnels ({total.Elapsed.TotalSeconds:F0} s)...");
            var rigs = counts.Select(n => new PipelineRig("aes128gcm16", n, size, SaScalingBenchmarks.PoolFrames)).ToArray();
            var calls = rigs.Select(r => Calibrate(r)).ToArray();
            var ns = counts.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round < rounds; round++)
            {
                // Rotate the order every round so drift of the machine spreads over every N.
                for (int k = 0; k < rigs.Length; k++)
                {
                    int i = (k + round) % rigs.Length;
                    ns[i].Add(NsPerPacket(rigs[i], calls[i], sliceMs));
                }
            }
            double one = Median(ns[0]);
            for (int i = 0; i < counts.Length; i++)
            {
                double t = Median(ns[i]);
                double rel = one / t;
                csv.AppendLine(string.Create(Inv, $"{size},{counts[i]},{t:F1},{1e3 / t:F3},{rigs[i].MeanInnerBytes * 8 / t:F2},{rel:F3}"));
                md.AppendLine(string.Create(Inv, $"| {size} | {counts[i]:N0} | {t:F0} | {1e3 / t:F2} | {rigs[i].MeanInnerBytes * 8 / t:F1} | {rel:F2} |"));
                Console.Error.WriteLine(string.Create(Inv, $"  {size} B, {counts[i],6} SAs: {t:F0} ns/packet, {1e3 / t:F2} Mpps, ×1 SA {rel:F2}  (rounds: {string.Join(" ", ns[i].Select(x => x.ToString("F0", Inv)))})"));
            }
            double r10k = one / Median(ns[^1]);
            bars.Add(($"sa_scaling_10k_over_1_{(size == "imix" ? "imix" : size + "B")}", r10k, 0.9, r10k >= 0.9));
            foreach (PipelineRig r in rigs) r.Dispose();
        }
        File.WriteAllText(Path.Combine(dir, "scaling-sas.csv"), csv.ToString());

        if (!skipEroutes)
        {
            md.AppendLine();
            md.AppendLine("## Eroute lookup vs table size (IPv4, batched 256, one thread, thread CPU time, best pass)");
            md.AppendLine("| eroutes | ns/lookup | Mlookups/s |");
            md.AppendLine("|---:|---:|---:|");
            var ecsv = new StringBuilder("eroutes,ns_per_lookup,mlookups_per_s\n");
            foreach (int n in new[] { 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000 })
            {
                var (lookupNs, _, _, _, _) = ErouteBars.MeasureLookups<uint>(n, seed: 1000 + n, quick, measureMemory: false);
                ecsv.AppendLine(string.Create(Inv, $"{n},{lookupNs:F2},{1e3 / lookupNs:F2}"));
                md.AppendLine(string.Create(Inv, $"| {n:N0} | {lookupNs:F1} | {1e3 / lookupNs:F1} |"));
                Console.Error.WriteLine(string.Create(Inv, $"  eroutes {n,9:N0}: {lookupNs:F1} ns/lookup ({total.Elapsed.TotalSeconds:F0} s)"));
                GC.Collect();
            }
            File.WriteAllText(Path.Combine(dir, "scaling-eroutes.csv"), ecsv.ToString());
        }
        md.AppendLine();
        foreach (var b in bars) md.AppendLine(string.Create(Inv, $"- `BAR {b.Name} {b.Value:0.###} {b.Floor} {(b.Pass ? "PASS" : "FAIL")}`"));
        File.WriteAllText(Path.Combine(dir, "scaling.md"), md.ToString());
        Console.Out.Write(md.ToString());
        Console.Out.WriteLine(string.Create(Inv, $"({rounds} rounds × {sliceMs:F0} ms per N, {total.Elapsed.TotalSeconds:F0} s, {Environment.ProcessorCount} cores)"));
        foreach (var b in bars)
            Console.Out.WriteLine(string.Create(Inv, $"BAR {b.Name} {b.Value:0.###} {b.Floor} {(b.Pass ? "PASS" : "FAIL")}"));
        return bars.All(b => b.Pass) ? 0 : 1;
    }

    private static int Calibrate(PipelineRig rig)
    {
        long c0 = ErouteBars.ThreadCpuNs();
        int n = 0;
        while (ErouteBars.ThreadCpuNs() - c0 < 300_000_000) { rig.Forward(); n++; }
        return Math.Max(1, (int)(1e6 / (300e6 / n)));
    }

    private static double NsPerPacket(PipelineRig rig, int calls, double sliceMs)
    {
        long budget = (long)(sliceMs * 1e6), done = 0, c0 = ErouteBars.ThreadCpuNs(), elapsed;
        do
        {
            for (int i = 0; i < calls; i++) rig.Forward();
            done += calls;
            elapsed = ErouteBars.ThreadCpuNs() - c0;
        }
        while (elapsed < budget);
        return (double)elapsed / (done * PipelineRig.Batch);
    }

    private static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
