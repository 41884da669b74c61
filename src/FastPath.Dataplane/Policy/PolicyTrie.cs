using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Policy;

// The eroute lookup structure: a persistent (path-copied, never mutated after publication)
// multibit trie on the destination address, stride 8, with controlled prefix expansion, whose
// leaves are short source lists.
//
// Layout
// - A TrieNode at depth d (d = 0, 8, 16, ...) has 256 slots, indexed by destination bits
//   [d, d+8). Slot i holds
//     Rules: the eroutes whose destination length L is in (d, d+8] (the root also takes L = 0),
//            expanded over the 2^(d+8-L) slots they cover, sorted most specific first;
//     Child: null, a child TrieNode at depth d+8, or a *bucket* — a Rule[] of at most BucketMax
//            eroutes (all with L > d+8, inside the slot's range) sorted most specific first.
//   A subtree becomes a node only when it holds more than BucketMax (32) eroutes, so the 4 KB
//   node arrays exist only where the table is dense; sparse ranges cost one small array.
// - A Rule carries its destination and source prefix+mask, protocol/port ranges, the packed
//   action and the eroute id, so a lookup returns without touching any other memory.
//
// Lookup (most specific destination, then most specific source, then protocol/ports):
//   walk the nodes by destination chunk; the bucket at the end (deepest destinations) is scanned
//   first; if nothing in it matches the packet's source/protocol/ports, the slot rule lists met on
//   the way are scanned deepest level first (re-walking from the root, which is in cache, instead
//   of keeping a stack: no per-lookup zeroing, and the fallback is the rare path). Every list is
//   sorted by (destination length desc, source length desc, protocol given, narrower destination
//   ports, narrower source ports, lower id), so the first hit is the answer.
//   IPv4: at most 4 node levels; IPv6: at most 16 (no path compression yet).
//
// Updates copy the path: each node from the root to the changed slot (4 KB each) and the changed
// list/bucket; nothing reachable from a published root is ever written. A bucket that grows past
// BucketMax becomes a node; a node that shrinks to CollapseAt eroutes becomes a bucket again.
//
// Why this design (measured on this 2-core Zen 4 VM, perf-scripts/eroute.sh, see docs/eroute.md):
// a DIR-24-8 table costs 64 MB before the first eroute and a 1 KB second-level chunk per /24
// touched, i.e. ~1 KB per random host eroute (over the 256 B bar), and cannot be path-copied
// cheaply. Fixed 256-way nodes everywhere cost 4 KB per /24 touched. Buckets keep the 1M random
// host-eroute table at ~1 node per /8 and one bucket per /16, so a lookup is one or two cached
// node reads and one bucket (usually one DRAM miss) scanned linearly (16 entries on average at 1M).
internal static class PolicyTrie<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    /// <summary>Largest bucket (linear list) before it becomes a node.</summary>
    internal const int BucketMax = 32;
    /// <summary>A node whose subtree shrinks to this many eroutes is collapsed back into a bucket.</summary>
    internal const int CollapseAt = 16;

    public static TrieNode<TKey> Empty { get; } = new(0, new TrieSlot<TKey>[256], 0);

    /// <summary>The depth of the node level whose slot lists hold destination length <paramref name="len"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int LevelOf(int len) => len == 0 ? 0 : ((len - 1) >> 3) << 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref TrieSlot<TKey> SlotAt(TrieNode<TKey> node, int index) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(node.Slots), index);

    // ---- lookup ------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Matches(ref Rule<TKey> r, in FlowKey<TKey> k) =>
        (k.Dst & r.DstMask) == r.Dst && (k.Src & r.SrcMask) == r.Src
        && (r.Protocol == 0 || (r.Protocol == k.Protocol
            && (uint)(k.DstPort - r.DstPortLo) <= (uint)(r.DstPortHi - r.DstPortLo)
            && (uint)(k.SrcPort - r.SrcPortLo) <= (uint)(r.SrcPortHi - r.SrcPortLo)));

    /// <summary>Index of the first rule in <paramref name="rules"/> matching <paramref name="k"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Scan(Rule<TKey>[] rules, in FlowKey<TKey> k)
    {
        ref Rule<TKey> r0 = ref MemoryMarshal.GetArrayDataReference(rules);
        for (int i = 0; i < rules.Length; i++)
        {
            if (Matches(ref Unsafe.Add(ref r0, i), k)) return i;
        }
        return -1;
    }

    /// <summary>The most specific eroute matching <paramref name="k"/> (see the file comment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ErouteMatch Lookup(TrieNode<TKey> root, in FlowKey<TKey> k)
    {
        TrieNode<TKey> node = root;
        int levelsWithRules = 0; // bit (depth/8) set when that level's slot had a rule list
        while (true)
        {
            ref TrieSlot<TKey> slot = ref SlotAt(node, KeyBits<TKey>.Chunk(k.Dst, node.Depth));
            if (slot.Rules is not null) levelsWithRules |= 1 << (node.Depth >> 3);
            object? child = slot.Child;
            if (child is null) break;
            if (child.GetType() == typeof(Rule<TKey>[]))
            {
                Rule<TKey>[] bucket = Unsafe.As<Rule<TKey>[]>(child);
                int i = Scan(bucket, k);
                if (i >= 0)
                {
                    ref Rule<TKey> r = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(bucket), i);
                    return new ErouteMatch(r.Id, new ErouteAction(r.Action));
                }
                break;
            }
            node = Unsafe.As<TrieNode<TKey>>(child);
        }
        return levelsWithRules == 0 ? ErouteMatch.None : Fallback(root, k, levelsWithRules);
    }

    /// <summary>Scans the slot rule lists on the path, deepest level first.</summary>
    private static ErouteMatch Fallback(TrieNode<TKey> root, in FlowKey<TKey> k, int levelsWithRules)
    {
        while (levelsWithRules != 0)
        {
            int level = 31 - BitOperations.LeadingZeroCount((uint)levelsWithRules);
            levelsWithRules &= ~(1 << level);
            TrieNode<TKey> node = root;
            for (int l = 0; l < level; l++)
                node = Unsafe.As<TrieNode<TKey>>(SlotAt(node, KeyBits<TKey>.Chunk(k.Dst, node.Depth)).Child)!;
            Rule<TKey>[] rules = SlotAt(node, KeyBits<TKey>.Chunk(k.Dst, node.Depth)).Rules!;
            int i = Scan(rules, k);
            if (i >= 0) return new ErouteMatch(rules[i].Id, new ErouteAction(rules[i].Action));
        }
        return ErouteMatch.None;
    }

    // ---- ordering ----------------------------------------------------------------------------

    /// <summary>
    /// Specificity order, most specific first: destination length, source length, protocol given,
    /// narrower destination port range, narrower source port range, then lower id (older eroute).
    /// </summary>
    internal static int CompareSpecificity(in Rule<TKey> a, in Rule<TKey> b)
    {
        int c = b.DstLen.CompareTo(a.DstLen);
        if (c != 0) return c;
        c = b.SrcLen.CompareTo(a.SrcLen);
        if (c != 0) return c;
        c = (b.Protocol != 0).CompareTo(a.Protocol != 0);
        if (c != 0) return c;
        c = (a.DstPortHi - a.DstPortLo).CompareTo(b.DstPortHi - b.DstPortLo);
        if (c != 0) return c;
        c = (a.SrcPortHi - a.SrcPortLo).CompareTo(b.SrcPortHi - b.SrcPortLo);
        if (c != 0) return c;
        return a.Id.CompareTo(b.Id);
    }

    private sealed class SpecificityComparer : IComparer<Rule<TKey>>
    {
        public static readonly SpecificityComparer Instance = new();
        public int Compare(Rule<TKey> x, Rule<TKey> y) => CompareSpecificity(x, y);
    }

    // ---- build -------------------------------------------------------------------------------

    /// <summary>Builds a whole trie from scratch (bulk replace).</summary>
    public static TrieNode<TKey> Build(Rule<TKey>[] rules)
    {
        Array.Sort(rules, SpecificityComparer.Instance);
        return BuildNode(rules, 0);
    }

    /// <summary>Builds a node at <paramref name="depth"/> from rules sorted most specific first.</summary>
    private static TrieNode<TKey> BuildNode(ReadOnlySpan<Rule<TKey>> sorted, int depth)
    {
        var slotRules = new List<Rule<TKey>>?[256];
        var childRules = new List<Rule<TKey>>?[256];
        foreach (ref readonly Rule<TKey> r in sorted)
        {
            if (LevelOf(r.DstLen) == depth)
            {
                (int first, int count) = Expansion(r, depth);
                for (int i = first; i < first + count; i++) (slotRules[i] ??= new List<Rule<TKey>>(2)).Add(r);
            }
            else
            {
                (childRules[KeyBits<TKey>.Chunk(r.Dst, depth)] ??= new List<Rule<TKey>>(4)).Add(r);
            }
        }
        var slots = new TrieSlot<TKey>[256];
        for (int i = 0; i < 256; i++)
        {
            slots[i].Rules = slotRules[i]?.ToArray();
            List<Rule<TKey>>? c = childRules[i];
            if (c is null) continue;
            slots[i].Child = c.Count <= BucketMax ? c.ToArray() : BuildNode(CollectionsMarshal.AsSpan(c), depth + 8);
        }
        return new TrieNode<TKey>(depth, slots, sorted.Length);
    }

    /// <summary>The slots a rule of this node's level covers.</summary>
    private static (int First, int Count) Expansion(in Rule<TKey> r, int depth) =>
        r.DstLen <= depth ? (0, 256) : (KeyBits<TKey>.Chunk(r.Dst, depth), 1 << (depth + 8 - r.DstLen));

    // ---- persistent updates ------------------------------------------------------------------

    internal enum Op { Insert, Remove, Replace }

    /// <summary>
    /// Returns a new root with <paramref name="r"/> inserted / removed (by id) / its action replaced
    /// (same id and selectors). Copies only the path to the change; <paramref name="n"/> is untouched.
    /// </summary>
    public static TrieNode<TKey> Modify(TrieNode<TKey> n, in Rule<TKey> r, Op op)
    {
        var slots = (TrieSlot<TKey>[])n.Slots.Clone();
        int d = n.Depth;
        if (LevelOf(r.DstLen) == d)
        {
            (int first, int count) = Expansion(r, d);
            for (int i = first; i < first + count; i++) slots[i].Rules = ModifyList(slots[i].Rules, r, op);
        }
        else
        {
            int i = KeyBits<TKey>.Chunk(r.Dst, d);
            object? child = slots[i].Child;
            if (child is TrieNode<TKey> childNode)
            {
                TrieNode<TKey> m = Modify(childNode, r, op);
                slots[i].Child = op == Op.Remove && m.Count <= CollapseAt ? Collapse(m) : m;
            }
            else
            {
                Rule<TKey>[]? list = ModifyList((Rule<TKey>[]?)child, r, op);
                slots[i].Child = list is not null && list.Length > BucketMax ? BuildNode(list, d + 8) : list;
            }
        }
        return new TrieNode<TKey>(d, slots, n.Count + (op == Op.Insert ? 1 : op == Op.Remove ? -1 : 0));
    }

    private static Rule<TKey>[]? ModifyList(Rule<TKey>[]? list, in Rule<TKey> r, Op op)
    {
        if (op == Op.Insert)
        {
            if (list is null) return [r];
            int pos = 0;
            while (pos < list.Length && CompareSpecificity(list[pos], r) < 0) pos++;
            var grown = new Rule<TKey>[list.Length + 1];
            Array.Copy(list, grown, pos);
            grown[pos] = r;
            Array.Copy(list, pos, grown, pos + 1, list.Length - pos);
            return grown;
        }
        int at = list is null ? -1 : IndexOfId(list, r.Id);
        if (at < 0) throw new InvalidOperationException("eroute not in the trie (table invariant broken)");
        if (op == Op.Replace)
        {
            var copy = (Rule<TKey>[])list!.Clone();
            copy[at] = r;
            return copy;
        }
        if (list!.Length == 1) return null;
        var shrunk = new Rule<TKey>[list.Length - 1];
        Array.Copy(list, shrunk, at);
        Array.Copy(list, at + 1, shrunk, at, list.Length - at - 1);
        return shrunk;
    }

    private static int IndexOfId(Rule<TKey>[] list, int id)
    {
        for (int i = 0; i < list.Length; i++)
            if (list[i].Id == id) return i;
        return -1;
    }

    /// <summary>All distinct rules of a subtree, sorted most specific first, as one bucket.</summary>
    private static Rule<TKey>[]? Collapse(TrieNode<TKey> n)
    {
        if (n.Count == 0) return null;
        var all = new List<Rule<TKey>>(n.Count);
        Collect(n, all);
        Rule<TKey>[] bucket = all.ToArray();
        Array.Sort(bucket, SpecificityComparer.Instance);
        return bucket;
    }

    /// <summary>Appends every distinct rule under <paramref name="n"/> (each expanded rule once, at its first slot).</summary>
    internal static void Collect(TrieNode<TKey> n, List<Rule<TKey>> into)
    {
        for (int i = 0; i < 256; i++)
        {
            ref TrieSlot<TKey> s = ref n.Slots[i];
            if (s.Rules is not null)
                foreach (ref readonly Rule<TKey> r in s.Rules.AsSpan())
                    if (Expansion(r, n.Depth).First == i) into.Add(r);
            if (s.Child is TrieNode<TKey> c) Collect(c, into);
            else if (s.Child is Rule<TKey>[] b) into.AddRange(b);
        }
    }

    /// <summary>Node and bucket statistics (for the memory report and tests).</summary>
    internal static (int Nodes, int Buckets, int MaxBucket, long SlotRuleCopies) Stats(TrieNode<TKey> n)
    {
        int nodes = 1, buckets = 0, maxBucket = 0;
        long copies = 0;
        foreach (ref readonly TrieSlot<TKey> s in n.Slots.AsSpan())
        {
            copies += s.Rules?.Length ?? 0;
            if (s.Child is TrieNode<TKey> c)
            {
                var (cn, cb, cm, cc) = Stats(c);
                nodes += cn; buckets += cb; maxBucket = Math.Max(maxBucket, cm); copies += cc;
            }
            else if (s.Child is Rule<TKey>[] b)
            {
                buckets++; maxBucket = Math.Max(maxBucket, b.Length);
            }
        }
        return (nodes, buckets, maxBucket, copies);
    }
}

