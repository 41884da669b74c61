using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
//     Child:  null, the child node at depth d+8 (a TrieSlot[]), or a bucket: at most BucketMax
//             (32) eroutes, all with L > d+8 inside the slot's range, sorted most specific first,
//             stored as ONE TKey[]: a compact destination filter (one TKey per eroute: the prefix
//             shifted past the slot's bits, with the remaining length in the low byte) in front
//             of the rules (BucketLayout). 16-byte slots: a node is 4 KB; 24-byte slots with
//             separate typed Node/Bucket fields made path copies slower (197k vs 234k updates/s).
//   A subtree becomes a node only when it holds more than BucketMax eroutes, so the 4 KB node
//   arrays exist only where the table is dense; a sparse range costs one small array.
// - A Rule (32 bytes for IPv4, 64 for IPv6) carries destination and source prefix and length, protocol/port ranges,
//   the packed action and the eroute id: a lookup returns without touching any other memory.
//
// Lookup (most specific destination, then most specific source, then protocol/ports):
//   walk the nodes by destination chunk; the bucket at the end (the deepest destinations) is
//   searched first: its filter (1-2 cache lines; 8 IPv4 entries per AVX2 compare) yields the
//   eroutes whose destination contains the packet's, in order, and only those rules are read;
//   if none matches the packet's source/protocol/ports, the slot rule lists met on the way are
//   scanned, deepest level first (re-walking from the root, which is in cache, instead of keeping
//   a stack: no per-lookup zeroing, and the fallback is the rarer path).
//   Every list is sorted by (destination length desc, source length desc, protocol given,
//   narrower destination ports, narrower source ports, lower id), so the first hit is the answer.
//   IPv4: at most 4 node levels; IPv6: at most 16 (no path compression yet).
//   Batches of tables above PrefetchFrom interleave groups of 16 keys in stages (walk, filter,
//   candidate rule), each prefetching what the next needs (LookupBatchPrefetched).
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
// buckets of 12 eroutes on average. Out of cache a lookup costs what the DRAM lines it touches
// cost: before the filter a 1M IPv4 lookup read its whole bucket (12 x 32 B = 6-7 lines), now
// 1-2 filter lines and one rule (docs/eroute.md has the numbers, the A/B and the command).
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

    /// <summary>Source, protocol and ports of a rule whose destination is known to match.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool RestMatches(ref Rule<TKey> r, in FlowKey<TKey> k) =>
        (k.Src & MaskOf(r.SrcLen)) == r.Src
        && (r.Protocol == 0 || (r.Protocol == k.Protocol
            && (uint)(k.DstPort - r.DstPortLo) <= (uint)(r.DstPortHi - r.DstPortLo)
            && (uint)(k.SrcPort - r.SrcPortLo) <= (uint)(r.SrcPortHi - r.SrcPortLo)));

    /// <summary>
    /// The first filter entry at or after <paramref name="from"/> whose destination prefix contains
    /// the key (<paramref name="rel"/> = the key's destination shifted by the bucket's shift), or n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NextDstMatch(ref TKey filter, int from, int n, TKey rel)
    {
        if (typeof(TKey) == typeof(uint) && Avx2.IsSupported && n - from > 3)
            return NextDstMatchAvx2(ref Unsafe.As<TKey, uint>(ref filter), from, n, Unsafe.As<TKey, uint>(ref rel));
        for (int i = from; i < n; i++)
        {
            TKey e = Unsafe.Add(ref filter, i);
            if (((rel ^ e) & MaskOf(byte.CreateTruncating(e))) == TKey.Zero) return i;
        }
        return n;
    }

    /// <summary>
    /// <see cref="NextDstMatch"/> for IPv4 buckets of more than 3: 8 entries per compare (1M IPv4
    /// eroutes: 12 per bucket on average). Reading up to 7 entries past n stays inside the array
    /// (the rules follow: 8 words each). Not inlined: inlined, it made every lookup's code larger
    /// and the 1-eroute lookup ~1 ns slower.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int NextDstMatchAvx2(ref uint f, int from, int n, uint rel)
    {
        Vector256<uint> r = Vector256.Create(rel);
        for (int i = from; i < n; i += 8)
        {
            Vector256<uint> e = Vector256.LoadUnsafe(ref f, (nuint)i);
            Vector256<uint> mask = Avx2.ShiftLeftLogicalVariable(Vector256<uint>.AllBitsSet, Vector256.Create(32u) - (e & Vector256.Create(0xFFu)));
            uint hits = Vector256.Equals((r ^ e) & mask, Vector256<uint>.Zero).ExtractMostSignificantBits();
            if (n - i < 8) hits &= (1u << (n - i)) - 1; // not needed for correctness (a false hit past n comes after every real one and reads as none), but keeps the result < n
            if (hits != 0) return i + BitOperations.TrailingZeroCount(hits);
        }
        return n;
    }

    /// <summary>The first rule of a bucket, from candidate <paramref name="from"/> on, matching <paramref name="k"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ScanBucket(TKey[] bucket, int shift, in FlowKey<TKey> k, int from, out ErouteMatch match)
    {
        int n = BucketLayout.Count(bucket);
        ref TKey filter = ref MemoryMarshal.GetArrayDataReference(bucket);
        TKey rel = k.Dst << shift;
        for (int i = NextDstMatch(ref filter, from, n, rel); i < n; i = NextDstMatch(ref filter, i + 1, n, rel))
        {
            ref Rule<TKey> r = ref BucketLayout.RuleAt(bucket, n, i);
            if (RestMatches(ref r, k))
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
            object? child = slot.Child;
            if (child is null) break;
            if (child.GetType() != typeof(TrieSlot<TKey>[]))
            {
                if (ScanBucket(Unsafe.As<TKey[]>(child), depth + 8, k, 0, out ErouteMatch m)) return m;
                break;
            }
            node = Unsafe.As<TrieSlot<TKey>[]>(child);
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
    private struct ObjectRefs
    {
        private object? _element;
    }

    [InlineArray(Group)]
    private struct BucketRefs
    {
        private TKey[]? _element;
    }

    [InlineArray(Group)]
    private struct ListRefs
    {
        private Rule<TKey>[]? _element;
    }

    [InlineArray(Group)]
    private struct Ints
    {
        private int _element;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch<T>(ref T target)
    {
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref target));
    }

    /// <summary>Prefetches a bucket's header and filter (4 bytes per IPv4 eroute: 1-2 lines), not its rules.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchFilter(TKey[] bucket)
    {
        ref byte first = ref Unsafe.As<TKey, byte>(ref MemoryMarshal.GetArrayDataReference(bucket));
        int bytes = BucketLayout.Count(bucket) * Unsafe.SizeOf<TKey>();
        // From the array header (method table and length, 16 bytes before the data: the type check and
        // the count read it) to the filter's last byte; arrays are only 8-byte aligned, so both ends.
        for (int offset = -16; offset < bytes; offset += 64) Prefetch(ref Unsafe.Add(ref first, offset));
        Prefetch(ref Unsafe.Add(ref first, bytes - 1));
    }

    /// <summary>
    /// Batch lookup. Tables up to <see cref="PrefetchFrom"/> eroutes are cache-resident here and are
    /// looked up key by key; larger ones go through <see cref="LookupBatchPrefetched"/>. Same answers as
    /// <see cref="Lookup"/>.
    /// </summary>
    [SkipLocalsInit]
    public static void LookupBatch(TrieNode<TKey> root, ReadOnlySpan<FlowKey<TKey>> keys, Span<ErouteMatch> results)
    {
        ref FlowKey<TKey> k0 = ref MemoryMarshal.GetReference(keys);
        ref ErouteMatch r0 = ref MemoryMarshal.GetReference(results);
        if (root.Count <= PrefetchFrom)
        {
            // Cache-resident table: the prefetch stages would only add work (see PrefetchFrom).
            for (int i = 0; i < keys.Length; i++) Unsafe.Add(ref r0, i) = Lookup(root, Unsafe.Add(ref k0, i));
            return;
        }
        LookupBatchPrefetched(root, keys, results);
    }

    /// <summary>
    /// The interleaved batch lookup, whatever the table size (tests call it directly). Groups of
    /// <see cref="Group"/> keys advance together in three stages, each issuing the prefetches the next
    /// stage needs, so up to 16 misses are in flight instead of one chain of dependent loads:
    /// (1) descend the nodes level by level (prefetching each key's next slot, its rule lists, and at
    /// the end its bucket's header and destination filter); (2) scan each key's filter (now cached)
    /// for the first destination that contains it and prefetch that one rule; (3) check the rule's
    /// source/protocol/ports and finish (rarely: scan on, or fall back to the slot lists) — from the
    /// state kept per key, without re-walking the trie.
    /// </summary>
    [SkipLocalsInit]
    internal static void LookupBatchPrefetched(TrieNode<TKey> root, ReadOnlySpan<FlowKey<TKey>> keys, Span<ErouteMatch> results)
    {
        if (KeyBits<TKey>.Width == 32)
        {
            LookupBatchRewalk(root, keys, results);
            return;
        }
        TrieSlot<TKey>[] rootSlots = root.Slots;
        ref FlowKey<TKey> k0 = ref MemoryMarshal.GetReference(keys);
        ref ErouteMatch r0 = ref MemoryMarshal.GetReference(results);
        ObjectRefs objs = default;
        BucketRefs buckets = default;
        ListRefs lists = default;
        Ints shifts = default, levels = default, candidates = default;
        for (int g = 0; g < keys.Length; g += Group)
        {
            int n = Math.Min(Group, keys.Length - g);
            ref FlowKey<TKey> kg = ref Unsafe.Add(ref k0, g);
            // Stage 1: the walk, in rounds that alternate for every key: even rounds read the slot
            // (prefetched by the previous round) and only prefetch the child's first lines (its header
            // and, for a bucket, the filter); odd rounds check the child's type — from cache now —
            // and prefetch the slot of a child node. Checking the type at once would make every
            // bucket's header a demand miss inside the walk (nodes are few and cached; buckets are not).
            for (int i = 0; i < n; i++)
            {
                objs[i] = rootSlots; // the root and its slots are cached
                buckets[i] = null;
                lists[i] = null;
                levels[i] = 0;
            }
            int pending = n;
            for (int round = 0, depth = 0; pending > 0; round++)
            {
                pending = 0;
                bool read = (round & 1) == 0;
                for (int i = 0; i < n; i++)
                {
                    object? o = objs[i];
                    if (o is null) continue;
                    TKey dst = Unsafe.Add(ref kg, i).Dst;
                    if (read)
                    {
                        ref TrieSlot<TKey> slot = ref SlotAt(Unsafe.As<TrieSlot<TKey>[]>(o), KeyBits<TKey>.Chunk(dst, depth));
                        if (slot.Rules is not null)
                        {
                            // Needed only if the bucket has no answer (stage 2 prefetches it then).
                            levels[i] |= 1 << (depth >> 3);
                            lists[i] = slot.Rules;
                        }
                        object? child = slot.Child;
                        objs[i] = child;
                        if (child is null) continue;
                        ref byte data = ref MemoryMarshal.GetArrayDataReference(Unsafe.As<byte[]>(child)); // same layout for any array
                        Prefetch(ref Unsafe.Subtract(ref data, 16));
                        Prefetch(ref Unsafe.Add(ref data, 47));
                        pending++;
                    }
                    else if (o.GetType() == typeof(TrieSlot<TKey>[]))
                    {
                        Prefetch(ref SlotAt(Unsafe.As<TrieSlot<TKey>[]>(o), KeyBits<TKey>.Chunk(dst, depth + 8)));
                        pending++;
                    }
                    else
                    {
                        TKey[] bucket = Unsafe.As<TKey[]>(o);
                        objs[i] = null;
                        buckets[i] = bucket;
                        shifts[i] = depth + 8;
                        if (BucketLayout.Count(bucket) * Unsafe.SizeOf<TKey>() > 48) PrefetchFilter(bucket);
                    }
                }
                if (!read) depth += 8;
            }
            // Stage 2: the filters; the deepest slot list for keys the bucket cannot answer.
            for (int i = 0; i < n; i++)
            {
                TKey[]? bucket = buckets[i];
                if (bucket is not null)
                {
                    int count = BucketLayout.Count(bucket);
                    int c = NextDstMatch(ref MemoryMarshal.GetArrayDataReference(bucket), 0, count, Unsafe.Add(ref kg, i).Dst << shifts[i]);
                    candidates[i] = c;
                    if (c < count)
                    {
                        ref Rule<TKey> r = ref BucketLayout.RuleAt(bucket, count, c);
                        Prefetch(ref r);
                        Prefetch(ref Unsafe.Add(ref Unsafe.As<Rule<TKey>, byte>(ref r), Unsafe.SizeOf<Rule<TKey>>() - 1));
                        continue;
                    }
                }
                Rule<TKey>[]? list = lists[i];
                if (list is not null) Prefetch(ref MemoryMarshal.GetArrayDataReference(list));
            }
            // Stage 3: the candidate rule, then (rarely) the rest.
            for (int i = 0; i < n; i++)
            {
                ref FlowKey<TKey> k = ref Unsafe.Add(ref kg, i);
                TKey[]? bucket = buckets[i];
                ErouteMatch m;
                if (bucket is not null)
                {
                    int count = BucketLayout.Count(bucket);
                    int c = candidates[i];
                    if (c < count)
                    {
                        ref Rule<TKey> r = ref BucketLayout.RuleAt(bucket, count, c);
                        if (RestMatches(ref r, k))
                        {
                            Unsafe.Add(ref r0, g + i) = new ErouteMatch(r.Id, new ErouteAction(r.Action));
                            continue;
                        }
                        if (ScanBucket(bucket, shifts[i], k, c + 1, out m))
                        {
                            Unsafe.Add(ref r0, g + i) = m;
                            continue;
                        }
                    }
                }
                Unsafe.Add(ref r0, g + i) = levels[i] == 0 ? ErouteMatch.None : Fallback(rootSlots, k, levels[i]);
            }
        }
    }

    /// <summary>
    /// A bucket is ONE array (one allocation, one pointer to chase) holding a compact destination
    /// filter in front of the rules, so that finding the candidate touches 1-2 cache lines instead of
    /// the whole bucket (12 IPv4 rules of 32 bytes = 6-7 lines at 1M eroutes: the measured bottleneck,
    /// since DRAM lines, not latency, limit a prefetched batch). Layout of the TKey[] (n rules):
    /// <code>
    ///   [0, n)          filter: (rule.Dst &lt;&lt; shift) | (rule.DstLen - shift)   (4 bytes per IPv4 rule)
    ///   [n, f)          padding so the rules are 8-byte aligned (IPv4: f = n rounded up to even)
    ///   [f, f + n*W)    the rules (Rule&lt;TKey&gt;, W = sizeof(Rule) / sizeof(TKey): 8 for IPv4, 4 for IPv6)
    /// </code>
    /// shift = d + 8 for a bucket in a slot of the node at depth d: every rule in it is longer than
    /// shift and shares the slot's first shift bits, so the shifted prefix keeps exactly the bits that
    /// differ, and its low 8 bits (shift ≥ 8) are free for the length that remains. A destination
    /// matches iff ((key.Dst &lt;&lt; shift) ^ entry) has no bit under the entry's remaining length.
    /// n is recovered from the array length: length = f + n*W with f - n &lt; W + 1, so n = length / (W + 1).
    /// The order is the rules' (most specific first), so the first filter hit whose rule also matches
    /// source/protocol/ports is the answer.
    /// </summary>
    internal static class BucketLayout
    {
        /// <summary>TKey words per rule.</summary>
        internal static int W
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Unsafe.SizeOf<Rule<TKey>>() / Unsafe.SizeOf<TKey>();
        }

        /// <summary>Filter words before the rules (n rounded up to keep the rules 8-byte aligned).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int FilterWords(int n)
        {
            int per8 = Math.Max(1, 8 / Unsafe.SizeOf<TKey>());
            return (n + per8 - 1) / per8 * per8;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static int Count(TKey[] bucket) => bucket.Length / (W + 1);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static ref Rule<TKey> RuleAt(TKey[] bucket, int n, int i) =>
            ref Unsafe.As<TKey, Rule<TKey>>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(bucket), bucket.Length - (n - i) * W));

        /// <summary>The rules of a bucket (read-only view into the array).</summary>
        internal static ReadOnlySpan<Rule<TKey>> Rules(TKey[] bucket)
        {
            int n = Count(bucket);
            return n == 0 ? default : MemoryMarshal.CreateReadOnlySpan(ref RuleAt(bucket, n, 0), n);
        }

        /// <summary>A bucket of <paramref name="sorted"/> (most specific first) for a slot whose prefix is <paramref name="shift"/> bits long.</summary>
        internal static TKey[] Create(ReadOnlySpan<Rule<TKey>> sorted, int shift) => Create(sorted, default, default, shift);

        /// <summary>A bucket of the concatenation a, b, c (together sorted most specific first).</summary>
        internal static TKey[] Create(ReadOnlySpan<Rule<TKey>> a, ReadOnlySpan<Rule<TKey>> b, ReadOnlySpan<Rule<TKey>> c, int shift)
        {
            int n = a.Length + b.Length + c.Length;
            var bucket = new TKey[FilterWords(n) + n * W];
            int i = 0;
            foreach (ref readonly Rule<TKey> r in a) Put(bucket, n, i++, r, shift);
            foreach (ref readonly Rule<TKey> r in b) Put(bucket, n, i++, r, shift);
            foreach (ref readonly Rule<TKey> r in c) Put(bucket, n, i++, r, shift);
            Debug.Assert(Count(bucket) == n);
            return bucket;
        }

        private static void Put(TKey[] bucket, int n, int i, in Rule<TKey> r, int shift)
        {
            Debug.Assert(r.DstLen > shift && r.DstLen - shift < 256);
            bucket[i] = (r.Dst << shift) | TKey.CreateTruncating(r.DstLen - shift);
            RuleAt(bucket, n, i) = r;
        }
    }

    /// <summary>
    /// The IPv4 form of <see cref="LookupBatchPrefetched"/>: the same rounds, but the per-key state
    /// holds no object references. Storing a reference into the stack state costs a GC write
    /// barrier call (CORINFO_HELP_CHECKED_ASSIGN_REF: the JIT cannot prove an indexed InlineArray
    /// element is on the stack); with at most 3 IPv4 node levels it is cheaper to re-walk from the
    /// root through the lines the previous rounds already brought into L1. Stage 3 is the scalar
    /// lookup, from cache.
    /// </summary>
    [SkipLocalsInit]
    private static void LookupBatchRewalk(TrieNode<TKey> root, ReadOnlySpan<FlowKey<TKey>> keys, Span<ErouteMatch> results)
    {
        TrieSlot<TKey>[] rootSlots = root.Slots;
        ref FlowKey<TKey> k0 = ref MemoryMarshal.GetReference(keys);
        ref ErouteMatch r0 = ref MemoryMarshal.GetReference(results);
        Ints done = default;
        for (int g = 0; g < keys.Length; g += Group)
        {
            int n = Math.Min(Group, keys.Length - g);
            ref FlowKey<TKey> kg = ref Unsafe.Add(ref k0, g);
            for (int i = 0; i < n; i++) done[i] = 0;
            // Stage 1: even rounds read the slot at depth and prefetch the child's first lines;
            // odd rounds check the child's type (cached now) and prefetch a child node's slot.
            int pending = n;
            for (int round = 0; pending > 0; round++)
            {
                pending = 0;
                bool read = (round & 1) == 0;
                int depth = (round >> 1) << 3;
                for (int i = 0; i < n; i++)
                {
                    if (done[i] != 0) continue;
                    TKey dst = Unsafe.Add(ref kg, i).Dst;
                    TrieSlot<TKey>[] node = rootSlots;
                    for (int d = 0; d < depth; d += 8) node = Unsafe.As<TrieSlot<TKey>[]>(SlotAt(node, KeyBits<TKey>.Chunk(dst, d)).Child!);
                    object? child = SlotAt(node, KeyBits<TKey>.Chunk(dst, depth)).Child;
                    if (child is null)
                    {
                        done[i] = 1;
                    }
                    else if (read)
                    {
                        ref byte data = ref MemoryMarshal.GetArrayDataReference(Unsafe.As<byte[]>(child)); // same layout for any array
                        Prefetch(ref Unsafe.Subtract(ref data, 16));
                        Prefetch(ref Unsafe.Add(ref data, 47));
                        pending++;
                    }
                    else if (child.GetType() == typeof(TrieSlot<TKey>[]))
                    {
                        Prefetch(ref SlotAt(Unsafe.As<TrieSlot<TKey>[]>(child), KeyBits<TKey>.Chunk(dst, depth + 8)));
                        pending++;
                    }
                    else
                    {
                        TKey[] bucket = Unsafe.As<TKey[]>(child);
                        if (BucketLayout.Count(bucket) * Unsafe.SizeOf<TKey>() > 48) PrefetchFilter(bucket);
                        done[i] = 1;
                    }
                }
            }
            // Stage 2: the filter (cached), then prefetch the candidate rule, or the deepest slot
            // list when the bucket has no candidate.
            for (int i = 0; i < n; i++)
            {
                FlowKey<TKey> k = Unsafe.Add(ref kg, i);
                TrieSlot<TKey>[] node = rootSlots;
                Rule<TKey>[]? list = null;
                for (int depth = 0; ; depth += 8)
                {
                    ref TrieSlot<TKey> slot = ref SlotAt(node, KeyBits<TKey>.Chunk(k.Dst, depth));
                    if (slot.Rules is not null) list = slot.Rules;
                    object? child = slot.Child;
                    if (child is null) break;
                    if (child.GetType() == typeof(TrieSlot<TKey>[]))
                    {
                        node = Unsafe.As<TrieSlot<TKey>[]>(child);
                        continue;
                    }
                    TKey[] bucket = Unsafe.As<TKey[]>(child);
                    int count = BucketLayout.Count(bucket);
                    int c = NextDstMatch(ref MemoryMarshal.GetArrayDataReference(bucket), 0, count, k.Dst << (depth + 8));
                    if (c < count)
                    {
                        ref Rule<TKey> r = ref BucketLayout.RuleAt(bucket, count, c);
                        Prefetch(ref r);
                        Prefetch(ref Unsafe.Add(ref Unsafe.As<Rule<TKey>, byte>(ref r), Unsafe.SizeOf<Rule<TKey>>() - 1));
                        list = null;
                    }
                    break;
                }
                if (list is not null) Prefetch(ref MemoryMarshal.GetArrayDataReference(list));
            }
            // Stage 3: the lookup itself, from cache.
            for (int i = 0; i < n; i++) Unsafe.Add(ref r0, g + i) = Lookup(root, Unsafe.Add(ref kg, i));
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
            if (c.Count <= BucketMax) slots[i].Bucket = BucketLayout.Create(CollectionsMarshal.AsSpan(c), depth + 8);
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
            // The new bucket is built directly from the old one (one allocation per update).
            TKey[]? bucket = slot.Bucket;
            ReadOnlySpan<Rule<TKey>> rules = bucket is null ? default : BucketLayout.Rules(bucket);
            if (op == Op.Insert)
            {
                if (rules.Length + 1 > BucketMax)
                {
                    slot.Bucket = null;
                    slot.Node = BuildNode(ModifyList(rules, r, op), d + 8);
                }
                else
                {
                    int pos = 0;
                    while (pos < rules.Length && CompareSpecificity(rules[pos], r) < 0) pos++;
                    slot.Bucket = BucketLayout.Create(rules[..pos], new ReadOnlySpan<Rule<TKey>>(in r), rules[pos..], d + 8);
                }
            }
            else
            {
                int at = IndexOfId(rules, r.Id);
                if (at < 0) throw new InvalidOperationException("eroute not in the trie (table invariant broken)");
                if (op == Op.Replace)
                {
                    // Same selectors, so the filter is unchanged: copy and overwrite the one rule.
                    var copy = (TKey[])bucket!.Clone();
                    BucketLayout.RuleAt(copy, rules.Length, at) = r;
                    slot.Bucket = copy;
                }
                else
                {
                    slot.Bucket = rules.Length == 1 ? null : BucketLayout.Create(rules[..at], default, rules[(at + 1)..], d + 8);
                }
            }
        }
        return slots;
    }

    private static Rule<TKey>[]? ModifyList(ReadOnlySpan<Rule<TKey>> list, in Rule<TKey> r, Op op)
    {
        if (op == Op.Insert)
        {
            if (list.IsEmpty) return [r];
            int pos = 0;
            while (pos < list.Length && CompareSpecificity(list[pos], r) < 0) pos++;
            var grown = new Rule<TKey>[list.Length + 1];
            list[..pos].CopyTo(grown);
            grown[pos] = r;
            list[pos..].CopyTo(grown.AsSpan(pos + 1));
            return grown;
        }
        int at = IndexOfId(list, r.Id);
        if (at < 0) throw new InvalidOperationException("eroute not in the trie (table invariant broken)");
        if (op == Op.Replace)
        {
            Rule<TKey>[] copy = list.ToArray();
            copy[at] = r;
            return copy;
        }
        if (list.Length == 1) return null;
        var shrunk = new Rule<TKey>[list.Length - 1];
        list[..at].CopyTo(shrunk);
        list[(at + 1)..].CopyTo(shrunk.AsSpan(at));
        return shrunk;
    }

    private static int IndexOfId(ReadOnlySpan<Rule<TKey>> list, int id)
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
            if (s.Bucket is not null) n += BucketLayout.Count(s.Bucket);
            else if (s.Node is not null) n += CountAtMost(s.Node, depth + 8, limit - n);
        }
        return n;
    }

    /// <summary>All distinct rules of a subtree at <paramref name="depth"/>, sorted most specific first, as one bucket of the parent slot.</summary>
    private static TKey[]? Collapse(TrieSlot<TKey>[] node, int depth)
    {
        var all = new List<Rule<TKey>>(CollapseAt);
        Collect(node, depth, all);
        if (all.Count == 0) return null;
        Rule<TKey>[] rules = all.ToArray();
        Array.Sort(rules, SpecificityComparer.Instance);
        return BucketLayout.Create(rules, depth);
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
            else if (s.Bucket is not null) foreach (ref readonly Rule<TKey> r in BucketLayout.Rules(s.Bucket)) into.Add(r);
        }
    }

    /// <summary>
    /// Appends the eroutes with destination length &gt; 16 that intersect the range
    /// <paramref name="rangeBase"/>/<paramref name="rangeLen"/> (16 or 24): the ones inside it and,
    /// for a /24, the /17-/24 covering it (DestIndex compiles a block from them). Walks only the path
    /// to the range, then collects the subtree under it.
    /// </summary>
    internal static void Gather(TrieNode<TKey> root, TKey rangeBase, int rangeLen, List<Rule<TKey>> into) =>
        Gather(root.Slots, 0, rangeBase, rangeLen, into);

    private static void Gather(TrieSlot<TKey>[] node, int depth, TKey rangeBase, int rangeLen, List<Rule<TKey>> into)
    {
        if (depth >= rangeLen)
        {
            Collect(node, depth, into); // everything under the range, all longer than depth >= 16
            return;
        }
        ref TrieSlot<TKey> slot = ref node[KeyBits<TKey>.Chunk(rangeBase, depth)];
        if (slot.Rules is not null)
            foreach (ref readonly Rule<TKey> r in slot.Rules.AsSpan())
                if (r.DstLen > 16) into.Add(r); // a slot list covers the whole slot, hence the range
        if (slot.Node is { } child) Gather(child, depth + 8, rangeBase, rangeLen, into);
        else if (slot.Bucket is { } bucket)
            foreach (ref readonly Rule<TKey> r in BucketLayout.Rules(bucket))
                if (r.DstLen > 16 && ((r.Dst ^ rangeBase) & KeyBits<TKey>.Mask(Math.Min(r.DstLen, rangeLen))) == TKey.Zero) into.Add(r);
    }

    /// <summary>Appends the eroutes with destination length &lt;= 16 that cover the /16 at <paramref name="base16"/>.</summary>
    internal static void GatherCovering(TrieNode<TKey> root, TKey base16, List<Rule<TKey>> into)
    {
        ref TrieSlot<TKey> slot = ref root.Slots[KeyBits<TKey>.Chunk(base16, 0)];
        if (slot.Rules is not null) into.AddRange(slot.Rules); // /0-/8
        if (slot.Node is { } child)
        {
            Rule<TKey>[]? rules = child[KeyBits<TKey>.Chunk(base16, 8)].Rules; // /9-/16
            if (rules is not null) into.AddRange(rules);
        }
        else if (slot.Bucket is { } bucket)
        {
            foreach (ref readonly Rule<TKey> r in BucketLayout.Rules(bucket))
                if (r.DstLen <= 16 && ((r.Dst ^ base16) & KeyBits<TKey>.Mask(r.DstLen)) == TKey.Zero) into.Add(r);
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
                buckets++; maxBucket = Math.Max(maxBucket, BucketLayout.Count(s.Bucket));
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
/// array type of <see cref="Child"/>: checking it reads the bucket's first line (which the filter
/// scan needs anyway; the batch lookup prefetches it one round before it checks) or a node's
/// header line (nodes are few and stay cached).
/// </summary>
internal struct TrieSlot<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    /// <summary>Null, the child node (TrieSlot[]) or the bucket (TKey[], see PolicyTrie.BucketLayout).</summary>
    public object? Child;
    public Rule<TKey>[]? Rules;

    public TrieSlot<TKey>[]? Node
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        readonly get => Child is not null && Child.GetType() == typeof(TrieSlot<TKey>[]) ? Unsafe.As<TrieSlot<TKey>[]>(Child) : null;
        set => Child = value;
    }

    public TKey[]? Bucket
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        readonly get => Child is not null && Child.GetType() == typeof(TKey[]) ? Unsafe.As<TKey[]>(Child) : null;
        set => Child = value;
    }
}
