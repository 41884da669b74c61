using System;
using System.Collections.Generic;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace FastPath.Dataplane.Policy;

// The eroute lookup structure: a persistent (path-copied, never mutated after publication)
// multibit trie on the destination address, stride 8, with controlled prefix expansion, whose
// leaves are short lists ("buckets") of eroutes sorted most specific first.
//
// Layout
// - A node at depth d (d = 0, 8, 16, ...) is a bare TrieSlot[256] array indexed by destination
//   bits [d, d+8) (no node object: one dependent load per level). Slot i holds
//     Rules:  the eroutes whose destination length L is in (d, d+8] (the root also takes L = 0),
//             expanded over the 2^(d+8-L) slots they cover, sorted most specific first;
//     Child:  null, the child node at depth d+8 (a TrieSlot[]), or a bucket: a Rule[] of at most
//             BucketMax (32) eroutes, all with L > d+8 inside the slot's range, sorted most
//             specific first (16-byte slots: a node is 4 KB; 24-byte slots with separate typed
//             Node/Bucket fields made path copies slower: 197k vs 234k updates/s measured).
//   A subtree becomes a node only when it holds more than BucketMax eroutes, so the 4 KB node
//   arrays exist only where the table is dense; a sparse range costs one small array.
// - A Rule (32 bytes for IPv4, 64 for IPv6) carries destination and source prefix and length, protocol/port ranges,
//   the packed action and the eroute id: a lookup returns without touching any other memory.
//
// Lookup (most specific destination, then most specific source, then protocol/ports):
//   walk the nodes by destination chunk; the bucket at the end (the deepest destinations) is
//   scanned first; if nothing in it matches the packet's source/protocol/ports, the slot rule
//   lists met on the way are scanned, deepest level first (re-walking from the root, which is in
//   cache, instead of keeping a stack: no per-lookup zeroing, and the fallback is the rarer path).
//   Every list is sorted by (destination length desc, source length desc, protocol given,
//   narrower destination ports, narrower source ports, lower id), so the first hit is the answer.
//   IPv4: at most 4 node levels; IPv6: at most 16 (no path compression yet).
//   Batches (LookupBatch) walk 16 keys level by level and prefetch each key's next slot, its
//   bucket (up to 8 lines) and rule lists, then look each key up from cache.
//
// Updates copy the path: every node from the root to the changed slot (4 KB each) and the changed
// list/bucket; nothing reachable from a published root is ever written. A bucket that grows past
// BucketMax becomes a node; a node that shrinks to CollapseAt (16) eroutes becomes a bucket again.
//
// Why this design (docs/eroute.md has the numbers and the command): an estimate first — a
// DIR-24-8 table costs 64 MB before the first eroute plus a 1 KB second-level chunk per /24 that
// holds a longer prefix (~1 KB per random host eroute, over the 256 B bar) and cannot be
// path-copied cheaply; fixed 256-way nodes at every level would cost 4 KB per /24 touched. With
// buckets the 1M-eroute IPv4 table of the realistic mix (ErouteWorkload) has 321 nodes and 82k
// buckets of 12 eroutes on average; it measured 154 B per eroute in total (table included), and
// lookups cost 12 ns (100k) / 20 ns (1M) of CPU when the touched lines are cached. Out of cache
// they cost what this shared VM's memory costs (a random DRAM access measured 155-260 ns dependent,
// depending on the neighbours' load, 10-14 ns with 16 in flight): see the bar table in docs/eroute.md.
internal static unsafe class PolicyTrie<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    /// <summary>Largest bucket (linear list) before it becomes a node.</summary>
    internal const int BucketMax = 32;
    /// <summary>A node whose subtree shrinks to this many eroutes is collapsed back into a bucket.</summary>
    internal const int CollapseAt = 16;
    /// <summary>Keys walked together by the batch lookup (their cache misses overlap).</summary>
    internal const int Group = 16;
    /// <summary>
    /// Tables up to this many eroutes (~40 MB, beyond this host's 32 MB L3) are looked up without
    /// the prefetch pass: when the table is cache-resident the pass only adds work (measured at
    /// 100k IPv4 eroutes, quiet machine: 32 ns without, 48 ns with; at 1k: 17 vs 23 ns), while at
    /// 1M it halves the time (240 → 115 ns).
    /// </summary>
    internal const int PrefetchFrom = 1 << 18;

    public static TrieNode<TKey> Empty { get; } = new(new TrieSlot<TKey>[256], 0);

    /// <summary>The depth of the node level whose slot lists hold destination length <paramref name="len"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int LevelOf(int len) => len == 0 ? 0 : ((len - 1) >> 3) << 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref TrieSlot<TKey> SlotAt(TrieSlot<TKey>[] node, int index) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(node), index);

    // ---- lookup ------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Matches(ref Rule<TKey> r, in FlowKey<TKey> k) =>
        (k.Dst & MaskOf(r.DstLen)) == r.Dst && (k.Src & MaskOf(r.SrcLen)) == r.Src
        && (r.Protocol == 0 || (r.Protocol == k.Protocol
            && (uint)(k.DstPort - r.DstPortLo) <= (uint)(r.DstPortHi - r.DstPortLo)
            && (uint)(k.SrcPort - r.SrcPortLo) <= (uint)(r.SrcPortHi - r.SrcPortLo)));

    /// <summary>Prefix mask of a length: shift for IPv4, table for IPv6 (rules store only lengths: 32-byte IPv4 rules).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TKey MaskOf(byte len)
    {
        if (typeof(TKey) == typeof(uint))
        {
            uint m = (uint)(0xFFFF_FFFF_0000_0000UL >> len);
            return Unsafe.As<uint, TKey>(ref m);
        }
        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s_masks), len);
    }

    private static readonly TKey[] s_masks = CreateMasks();

    private static TKey[] CreateMasks()
    {
        var masks = new TKey[KeyBits<TKey>.Width + 1];
        for (int i = 0; i < masks.Length; i++) masks[i] = KeyBits<TKey>.Mask(i);
        return masks;
    }

    /// <summary>The first rule in <paramref name="rules"/> matching <paramref name="k"/>, as a match, or none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Scan(Rule<TKey>[] rules, in FlowKey<TKey> k, out ErouteMatch match)
    {
        ref Rule<TKey> r = ref MemoryMarshal.GetArrayDataReference(rules);
        ref Rule<TKey> end = ref Unsafe.Add(ref r, rules.Length);
        for (; Unsafe.IsAddressLessThan(ref r, ref end); r = ref Unsafe.Add(ref r, 1))
        {
            if (Matches(ref r, k))
            {
                match = new ErouteMatch(r.Id, new ErouteAction(r.Action));
                return true;
            }
        }
        match = ErouteMatch.None;
        return false;
    }

    /// <summary>The most specific eroute matching <paramref name="k"/> (see the file comment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ErouteMatch Lookup(TrieNode<TKey> root, in FlowKey<TKey> k)
    {
        TrieSlot<TKey>[] node = root.Slots;
        int levelsWithRules = 0; // bit (depth/8) set when that level's slot had a rule list
        int depth = 0;
        while (true)
        {
            ref TrieSlot<TKey> slot = ref SlotAt(node, KeyBits<TKey>.Chunk(k.Dst, depth));
            if (slot.Rules is not null) levelsWithRules |= 1 << (depth >> 3);
            if (slot.Node is null)
            {
                if (slot.Bucket is not null && Scan(slot.Bucket, k, out ErouteMatch m)) return m;
                break;
            }
            node = slot.Node;
            depth += 8;
        }
        return levelsWithRules == 0 ? ErouteMatch.None : Fallback(root.Slots, k, levelsWithRules);
    }

    /// <summary>Scans the slot rule lists on the path, deepest level first.</summary>
    private static ErouteMatch Fallback(TrieSlot<TKey>[] root, in FlowKey<TKey> k, int levelsWithRules)
    {
        while (levelsWithRules != 0)
        {
            int level = 31 - BitOperations.LeadingZeroCount((uint)levelsWithRules);
            levelsWithRules &= ~(1 << level);
            TrieSlot<TKey>[] node = root;
            for (int l = 0; l < level; l++) node = SlotAt(node, KeyBits<TKey>.Chunk(k.Dst, l * 8)).Node!;
            if (Scan(SlotAt(node, KeyBits<TKey>.Chunk(k.Dst, level * 8)).Rules!, k, out ErouteMatch m)) return m;
        }
        return ErouteMatch.None;
    }

    [InlineArray(Group)]
    private struct NodeRefs
    {
        private TrieSlot<TKey>[]? _element;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch<T>(ref T target)
    {
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref target));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchBucket(Rule<TKey>[] bucket)
    {
        // The array header and the first rules share a line; prefetch up to 8 lines of rules (measured
        // at 1M IPv4 eroutes, 12 per bucket on average: 4 lines ~135 ns, 8 lines ~115 ns, 16 the same).
        ref byte first = ref Unsafe.As<Rule<TKey>, byte>(ref MemoryMarshal.GetArrayDataReference(bucket));
        int bytes = Math.Min(bucket.Length * Unsafe.SizeOf<Rule<TKey>>(), 512);
        for (int offset = 0; offset < bytes; offset += 64) Prefetch(ref Unsafe.Add(ref first, offset));
    }

    /// <summary>
    /// Batch lookup with group prefetching: the keys of a group of 16 (32 measured the same) first descend the trie
    /// together, level by level, prefetching each key's next slot (or bucket) one level ahead, so
    /// up to 16 cache misses are in flight at once instead of one (a single walk is a chain of
    /// dependent loads); then each key is looked up normally, from cache. Same answers as
    /// <see cref="Lookup"/>.
    /// </summary>
    [SkipLocalsInit]
    public static void LookupBatch(TrieNode<TKey> root, ReadOnlySpan<FlowKey<TKey>> keys, Span<ErouteMatch> results)
    {
        TrieSlot<TKey>[] rootSlots = root.Slots;
        ref FlowKey<TKey> k0 = ref MemoryMarshal.GetReference(keys);
        ref ErouteMatch r0 = ref MemoryMarshal.GetReference(results);
        if (root.Count <= PrefetchFrom)
        {
            // Cache-resident table: the prefetch pass would only add work (see PrefetchFrom).
            for (int i = 0; i < keys.Length; i++) Unsafe.Add(ref r0, i) = Lookup(root, Unsafe.Add(ref k0, i));
            return;
        }
        LookupBatchPrefetched(root, keys, results);
    }

    /// <summary>The prefetching batch lookup, whatever the table size (tests call it directly).</summary>
    [SkipLocalsInit]
    internal static void LookupBatchPrefetched(TrieNode<TKey> root, ReadOnlySpan<FlowKey<TKey>> keys, Span<ErouteMatch> results)
    {
        TrieSlot<TKey>[] rootSlots = root.Slots;
        ref FlowKey<TKey> k0 = ref MemoryMarshal.GetReference(keys);
        ref ErouteMatch r0 = ref MemoryMarshal.GetReference(results);
        NodeRefs nodes = default;
        for (int g = 0; g < keys.Length; g += Group)
        {
            int n = Math.Min(Group, keys.Length - g);
            ref FlowKey<TKey> kg = ref Unsafe.Add(ref k0, g);
            int pending = 0;
            for (int i = 0; i < n; i++)
            {
                TKey dst = Unsafe.Add(ref kg, i).Dst;
                ref TrieSlot<TKey> slot = ref SlotAt(rootSlots, KeyBits<TKey>.Chunk(dst, 0));
                TrieSlot<TKey>[]? next = slot.Node;
                nodes[i] = next;
                if (slot.Rules is not null) Prefetch(ref MemoryMarshal.GetArrayDataReference(slot.Rules));
                if (next is not null)
                {
                    Prefetch(ref SlotAt(next, KeyBits<TKey>.Chunk(dst, 8)));
                    pending++;
                }
                else if (slot.Bucket is not null)
                {
                    PrefetchBucket(slot.Bucket);
                }
            }
            for (int depth = 8; pending > 0; depth += 8)
            {
                pending = 0;
                for (int i = 0; i < n; i++)
                {
                    TrieSlot<TKey>[]? node = nodes[i];
                    if (node is null) continue;
                    TKey dst = Unsafe.Add(ref kg, i).Dst;
                    ref TrieSlot<TKey> slot = ref SlotAt(node, KeyBits<TKey>.Chunk(dst, depth));
                    TrieSlot<TKey>[]? next = slot.Node;
                    nodes[i] = next;
                    if (slot.Rules is not null) Prefetch(ref MemoryMarshal.GetArrayDataReference(slot.Rules));
                    if (next is not null)
                    {
                        Prefetch(ref SlotAt(next, KeyBits<TKey>.Chunk(dst, depth + 8)));
                        pending++;
                    }
                    else if (slot.Bucket is not null)
                    {
                        PrefetchBucket(slot.Bucket);
                    }
                }
            }
            for (int i = 0; i < n; i++)
                Unsafe.Add(ref r0, g + i) = Lookup(root, Unsafe.Add(ref kg, i));
        }
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
        return new TrieNode<TKey>(BuildNode(rules, 0), rules.Length);
    }

    /// <summary>Builds a node at <paramref name="depth"/> from rules sorted most specific first.</summary>
    private static TrieSlot<TKey>[] BuildNode(ReadOnlySpan<Rule<TKey>> sorted, int depth)
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
            if (c.Count <= BucketMax) slots[i].Bucket = c.ToArray();
            else slots[i].Node = BuildNode(CollectionsMarshal.AsSpan(c), depth + 8);
        }
        return slots;
    }

    /// <summary>The slots a rule of this node's level covers.</summary>
    private static (int First, int Count) Expansion(in Rule<TKey> r, int depth) =>
        r.DstLen <= depth ? (0, 256) : (KeyBits<TKey>.Chunk(r.Dst, depth), 1 << (depth + 8 - r.DstLen));

    // ---- persistent updates ------------------------------------------------------------------

    internal enum Op { Insert, Remove, Replace }

    /// <summary>
    /// Returns a new root with <paramref name="r"/> inserted / removed (by id) / its action replaced
    /// (same id and selectors). Copies only the path to the change; <paramref name="root"/> is untouched.
    /// </summary>
    public static TrieNode<TKey> Modify(TrieNode<TKey> root, in Rule<TKey> r, Op op) =>
        new(ModifyNode(root.Slots, 0, r, op), root.Count + (op == Op.Insert ? 1 : op == Op.Remove ? -1 : 0));

    private static TrieSlot<TKey>[] ModifyNode(TrieSlot<TKey>[] node, int d, in Rule<TKey> r, Op op)
    {
        var slots = (TrieSlot<TKey>[])node.Clone();
        if (LevelOf(r.DstLen) == d)
        {
            (int first, int count) = Expansion(r, d);
            for (int i = first; i < first + count; i++) slots[i].Rules = ModifyList(slots[i].Rules, r, op);
            return slots;
        }
        ref TrieSlot<TKey> slot = ref slots[KeyBits<TKey>.Chunk(r.Dst, d)];
        if (slot.Node is not null)
        {
            TrieSlot<TKey>[] m = ModifyNode(slot.Node, d + 8, r, op);
            if (op == Op.Remove && CountAtMost(m, d + 8, CollapseAt) <= CollapseAt)
            {
                slot.Node = null;
                slot.Bucket = Collapse(m, d + 8);
            }
            else
            {
                slot.Node = m;
            }
        }
        else
        {
            Rule<TKey>[]? list = ModifyList(slot.Bucket, r, op);
            if (list is not null && list.Length > BucketMax)
            {
                slot.Bucket = null;
                slot.Node = BuildNode(list, d + 8);
            }
            else
            {
                slot.Bucket = list;
            }
        }
        return slots;
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

    /// <summary>Distinct rules under a node, counted up to just past <paramref name="limit"/> (early exit).</summary>
    private static int CountAtMost(TrieSlot<TKey>[] node, int depth, int limit)
    {
        int n = 0;
        for (int i = 0; i < 256 && n <= limit; i++)
        {
            ref TrieSlot<TKey> s = ref node[i];
            if (s.Rules is not null)
                foreach (ref readonly Rule<TKey> r in s.Rules.AsSpan())
                    if (Expansion(r, depth).First == i) n++;
            if (s.Bucket is not null) n += s.Bucket.Length;
            else if (s.Node is not null) n += CountAtMost(s.Node, depth + 8, limit - n);
        }
        return n;
    }

    /// <summary>All distinct rules of a subtree, sorted most specific first, as one bucket.</summary>
    private static Rule<TKey>[]? Collapse(TrieSlot<TKey>[] node, int depth)
    {
        var all = new List<Rule<TKey>>(CollapseAt);
        Collect(node, depth, all);
        if (all.Count == 0) return null;
        Rule<TKey>[] bucket = all.ToArray();
        Array.Sort(bucket, SpecificityComparer.Instance);
        return bucket;
    }

    /// <summary>Appends every distinct rule under <paramref name="node"/> (each expanded rule once, at its first slot).</summary>
    internal static void Collect(TrieSlot<TKey>[] node, int depth, List<Rule<TKey>> into)
    {
        for (int i = 0; i < 256; i++)
        {
            ref TrieSlot<TKey> s = ref node[i];
            if (s.Rules is not null)
                foreach (ref readonly Rule<TKey> r in s.Rules.AsSpan())
                    if (Expansion(r, depth).First == i) into.Add(r);
            if (s.Node is not null) Collect(s.Node, depth + 8, into);
            else if (s.Bucket is not null) into.AddRange(s.Bucket);
        }
    }

    /// <summary>Node and bucket statistics (for the memory report and tests).</summary>
    internal static (int Nodes, int Buckets, int MaxBucket, long SlotRuleCopies) Stats(TrieNode<TKey> root) => Stats(root.Slots);

    private static (int Nodes, int Buckets, int MaxBucket, long SlotRuleCopies) Stats(TrieSlot<TKey>[] node)
    {
        int nodes = 1, buckets = 0, maxBucket = 0;
        long copies = 0;
        foreach (ref readonly TrieSlot<TKey> s in node.AsSpan())
        {
            copies += s.Rules?.Length ?? 0;
            if (s.Node is not null)
            {
                var (cn, cb, cm, cc) = Stats(s.Node);
                nodes += cn; buckets += cb; maxBucket = Math.Max(maxBucket, cm); copies += cc;
            }
            else if (s.Bucket is not null)
            {
                buckets++; maxBucket = Math.Max(maxBucket, s.Bucket.Length);
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
    public TKey Src;
    public ulong Action;
    public int Id;
    public ushort SrcPortLo, SrcPortHi, DstPortLo, DstPortHi;
    public byte DstLen, SrcLen, Protocol;

    public Rule(in ErouteSelector<TKey> s, ErouteAction action, int id)
    {
        Dst = s.Dst;
        Src = s.Src;
        Action = action.Bits;
        Id = id;
        SrcPortLo = s.SrcPortLo; SrcPortHi = s.SrcPortHi; DstPortLo = s.DstPortLo; DstPortHi = s.DstPortHi;
        DstLen = s.DstLen; SrcLen = s.SrcLen; Protocol = s.Protocol;
    }
}

/// <summary>The root of a published trie: the root node's slots and the number of eroutes.</summary>
internal sealed class TrieNode<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    public readonly TrieSlot<TKey>[] Slots;
    public readonly int Count;

    public TrieNode(TrieSlot<TKey>[] slots, int count)
    {
        Slots = slots;
        Count = count;
    }
}

/// <summary>
/// A node slot (16 bytes): the eroutes of this level covering it, and the deeper part — a child
/// node (its 256 slots, so a walk costs one dependent load per level) or a bucket. The kind is the
/// array type of <see cref="Child"/>: checking it reads the bucket's first line (which the scan
/// needs anyway) or a node's header line (nodes are few and stay cached).
/// </summary>
internal struct TrieSlot<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    /// <summary>Null, the child node (TrieSlot[]) or the bucket (Rule[]).</summary>
    public object? Child;
    public Rule<TKey>[]? Rules;

    public TrieSlot<TKey>[]? Node
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        readonly get => Child is not null && Child.GetType() == typeof(TrieSlot<TKey>[]) ? Unsafe.As<TrieSlot<TKey>[]>(Child) : null;
        set => Child = value;
    }

    public Rule<TKey>[]? Bucket
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        readonly get => Child is not null && Child.GetType() == typeof(Rule<TKey>[]) ? Unsafe.As<Rule<TKey>[]>(Child) : null;
        set => Child = value;
    }
}
