using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Runtime;
using System.Text;
using System.Text.Json;
using System.Threading;
using FastPath.Dataplane.Policy;

namespace FastPath.Benchmarks;

/// <summary>
/// The eroute (SPD) bars of issue 4, measured in one run (`-- eroute [--quick] [--out FILE]`,
/// perf-scripts/eroute.sh): batched lookup time at 1, 1k, 100k and 1M eroutes (IPv4 and IPv6,
/// the realistic mix of ErouteWorkload), single-eroute updates per second while another thread
/// looks up, and managed memory per eroute at 1M. A Stopwatch harness rather than
/// BenchmarkDotNet so that the 1M tables are built once and the whole run stays within a couple
/// of minutes on 2 cores; ErouteBenchmarks has the same cases under BenchmarkDotNet.
/// Lookup times are the best of several passes over a key stream as large as the table (so the
/// tree is walked at random, not from cache), batches of 256 keys, one thread.
/// </summary>
internal static class ErouteBars
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const int Batch = 256;

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        string? outFile = null;
        int oi = Array.IndexOf(args, "--out");
        if (oi >= 0 && oi + 1 < args.Length) outFile = args[oi + 1];
        var total = Stopwatch.StartNew();
        var report = new StringBuilder();
        var json = new Dictionary<string, double>();

        Console.Error.WriteLine("fastpath eroute bars: lookups (IPv4)...");
        int[] sizes = [1, 1_000, 100_000, 1_000_000];
        var v4 = new Dictionary<int, double>();
        var v6 = new Dictionary<int, double>();
        var v4Old = new Dictionary<int, double>();
        long memBytes = 0;
        double oldUpdatesPerSecond = 0, oldReplacesPerSecond = 0, oldReaderNs = 0;
        (int Blocks, int Splits, long Rules, long Words) indexStats = default;
        double updatesPerSecond = 0, replacesPerSecond = 0;
        double readerNsDuringUpdates = 0;
        foreach (int n in sizes)
        {
            var (ns, wall, table, specs, mem, oldNs) = MeasureLookupsAb<uint>(n, seed: 1000 + n, quick, measureMemory: n == 1_000_000);
            v4[n] = ns;
            v4Old[n] = oldNs;
            Console.Error.WriteLine(string.Create(Inv, $"  IPv4 {n,9:N0} eroutes: {ns:F1} ns/lookup CPU, {wall:F1} wall; before the compiled stage (trie only) {oldNs:F1} ns, old/new {oldNs / ns:F2} ({total.Elapsed.TotalSeconds:F0} s)"));
            if (n == 1_000_000)
            {
                memBytes = mem;
                Console.Error.WriteLine("fastpath eroute bars: single-eroute updates at 1M while a reader looks up...");
                indexStats = table.Current.Index!.Stats();
                Settle(); // the lookup A/B's trie (compiled from the index, above) is garbage now: not during the timed updates
                (updatesPerSecond, replacesPerSecond, readerNsDuringUpdates) = MeasureUpdates(table, specs, quick ? 1.0 : 2.0);
                Console.Error.WriteLine(string.Create(Inv, $"  {updatesPerSecond:N0} add/delete/replace per s, {replacesPerSecond:N0} replace per s, reader {readerNsDuringUpdates:F1} ns/lookup meanwhile"));
                table.SetCompiledStage(false); // the A/B: the same table, trie only, as before the compiled stage
                (oldUpdatesPerSecond, oldReplacesPerSecond, oldReaderNs) = MeasureUpdates(table, specs, quick ? 1.0 : 2.0);
                Console.Error.WriteLine(string.Create(Inv, $"  before the compiled stage: {oldUpdatesPerSecond:N0} add/delete/replace per s, {oldReplacesPerSecond:N0} replace per s, reader {oldReaderNs:F1} ns/lookup meanwhile"));
            }
        }
        Console.Error.WriteLine("fastpath eroute bars: lookups (IPv6)...");
        foreach (int n in sizes)
        {
            var (ns, wall, _, _, _, _) = MeasureLookupsAb<UInt128>(n, seed: 2000 + n, quick, measureMemory: false, compareOld: false);
            v6[n] = ns;
            Console.Error.WriteLine(string.Create(Inv, $"  IPv6 {n,9:N0} eroutes: {ns:F1} ns/lookup CPU, {wall:F1} wall ({total.Elapsed.TotalSeconds:F0} s)"));
        }

        var (latency, parallel) = MemoryLatency();
        json["dram_dependent_load_ns"] = latency;
        json["dram_parallel16_load_ns"] = parallel;
        report.AppendLine(Inv, $"Calibration, same run: a random dependent DRAM load costs {latency:F0} ns, {parallel:F1} ns with 16 independent loads in flight (CPU time, 256 MiB buffer).");
        report.AppendLine();
        report.AppendLine("## Eroute lookup, batched (256 keys), one thread, ns per lookup (thread CPU time, best pass)");
        report.AppendLine("| eroutes | IPv4 ns | IPv4 Mlookups/s | IPv4 before (trie only) ns | old/new | IPv6 ns (trie) | IPv6 Mlookups/s |");
        report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int n in sizes)
        {
            report.AppendLine(Inv, $"| {n:N0} | {v4[n]:F1} | {1e3 / v4[n]:F1} | {v4Old[n]:F1} | {v4Old[n] / v4[n]:F2} | {v6[n]:F1} | {1e3 / v6[n]:F1} |");
            json[$"lookup_v4_{n}_ns"] = v4[n];
            json[$"lookup_v4_{n}_ns_before"] = v4Old[n];
            json[$"lookup_v6_{n}_ns"] = v6[n];
        }
        double perEroute = memBytes / 1e6;
        report.AppendLine();
        report.AppendLine(Inv, $"Updates at 1M IPv4 eroutes while one thread looks up: {updatesPerSecond:N0}/s (mix of add, replace, delete); replace only {replacesPerSecond:N0}/s; reader meanwhile {readerNsDuringUpdates:F1} ns/lookup.");
        report.AppendLine(Inv, $"Before the compiled stage (same table, same run): {oldUpdatesPerSecond:N0}/s mixed, {oldReplacesPerSecond:N0}/s replace only, reader {oldReaderNs:F1} ns/lookup; new/old mixed {updatesPerSecond / Math.Max(1, oldUpdatesPerSecond):F2}.");
        report.AppendLine(Inv, $"Compiled stage at 1M: {indexStats.Blocks:N0} blocks ({indexStats.Splits:N0} /16s split into /24 blocks), {indexStats.Rules:N0} compiled rules, {indexStats.Words * 4 / 1048576.0:F0} MiB of blocks.");
        report.AppendLine(Inv, $"Managed memory of a 1M IPv4 eroute table (table, trie, compiled stage, records, two workers' hit counters): {memBytes / 1048576.0:F0} MiB = {perEroute:F0} B per eroute.");
        json["updates_per_s"] = updatesPerSecond;
        json["updates_per_s_before"] = oldUpdatesPerSecond;
        json["replaces_per_s"] = replacesPerSecond;
        json["bytes_per_eroute_v4_1m"] = perEroute;

        var bars = new List<(string Name, double Measured, double Floor, bool Pass)>
        {
            ("eroute_lookup_100k_ns", v4[100_000], 30, v4[100_000] <= 30),
            ("eroute_lookup_1m_ns", v4[1_000_000], 60, v4[1_000_000] <= 60),
            ("eroute_lookup_1m_over_1", v4[1_000_000] / v4[1], 2.5, v4[1_000_000] / v4[1] <= 2.5),
            ("eroute_updates_per_s", updatesPerSecond, 200_000, updatesPerSecond >= 200_000),
            ("eroute_bytes_per_v4_eroute_1m", perEroute, 256, perEroute <= 256),
        };
        report.AppendLine();
        Console.Out.Write(report.ToString());
        foreach (var (name, measured, floor, pass) in bars)
            Console.Out.WriteLine(string.Format(Inv, "BAR {0} {1:0.###} {2} {3}", name, measured, floor, pass ? "PASS" : "FAIL"));
        if (outFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
            File.WriteAllText(outFile, JsonSerializer.Serialize(new { results = json, bars = bars.Select(b => new { b.Name, b.Measured, b.Floor, b.Pass }) }, new JsonSerializerOptions { WriteIndented = true }));
        }
        Console.Error.WriteLine(string.Create(Inv, $"fastpath eroute bars: done in {total.Elapsed.TotalSeconds:F0} s"));
        return bars.All(b => b.Pass) ? 0 : 1;
    }

    internal static (double Ns, double WallNs, ErouteTable<TKey> Table, List<ErouteSpec<TKey>> Specs, long Memory) MeasureLookups<TKey>(int n, int seed, bool quick, bool measureMemory)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        var (ns, wall, table, specs, memory, _) = MeasureLookupsAb<TKey>(n, seed, quick, measureMemory, compareOld: false);
        return (ns, wall, table, specs, memory);
    }

    /// <summary>As MeasureLookups, and (compareOld) the same passes through the trie alone, alternated: the A/B.</summary>
    internal static (double Ns, double WallNs, ErouteTable<TKey> Table, List<ErouteSpec<TKey>> Specs, long Memory, double OldNs) MeasureLookupsAb<TKey>(int n, int seed, bool quick, bool measureMemory, bool compareOld = true)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        var w = new ErouteWorkload<TKey>(seed);
        List<ErouteSpec<TKey>> specs = w.Table(n);
        FlowKey<TKey>[] keys = w.Packets(specs, Math.Clamp(n, 64 * 1024, 1 << 20));
        long before = measureMemory ? Settle() : 0;
        var table = new ErouteTable<TKey>();
        HitCounters c1 = table.CreateHitCounters();
        HitCounters c2 = table.CreateHitCounters();
        table.ReplaceAll(specs);
        long memory = measureMemory ? Settle() - before : 0;
        GC.KeepAlive(c1);
        GC.KeepAlive(c2);

        ErouteSnapshot<TKey> snap = table.Current;
        if (compareOld && !snap.HasTrie)
        {
            // IPv4 snapshots carry no trie since session 4 (docs/eroute.md §7): compile the A/B's
            // trie from the index now, after the memory figure, and let the GC settle, so that
            // neither the compile nor a background GC after it runs during the timed passes.
            _ = snap.Root;
            Settle();
        }
        var results = new ErouteMatch[Batch];
        int batches = keys.Length / Batch;
        // Warm up for 0.4 s (tier-1 JIT installed), then the best of several passes over the whole key stream.
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 400) { Pass(snap, keys, results, batches); PassTrie(snap, keys, results, batches); }
        double best = double.MaxValue, bestWall = double.MaxValue, bestOld = double.MaxValue;
        int passes = (quick ? 5 : 11) * (n <= 1000 ? 3 : 1);
        long minLookups = quick ? 2_000_000 : 4_000_000;
        for (int p = 0; p < passes; p++)
        {
            long t0 = Stopwatch.GetTimestamp(), c0 = ThreadCpuNs();
            long done = 0;
            while (done < minLookups / passes + keys.Length)
            {
                Pass(snap, keys, results, batches);
                done += (long)batches * Batch;
            }
            best = Math.Min(best, (double)(ThreadCpuNs() - c0) / done);
            bestWall = Math.Min(bestWall, Stopwatch.GetElapsedTime(t0).TotalNanoseconds / done);
            if (!compareOld) continue;
            // The same pass through the structure before the compiled stage (the trie's batch
            // lookup, unchanged), alternated with the new one so both see the same machine.
            c0 = ThreadCpuNs();
            done = 0;
            while (done < minLookups / passes + keys.Length)
            {
                PassTrie(snap, keys, results, batches);
                done += (long)batches * Batch;
            }
            bestOld = Math.Min(bestOld, (double)(ThreadCpuNs() - c0) / done);
        }
        return (best, bestWall, table, specs, memory, bestOld);
    }

    private static void Pass<TKey>(ErouteSnapshot<TKey> snap, FlowKey<TKey>[] keys, ErouteMatch[] results, int batches)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        for (int b = 0; b < batches; b++)
            snap.Lookup(keys.AsSpan(b * Batch, Batch), results);
    }

    private static void PassTrie<TKey>(ErouteSnapshot<TKey> snap, FlowKey<TKey>[] keys, ErouteMatch[] results, int batches)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        for (int b = 0; b < batches; b++)
            PolicyTrie<TKey>.LookupBatch(snap.Root, keys.AsSpan(b * Batch, Batch), results);
    }

    /// <summary>Pointer chase over a random cyclic permutation of 256 MiB: one chain, and 16 chains interleaved.</summary>
    internal static (double Dependent, double Parallel16) MemoryLatency()
    {
        const int n = 32 << 20; // 32M longs = 256 MiB
        var next = new int[n];
        var rng = new Random(1);
        int[] perm = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--) { int j = rng.Next(i + 1); (perm[i], perm[j]) = (perm[j], perm[i]); }
        for (int i = 0; i < n; i++) next[perm[i]] = perm[(i + 1) % n];
        double best1 = double.MaxValue, best16 = double.MaxValue;
        Span<int> q = stackalloc int[16];
        for (int round = 0; round < 3; round++)
        {
            const int steps = 400_000;
            long c0 = ThreadCpuNs();
            int p = 0;
            for (int s = 0; s < steps; s++) p = next[p];
            best1 = Math.Min(best1, (ThreadCpuNs() - c0) / (double)steps);
            for (int i = 0; i < 16; i++) q[i] = perm[i * (n / 16)];
            c0 = ThreadCpuNs();
            for (int s = 0; s < steps / 16; s++)
                for (int i = 0; i < 16; i++) q[i] = next[q[i]];
            best16 = Math.Min(best16, (ThreadCpuNs() - c0) / (double)steps);
            GC.KeepAlive(p + q[0]);
        }
        return (best1, best16);
    }

    /// <summary>CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in nanoseconds.</summary>
    internal static long ThreadCpuNs()
    {
        if (OperatingSystem.IsLinux() && clock_gettime(3, out TimeSpec ts) == 0) return ts.Sec * 1_000_000_000 + ts.Nsec;
        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    private struct TimeSpec
    {
        public long Sec;
        public long Nsec;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clock, out TimeSpec ts);

    private static long Settle()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(true);
    }

    /// <summary>
    /// Single-eroute updates on the 1M table while a reader thread looks up in batches: cycles of
    /// (add a new eroute, replace an existing one's action, delete the one added), each published
    /// on its own; and a replace-only run (rekey: the SA of an eroute changes).
    /// </summary>
    private static (double Mixed, double ReplaceOnly, double ReaderNs) MeasureUpdates(ErouteTable<uint> table, List<ErouteSpec<uint>> specs, double seconds)
    {
        var w = new ErouteWorkload<uint>(4242);
        FlowKey<uint>[] keys = w.Packets(specs, 1 << 18);
        List<ErouteSpec<uint>> fresh = w.Table(200_000).Where(s => !table.TryGet(s.Selector, out _)).ToList();
        long readerLookups = 0;
        double readerSeconds = 0;
        using var stop = new CancellationTokenSource();
        var reader = new Thread(() =>
        {
            var results = new ErouteMatch[Batch];
            int batches = keys.Length / Batch;
            long n = 0;
            var sw = Stopwatch.StartNew();
            long cpu0 = ThreadCpuNs();
            while (!stop.IsCancellationRequested)
            {
                for (int b = 0; b < batches && !stop.IsCancellationRequested; b++)
                {
                    table.Current.Lookup(keys.AsSpan(b * Batch, Batch), results);
                    n += Batch;
                }
            }
            readerSeconds = (ThreadCpuNs() - cpu0) / 1e9;
            readerLookups = n;
        }) { IsBackground = true };
        reader.Start();
        var rng = new Random(5);
        // warm-up
        for (int i = 0; i < 2000; i++)
        {
            ErouteSpec<uint> s = specs[rng.Next(specs.Count)];
            table.Replace(s.Selector, ErouteAction.Sa((uint)rng.Next(0x100, int.MaxValue)), s.Peer);
        }
        long ops = 0;
        var t = Stopwatch.StartNew();
        long c0 = ThreadCpuNs();
        int fi = 0;
        while (t.Elapsed.TotalSeconds < seconds)
        {
            for (int k = 0; k < 64; k++)
            {
                ErouteSpec<uint> add = fresh[fi++ % fresh.Count];
                table.Add(add.Selector, add.Action, add.Peer);
                ErouteSpec<uint> s = specs[rng.Next(specs.Count)];
                table.Replace(s.Selector, ErouteAction.Sa((uint)rng.Next(0x100, int.MaxValue)), s.Peer);
                table.Delete(add.Selector);
                ops += 3;
            }
        }
        double mixed = ops / ((ThreadCpuNs() - c0) / 1e9);
        double mixedWall = ops / t.Elapsed.TotalSeconds;
        ops = 0;
        t.Restart();
        c0 = ThreadCpuNs();
        while (t.Elapsed.TotalSeconds < seconds / 2)
        {
            for (int k = 0; k < 64; k++)
            {
                ErouteSpec<uint> s = specs[rng.Next(specs.Count)];
                table.Replace(s.Selector, ErouteAction.Sa((uint)rng.Next(0x100, int.MaxValue)), s.Peer);
                ops++;
            }
        }
        double replaces = ops / ((ThreadCpuNs() - c0) / 1e9);
        stop.Cancel();
        reader.Join();
        Console.Error.WriteLine(string.Create(Inv, $"  (wall clock: {mixedWall:N0} mixed updates/s; reader {readerLookups:N0} lookups in {readerSeconds:F1} s)"));
        return (mixed, replaces, readerSeconds * 1e9 / Math.Max(1, readerLookups));
    }
}
