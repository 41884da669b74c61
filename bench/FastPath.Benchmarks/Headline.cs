using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FastPath.Crypto;

namespace FastPath.Benchmarks;

/// <summary>
/// The headline numbers of docs/performance.md, measured on the user's own machine in ~20 s:
/// AES-128-GCM per packet against the BCL, the whole in-memory pipeline (both gateways on one core)
/// in packets/s at 64, 1420 B and IMIX, and the 10,000-SA / 1-SA ratio. The same method as the gate
/// (GateRunner): thread CPU time, FastPath and its reference measured back to back, median of rounds.
/// Depends only on FastPath.Crypto, FastPath.Dataplane and PipelineRig.cs (no BenchmarkDotNet), so
/// `fastpath bench` can call <see cref="Print"/> by linking Headline.cs and PipelineRig.cs
/// (`-- headline` runs it from the benchmarks).
/// </summary>
public static unsafe class Headline
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Measures and prints the headline table; false when a measured path failed.</summary>
    public static bool Print(TextWriter output, bool quick = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        int rounds = quick ? 3 : 5;
        double sliceMs = quick ? 25 : 50;
        var sw = Stopwatch.StartNew();
        output.WriteLine(string.Create(Inv, $"FastPath headline numbers ({Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, engine {CryptoEngine.Default.Name}, GHASH {GhashPath.Active})"));
        output.WriteLine("| what | FastPath | reference | ratio |");
        output.WriteLine("|---|---:|---:|---:|");

        foreach (int size in new[] { 64, 1420 })
        {
            byte[] key = RandomNumberGenerator.GetBytes(16);
            byte[] plain = new byte[size], cipher = new byte[size], tag = new byte[16], nonce = new byte[12], aad = new byte[8];
            using AeadCipher own = CryptoEngine.Default.CreateAesGcm(key);
            using var bcl = new AesGcm(key, 16);
            var (fp, rf) = Pair(n => { for (int i = 0; i < n; i++) own.Encrypt(nonce, plain, cipher, tag, aad); },
                                n => { for (int i = 0; i < n; i++) bcl.Encrypt(nonce, plain, cipher, tag, aad); }, rounds, sliceMs);
            output.WriteLine(string.Create(Inv, $"| AES-128-GCM encrypt {size} B | {fp:F0} ns ({size * 8 / fp:F1} Gbit/s) | BCL AesGcm {rf:F0} ns | {rf / fp:F2}× |"));
        }

        foreach (string size in new[] { "64", "1420", "imix" })
        {
            using var rig = new PipelineRig("aes128gcm16", 1, size);
            double ns = Single(n => { for (int i = 0; i < n; i++) rig.Forward(); }, PipelineRig.Batch, rounds, sliceMs);
            output.WriteLine(string.Create(Inv, $"| pipeline, 1 tunnel, {size} B, both gateways on one core | {1e3 / ns:F2} Mpps ({rig.MeanInnerBytes * 8 / ns:F1} Gbit/s inner) | | |"));
        }

        {
            using var one = new PipelineRig("aes128gcm16", 1, "64", SaScalingPool);
            using var many = new PipelineRig("aes128gcm16", 10_000, "64", SaScalingPool);
            var (m, o) = Pair(n => { for (int i = 0; i < n; i++) many.Forward(); }, n => { for (int i = 0; i < n; i++) one.Forward(); }, rounds, sliceMs, PipelineRig.Batch);
            output.WriteLine(string.Create(Inv, $"| pipeline 64 B, 10,000 SAs (traffic spread) | {1e3 / m:F2} Mpps | 1 SA {1e3 / o:F2} Mpps | {o / m:F2} (bar ≥ 0.90) |"));
        }
        output.WriteLine(string.Create(Inv, $"(thread CPU time, medians of {rounds} rounds, {sw.Elapsed.TotalSeconds:F0} s; full method: docs/performance.md)"));
        return true;
    }

    /// <summary>The source pool of the SA scaling measurements (SaScalingBenchmarks.PoolFrames).</summary>
    internal const int SaScalingPool = 157 * PipelineRig.Batch;

    private static (double A, double B) Pair(Action<int> a, Action<int> b, int rounds, double sliceMs, int ops = 1)
    {
        int ca = Calibrate(a), cb = Calibrate(b);
        var ra = new List<double>();
        var rb = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            ra.Add(NsPerOp(a, ca, sliceMs) / ops);
            rb.Add(NsPerOp(b, cb, sliceMs) / ops);
        }
        return (Median(ra), Median(rb));
    }

    private static double Single(Action<int> a, int ops, int rounds, double sliceMs)
    {
        int ca = Calibrate(a);
        var ra = new List<double>();
        for (int r = 0; r < rounds; r++) ra.Add(NsPerOp(a, ca, sliceMs) / ops);
        return Median(ra);
    }

    private static int Calibrate(Action<int> a)
    {
        // Warm-up past tiered compilation (tier-1 code replaces tier-0 in the background ~100 ms
        // after 30 calls; on a loaded machine later), then calibrate.
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 600) a(1);
        long c0 = ThreadCpuNs();
        int n = 0;
        while (ThreadCpuNs() - c0 < 200_000_000) { a(1); n++; }
        return Math.Max(1, (int)(1e6 / (200e6 / n)));
    }

    private static double NsPerOp(Action<int> a, int calls, double sliceMs)
    {
        long budget = (long)(sliceMs * 1e6), done = 0, c0 = ThreadCpuNs(), elapsed;
        do
        {
            a(calls);
            done += calls;
            elapsed = ThreadCpuNs() - c0;
        }
        while (elapsed < budget);
        return (double)elapsed / done;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static long ThreadCpuNs()
    {
        if (OperatingSystem.IsLinux() && clock_gettime(3, out TimeSpec ts) == 0) return ts.Sec * 1_000_000_000 + ts.Nsec;
        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    private struct TimeSpec
    {
        public long Sec;
        public long Nsec;
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clock, out TimeSpec ts);
}