/// <summary>One eroute as the trie stores it (all a lookup needs, in one cache-friendly struct).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Rule<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    public TKey Dst;
    public TKey DstMask;
    public TKey Src;
    public TKey SrcMask;
    public ulong Action;
    public int Id;
    public ushort SrcPortLo, SrcPortHi, DstPortLo, DstPortHi;
    public byte DstLen, SrcLen, Protocol;

    public Rule(in ErouteSelector<TKey> s, ErouteAction action, int id)
    {
        Dst = s.Dst;
        DstMask = KeyBits<TKey>.Mask(s.DstLen);
        Src = s.Src;
        SrcMask = KeyBits<TKey>.Mask(s.SrcLen);
        Action = action.Bits;
        Id = id;
        SrcPortLo = s.SrcPortLo; SrcPortHi = s.SrcPortHi; DstPortLo = s.DstPortLo; DstPortHi = s.DstPortHi;
        DstLen = s.DstLen; SrcLen = s.SrcLen; Protocol = s.Protocol;
    }
}

/// <summary>A 256-way trie node (immutable once published).</summary>
internal sealed class TrieNode<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    public readonly int Depth;
    public readonly TrieSlot<TKey>[] Slots;
    /// <summary>Distinct eroutes in this subtree.</summary>
    public readonly int Count;

    public TrieNode(int depth, TrieSlot<TKey>[] slots, int count)
    {
        Depth = depth;
        Slots = slots;
        Count = count;
    }
}

/// <summary>A node slot: the eroutes of this level covering it, and the deeper part (node or bucket).</summary>
internal struct TrieSlot<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    public object? Child;
    public Rule<TKey>[]? Rules;
}
