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
