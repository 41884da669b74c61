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
/// The crypto bars of docs/performance.md, measured as ratios in one run: BenchmarkDotNet (in
/// process, short job, MemoryDiagnoser) for FastPath and the BCL, and `openssl speed` for OpenSSL's
/// own loop, all back to back on the same machine. Each FastPath/BCL figure is the median of the
/// iterations (a shared 2-core machine has preemption spikes that inflate a mean).
/// </summary>
internal static class CryptoBars
{
    private static readonly int[] Sizes = [64, 576, 1420, 8192];
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Result(string Suite, string Method, string Engine, string Variant, int Size, double Ns, long AllocatedBytes)
    {
        public double BytesPerSecond => Size / Ns * 1e9;
    }

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        string? outFile = null;
        int i = Array.IndexOf(args, "--out");
        if (i >= 0 && i + 1 < args.Length) outFile = args[i + 1];

        var config = BarsConfig.Create(quick, iterations: 9, iterationMs: 200, "fastpath-bench");

        var results = new List<Result>();
        var sw = Stopwatch.StartNew();
        Console.Error.WriteLine("fastpath crypto bars: running BenchmarkDotNet suites (in-process, short job)...");
        var filters = new (Type Type, Func<BenchmarkCase, bool> Keep)[]
        {
            (typeof(AeadBenchmarks), c => P(c, "Algorithm") is "aes128gcm" or "chacha20poly1305" && (P(c, "Algorithm") == "aes128gcm" || c.Descriptor.WorkloadMethod.Name == "Encrypt")),
            (typeof(BaselineBenchmarks), _ => true),
            (typeof(EspBatchBenchmarks), c => P(c, "Suite") is "aes128-sha1" or "aes128gcm16" or "3des-sha1"),
            (typeof(MacBenchmarks), c => !(P(c, "Engine") == "bcl" && c.Descriptor.WorkloadMethod.Name == "Multi16")),
            (typeof(CbcBenchmarks), c => !(P(c, "Engine") == "bcl" && c.Descriptor.WorkloadMethod.Name == "EncryptMulti16")),
        };
        foreach (var (type, keep) in filters)
        {
            BenchmarkRunInfo info = BenchmarkConverter.TypeToBenchmarks(type, config);
            var cases = info.BenchmarksCases.Where(keep).ToArray();
            Summary summary = BenchmarkRunner.Run(new BenchmarkRunInfo(cases, info.Type, info.Config));
            foreach (BenchmarkReport r in summary.Reports)
            {
                if (r.ResultStatistics is null) continue;
                BenchmarkCase c = r.BenchmarkCase;
                string suite = P(c, "Algorithm") ?? P(c, "Suite") ?? P(c, "Cipher") ?? P(c, "Hash") ?? "bcl";
                string engine = P(c, "Engine") ?? "bcl-raw";
                int size = int.Parse(P(c, "Size")!, Inv);
                long alloc = r.GcStats.GetBytesAllocatedPerOperation(c) ?? -1;
                results.Add(new Result(suite.ToLowerInvariant(), c.Descriptor.WorkloadMethod.Name, engine, type.Name, size, r.ResultStatistics.Median, alloc));
            }
            Console.Error.WriteLine($"  {type.Name}: {cases.Length} cases, {sw.Elapsed.TotalSeconds:F0} s");
        }

        Console.Error.WriteLine("fastpath crypto bars: running openssl speed in the same run...");
        var openssl = new Dictionary<(string, int), double>();
        foreach (string alg in new[] { "aes-128-gcm", "aes-128-cbc", "sha1", "des-ede3-cbc" })
            foreach (int size in Sizes.Append(16384))
                openssl[(alg, size)] = OpenSslSpeed(alg, size, quick ? 1 : 2);

        var report = new StringBuilder();
        double Ns(string variant, string suite, string method, string engine, int size) =>
            results.FirstOrDefault(r => r.Variant == variant && r.Suite == suite && r.Method == method && r.Engine == engine && r.Size == size)?.Ns ?? double.NaN;

