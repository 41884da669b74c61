using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using FastPath.Dataplane.Policy;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>
/// Property tests: for random realistic tables (up to 100k eroutes) and random packets, the trie's
/// answer equals a brute-force most-specific-match over all eroutes, for IPv4 and IPv6, after a
/// bulk build and after many single adds / replaces / deletes (path-copied updates, bucket splits
/// and collapses).
/// </summary>
public class PolicyPropertyTests
{
    /// <summary>The reference: scan every eroute, keep the most specific match (the documented order).</summary>
    internal static int BruteForce<TKey>(IReadOnlyList<(ErouteSelector<TKey> Sel, int Id)> table, in FlowKey<TKey> k)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        int best = -1;
        ErouteSelector<TKey> bs = default;
        foreach (var (s, id) in table)
        {
            if (!s.Matches(k)) continue;
            if (best < 0 || MoreSpecific(s, id, bs, best)) { best = id; bs = s; }
        }
        return best;
    }

    private static bool MoreSpecific<TKey>(in ErouteSelector<TKey> a, int aid, in ErouteSelector<TKey> b, int bid)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        if (a.DstLen != b.DstLen) return a.DstLen > b.DstLen;
        if (a.SrcLen != b.SrcLen) return a.SrcLen > b.SrcLen;
        if ((a.Protocol != 0) != (b.Protocol != 0)) return a.Protocol != 0;
        int aw = a.DstPortHi - a.DstPortLo, bw = b.DstPortHi - b.DstPortLo;
        if (aw != bw) return aw < bw;
        aw = a.SrcPortHi - a.SrcPortLo; bw = b.SrcPortHi - b.SrcPortLo;
        if (aw != bw) return aw < bw;
        return aid < bid;
    }

    private static void CheckAgainstReference<TKey>(ErouteTable<TKey> table, ErouteWorkload<TKey> w, int packets)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        var entries = table.List();
        var reference = entries.Select(e => (e.Selector, e.Id)).ToList();
        var specs = entries.Select(e => new ErouteSpec<TKey>(e.Selector, e.Action, e.Peer)).ToList();
        FlowKey<TKey>[] keys = w.Packets(specs, packets);
        var results = new ErouteMatch[keys.Length];
        ErouteSnapshot<TKey> snap = table.Current;
        Assert.Equal(entries.Count, snap.Count);
        snap.Lookup(keys, results);
        // The prefetching batch path (used above 256k eroutes) must give the same answers at any size.
        var prefetched = new ErouteMatch[keys.Length];
        PolicyTrie<TKey>.LookupBatchPrefetched(snap.Root, keys, prefetched);
        Assert.Equal(results, prefetched);
        var actionById = entries.ToDictionary(e => e.Id, e => e.Action);
        for (int i = 0; i < keys.Length; i++)
        {
            int want = BruteForce(reference, keys[i]);
            if (want != results[i].Id) Assert.Fail($"packet {keys[i]}: trie {results[i].Id}, reference {want}");
            if (want >= 0) Assert.Equal(actionById[want], results[i].Action);
            Assert.Equal(results[i], snap.Lookup(keys[i]));
        }
    }

    public static IEnumerable<object[]> Sizes => [[1, 1], [10, 2], [300, 3], [5_000, 4], [100_000, 5]];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Ipv4BulkBuildMatchesBruteForce(int count, int seed)
    {
        var w = new ErouteWorkload<uint>(seed);
        var table = new ErouteTable<uint>();
        table.ReplaceAll(w.Table(count));
        CheckAgainstReference(table, w, count >= 100_000 ? 1500 : 4000);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Ipv6BulkBuildMatchesBruteForce(int count, int seed)
    {
        var w = new ErouteWorkload<UInt128>(seed + 100);
        var table = new ErouteTable<UInt128>();
        table.ReplaceAll(w.Table(count));
        CheckAgainstReference(table, w, count >= 100_000 ? 1000 : 4000);
    }

    [Theory]
    [InlineData(2_000, 11)]
    [InlineData(20_000, 12)]
    public void Ipv4SingleUpdatesMatchBruteForce(int count, int seed) => SingleUpdates<uint>(count, seed);

    [Theory]
    [InlineData(2_000, 21)]
    [InlineData(20_000, 22)]
    public void Ipv6SingleUpdatesMatchBruteForce(int count, int seed) => SingleUpdates<UInt128>(count, seed);

    /// <summary>One random single update: op = rng.Next(10) below deleteBelow deletes, below replaceBelow replaces an action, else adds fresh() (if new).</summary>
    private static void ChurnOne<TKey>(ErouteTable<TKey> table, List<ErouteSpec<TKey>> live, Random rng, int deleteBelow, int replaceBelow, Func<ErouteSpec<TKey>> fresh)
        where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        int op = rng.Next(10);
        if (op < deleteBelow && live.Count > 0)
        {
            int at = rng.Next(live.Count);
            Assert.True(table.Delete(live[at].Selector));
            live[at] = live[^1];
            live.RemoveAt(live.Count - 1);
        }
        else if (op < replaceBelow && live.Count > 0)
        {
            int at = rng.Next(live.Count);
            live[at] = live[at] with { Action = ErouteAction.Sa((uint)rng.Next(0x100, 0x10000)) };
            table.Replace(live[at].Selector, live[at].Action, live[at].Peer);
        }
        else
        {
            ErouteSpec<TKey> s = fresh();
            if (table.TryGet(s.Selector, out _)) return;
            table.Add(s.Selector, s.Action, s.Peer);
            live.Add(s);
        }
    }

    private static void SingleUpdates<TKey>(int count, int seed) where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
    {
        var w = new ErouteWorkload<TKey>(seed);
        var rng = new Random(seed);
        var table = new ErouteTable<TKey>();
        var live = new List<ErouteSpec<TKey>>();
        // Grow by single adds (bucket splits), check, then churn (deletes collapse nodes), check.
        foreach (ErouteSpec<TKey> s in w.Table(count))
        {
            table.Add(s.Selector, s.Action, s.Peer);
            live.Add(s);
        }
        CheckAgainstReference(table, w, 3000);
        for (int i = 0; i < count; i++) ChurnOne(table, live, rng, deleteBelow: 5, replaceBelow: 7, w.NextSpec);
        Assert.Equal(live.Count, table.Count);
        CheckAgainstReference(table, w, 3000);
        // Delete down to a handful: nodes collapse back into buckets.
        while (live.Count > 5)
        {
            Assert.True(table.Delete(live[^1].Selector));
            live.RemoveAt(live.Count - 1);
        }
        CheckAgainstReference(table, w, 2000);
        var (nodes, _, _, _) = PolicyTrie<TKey>.Stats(table.Current.Root);
        Assert.True(nodes <= 2, $"{nodes} nodes left for 5 eroutes");
    }

    /// <summary>
    /// Dense destinations: many eroutes inside a few /16s (and a few /8s and /24s), so buckets hold
    /// up to 32 eroutes at every bucket shift (8, 16, 24): the destination filter's vector compare
    /// runs over several 8-entry blocks and its tail mask, buckets split into nodes and collapse
    /// back, and several sources share one destination. Checked against brute force after the
    /// bulk build and after single adds, replaces and deletes.
    /// </summary>
    [Theory]
    [InlineData(41)]
    [InlineData(42)]
    public void Ipv4DenseBucketsMatchBruteForce(int seed)
    {
        var rng = new Random(seed);
        var w = new ErouteWorkload<uint>(seed);
        // 25-28 eroutes per region: a /8 (one bucket at shift 8), /16s (shift 16), and three /24s of
        // one /16 (75 > 32: a node, then buckets at shift 24).
        (uint Prefix, int Len, int Count)[] regions =
        [
            (0x0A000000u, 8, 25), (0xC6330000u, 16, 25), (0xC6340000u, 16, 27), (0x64400000u, 16, 28),
            (0xCB007100u, 24, 25), (0xCB007200u, 24, 26), (0xCB007300u, 24, 25),
        ];
        (uint, int)[] sources = [(0, 0), (0xC0A80000u, 16), (0xC0A80100u, 24), (0xC0A80101u, 32)];
        var specs = new Dictionary<ErouteSelector<uint>, ErouteSpec<uint>>();
        ErouteSpec<uint> Next(int region)
        {
            var (prefix, len, _) = regions[region];
            int dl = rng.Next(len + 1, 33);
            uint dst = (prefix | ((uint)rng.Next() & (uint)(0xFFFF_FFFFUL >> len))) & KeyBits<uint>.Mask(dl);
            var (src, sl) = sources[rng.Next(sources.Length)];
            byte proto = rng.Next(8) == 0 ? (byte)6 : (byte)0;
            ushort lo = proto == 0 ? (ushort)0 : (ushort)rng.Next(1, 100);
            ushort hi = proto == 0 ? ushort.MaxValue : (ushort)(lo + rng.Next(0, 3));
            var sel = new ErouteSelector<uint>(src, sl, dst, dl, proto, dstPortLo: lo, dstPortHi: hi);
            return new ErouteSpec<uint>(sel, ErouteAction.Sa((uint)rng.Next(0x100, 0x10000)));
        }
        for (int region = 0; region < regions.Length; region++)
        {
            int want = specs.Count + regions[region].Count;
            while (specs.Count < want)
            {
                ErouteSpec<uint> s = Next(region);
                specs.TryAdd(s.Selector, s);
            }
        }
        var table = new ErouteTable<uint>();
        table.ReplaceAll(specs.Values);
        var (_, _, maxBucket, _) = PolicyTrie<uint>.Stats(table.Current.Root);
        Assert.True(maxBucket > 16, $"largest bucket {maxBucket}: the test does not reach multi-block filters");
        CheckAgainstReference(table, w, 4000);
        var live = specs.Values.ToList();
        for (int i = 0; i < 400; i++)
        {
            int op = rng.Next(10);
            if (op < 4 && live.Count > 0)
            {
                int at = rng.Next(live.Count);
                Assert.True(table.Delete(live[at].Selector));
                live[at] = live[^1];
                live.RemoveAt(live.Count - 1);
            }
            else if (op < 6 && live.Count > 0)
            {
                int at = rng.Next(live.Count);
                live[at] = live[at] with { Action = ErouteAction.Sa((uint)rng.Next(0x100, 0x10000)) };
                table.Replace(live[at].Selector, live[at].Action);
            }
            else
            {
                ErouteSpec<uint> s = Next(rng.Next(regions.Length));
                if (table.TryGet(s.Selector, out _)) continue;
                table.Add(s.Selector, s.Action);
                live.Add(s);
            }
        }
        CheckAgainstReference(table, w, 4000);
    }

    /// <summary>
    /// The compiled IPv4 stage's incremental updates, interleaved at random: single adds (the
    /// realistic mix, plus wide /1-/8 prefixes for the per-/8 lists, /9-/16 for the /16 lists and
    /// bursts into one /16 so that its block grows past DestIndex.SplitAbove and is split during the
    /// updates), replaces and deletes, checked against the brute-force reference (scalar lookups and
    /// the interleaved batch of the index, and the trie) every few operations, not only at the end.
    /// </summary>
    [Theory]
    [InlineData(3_000, 51)]
    [InlineData(40_000, 52)]
    public void Ipv4InterleavedSingleUpdatesWithCompiledStageMatchBruteForce(int count, int seed)
    {
        var w = new ErouteWorkload<uint>(seed);
        var rng = new Random(seed);
        var table = new ErouteTable<uint>();
        var live = new List<ErouteSpec<uint>>(w.Table(count));
        table.ReplaceAll(live);
        Assert.NotNull(table.Current.Index);
        uint dense = 0xC6120000u | ((uint)rng.Next(256) << 24 & 0x0F000000u); // one /16 that fills up
        int splitsBefore = table.Current.Index!.Stats().Splits;
        void Check(int packets)
        {
            CheckAgainstReference(table, w, packets);
            ErouteSnapshot<uint> snap = table.Current;
            var entries = table.List();
            var reference = entries.Select(e => (e.Selector, e.Id)).ToList();
            FlowKey<uint>[] keys = w.Packets(entries.Select(e => new ErouteSpec<uint>(e.Selector, e.Action)).ToList(), packets);
            var batch = new ErouteMatch[keys.Length];
            snap.Index!.LookupBatch(keys, batch);
            for (int i = 0; i < keys.Length; i++)
            {
                int want = BruteForce(reference, keys[i]);
                if (batch[i].Id != want) Assert.Fail($"packet {keys[i]}: interleaved batch {batch[i].Id}, reference {want}");
            }
        }
        ErouteSpec<uint> Fresh()
        {
            int kind = rng.Next(20);
            if (kind >= 6) return w.NextSpec();
            int len = kind switch { 0 => rng.Next(1, 9), 1 => rng.Next(9, 17), _ => rng.Next(17, 33) };
            uint dst = kind >= 2 ? dense | (uint)rng.Next(65536) : (uint)rng.Next() << 1;
            var sel = new ErouteSelector<uint>(rng.Next(2) == 0 ? 0u : 0xC0A80000u, rng.Next(2) == 0 ? 0 : 16, dst & KeyBits<uint>.Mask(len), len);
            return new ErouteSpec<uint>(sel, rng.Next(5) == 0 ? ErouteAction.Drop : ErouteAction.Sa((uint)rng.Next(0x100, 0x10000)));
        }
        for (int i = 0; i < 1200; i++)
        {
            ChurnOne(table, live, rng, deleteBelow: 3, replaceBelow: 5, Fresh);
            if (i % 40 == 39) Check(300);
        }
        Assert.Equal(live.Count, table.Count);
        Assert.True(table.Current.Index!.Stats().Splits > splitsBefore, "the dense /16 was not split by single adds");
        Check(3000);
    }

    [Fact]
    public void EmptyTableMissesEverything()
    {
        var table = new ErouteTable<uint>();
        Assert.Equal(ErouteMatch.None, table.Current.Lookup(new FlowKey<uint>(1, 2)));
        Assert.Equal(DropReason.NoPolicy, table.Current.DecideOutbound(new FlowKey<uint>(1, 2)).Reason);
    }

    [Fact]
    public void DestinationSpecificityBeatsSourceSpecificity()
    {
        // Tie-break 1: most specific destination first, even when a broader-destination eroute has
        // a more specific source.
        var t = new ErouteTable<uint>();
        int a = t.Add(ErouteSelector<uint>.Parse("192.0.2.10/32", "198.51.100.0/24"), ErouteAction.Sa(0x1001));
        int b = t.Add(ErouteSelector<uint>.Parse("192.0.2.0/24", "198.51.100.0/25"), ErouteAction.Sa(0x1002));
        var k = new FlowKey<uint>(KeyBits<uint>.ParseAddress("192.0.2.10"), KeyBits<uint>.ParseAddress("198.51.100.7"));
        Assert.Equal(b, t.Current.Lookup(k).Id);
        // Destination outside the /25: only the /24 eroute matches.
        k = k with { Dst = KeyBits<uint>.ParseAddress("198.51.100.200") };
        Assert.Equal(a, t.Current.Lookup(k).Id);
        // Same destination: the more specific source wins; a non-matching source falls back to a
        // less specific destination.
        int c = t.Add(ErouteSelector<uint>.Parse("192.0.2.10/32", "198.51.100.0/25"), ErouteAction.Sa(0x1003));
        k = k with { Dst = KeyBits<uint>.ParseAddress("198.51.100.7") };
        Assert.Equal(c, t.Current.Lookup(k).Id);
        k = k with { Src = KeyBits<uint>.ParseAddress("203.0.113.1") };
        Assert.Equal(ErouteMatch.None, t.Current.Lookup(k));
        int d = t.Add(ErouteSelector<uint>.Parse("0.0.0.0/0", "0.0.0.0/0"), ErouteAction.Drop);
        Assert.Equal(d, t.Current.Lookup(k).Id);
    }

    [Fact]
    public void ProtocolAndPortSelectorsRankAfterPrefixes()
    {
        var t = new ErouteTable<uint>();
        var any = ErouteSelector<uint>.Parse("10.0.0.0/8", "192.0.2.0/24");
        var (s, sl) = KeyBits<uint>.ParsePrefix("10.0.0.0/8");
        var (d, dl) = KeyBits<uint>.ParsePrefix("192.0.2.0/24");
        var tcp = new ErouteSelector<uint>(s, sl, d, dl, 6);
        var https = new ErouteSelector<uint>(s, sl, d, dl, 6, dstPortLo: 443, dstPortHi: 443);
        int ia = t.Add(any, ErouteAction.Sa(1));
        int it = t.Add(tcp, ErouteAction.Pass);
        int ih = t.Add(https, ErouteAction.Drop);
        uint src = KeyBits<uint>.ParseAddress("10.1.2.3"), dst = KeyBits<uint>.ParseAddress("192.0.2.9");
        Assert.Equal(ih, t.Current.Lookup(new FlowKey<uint>(src, dst, 6, 5000, 443)).Id);
        Assert.Equal(it, t.Current.Lookup(new FlowKey<uint>(src, dst, 6, 5000, 80)).Id);
        Assert.Equal(ia, t.Current.Lookup(new FlowKey<uint>(src, dst, 17, 5000, 443)).Id);
        // A longer destination prefix still beats a protocol selector.
        int host = t.Add(ErouteSelector<uint>.Parse("10.0.0.0/8", "192.0.2.9/32"), ErouteAction.Sa(2));
        Assert.Equal(host, t.Current.Lookup(new FlowKey<uint>(src, dst, 6, 5000, 443)).Id);
    }
}
