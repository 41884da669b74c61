using System;
using System.Globalization;
using System.Linq;
using System.Numerics;
using FastPath.Dataplane.Policy;

namespace FastPath.Benchmarks;

/// <summary>`-- eroute-probe N`: trie shape and scalar-vs-batched lookup cost for one table size (diagnostics).</summary>
internal static class ErouteProbe
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var (dependent, parallel) = ErouteBars.MemoryLatency();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DRAM now: {dependent:F0} ns per dependent load, {parallel:F1} ns with 16 in flight"));
        if (args.Contains("--v4")) { Probe<uint>(n, "IPv4"); return 0; }
        Probe<uint>(n, "IPv4");
        Probe<UInt128>(n, "IPv6");
        return 0;
    }

    private static void Probe<TKey>(int n, string name) where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        var w = new ErouteWorkload<TKey>(1000 + n);
        var specs = w.Table(n);
        var keys = w.Packets(specs, Math.Clamp(n, 65536, 1 << 20));
        var table = new ErouteTable<TKey>();
        table.ReplaceAll(specs);
        var snap = table.Current;
        var (nodes, buckets, maxBucket, copies) = PolicyTrie<TKey>.Stats(snap.Root);
        int hits = keys.Count(k => snap.Lookup(k).Found);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {n:N0}: nodes {nodes:N0}, buckets {buckets:N0} (max {maxBucket}, mean {(double)(n) / Math.Max(1, buckets):F1}), slot-list entries {copies:N0}, hit rate {100.0 * hits / keys.Length:F0}%"));
        if (snap.Index is { } index)
        {
            var (blocks, splits, rules, words) = index.Stats();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  compiled stage: {blocks:N0} blocks, {splits:N0} split /16s, {rules:N0} rules, {words * 4 / 1048576.0:F1} MiB of blocks"));
        }
        var results = new ErouteMatch[256];
        for (int rep = 0; rep < 3; rep++)
        {
            double scalar = Time(() =>
            {
                for (int b = 0; b + 256 <= keys.Length; b += 256)
                    for (int i = 0; i < 256; i++) results[i] = snap.Lookup(keys[b + i]);
            }, keys.Length);
            double batch = Time(() =>
            {
                for (int b = 0; b + 256 <= keys.Length; b += 256) snap.Lookup(keys.AsSpan(b, 256), results);
            }, keys.Length);
            double interleaved = Time(() =>
            {
                for (int b = 0; b + 256 <= keys.Length; b += 256) PolicyTrie<TKey>.LookupBatchPrefetched(snap.Root, keys.AsSpan(b, 256), results);
            }, keys.Length);
            var hot = new FlowKey<TKey>[keys.Length];
            for (int i = 0; i < hot.Length; i++) hot[i] = keys[i % 512];
            double cached = Time(() =>
            {
                for (int b = 0; b + 256 <= hot.Length; b += 256) snap.Lookup(hot.AsSpan(b, 256), results);
            }, keys.Length);
            double interleavedCached = Time(() =>
            {
                for (int b = 0; b + 256 <= hot.Length; b += 256) PolicyTrie<TKey>.LookupBatchPrefetched(snap.Root, hot.AsSpan(b, 256), results);
            }, keys.Length);
            double scalarCached = Time(() =>
            {
                for (int b = 0; b + 256 <= hot.Length; b += 256)
                    for (int i = 0; i < 256; i++) results[i] = snap.Lookup(hot[b + i]);
            }, keys.Length);
            if (snap.Index is { } ix)
            {
                var k4 = (FlowKey<uint>[])(object)keys;
                var h4 = (FlowKey<uint>[])(object)hot;
                double cInter = Time(() => { for (int b = 0; b + 256 <= k4.Length; b += 256) ix.LookupBatch(k4.AsSpan(b, 256), results); }, keys.Length);
                double cScalar = Time(() => { for (int b = 0; b + 256 <= k4.Length; b += 256) for (int i = 0; i < 256; i++) results[i] = ix.Lookup(k4[b + i]); }, keys.Length);
                double cInterHot = Time(() => { for (int b = 0; b + 256 <= h4.Length; b += 256) ix.LookupBatch(h4.AsSpan(b, 256), results); }, keys.Length);
                double cScalarHot = Time(() => { for (int b = 0; b + 256 <= h4.Length; b += 256) for (int i = 0; i < 256; i++) results[i] = ix.Lookup(h4[b + i]); }, keys.Length);
                double trieBatch = Time(() => { for (int b = 0; b + 256 <= keys.Length; b += 256) PolicyTrie<TKey>.LookupBatch(snap.Root, keys.AsSpan(b, 256), results); }, keys.Length);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  compiled: interleaved {cInter:F1} ns, scalar {cScalar:F1} ns; cached: interleaved {cInterHot:F1}, scalar {cScalarHot:F1}; trie batch (before) {trieBatch:F1} ns"));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  scalar {scalar:F1} ns, batched {batch:F1} ns, interleaved (prefetching) batch {interleaved:F1} ns; over 512 distinct keys (cached): batched {cached:F1}, scalar {scalarCached:F1}, interleaved {interleavedCached:F1} ns (CPU time)"));
        }
    }

    private static double Time(Action a, int perRun)
    {
        a();
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long c0 = ErouteBars.ThreadCpuNs();
            a();
            best = Math.Min(best, (ErouteBars.ThreadCpuNs() - c0) / (double)perRun);
        }
        return best;
    }
}

