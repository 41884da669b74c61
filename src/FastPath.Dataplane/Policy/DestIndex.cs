using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Numerics;

namespace FastPath.Dataplane.Policy;

// The compiled IPv4 destination stage: a DIR-16-style index, updated incrementally on every
// publication and published inside the same immutable snapshot. Every IPv4 lookup goes through
// it, and since session 4 it is the only IPv4 structure the writer maintains: a bulk build
// compiles it from a trie built for that (PolicyTrie, then dropped); single updates patch only
// the index; a snapshot compiles a trie back from it (AllRules) only when a test or benchmark
// asks (docs/eroute.md §7). IPv6 looks up in the trie.
//
// Layout (all immutable once published; an update copies only what it changes):
// - Top: 64 x 64 x 16 arrays (destination bits 0-5, 6-11, 12-15): 65,536 entries, one
//   per /16. Three cached loads (Top 512 B, mids 512 B, leaves 256 B). An update copies Top and
//   the mid and leaf on its path (1.3 KB; it was 256 x 16 x 16 until session 4: 2.4 KB, of which
//   Top alone was 2 KB — 58 % of a replace's allocation, and the writer's time is GC-bound,
//   docs/eroute.md §7; 4 KB chunks cost 2x the update time); a prefix of /9-/15 copies every
//   leaf it covers.
// - Entry = (Node, Outer):
//     Outer: the eroutes with destination length 9-16 covering the /16, sorted most specific
//            first (a Rule[], usually empty or 1-3 wide prefixes; equal neighbours share one array);
//            the /0-/8 ones are in Outer8[bits 0-7], scanned after Outer;
//     Node:  null (no longer destination in the /16), a block (uint[]) for the whole /16, or, for
//            a /16 with more than SplitAbove eroutes (road-warrior pools), a uint[]?[256] of
//            blocks, one per /24.
// - A block is the /16 (or /24) leaf-pushed: the elementary address intervals that the
//   destination prefixes longer than /16 cut it into, each naming the first rule of the most
//   specific destination prefix containing it; one uint[]:
//     [0] k intervals, [1] word offset of the rules,
//     ushort starts[k] (offset of each interval in the block, starts[0] = 0), ushort leaf[k]
//     (rule index, 0xFFFF = no destination in the block), then the rules, 8 words (32 B) each:
//     CompiledRule (source, protocol/ports, action, id, Next). The rules of one destination
//     prefix are consecutive (most specific first); the last one's Next is the first rule of the
//     next less specific destination prefix in the block that contains it, or -1: the Outer list.
//   So a lookup reads: Top/chunk (cached), the block's first 1-2 lines (header, starts, leaves),
//   one rule, and stops there when the rule's source/protocol/ports match — which is the answer,
//   because its destination is the most specific one containing the packet and the rule is the
//   most specific of that destination (the order of docs/eroute.md §1). Otherwise it follows Next
//   and then Outer, which is exactly the rest of the §1 order restricted to matching destinations.
//
// Updates (ErouteTable, under the writer lock) call Insert / Remove / ReplaceAction: they do not
// read the trie. A prefix longer than /16 decodes the block of its /16 (or, split, each /24 block
// it intersects) — compiled rules keep their destination's low 16 bits and length — changes it and
// rebuilds it (typically 1-30 rules: ~1-2 µs); /9-/16 changes the Outer lists of the /16s it
// covers, /0-/8 the Outer8 lists of the /8s. Nothing reachable from a published index is written.
internal sealed class DestIndex
{
    /// <summary>A /16 with more eroutes longer than /16 than this is split into /24 blocks.</summary>
    internal const int SplitAbove = 48;
    internal const ushort NoRule = 0xFFFF;

    internal struct Entry
    {
        public object? Node;      // null, uint[] (block of the /16) or uint[]?[] (256 blocks of /24s)
        public Rule<uint>[]? Outer;
    }

    /// <summary>Top[bits 0-5][bits 6-11][bits 12-15]: 64 x 64 x 16 entries, one per /16.</summary>
    internal readonly Entry[][][] Top;

    /// <summary>Outer8[bits 0-7]: the eroutes with destination /0-/8 covering that /8, most specific first.</summary>
    internal readonly Rule<uint>[]?[] Outer8;

    private DestIndex(Entry[][][] top, Rule<uint>[]?[] outer8)
    {
        Top = top;
        Outer8 = outer8;
    }

    private static readonly Entry[] s_emptyLeaf = new Entry[16];
    private static readonly Entry[][] s_emptyMid = CreateEmptyMid();
    public static DestIndex Empty { get; } = CreateEmpty();

    private static Entry[][] CreateEmptyMid()
    {
        var mid = new Entry[64][];
        for (int i = 0; i < 64; i++) mid[i] = s_emptyLeaf;
        return mid;
    }

