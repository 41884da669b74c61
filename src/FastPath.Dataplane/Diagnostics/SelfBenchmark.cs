// The headline numbers of docs/performance.md, measured on the user's machine (`fastpath bench`, and
// `bench/FastPath.Benchmarks -- headline`, which calls this same code):
//
//   AES-128-GCM encrypt 64 / 1420 B   FastPath engine vs BCL AesGcm, interleaved rounds   ─► ns, Gbit/s, ratio, B/packet
//   pipeline 64 / 1420 B / IMIX       PipelineRig: sunset → west (ESP encap) → east (decap) → sunrise,
//                                     both gateways on the calling thread (one core)       ─► packets/s, Gbit/s inner, B/packet
//   10,000 SAs / 1 SA (not --quick)   PipelineRig with traffic spread over 10,000 tunnels  ─► the ≥ 0.9 scaling ratio
//
// Method (the gate's, bench/FastPath.Benchmarks/GateRunner.cs): thread CPU time (CLOCK_THREAD_CPUTIME_ID,
// so time the scheduler gives other jobs on a shared machine is not counted), warm-up past tiered JIT,
// calls per clock read calibrated to ~1 ms, FastPath and its reference alternating, median of rounds.
// Allocations: GC.GetAllocatedBytesForCurrentThread over a whole timed round divided by its packets
// (the dataplane's invariant: 0). Everything runs on the calling thread; no root, no I/O.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FastPath.Crypto;

namespace FastPath.Dataplane.Diagnostics;

/// <summary>One AES-128-GCM row: FastPath's engine and the BCL per packet.</summary>
public sealed record SelfBenchmarkCrypto(int PacketBytes, double FastPathNs, double BclNs, double Gbps, double Ratio, double AllocatedBytesPerPacket)
{
    public double PacketsPerSecond => 1e9 / FastPathNs;
}

/// <summary>One pipeline row: packets/s with both gateways (encrypting and decrypting) on one core.</summary>
public sealed record SelfBenchmarkPipeline(string Size, double MeanInnerBytes, double PacketsPerSecond, double InnerGbps, double AllocatedBytesPerPacket);

/// <summary>The SA-scaling row: 64 B, traffic spread over <see cref="Sas"/> tunnels vs one tunnel.</summary>
public sealed record SelfBenchmarkScaling(int Sas, double PacketsPerSecond, double OneSaPacketsPerSecond, double Ratio);

/// <summary>A whole self-benchmark run.</summary>
public sealed record SelfBenchmarkReport(int Cores, string Runtime, string Engine, string Ghash, bool Quick, int Rounds, double Seconds,
    IReadOnlyList<SelfBenchmarkCrypto> Crypto, IReadOnlyList<SelfBenchmarkPipeline> Pipeline, SelfBenchmarkScaling? Scaling)
{
    /// <summary>The largest allocation per packet of any measured path (the bar is 0).</summary>
    public double MaxAllocatedBytesPerPacket =>
        Crypto.Select(c => c.AllocatedBytesPerPacket).Concat(Pipeline.Select(p => p.AllocatedBytesPerPacket)).DefaultIfEmpty(0).Max();
}