internal static class ErouteUpdateProbe
{
    /// <summary>
    /// `-- eroute-update-probe [N]`: where a single-eroute update's time goes on an N-eroute IPv4
    /// table (no reader): the trie's path copy, and the compiled stage's incremental patch
    /// (insert+remove of a fresh eroute, and an action replace), each over 20,000 random ops,
    /// thread CPU time per op; and wall time per destination-length class.
    /// </summary>
    public static int Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var w = new ErouteWorkload<uint>(1000 + n);
        var specs = w.Table(n);
        var table = new ErouteTable<uint>();
        table.ReplaceAll(specs);
        var fresh = new ErouteWorkload<uint>(77).Table(40_000).Where(s => !table.TryGet(s.Selector, out _)).ToArray();
        var rng = new Random(5);
        const int ops = 20_000;
        var existing = new Rule<uint>[ops];
        for (int i = 0; i < ops; i++)
        {
            var s = specs[rng.Next(specs.Count)];
            table.TryGet(s.Selector, out var e);
            existing[i] = new Rule<uint>(s.Selector, ErouteAction.Sa((uint)rng.Next(0x100, int.MaxValue)), e.Id);
        }
        var added = new Rule<uint>[ops];
        for (int i = 0; i < ops; i++) added[i] = new Rule<uint>(fresh[i % fresh.Length].Selector, fresh[i % fresh.Length].Action, 2_000_000 + i);
        TrieNode<uint> root = table.Current.Root;
        DestIndex index = table.Current.Index!;
        // --reader: one thread looks up in batches meanwhile (as the bars harness does); --trie:
        // the table without the compiled stage (the trie-only A/B).
        using var stop = new System.Threading.CancellationTokenSource();
        if (args.Contains("--trie")) table.SetCompiledStage(false);
        if (args.Contains("--reader"))
        {
            var keys = w.Packets(specs, 1 << 18);
            new System.Threading.Thread(() =>
            {
                var results = new ErouteMatch[256];
                while (!stop.IsCancellationRequested)
                    for (int b = 0; b + 256 <= keys.Length; b += 256) table.Current.Lookup(keys.AsSpan(b, 256), results);
            }) { IsBackground = true }.Start();
        }
        if (args.Contains("--table-only"))
        {
            // Only the published updates through the table (for a profile: perf record).
            for (int rep = 0; rep < 5; rep++)
            {
                long a0 = GC.GetAllocatedBytesForCurrentThread();
                long t5 = ErouteBars.ThreadCpuNs();
                for (int i = 0; i < ops; i++) table.Replace(specs[rng.Next(specs.Count)].Selector, ErouteAction.Sa((uint)rng.Next(0x100, int.MaxValue)));
                long t6 = ErouteBars.ThreadCpuNs();
                long a1 = GC.GetAllocatedBytesForCurrentThread();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rep {rep}: table Replace {(t6 - t5) / 1e3 / ops:F2} us/op ({(a1 - a0) / (double)ops:F0} B)"));
            }
            return 0;
        }
        for (int rep = 0; rep < 3; rep++)
        {
            var byLen = new System.Collections.Generic.Dictionary<string, (long Ticks, int Count)>();
            long b0 = GC.GetAllocatedBytesForCurrentThread();
            long c0 = ErouteBars.ThreadCpuNs();
            for (int i = 0; i < ops; i++) _ = PolicyTrie<uint>.Modify(root, existing[i], PolicyTrie<uint>.Op.Replace);
            long c1 = ErouteBars.ThreadCpuNs();
            long b1 = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < ops; i++) _ = PolicyTrie<uint>.Modify(PolicyTrie<uint>.Modify(root, added[i], PolicyTrie<uint>.Op.Insert), added[i], PolicyTrie<uint>.Op.Remove);
            long c2 = ErouteBars.ThreadCpuNs();
            long b2 = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < ops; i++) _ = index.ReplaceAction(existing[i]);
            long c3 = ErouteBars.ThreadCpuNs();
            long b3 = GC.GetAllocatedBytesForCurrentThread();
            long c4 = c3;
            foreach (string cls in new[] { "<=8", "9-16", "17-24", "25-32" })
            {
                var sel = added.Where(r => Class(r.DstLen) == cls).ToArray();
                long t0 = ErouteBars.ThreadCpuNs();
                foreach (var r in sel) _ = index.Insert(r).Remove(r);
                long t1 = ErouteBars.ThreadCpuNs();
                c4 += t1 - t0;
                byLen[cls] = (t1 - t0, sel.Length);
            }
            // The whole published update through the table (dictionary, records, trie if kept,
            // index, snapshot object, Volatile.Write), CPU time and bytes allocated per op.
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
            TimeSpan pause0 = GC.GetTotalPauseDuration();
            long t5 = ErouteBars.ThreadCpuNs();
            for (int i = 0; i < ops; i++) table.Replace(specs[rng.Next(specs.Count)].Selector, ErouteAction.Sa((uint)rng.Next(0x100, int.MaxValue)));
            long t6 = ErouteBars.ThreadCpuNs();
            long a1 = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < ops; i++)
            {
                var f = fresh[i % fresh.Length];
                table.Add(f.Selector, f.Action);
                table.Delete(f.Selector);
            }
            long t7 = ErouteBars.ThreadCpuNs();
            long a2 = GC.GetAllocatedBytesForCurrentThread();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rep {rep}: table loop GCs gen0/1/2 {GC.CollectionCount(0) - g0}/{GC.CollectionCount(1) - g1}/{GC.CollectionCount(2) - g2}, pause {(GC.GetTotalPauseDuration() - pause0).TotalMilliseconds:F1} ms over {3 * ops} ops"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rep {rep}: table (published) CPU us/op: Replace {(t6 - t5) / 1e3 / ops:F2} ({(a1 - a0) / (double)ops:F0} B), Add+Delete {(t7 - t6) / 1e3 / ops:F2} ({(a2 - a1) / (double)ops:F0} B)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rep {rep}: CPU us/op: trie replace {(c1 - c0) / 1e3 / ops:F2}, trie insert+remove {(c2 - c1) / 1e3 / ops:F2}; index replace {(c3 - c2) / 1e3 / ops:F2}, index insert+remove {(c4 - c3) / 1e3 / ops:F2}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rep {rep}: bytes/op: trie replace {(b1 - b0) / (double)ops:F0}, trie insert+remove {(b2 - b1) / (double)ops:F0}, index replace {(b3 - b2) / (double)ops:F0}"));
            foreach (var (k, (ns, count)) in byLen)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  index insert+remove {k,-6} {count,6} ops, {ns / 1e3 / Math.Max(1, count):F2} us each (CPU)"));
        }
        return 0;
    }

    private static string Class(int len) => len <= 8 ? "<=8" : len <= 16 ? "9-16" : len <= 24 ? "17-24" : "25-32";

    private static void Add(System.Collections.Generic.Dictionary<string, (long, int)> d, string k, long t)
    {
        d.TryGetValue(k, out var v);
        d[k] = (v.Item1 + t, v.Item2 + 1);
    }
}