    private static DestIndex CreateEmpty()
    {
        var top = new Entry[64][][];
        for (int i = 0; i < 64; i++) top[i] = s_emptyMid;
        return new DestIndex(top, new Rule<uint>[]?[256]);
    }

    // ---- lookup ------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref Entry EntryOf(uint dst) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(
            Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(
                Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Top), (int)(dst >> 26))), (int)((dst >> 20) & 0x3F))), (int)((dst >> 16) & 0xF));

    /// <summary>The block and the key's offset in it for <paramref name="node"/> (null when none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint[]? BlockOf(object node, uint dst, out int offset)
    {
        if (node.GetType() == typeof(uint[]))
        {
            offset = (int)(dst & 0xFFFF);
            return Unsafe.As<uint[]>(node);
        }
        offset = (int)(dst & 0xFF);
        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Unsafe.As<uint[]?[]>(node)), (int)((dst >> 8) & 0xFF));
    }

    /// <summary>Index of the first candidate rule for <paramref name="offset"/> in the block, or NoRule.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Leaf(uint[] block, int offset)
    {
        ref uint w = ref MemoryMarshal.GetArrayDataReference(block);
        int n = (int)w;
        ref ushort starts = ref Unsafe.As<uint, ushort>(ref Unsafe.Add(ref w, 2));
        int lo = 0;
        if (n <= 64 && Vector256.IsHardwareAccelerated)
        {
            // Count the starts <= offset, 16 per compare (no data-dependent branches). Reading a
            // vector past the k starts stays inside the block (the leaves and rules follow).
            Vector256<ushort> o = Vector256.Create((ushort)offset);
            int count = 0;
            for (int i = 0; i < n; i += 16)
            {
                uint le = Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref starts, (nuint)i), o).ExtractMostSignificantBits();
                if (n - i < 16) le &= (1u << (n - i)) - 1;
                count += BitOperations.PopCount(le);
            }
            lo = count - 1;
            n = 1;
        }
        // Otherwise a binary search: the last interval whose start <= offset (starts[0] = 0).
        while (n > 1)
        {
            int half = n >> 1;
            lo = Unsafe.Add(ref starts, lo + half) <= offset ? lo + half : lo;
            n -= half;
        }
        return Unsafe.Add(ref starts, (int)w + lo);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ref CompiledRule RuleAt(uint[] block, int index) =>
        ref Unsafe.As<uint, CompiledRule>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(block), (int)Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(block), 1) + index * 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool RestMatches(ref CompiledRule r, in FlowKey<uint> k) =>
        (k.Src & (uint)(0xFFFF_FFFF_0000_0000UL >> r.SrcLen)) == r.Src
        && (r.Protocol == 0 || (r.Protocol == k.Protocol
            && (uint)(k.DstPort - r.DstPortLo) <= (uint)(r.DstPortHi - r.DstPortLo)
            && (uint)(k.SrcPort - r.SrcPortLo) <= (uint)(r.SrcPortHi - r.SrcPortLo)));

    /// <summary>The most specific eroute matching <paramref name="k"/> (same answer as PolicyTrie.Lookup).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ErouteMatch Lookup(in FlowKey<uint> k)
    {
        ref Entry e = ref EntryOf(k.Dst);
        object? node = e.Node;
        if (node is not null)
        {
            uint[]? block = BlockOf(node, k.Dst, out int offset);
            if (block is not null)
            {
                for (int ri = Leaf(block, offset); ri != NoRule;)
                {
                    ref CompiledRule r = ref RuleAt(block, ri);
                    if (RestMatches(ref r, k)) return new ErouteMatch(r.Id, new ErouteAction(r.Action));
                    ri = r.Next;
                }
            }
        }
        return ScanOuter(e.Outer, Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Outer8), (int)(k.Dst >> 24)), k);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ErouteMatch ScanOuter(Rule<uint>[]? outer16, Rule<uint>[]? outer8, in FlowKey<uint> k)
    {
        // /9-/16 first, then /0-/8: both lists are in §1 order and every /9-/16 is more specific.
        if (outer16 is not null)
            foreach (ref Rule<uint> r in outer16.AsSpan())
                if (PolicyTrie<uint>.Matches(ref r, k)) return new ErouteMatch(r.Id, new ErouteAction(r.Action));
        if (outer8 is not null)
            foreach (ref Rule<uint> r in outer8.AsSpan())
                if (PolicyTrie<uint>.Matches(ref r, k)) return new ErouteMatch(r.Id, new ErouteAction(r.Action));
        return ErouteMatch.None;
    }

    [InlineArray(PolicyTrie<uint>.Group)]
    private struct Ints
    {
        private int _element;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ref uint target)
    {
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref target));
    }

    /// <summary>
    /// Interleaved batch lookup (AMAC-style group prefetching), 16 keys at a time: (1) read each
    /// key's entry (cached, or prefetched by the group before) and prefetch its node's first two
    /// lines (a block's header, starts and leaves; no type check: that would be a demand miss of
    /// the header), then prefetch the next group's directory entries (the 1.1 MB of leaf chunks are
    /// not L2-resident beside 40 MB of blocks at 1M); (2) a block (the header has arrived): search
    /// its intervals and prefetch the candidate rule's line(s) — or the Outer list; a split: read
    /// the /24 block and prefetch its head; (3) only for the split keys, the interval search and
    /// rule prefetch; then (4) the scalar lookup, from cache. Until session 5 every key went
    /// through a separate stage (3) (one more re-walk of the directory for the 80 % that are not
    /// in a split /16) and the next group's entries were demand misses; docs/eroute.md §8: medians 4 %
    /// (100k) and 7 % (1M) less CPU time per lookup. The per-key state is ints only (a reference stored
    /// into stack state costs a GC write barrier): each stage re-reads the cached entry instead.
    /// </summary>
    [SkipLocalsInit]
    public void LookupBatch(ReadOnlySpan<FlowKey<uint>> keys, Span<ErouteMatch> results)
    {
        ref FlowKey<uint> k0 = ref MemoryMarshal.GetReference(keys);
        ref ErouteMatch r0 = ref MemoryMarshal.GetReference(results);
        Ints split = default;
        for (int g = 0; g < keys.Length; g += PolicyTrie<uint>.Group)
        {
            int n = Math.Min(PolicyTrie<uint>.Group, keys.Length - g);
            ref FlowKey<uint> kg = ref Unsafe.Add(ref k0, g);
            for (int i = 0; i < n; i++)
            {
                uint dst = Unsafe.Add(ref kg, i).Dst;
                ref Entry e = ref EntryOf(dst);
                object? node = e.Node;
                if (node is null)
                {
                    PrefetchOuter(ref e, dst);
                    continue;
                }
                ref uint data = ref MemoryMarshal.GetArrayDataReference(Unsafe.As<uint[]>(node));
                Prefetch(ref Unsafe.Add(ref data, -4));
                Prefetch(ref Unsafe.Add(ref data, 12));
            }
            // The next group's entries: they arrive while this group waits for its block heads.
            int next = Math.Min(PolicyTrie<uint>.Group, keys.Length - g - n);
            ref FlowKey<uint> kn = ref Unsafe.Add(ref kg, n);
            for (int i = 0; i < next; i++) Prefetch(ref Unsafe.As<Entry, uint>(ref EntryOf(Unsafe.Add(ref kn, i).Dst)));
            int splits = 0;
            for (int i = 0; i < n; i++)
            {
                uint dst = Unsafe.Add(ref kg, i).Dst;
                ref Entry e = ref EntryOf(dst);
                object? node = e.Node;
                split[i] = 0;
                if (node is null) continue;
                if (node.GetType() == typeof(uint[]))
                {
                    PrefetchCandidate(ref e, Unsafe.As<uint[]>(node), (int)(dst & 0xFFFF), dst);
                    continue;
                }
                uint[]? block = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Unsafe.As<uint[]?[]>(node)), (int)((dst >> 8) & 0xFF));
                if (block is null)
                {
                    PrefetchOuter(ref e, dst);
                    continue;
                }
                split[i] = 1;
                splits++;
                ref uint data = ref MemoryMarshal.GetArrayDataReference(block);
                Prefetch(ref Unsafe.Add(ref data, -4));
                Prefetch(ref Unsafe.Add(ref data, 12));
            }
            if (splits != 0)
            {
                for (int i = 0; i < n; i++)
                {
                    if (split[i] == 0) continue;
                    uint dst = Unsafe.Add(ref kg, i).Dst;
                    ref Entry e = ref EntryOf(dst);
                    uint[] block = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Unsafe.As<uint[]?[]>(e.Node!)), (int)((dst >> 8) & 0xFF))!;
                    PrefetchCandidate(ref e, block, (int)(dst & 0xFF), dst);
                }
            }
            for (int i = 0; i < n; i++) Unsafe.Add(ref r0, g + i) = Lookup(Unsafe.Add(ref kg, i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchCandidate(ref Entry e, uint[] block, int offset, uint dst)
    {
        int ri = Leaf(block, offset);
        if (ri == NoRule)
        {
            PrefetchOuter(ref e, dst);
            return;
        }
        ref uint rule = ref Unsafe.As<CompiledRule, uint>(ref RuleAt(block, ri));
        Prefetch(ref rule);
        Prefetch(ref Unsafe.Add(ref rule, 7));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchOuter(ref Entry e, uint dst)
    {
        if ((e.Outer ?? Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Outer8), (int)(dst >> 24))) is { } outer)
            Prefetch(ref Unsafe.As<Rule<uint>, uint>(ref MemoryMarshal.GetArrayDataReference(outer)));
    }

    // ---- build and update (writer side) -------------------------------------------------------

    /// <summary>Writer-side scratch arrays (writers are serialized by the table's lock; per thread anyway).</summary>
    private sealed class Scratch
    {
        public Rule<uint>[] Rules = new Rule<uint>[64];
        public int[] GroupStart = new int[64];
        public uint[] GroupDst = new uint[64];
        public byte[] GroupLen = new byte[64];
        public ushort[] Parent = new ushort[64];
        public int[] Points = new int[129];
        public readonly List<Rule<uint>> Gathered = new();

        public void Ensure(int rules)
        {
            if (Rules.Length < rules) Array.Resize(ref Rules, Math.Max(rules, Rules.Length * 2));
            if (GroupStart.Length < rules)
            {
                int n = Math.Max(rules, GroupStart.Length * 2);
                GroupStart = new int[n]; GroupDst = new uint[n]; GroupLen = new byte[n]; Parent = new ushort[n];
                Points = new int[2 * n + 1];
            }
        }
    }

    [ThreadStatic] private static Scratch? t_scratch;
    private static Scratch Scr => t_scratch ??= new Scratch();

    /// <summary>Compiles the whole index from a trie (bulk replace).</summary>
    public static DestIndex Build(TrieNode<uint> trie)
    {
        var top = new Entry[64][][];
        var gathered = new List<Rule<uint>>();
        Rule<uint>[]? previousOuter = null, previous8 = null;
        var outer8 = new Rule<uint>[]?[256];
        for (int a = 0; a < 256; a++) outer8[a] = GatherOuter(trie, (uint)a << 24, 0, 8, gathered, ref previous8);
        for (int a = 0; a < 64; a++)
        {
            Entry[][]? mid = null;
            for (int m = 0; m < 64; m++)
            {
                Entry[]? leaf = null;
                for (int l = 0; l < 16; l++)
                {
                    uint base16 = (uint)((a << 26) | (m << 20) | (l << 16));
                    Entry e = default;
                    e.Outer = GatherOuter(trie, base16, 9, 16, gathered, ref previousOuter);
                    gathered.Clear();
                    PolicyTrie<uint>.Gather(trie, base16, 16, gathered);
                    e.Node = BuildNode(CollectionsMarshal.AsSpan(gathered), base16);
                    if (e.Node is null && e.Outer is null) continue;
                    leaf ??= new Entry[16];
                    leaf[l] = e;
                }
                if (leaf is null) continue;
                mid ??= (Entry[][])s_emptyMid.Clone();
                mid[m] = leaf;
            }
            top[a] = mid ?? s_emptyMid;
        }
        return new DestIndex(top, outer8);
    }

    private enum Op { Insert, Remove, ReplaceAction }

    /// <summary>A new index with eroute <paramref name="r"/> (a new id) added. This index is untouched.</summary>
    public DestIndex Insert(in Rule<uint> r) => Change(r, Op.Insert);

    /// <summary>A new index without eroute <paramref name="r"/> (matched by id; its selectors locate it).</summary>
    public DestIndex Remove(in Rule<uint> r) => Change(r, Op.Remove);

    /// <summary>
    /// A new index where eroute <paramref name="r"/> (same id and selectors, already in the index)
    /// has <paramref name="r"/>.Action: the blocks (or Outer lists) holding it are copied with the
    /// one rule patched (the common update: a rekey switching the SA).
    /// </summary>
    public DestIndex ReplaceAction(in Rule<uint> r) => Change(r, Op.ReplaceAction);

    /// <summary>
    /// The incremental update: copies Top and the mid/leaf arrays on the path of each /16 the
    /// prefix covers, and replaces only what holds the eroute — the /16's block (decoded, changed
    /// and re-leaf-pushed: typically 1-30 rules), the /24 blocks of a split /16 it intersects, or the
    /// Outer lists of the /16s a /0-/16 covers (one new list per distinct old list). The trie is not
    /// read. Nothing reachable from this (published) index is written.
    /// </summary>
    private DestIndex Change(in Rule<uint> r, Op op)
    {
        if (r.DstLen <= 8)
        {
            // /0-/8: the per-/8 lists only (Top is shared unchanged).
            var outer8 = (Rule<uint>[]?[])Outer8.Clone();
            int first8 = (int)(r.Dst >> 24), count8 = 1 << (8 - r.DstLen);
            var memo8 = new OuterMemo(count8 > 1);
            for (int a = first8; a < first8 + count8; a++) outer8[a] = memo8.Changed(outer8[a], r, op);
            return new DestIndex(Top, outer8);
        }
        var top = (Entry[][][])Top.Clone();
        if (r.DstLen <= 16)
        {
            int first = (int)(r.Dst >> 16), count = 1 << (16 - r.DstLen);
            var memo = new OuterMemo(count > 1);
            for (int i = first; i < first + count; i++)
            {
                ref Entry e = ref WritableEntry(top, i);
                e.Outer = memo.Changed(e.Outer, r, op);
            }
        }
        else
        {
            int i = (int)(r.Dst >> 16);
            uint base16 = (uint)i << 16;
            ref Entry e = ref WritableEntry(top, i);
            if (e.Node is uint[]?[] split)
            {
                // A split /16: the /24 blocks the prefix intersects (one for /24-/32).
                var copy = (uint[]?[])split.Clone();
                int firstSub = (int)((r.Dst >> 8) & 0xFF), subs = r.DstLen >= 24 ? 1 : 1 << (24 - r.DstLen);
                for (int sub = firstSub; sub < firstSub + subs; sub++)
                {
                    uint base24 = base16 | ((uint)sub << 8);
                    copy[sub] = op == Op.ReplaceAction ? Patched(copy[sub], r) : BlockChanged(copy[sub], base16, base24, 24, r, op, out _);
                }
                e.Node = copy;
            }
            else if (op == Op.ReplaceAction)
            {
                e.Node = Patched(e.Node as uint[], r);
            }
            else
            {
                uint[]? built = BlockChanged(e.Node as uint[], base16, base16, 16, r, op, out int n);
                // Past SplitAbove the /16 becomes 256 /24 blocks (the rules are in the scratch);
                // a split /16 stays split when it shrinks again (hysteresis; answers are the same).
                e.Node = n == 0 ? null : n > SplitAbove ? BuildSplit(Scr.Rules.AsSpan(0, n), base16) : built;
            }
        }
        return new DestIndex(top, Outer8);
    }

    /// <summary>One changed list per distinct old list (neighbouring /16s or /8s share lists).</summary>
    private struct OuterMemo(bool many)
    {
        private Rule<uint>[]? _lastOld, _lastNew;
        private bool _have;
        private Dictionary<Rule<uint>[], Rule<uint>[]?>? _memo = many ? new(ReferenceEqualityComparer.Instance) : null;

        public Rule<uint>[]? Changed(Rule<uint>[]? old, in Rule<uint> r, Op op)
        {
            if (_have && ReferenceEquals(old, _lastOld)) return _lastNew;
            Rule<uint>[]? changed;
            if (old is not null && _memo is not null && _memo.TryGetValue(old, out Rule<uint>[]? known)) changed = known;
            else
            {
                changed = OuterChanged(old, r, op);
                if (old is not null) _memo?.Add(old, changed);
            }
            (_lastOld, _lastNew, _have) = (old, changed, true);
            return changed;
        }
    }

    /// <summary>
    /// The block <paramref name="block"/> (of the /16 at <paramref name="base16"/>, covering
    /// <paramref name="blockBase"/>/<paramref name="blockLen"/>) with <paramref name="r"/> inserted
    /// or removed: decoded into the scratch (the rules keep their destination), changed, rebuilt.
    /// <paramref name="count"/> is the new number of rules. A /16 block that would exceed
    /// SplitAbove rules is not built (returns null with the rules left in the scratch).
    /// </summary>
    private static uint[]? BlockChanged(uint[]? block, uint base16, uint blockBase, int blockLen, in Rule<uint> r, Op op, out int count)
    {
        Scratch sc = Scr;
        int n = block is null ? 0 : RuleCount(block);
        sc.Ensure(n + 1);
        Rule<uint>[] rules = sc.Rules;
        for (int i = 0; i < n; i++) rules[i] = Decode(ref RuleAt(block!, i), base16);
        if (op == Op.Insert)
        {
            rules[n++] = r;
        }
        else
        {
            int at = 0;
            while (at < n && rules[at].Id != r.Id) at++;
            if (at == n) throw new InvalidOperationException("eroute not in the compiled block (index invariant broken)");
            rules[at] = rules[--n];
        }
        count = n;
        if (n == 0 || (blockLen == 16 && n > SplitAbove)) return null;
        return BuildBlock(rules.AsSpan(0, n), blockBase, blockLen);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RuleCount(uint[] block) => (block.Length - (int)block[1]) / 8;

    private static Rule<uint> Decode(ref CompiledRule c, uint base16) => new()
    {
        Dst = base16 | c.DstLo, DstLen = c.DstLen, Src = c.Src, SrcLen = c.SrcLen, Protocol = c.Protocol,
        SrcPortLo = c.SrcPortLo, SrcPortHi = c.SrcPortHi, DstPortLo = c.DstPortLo, DstPortHi = c.DstPortHi,
        Action = c.Action, Id = c.Id,
    };

    /// <summary>The Outer list with <paramref name="r"/> inserted at its §1 position, removed, or its action replaced.</summary>
    private static Rule<uint>[]? OuterChanged(Rule<uint>[]? old, in Rule<uint> r, Op op)
    {
        int n = old?.Length ?? 0;
        if (op == Op.Insert)
        {
            int pos = 0;
            while (pos < n && PolicyTrie<uint>.CompareSpecificity(old![pos], r) < 0) pos++;
            var list = new Rule<uint>[n + 1];
            if (pos > 0) Array.Copy(old!, 0, list, 0, pos);
            list[pos] = r;
            if (pos < n) Array.Copy(old!, pos, list, pos + 1, n - pos);
            return list;
        }
        int at = 0;
        while (at < n && old![at].Id != r.Id) at++;
        if (at == n) throw new InvalidOperationException("eroute not in the Outer list (index invariant broken)");
        if (op == Op.ReplaceAction)
        {
            var copy = (Rule<uint>[])old!.Clone();
            copy[at].Action = r.Action;
            return copy;
        }
        if (n == 1) return null;
        var shorter = new Rule<uint>[n - 1];
        Array.Copy(old!, 0, shorter, 0, at);
        Array.Copy(old!, at + 1, shorter, at, n - 1 - at);
        return shorter;
    }

    private static uint[] Patched(uint[]? block, in Rule<uint> r)
    {
        if (block is not null)
        {
            var copy = (uint[])block.Clone();
            int n = RuleCount(copy);
            for (int i = 0; i < n; i++)
            {
                ref CompiledRule c = ref RuleAt(copy, i);
                if (c.Id == r.Id) { c.Action = r.Action; return copy; }
            }
        }
        throw new InvalidOperationException("eroute not in the compiled block (index invariant broken)");
    }

    /// <summary>The entry of /16 number <paramref name="i"/> in <paramref name="top"/> (a copy of Top), copying its mid and leaf arrays on first write.</summary>
    private ref Entry WritableEntry(Entry[][][] top, int i)
    {
        int a = i >> 10, m = (i >> 4) & 0x3F;
        if (ReferenceEquals(top[a], Top[a])) top[a] = (Entry[][])Top[a].Clone();
        Entry[][] mid = top[a];
        if (ReferenceEquals(mid[m], Top[a][m])) mid[m] = (Entry[])Top[a][m].Clone();
        return ref mid[m][i & 0xF];
    }

    /// <summary>The eroutes /<paramref name="minLen"/>-/<paramref name="maxLen"/> covering the /16 at <paramref name="base16"/>, sorted; reuses <paramref name="previous"/> when equal.</summary>
    private static Rule<uint>[]? GatherOuter(TrieNode<uint> trie, uint base16, int minLen, int maxLen, List<Rule<uint>> scratch, ref Rule<uint>[]? previous)
    {
        scratch.Clear();
        PolicyTrie<uint>.GatherCovering(trie, base16, scratch);
        scratch.RemoveAll(r => r.DstLen < minLen || r.DstLen > maxLen);
        if (scratch.Count == 0) return null;
        if (scratch.Count > 1) scratch.Sort(static (x, y) => PolicyTrie<uint>.CompareSpecificity(x, y));
        if (previous is not null && previous.Length == scratch.Count)
        {
            bool same = true;
            for (int i = 0; i < previous.Length && same; i++)
                same = previous[i].Id == scratch[i].Id && previous[i].Action == scratch[i].Action;
            if (same) return previous;
        }
        previous = scratch.ToArray();
        return previous;
    }

    /// <summary>The node of one /16 from its eroutes longer than /16: null, one block, or (more than SplitAbove) 256 /24 blocks.</summary>
    private static object? BuildNode(Span<Rule<uint>> rules, uint base16)
    {
        if (rules.Length == 0) return null;
        if (rules.Length <= SplitAbove) return BuildBlock(rules, base16, 16);
        return BuildSplit(rules, base16);
    }

    /// <summary>256 /24 blocks from the eroutes longer than /16 of one /16 (a /17-/23 goes into each /24 it covers).</summary>
    private static uint[]?[] BuildSplit(ReadOnlySpan<Rule<uint>> rules, uint base16)
    {
        // Counting sort by /24 (a prefix shorter than /24 counts in every /24 it covers).
        Span<int> start = stackalloc int[257];
        start.Clear();
        foreach (ref readonly Rule<uint> r in rules)
        {
            var (first, subs) = Subs(r);
            for (int s = first; s < first + subs; s++) start[s + 1]++;
        }
        for (int s = 0; s < 256; s++) start[s + 1] += start[s];
        var all = new Rule<uint>[start[256]];
        Span<int> fill = stackalloc int[256];
        start[..256].CopyTo(fill);
        foreach (ref readonly Rule<uint> r in rules)
        {
            var (first, subs) = Subs(r);
            for (int s = first; s < first + subs; s++) all[fill[s]++] = r;
        }
        var split = new uint[]?[256];
        for (int s = 0; s < 256; s++)
            split[s] = BuildBlock(all.AsSpan(start[s], start[s + 1] - start[s]), base16 | ((uint)s << 8), 24);
        return split;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int First, int Count) Subs(in Rule<uint> r) =>
        ((int)((r.Dst >> 8) & 0xFF), r.DstLen >= 24 ? 1 : 1 << (24 - r.DstLen));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Intersects(in Rule<uint> r, uint blockBase, int blockLen)
    {
        int len = Math.Min(r.DstLen, blockLen);
        uint mask = (uint)(0xFFFF_FFFF_0000_0000UL >> len);
        return ((r.Dst ^ blockBase) & mask) == 0;
    }

    private static readonly Comparison<Rule<uint>> s_blockOrder = static (x, y) =>
    {
        int c = y.DstLen.CompareTo(x.DstLen);
        if (c == 0) c = x.Dst.CompareTo(y.Dst);
        return c != 0 ? c : PolicyTrie<uint>.CompareSpecificity(x, y);
    };

    /// <summary>
    /// A block for the range <paramref name="blockBase"/>/<paramref name="blockLen"/> (16 or 24) from
    /// the eroutes longer than /16 that intersect it (any order; sorted in place); null when none.
    /// </summary>
    internal static uint[]? BuildBlock(Span<Rule<uint>> rules, uint blockBase, int blockLen)
    {
        int count = rules.Length;
        if (count == 0) return null;
        if (count >= NoRule) throw new InvalidOperationException("block too large");
        // Grouped by destination prefix (longest first); inside a group in the order of §1. Within
        // one interval only one prefix of each length applies, so this is the §1 order there.
        if (count > 1) rules.Sort(s_blockOrder);
        Scratch sc = Scr;
        sc.Ensure(count);
        int[] groupStart = sc.GroupStart;
        uint[] groupDst = sc.GroupDst;
        byte[] groupLen = sc.GroupLen;
        int groups = 0;
        for (int i = 0; i < count; i++)
        {
            if (i == 0 || rules[i].Dst != rules[i - 1].Dst || rules[i].DstLen != rules[i - 1].DstLen)
            {
                groupStart[groups] = i;
                groupDst[groups] = rules[i].Dst;
                groupLen[groups] = rules[i].DstLen;
                groups++;
            }
        }
        // Parent of each group: the next group (less specific) that contains it.
        ushort[] parentFirst = sc.Parent;
        for (int g = 0; g < groups; g++)
        {
            parentFirst[g] = NoRule;
            for (int h = g + 1; h < groups; h++)
            {
                if (groupLen[h] < groupLen[g] && Contains(groupDst[h], groupLen[h], groupDst[g]))
                {
                    parentFirst[g] = (ushort)groupStart[h];
                    break;
                }
            }
        }
        // Interval starts: every group's first address and the address after its end, inside the block.
        int size = 1 << (32 - blockLen);
        int[] raw = sc.Points;
        int np = 0;
        raw[np++] = 0;
        for (int g = 0; g < groups; g++)
        {
            long start = Math.Max((long)groupDst[g], blockBase) - blockBase;
            long end = Math.Min((long)groupDst[g] + (1L << (32 - groupLen[g])), (long)blockBase + size) - blockBase;
            if (start > 0 && start < size) raw[np++] = (int)start;
            if (end > 0 && end < size) raw[np++] = (int)end;
        }
        Array.Sort(raw, 0, np);
        int k = 0;
        for (int i = 0; i < np; i++)
            if (i == 0 || raw[i] != raw[i - 1]) raw[k++] = raw[i];
        int ruleOffset = 2 + (k * 2 * sizeof(ushort) + 3) / 4;
        ruleOffset = (ruleOffset + 7) & ~7; // rules at a 32-byte stride from the data start
        var block = new uint[ruleOffset + count * 8];
        block[0] = (uint)k;
        block[1] = (uint)ruleOffset;
        Span<ushort> starts = MemoryMarshal.Cast<uint, ushort>(block.AsSpan(2, ruleOffset - 2));
        for (int p = 0; p < k; p++)
        {
            starts[p] = (ushort)raw[p];
            ushort leaf = NoRule;
            uint addr = blockBase + (uint)raw[p];
            for (int g = 0; g < groups; g++)
            {
                if (Contains(groupDst[g], groupLen[g], addr)) { leaf = (ushort)groupStart[g]; break; }
            }
            starts[k + p] = leaf;
        }
        for (int g = 0; g < groups; g++)
        {
            int end = g + 1 < groups ? groupStart[g + 1] : count;
            for (int i = groupStart[g]; i < end; i++)
            {
                ref readonly Rule<uint> r = ref rules[i];
                RuleAt(block, i) = new CompiledRule
                {
                    Src = r.Src, SrcLen = r.SrcLen, Protocol = r.Protocol,
                    SrcPortLo = r.SrcPortLo, SrcPortHi = r.SrcPortHi, DstPortLo = r.DstPortLo, DstPortHi = r.DstPortHi,
                    Action = r.Action, Id = r.Id,
                    DstLen = r.DstLen, DstLo = (ushort)r.Dst,
                    Next = i + 1 < end ? (ushort)(i + 1) : parentFirst[g],
                };
            }
        }
        return block;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Contains(uint prefix, int len, uint addr) =>
        ((addr ^ prefix) & (uint)(0xFFFF_FFFF_0000_0000UL >> len)) == 0;

    /// <summary>
    /// Every eroute in the index, once each (decoded from the blocks, the Outer and Outer8 lists;
    /// a /17-/23 in a split /16 and a /0-/16 shared by several entries are counted once, by id).
    /// The writer no longer keeps the IPv4 trie up to date per single update (the index answers
    /// every IPv4 lookup); this is what a snapshot compiles its trie from when one is asked for
    /// (ErouteSnapshot.Root: tests, the benchmarks' A/B, trie statistics). O(eroutes), allocates.
    /// </summary>
    internal Rule<uint>[] AllRules()
    {
        var seen = new HashSet<int>();
        var all = new List<Rule<uint>>();
        void AddList(Rule<uint>[]? list)
        {
            if (list is null) return;
            foreach (Rule<uint> r in list)
                if (seen.Add(r.Id)) all.Add(r);
        }
        void AddBlock(uint[]? block, uint base16)
        {
            if (block is null) return;
            int n = RuleCount(block);
            for (int i = 0; i < n; i++)
            {
                ref CompiledRule c = ref RuleAt(block, i);
                if (seen.Add(c.Id)) all.Add(Decode(ref c, base16));
            }
        }
        foreach (Rule<uint>[]? list in Outer8) AddList(list);
        for (int i = 0; i < 65536; i++)
        {
            Entry e = Top[i >> 10][(i >> 4) & 0x3F][i & 0xF];
            AddList(e.Outer);
            uint base16 = (uint)i << 16;
            if (e.Node is uint[] block) AddBlock(block, base16);
            else if (e.Node is uint[]?[] split)
                foreach (uint[]? sub in split) AddBlock(sub, base16);
        }
        return all.ToArray();
    }

    /// <summary>Blocks, splits and compiled rules (for the probe and tests).</summary>
    internal (int Blocks, int Splits, long Rules, long Words) Stats()
    {
        int blocks = 0, splits = 0;
        long rules = 0, words = 0;
        var seenChunks = new HashSet<Entry[]>(ReferenceEqualityComparer.Instance);
        foreach (Entry[][] mid in Top)
        foreach (Entry[] chunk in mid)
        {
            if (!seenChunks.Add(chunk)) continue;
            foreach (Entry e in chunk)
            {
                if (e.Node is uint[] b) { blocks++; rules += (b.Length - b[1]) / 8; words += b.Length; }
                else if (e.Node is uint[]?[] s)
                {
                    splits++;
                    foreach (uint[]? sb in s)
                        if (sb is not null) { blocks++; rules += (sb.Length - sb[1]) / 8; words += sb.Length; }
                }
            }
        }
        return (blocks, splits, rules, words);
    }
}

/// <summary>
/// A rule inside a compiled block (32 bytes): everything but the destination's upper 16 bits (the
/// /16 of the block), and the next candidate. The destination's low 16 bits and length are kept so
/// that an update can decode the block and rebuild it without the trie.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CompiledRule
{
    public uint Src;
    public byte SrcLen, Protocol;
    public ushort SrcPortLo, SrcPortHi, DstPortLo, DstPortHi;
    public byte DstLen;
    public ulong Action;
    public int Id;
    /// <summary>Index of the next candidate rule in the block, or DestIndex.NoRule (then the entry's Outer list).</summary>
    public ushort Next;
    /// <summary>Destination bits 16-31 (the block's /16 supplies bits 0-15).</summary>
    public ushort DstLo;
}
