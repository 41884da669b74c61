using System;
using System.Collections.Generic;
using System.Linq;
using FastPath.Dataplane.Policy;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>
/// The compiled IPv4 destination stage (DestIndex) at its edges: /0 and /32 destinations, deeply
/// nested overlapping prefixes with different sources (the Next chain and the Outer list), protocol
/// and port selectors, a /16 dense enough to be split into /24 blocks, packets on the first and
/// last address of every prefix and just outside it. Each answer (scalar, interleaved batch) must
/// equal the trie's and the brute-force reference, after the bulk build, after every one of a few
/// hundred single updates of all kinds, and the incrementally updated index must answer like one
/// compiled from scratch.
/// </summary>
public class PolicyCompiledStageTests
{
    private static readonly uint[] Sources = [0xC6336400u /*198.51.100.0*/, 0xC0000200u /*192.0.2.0*/, 0xCB007100u /*203.0.113.0*/];

    private static ErouteSpec<uint> Spec(Random rng, uint dst, int dstLen)
    {
        int s = rng.Next(4);
        (uint src, int srcLen) = s switch { 0 => (0u, 0), 1 => (Sources[rng.Next(3)], 24), 2 => (Sources[rng.Next(3)] | (uint)rng.Next(256), 32), _ => (Sources[rng.Next(3)] & 0xFFFF0000u, 16) };
        byte proto = 0;
        ushort lo = 0, hi = ushort.MaxValue;
        if (rng.Next(5) == 0)
        {
            proto = rng.Next(2) == 0 ? (byte)6 : (byte)17;
            lo = (ushort)rng.Next(1, 100);
            hi = rng.Next(2) == 0 ? lo : (ushort)(lo + rng.Next(1, 50));
        }
        var sel = new ErouteSelector<uint>(src, srcLen, dst, dstLen, proto, dstPortLo: lo, dstPortHi: hi);
        ErouteAction action = rng.Next(4) switch { 0 => ErouteAction.Drop, 1 => ErouteAction.Pass, _ => ErouteAction.Sa((uint)rng.Next(0x100, 1 << 30)) };
        return new ErouteSpec<uint>(sel, action);
    }

    /// <summary>Nested chains, a /0, /32s, and a dense /16 (more than DestIndex.SplitAbove eroutes).</summary>
    private static List<ErouteSpec<uint>> EdgeTable(Random rng)
    {
        var specs = new List<ErouteSpec<uint>>();
        specs.Add(Spec(rng, 0, 0));
        specs.Add(new ErouteSpec<uint>(new ErouteSelector<uint>(0, 0, 0, 0), ErouteAction.Drop)); // 0/0 -> 0/0
        for (int chain = 0; chain < 6; chain++)
        {
            uint a = (uint)rng.Next() | (chain == 0 ? 0xFFFF_FF00u : 0); // one chain at the top of the space
            if (chain == 1) a &= 0x0000_00FFu;                              // one at the bottom
            foreach (int len in new[] { 1, 7, 8, 12, 15, 16, 17, 20, 23, 24, 25, 28, 31, 32 })
                for (int copies = rng.Next(1, 4); copies > 0; copies--)
                    specs.Add(Spec(rng, a & KeyBits<uint>.Mask(len), len));
        }
        uint dense = 0x0A0B0000u; // 10.11.0.0/16
        for (int i = 0; i < DestIndex.SplitAbove * 3; i++)
        {
            int len = rng.Next(17, 33);
            specs.Add(Spec(rng, (dense | (uint)rng.Next(65536)) & KeyBits<uint>.Mask(len), len));
        }
        for (int i = 0; i < 200; i++) specs.Add(Spec(rng, (uint)rng.Next() << 1 | (uint)rng.Next(2), 32));
        return specs.GroupBy(s => s.Selector).Select(g => g.First()).ToList();
    }

