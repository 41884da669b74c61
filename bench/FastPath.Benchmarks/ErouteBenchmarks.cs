using System;
using System.Collections.Generic;
using System.Numerics;
using BenchmarkDotNet.Attributes;
using FastPath.Dataplane.Policy;

namespace FastPath.Benchmarks;

/// <summary>
/// Eroute (SPD) lookups, batched (256 keys per call, reported per lookup), at 1, 1k, 100k and 1M
/// eroutes of the realistic mix (ErouteWorkload), IPv4 and IPv6; and single-eroute updates
/// (replace of an SA, add+delete) on the same tables. MemoryDiagnoser must show 0 B per lookup.
/// `dotnet run -c Release --project bench/FastPath.Benchmarks -- --filter '*ErouteBenchmarks*' --job short`.
/// The bars (with updates while lookups run, and memory per eroute) are `-- eroute` (ErouteBars).
/// </summary>
[MemoryDiagnoser]
public class ErouteBenchmarks
{
    public const int Batch = 256;

    [Params("ipv4", "ipv6")]
    public string Family { get; set; } = "ipv4";

    [Params(1, 1_000, 100_000, 1_000_000)]
    public int Eroutes { get; set; }

    private Case<uint>? _v4;
    private Case<UInt128>? _v6;

    private sealed class Case<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        public readonly ErouteTable<TKey> Table = new();
        public readonly FlowKey<TKey>[] Keys;
        public readonly ErouteMatch[] Results = new ErouteMatch[Batch];
        public readonly List<ErouteSpec<TKey>> Specs;
        public readonly List<ErouteSpec<TKey>> Fresh;
        public int Next;
        private int _rng = 1;

        public Case(int n, int seed)
        {
            var w = new ErouteWorkload<TKey>(seed);
            Specs = w.Table(n);
            Table.ReplaceAll(Specs);
            Keys = w.Packets(Specs, Math.Clamp(n, 64 * 1024, 1 << 20) / Batch * Batch);
            Fresh = w.Table(4096);
            Fresh.RemoveAll(s => Table.TryGet(s.Selector, out _));
        }

        public void LookupBatch()
        {
            int at = Next;
            Table.Current.Lookup(Keys.AsSpan(at, Batch), Results);
            Next = at + Batch == Keys.Length ? 0 : at + Batch;
        }

        public void Replace()
        {
            _rng = _rng * 1103515245 + 12345;
            ErouteSpec<TKey> s = Specs[(int)((uint)_rng % (uint)Specs.Count)];
            Table.Replace(s.Selector, ErouteAction.Sa((uint)_rng | 0x100), s.Peer);
        }

        public void AddDelete()
        {
            ErouteSpec<TKey> s = Fresh[Next++ % Fresh.Count];
            Table.Add(s.Selector, s.Action, s.Peer);
            Table.Delete(s.Selector);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        if (Family == "ipv4") _v4 = new Case<uint>(Eroutes, 1000 + Eroutes);
        else _v6 = new Case<UInt128>(Eroutes, 2000 + Eroutes);
    }

    /// <summary>One batch of 256 lookups; time per lookup.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Lookup()
    {
        if (_v4 is not null) _v4.LookupBatch();
        else _v6!.LookupBatch();
    }

    /// <summary>Replace one eroute's SA (path copy + publish).</summary>
    [Benchmark]
    public void ReplaceSa()
    {
        if (_v4 is not null) _v4.Replace();
        else _v6!.Replace();
    }

    /// <summary>Add a new eroute then delete it (two publications; time per update).</summary>
    [Benchmark(OperationsPerInvoke = 2)]
    public void AddThenDelete()
    {
        if (_v4 is not null) _v4.AddDelete();
        else _v6!.AddDelete();
    }
}