        report.AppendLine("## AEAD encrypt, per packet (ns) and ratio to the BCL");
        report.AppendLine("| suite | size | FastPath ns | BCL ns | × BCL | FastPath GB/s | openssl GB/s (same size) |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (string suite in new[] { "aes128gcm", "chacha20poly1305" })
            foreach (int size in Sizes)
            {
                double own = Ns("AeadBenchmarks", suite, "Encrypt", "intrinsics", size);
                double bcl = Ns("AeadBenchmarks", suite, "Encrypt", "bcl", size);
                string ossl = suite == "aes128gcm" ? (openssl[("aes-128-gcm", size)] / 1e9).ToString("F2", Inv) : "";
                report.AppendLine(Inv, $"| {suite} | {size} | {own:F0} | {bcl:F0} | {bcl / own:F2} | {size / own:F2} | {ossl} |");
            }
        report.AppendLine();
        report.AppendLine("## AES-128-GCM decrypt (ns per packet)");
        report.AppendLine("| size | FastPath | BCL | × BCL |");
        report.AppendLine("|---:|---:|---:|---:|");
        foreach (int size in Sizes)
        {
            double own = Ns("AeadBenchmarks", "aes128gcm", "Decrypt", "intrinsics", size);
            double bcl = Ns("AeadBenchmarks", "aes128gcm", "Decrypt", "bcl", size);
            report.AppendLine(Inv, $"| {size} | {own:F0} | {bcl:F0} | {bcl / own:F2} |");
        }
        report.AppendLine();
        report.AppendLine("## ESP seal, batch of 16, per packet (ns)");
        report.AppendLine("| suite | size | FastPath | FastPath on BCL engine | raw BCL (EncryptCbc + HMACSHA1.HashData) | × raw BCL |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (string suite in new[] { "aes128-sha1", "aes128gcm16", "3des-sha1" })
            foreach (int size in Sizes)
            {
                double own = Ns("EspBatchBenchmarks", suite, "SealBatch", "intrinsics", size);
                double viaBcl = Ns("EspBatchBenchmarks", suite, "SealBatch", "bcl", size);
                double raw = suite == "aes128-sha1" ? Ns("BaselineBenchmarks", "bcl", "BclCbcSha1Batch", "bcl-raw", size) : double.NaN;
                report.AppendLine(Inv, $"| {suite} | {size} | {own:F0} | {viaBcl:F0} | {(double.IsNaN(raw) ? "" : raw.ToString("F0", Inv))} | {(double.IsNaN(raw) ? "" : (raw / own).ToString("F2", Inv))} |");
            }
        report.AppendLine();
        report.AppendLine("## HMAC per message (ns): single-buffer, multi-buffer (16 lanes), BCL HashData");
        report.AppendLine("| hash | size | single | multi16 | BCL | single × BCL | multi × BCL |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (string hash in new[] { "sha1", "sha256" })
            foreach (int size in Sizes)
            {
                double single = Ns("MacBenchmarks", hash, "Single", "intrinsics", size);
                double multi = Ns("MacBenchmarks", hash, "Multi16", "intrinsics", size);
                double bcl = Ns("MacBenchmarks", hash, "Single", "bcl", size);
                report.AppendLine(Inv, $"| {hash} | {size} | {single:F0} | {multi:F0} | {bcl:F0} | {bcl / single:F2} | {bcl / multi:F2} |");
            }
        report.AppendLine();
        report.AppendLine("## CBC ciphers per message (ns)");
        report.AppendLine("| cipher | size | encrypt | encrypt multi16 | decrypt | BCL encrypt | BCL decrypt | openssl encrypt (same size) ns |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (string cipher in new[] { "aes128", "3des" })
            foreach (int size in Sizes)
            {
                string alg = cipher == "aes128" ? "aes-128-cbc" : "des-ede3-cbc";
                report.AppendLine(Inv, $"| {cipher} | {size} | {Ns("CbcBenchmarks", cipher, "Encrypt", "intrinsics", size):F0} | {Ns("CbcBenchmarks", cipher, "EncryptMulti16", "intrinsics", size):F0} | {Ns("CbcBenchmarks", cipher, "Decrypt", "intrinsics", size):F0} | {Ns("CbcBenchmarks", cipher, "Encrypt", "bcl", size):F0} | {Ns("CbcBenchmarks", cipher, "Decrypt", "bcl", size):F0} | {size / openssl[(alg, size)] * 1e9:F0} |");
            }
        report.AppendLine();
        report.AppendLine("## openssl speed (bytes/s, same run)");
        report.AppendLine("| algorithm | " + string.Join(" | ", Sizes.Append(16384)) + " |");
        report.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", Sizes.Length + 1)));
        foreach (string alg in new[] { "aes-128-gcm", "aes-128-cbc", "sha1", "des-ede3-cbc" })
            report.AppendLine($"| {alg} | " + string.Join(" | ", Sizes.Append(16384).Select(s => (openssl[(alg, s)] / 1e9).ToString("F2", Inv) + " GB/s")) + " |");

        long maxAlloc = results.Where(r => r.Engine != "bcl" && r.Engine != "bcl-raw").Select(r => r.AllocatedBytes).DefaultIfEmpty(-1).Max();
        var bars = new List<(string Name, double Value, double Floor, bool Pass)>();
        void Bar(string name, double value, double floor, bool higherIsBetter = true) =>
            bars.Add((name, value, floor, !double.IsNaN(value) && (higherIsBetter ? value >= floor : value <= floor)));

        double gcm1420 = Ns("AeadBenchmarks", "aes128gcm", "Encrypt", "intrinsics", 1420);
        Bar("aes128gcm_encrypt_1420B_vs_openssl_16KB", 1420 / gcm1420 * 1e9 / openssl[("aes-128-gcm", 16384)], 1.5);
        Bar("aes128gcm_encrypt_64B_vs_bcl_aesgcm", Ns("BaselineBenchmarks", "bcl", "BclAesGcm128Encrypt", "bcl-raw", 64) / Ns("AeadBenchmarks", "aes128gcm", "Encrypt", "intrinsics", 64), 3.0);
        Bar("aes128cbc_sha1_batch16_1420B_vs_bcl", Ns("BaselineBenchmarks", "bcl", "BclCbcSha1Batch", "bcl-raw", 1420) / Ns("EspBatchBenchmarks", "aes128-sha1", "SealBatch", "intrinsics", 1420), 2.0);
        Bar("3des_cbc_encrypt_8192B_vs_openssl", 8192 / Ns("CbcBenchmarks", "3des", "Encrypt", "intrinsics", 8192) * 1e9 / openssl[("des-ede3-cbc", 8192)], 1.0);
        Bar("max_bytes_allocated_per_op", maxAlloc, 0, higherIsBetter: false);

        Console.WriteLine(report.ToString());
        Console.WriteLine($"(BenchmarkDotNet in-process short job + openssl speed, {sw.Elapsed.TotalSeconds:F0} s, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})");
        foreach (var b in bars)
            Console.WriteLine(string.Create(Inv, $"BAR {b.Name} {b.Value:0.###} {b.Floor:0.###} {(b.Pass ? "PASS" : "FAIL")}"));

        if (outFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
            var doc = new
            {
                date = DateTime.UtcNow.ToString("o", Inv),
                results = results.Select(r => new { r.Variant, r.Suite, r.Method, r.Engine, r.Size, ns = r.Ns, r.AllocatedBytes }),
                openssl = openssl.Select(kv => new { algorithm = kv.Key.Item1, size = kv.Key.Item2, bytesPerSecond = kv.Value }),
                bars = bars.Select(b => new { b.Name, b.Value, b.Floor, b.Pass }),
            };
            File.WriteAllText(outFile, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
            File.WriteAllText(Path.ChangeExtension(outFile, ".md"), report.ToString());
        }
        return bars.All(b => b.Pass) ? 0 : 1;
    }

    private static string? P(BenchmarkCase c, string name) =>
        c.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value?.ToString();

    /// <summary>`openssl speed -elapsed -seconds S -bytes N -evp ALG`, in bytes per second (its last line is in 1000s of
    /// bytes/s). -elapsed: wall-clock time like BenchmarkDotNet, not CPU time, so a loaded machine biases neither side.</summary>
    private static double OpenSslSpeed(string algorithm, int bytes, int seconds)
    {
        var psi = new ProcessStartInfo("openssl", $"speed -elapsed -seconds {seconds} -bytes {bytes} -evp {algorithm}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            using Process p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            string? last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
            string? value = last?.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
            if (value is not null && value.EndsWith('k') && double.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.Float, Inv, out double k))
                return k * 1000;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine("openssl not found: install it (apt-get install openssl) to compare with openssl speed");
        }
        return double.NaN;
    }
}