    private static FlowKey<uint>[] EdgePackets(Random rng, IReadOnlyList<ErouteSpec<uint>> specs, int count)
    {
        var keys = new FlowKey<uint>[count];
        for (int i = 0; i < count; i++)
        {
            ErouteSelector<uint> s = specs[rng.Next(specs.Count)].Selector;
            uint size = s.DstLen == 0 ? 0 : 1u << (32 - s.DstLen); // 0 = the whole space
            uint dst = rng.Next(5) switch
            {
                0 => s.Dst,                        // first address
                1 => s.Dst + size - 1,             // last address
                2 => s.Dst + size,                 // just past the end
                3 => s.Dst - 1,                    // just before the start
                _ => s.Dst | ((uint)rng.Next() & ~KeyBits<uint>.Mask(s.DstLen)),
            };
            uint src = rng.Next(3) == 0 ? (uint)rng.Next() : s.Src | ((uint)rng.Next() & ~KeyBits<uint>.Mask(s.SrcLen));
            byte proto = rng.Next(2) == 0 && s.Protocol != 0 ? s.Protocol : (byte)(rng.Next(3) switch { 0 => 6, 1 => 17, _ => 1 });
            ushort dport = (ushort)(s.Protocol != 0 && rng.Next(2) == 0 ? rng.Next(s.DstPortLo, s.DstPortHi + 1) : rng.Next(0, 200));
            keys[i] = new FlowKey<uint>(src, dst, proto, (ushort)rng.Next(65536), dport);
        }
        return keys;
    }