/// <summary>The crypto + pipeline self-benchmark behind `fastpath bench` and the benchmarks' `headline` mode.</summary>
public static class SelfBenchmark
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Measures everything (~15 s; <paramref name="quick"/>: ~6 s, 3 rounds, no 10,000-SA row).</summary>
    public static SelfBenchmarkReport Run(bool quick = false)
    {
        int rounds = quick ? 3 : 5;
        double sliceMs = quick ? 25 : 50;
        var sw = Stopwatch.StartNew();
        var crypto = new List<SelfBenchmarkCrypto>();
        foreach (int size in new[] { 64, 1420 })
        {
            byte[] key = RandomNumberGenerator.GetBytes(16);
            byte[] plain = new byte[size], cipher = new byte[size], tag = new byte[16], nonce = new byte[12], aad = new byte[8];
            using AeadCipher own = CryptoEngine.Default.CreateAesGcm(key);
            using var bcl = new AesGcm(key, 16);
            var (fp, rf, alloc) = Pair(n => { for (int i = 0; i < n; i++) own.Encrypt(nonce, plain, cipher, tag, aad); },
                                       n => { for (int i = 0; i < n; i++) bcl.Encrypt(nonce, plain, cipher, tag, aad); }, rounds, sliceMs, 1);
            crypto.Add(new SelfBenchmarkCrypto(size, fp, rf, size * 8 / fp, rf / fp, alloc));
        }

        var pipeline = new List<SelfBenchmarkPipeline>();
        foreach (string size in new[] { "64", "1420", "imix" })
        {
            using var rig = new PipelineRig("aes128gcm16", 1, size);
            var (ns, alloc) = Single(n => { for (int i = 0; i < n; i++) rig.Forward(); }, PipelineRig.Batch, rounds, sliceMs);
            pipeline.Add(new SelfBenchmarkPipeline(size, rig.MeanInnerBytes, 1e9 / ns, rig.MeanInnerBytes * 8 / ns, alloc));
        }

        SelfBenchmarkScaling? scaling = null;
        if (!quick)
        {
            using var one = new PipelineRig("aes128gcm16", 1, "64", SaScalingPool);
            using var many = new PipelineRig("aes128gcm16", 10_000, "64", SaScalingPool);
            var (m, o, _) = Pair(n => { for (int i = 0; i < n; i++) many.Forward(); }, n => { for (int i = 0; i < n; i++) one.Forward(); }, rounds, sliceMs, PipelineRig.Batch);
            scaling = new SelfBenchmarkScaling(10_000, 1e9 / m, 1e9 / o, o / m);
        }
        return new SelfBenchmarkReport(Environment.ProcessorCount, RuntimeInformation.FrameworkDescription, CryptoEngine.Default.Name, GhashPath.Active,
            quick, rounds, sw.Elapsed.TotalSeconds, crypto, pipeline, scaling);
    }

    /// <summary>The table of docs/performance.md ("Headline numbers").</summary>
    public static string Format(SelfBenchmarkReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var w = new StringWriter(Inv);
        w.WriteLine($"FastPath headline numbers ({r.Cores} cores, {r.Runtime}, engine {r.Engine}, GHASH {r.Ghash})");
        w.WriteLine("| what | FastPath | reference | ratio | alloc B/packet |");
        w.WriteLine("|---|---:|---:|---:|---:|");
        foreach (SelfBenchmarkCrypto c in r.Crypto)
            w.WriteLine(string.Create(Inv, $"| AES-128-GCM encrypt {c.PacketBytes} B | {c.FastPathNs:F0} ns ({c.PacketsPerSecond / 1e6:F2} Mpps, {c.Gbps:F1} Gbit/s) | BCL AesGcm {c.BclNs:F0} ns | {c.Ratio:F2}× | {c.AllocatedBytesPerPacket:0.##} |"));
        foreach (SelfBenchmarkPipeline p in r.Pipeline)
            w.WriteLine(string.Create(Inv, $"| pipeline, 1 tunnel, {p.Size} B, both gateways on one core | {p.PacketsPerSecond / 1e6:F2} Mpps ({p.InnerGbps:F1} Gbit/s inner) | | | {p.AllocatedBytesPerPacket:0.##} |"));
        if (r.Scaling is { } s)
            w.WriteLine(string.Create(Inv, $"| pipeline 64 B, {s.Sas:N0} SAs (traffic spread) | {s.PacketsPerSecond / 1e6:F2} Mpps | 1 SA {s.OneSaPacketsPerSecond / 1e6:F2} Mpps | {s.Ratio:F2} (bar ≥ 0.90) | |"));
        w.WriteLine(string.Create(Inv, $"(thread CPU time, medians of {r.Rounds} rounds, {r.Seconds:F0} s; pipeline packets/s count both gateways on one core, one gateway alone forwards ~2×; method: docs/performance.md)"));
        return w.ToString();
    }

    /// <summary>The source pool of the SA scaling measurements (SaScalingBenchmarks.PoolFrames).</summary>
    public const int SaScalingPool = 157 * PipelineRig.Batch;

    // a and b alternate per round; ns per op of each (median) and a's allocated bytes per op (max over rounds).
    private static (double A, double B, double AllocA) Pair(Action<int> a, Action<int> b, int rounds, double sliceMs, int ops)
    {
        int ca = Calibrate(a), cb = Calibrate(b);
        var ra = new List<double>();
        var rb = new List<double>();
        double alloc = 0;
        for (int r = 0; r < rounds; r++)
        {
            var (ns, al) = NsPerOp(a, ca, sliceMs, ops);
            ra.Add(ns);
            alloc = Math.Max(alloc, al);
            rb.Add(NsPerOp(b, cb, sliceMs, ops).Ns);
        }
        return (Median(ra), Median(rb), alloc);
    }

    private static (double Ns, double Alloc) Single(Action<int> a, int ops, int rounds, double sliceMs)
    {
        int ca = Calibrate(a);
        var ra = new List<double>();
        double alloc = 0;
        for (int r = 0; r < rounds; r++)
        {
            var (ns, al) = NsPerOp(a, ca, sliceMs, ops);
            ra.Add(ns);
            alloc = Math.Max(alloc, al);
        }
        return (Median(ra), alloc);
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

    private static (double Ns, double Alloc) NsPerOp(Action<int> a, int calls, double sliceMs, int ops)
    {
        long budget = (long)(sliceMs * 1e6), done = 0, c0 = ThreadCpuNs(), elapsed;
        long alloc0 = GC.GetAllocatedBytesForCurrentThread();
        do
        {
            a(calls);
            done += calls;
            elapsed = ThreadCpuNs() - c0;
        }
        while (elapsed < budget);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        return ((double)elapsed / (done * ops), (double)allocated / (done * ops));
    }

    private static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>CPU time of the calling thread in ns (CLOCK_THREAD_CPUTIME_ID; elsewhere wall clock).</summary>
    public static long ThreadCpuNs()
    {
        if (OperatingSystem.IsLinux() && clock_gettime(3, out TimeSpec ts) == 0) return ts.Sec * 1_000_000_000 + ts.Nsec;
        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Sec;
        public long Nsec;
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clock, out TimeSpec ts);
}