    private static void Check(ErouteTable<uint> table, Random rng, int packets, bool compareFresh = true)
    {
        ErouteSnapshot<uint> snap = table.Current;
        DestIndex index = snap.Index!;
        var entries = table.List();
        var reference = entries.Select(e => (e.Selector, e.Id)).ToList();
        var specs = entries.Select(e => new ErouteSpec<uint>(e.Selector, e.Action)).ToList();
        FlowKey<uint>[] keys = EdgePackets(rng, specs, packets);
        var batch = new ErouteMatch[keys.Length];
        index.LookupBatch(keys, batch);
        DestIndex? fresh = compareFresh ? DestIndex.Build(snap.Root) : null; // a full compile: 65,536 /16s
        var actionById = entries.ToDictionary(e => e.Id, e => e.Action);
        for (int i = 0; i < keys.Length; i++)
        {
            ErouteMatch trie = PolicyTrie<uint>.Lookup(snap.Root, keys[i]);
            ErouteMatch compiled = index.Lookup(keys[i]);
            int want = PolicyPropertyTests.BruteForce(reference, keys[i]);
            if (compiled.Id != want || trie.Id != want)
                Assert.Fail($"packet {keys[i]}: compiled {compiled.Id}, trie {trie.Id}, reference {want}");
            if (want >= 0) Assert.Equal(actionById[want], compiled.Action);
            Assert.Equal(compiled, batch[i]);
            if (fresh is not null) Assert.Equal(compiled, fresh.Lookup(keys[i]));
            Assert.Equal(compiled, snap.Lookup(keys[i]));
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void EdgesMatchBruteForceAfterBuildAndEveryUpdate(int seed)
    {
        var rng = new Random(seed);
        List<ErouteSpec<uint>> specs = EdgeTable(rng);
        var table = new ErouteTable<uint>();
        table.ReplaceAll(specs);
        Assert.True(table.Current.Index!.Stats().Splits >= 1); // the dense /16 is split into /24 blocks
        Check(table, rng, 6000);
        var live = specs.Select(s => s.Selector).ToList();
        for (int step = 0; step < 300; step++)
        {
            int op = rng.Next(3);
            if (op == 0 || live.Count < 10)
            {
                // Add: any length, often inside an existing prefix (overlaps), sometimes /0 or /32.
                ErouteSelector<uint> near = live[rng.Next(live.Count)];
                int len = rng.Next(6) == 0 ? (rng.Next(2) == 0 ? 0 : 32) : rng.Next(0, 33);
                uint dst = (near.Dst | ((uint)rng.Next() & ~KeyBits<uint>.Mask(near.DstLen))) & KeyBits<uint>.Mask(len);
                ErouteSpec<uint> s = Spec(rng, dst, len);
                table.Replace(s.Selector, s.Action);
                if (!live.Contains(s.Selector)) live.Add(s.Selector);
            }
            else if (op == 1)
            {
                ErouteSelector<uint> s = live[rng.Next(live.Count)];
                table.Replace(s, ErouteAction.Sa((uint)rng.Next(0x100, 1 << 30)));
            }
            else
            {
                int at = rng.Next(live.Count);
                Assert.True(table.Delete(live[at]));
                live.RemoveAt(at);
            }
            Check(table, rng, step % 25 == 0 ? 3000 : 300, compareFresh: step % 25 == 0);
        }
    }

    /// <summary>
    /// The writer does not maintain the IPv4 trie per single update (docs/eroute.md §7): published
    /// IPv4 snapshots carry only the index, and the index alone must hold exactly the live eroutes
    /// (selectors, action, id) — it is what a trie is compiled from when one is asked for. With the
    /// compiled stage switched off the trie is compiled once and then maintained again.
    /// </summary>
    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public void SingleUpdatesPublishNoTrieAndTheIndexHoldsExactlyTheLiveEroutes(int seed)
    {
        var rng = new Random(seed);
        var table = new ErouteTable<uint>();
        Assert.False(table.Current.HasTrie);
        table.ReplaceAll(EdgeTable(rng));
        Assert.False(table.Current.HasTrie); // the bulk build's trie was only the compile input
        AssertIndexHoldsLive(table);
        var live = table.List().Select(e => e.Selector).ToList();
        for (int step = 0; step < 400; step++)
        {
            int op = rng.Next(3);
            if (op == 0 || live.Count < 10)
            {
                ErouteSelector<uint> near = live[rng.Next(live.Count)];
                int len = rng.Next(0, 33);
                uint dst = (near.Dst | ((uint)rng.Next() & ~KeyBits<uint>.Mask(near.DstLen))) & KeyBits<uint>.Mask(len);
                ErouteSpec<uint> s = Spec(rng, dst, len);
                table.Replace(s.Selector, s.Action);
                if (!live.Contains(s.Selector)) live.Add(s.Selector);
            }
            else if (op == 1)
            {
                table.Replace(live[rng.Next(live.Count)], ErouteAction.Sa((uint)rng.Next(0x100, 1 << 30)));
            }
            else
            {
                int at = rng.Next(live.Count);
                Assert.True(table.Delete(live[at]));
                live.RemoveAt(at);
            }
            Assert.False(table.Current.HasTrie);
            Assert.Equal(live.Count, table.Current.Count);
            if (step % 20 == 0) AssertIndexHoldsLive(table);
        }
        Check(table, rng, 2000);

        // Trie only (the benchmarks' A/B): compiled from the index once, then path-copied per update.
        table.SetCompiledStage(false);
        Assert.Null(table.Current.Index);
        Assert.True(table.Current.HasTrie);
        for (int step = 0; step < 50; step++)
        {
            int at = rng.Next(live.Count);
            Assert.True(table.Delete(live[at]));
            live.RemoveAt(at);
            Assert.True(table.Current.HasTrie);
        }
        var reference = table.List().Select(e => (e.Selector, e.Id)).ToList();
        FlowKey<uint>[] keys = EdgePackets(rng, table.List().Select(e => new ErouteSpec<uint>(e.Selector, e.Action)).ToList(), 2000);
        foreach (FlowKey<uint> k in keys) Assert.Equal(PolicyPropertyTests.BruteForce(reference, k), table.Current.Lookup(k).Id);
        table.SetCompiledStage(true);
        Assert.False(table.Current.HasTrie);
        AssertIndexHoldsLive(table);
        Check(table, rng, 2000);
    }

    private static void AssertIndexHoldsLive(ErouteTable<uint> table)
    {
        var want = table.List().Select(e => (e.Id, e.Selector, e.Action)).OrderBy(x => x.Id).ToList();
        var got = table.Current.Index!.AllRules()
            .Select(r => (r.Id, new ErouteSelector<uint>(r.Src, r.SrcLen, r.Dst, r.DstLen, r.Protocol, r.SrcPortLo, r.SrcPortHi, r.DstPortLo, r.DstPortHi), new ErouteAction(r.Action)))
            .OrderBy(x => x.Id).ToList();
        Assert.Equal(want, got);
    }

    [Fact]
    public void WholeTableShuntsAndEmptyTable()
    {
        var table = new ErouteTable<uint>();
        var rng = new Random(3);
        Assert.Equal(ErouteMatch.None, table.Current.Lookup(new FlowKey<uint>(1, 2)));
        int drop = table.Add(new ErouteSelector<uint>(0, 0, 0, 0), ErouteAction.Drop);
        Assert.Equal(drop, table.Current.Lookup(new FlowKey<uint>(0xFFFF_FFFF, 0xFFFF_FFFF)).Id);
        Assert.Equal(drop, table.Current.Lookup(new FlowKey<uint>(0, 0)).Id);
        int host = table.Add(new ErouteSelector<uint>(0, 0, 0xFFFF_FFFF, 32), ErouteAction.Pass);
        Assert.Equal(host, table.Current.Lookup(new FlowKey<uint>(5, 0xFFFF_FFFF)).Id);
        Assert.Equal(drop, table.Current.Lookup(new FlowKey<uint>(5, 0xFFFF_FFFE)).Id);
        Assert.True(table.Delete(new ErouteSelector<uint>(0, 0, 0, 0)));
        Assert.Equal(ErouteMatch.None, table.Current.Lookup(new FlowKey<uint>(5, 0xFFFF_FFFE)));
        Check(table, rng, 500);
    }
}
