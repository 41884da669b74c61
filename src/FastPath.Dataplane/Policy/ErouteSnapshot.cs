using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace FastPath.Dataplane.Policy;

/// <summary>
/// What the policy says about one packet: accept (forward / encrypt) or drop with a reason, and the
/// eroute that decided (<see cref="ErouteMatch.None"/> when none matched).
/// </summary>
public readonly record struct PolicyVerdict(bool Accept, DropReason Reason, ErouteMatch Match)
{
    internal static PolicyVerdict Allow(ErouteMatch m) => new(true, default, m);
    internal static PolicyVerdict Deny(DropReason reason, ErouteMatch m) => new(false, reason, m);
}

/// <summary>
/// One immutable version of an eroute table (RCU snapshot). Workers read
/// <see cref="ErouteTable{TKey}.Current"/> once per batch, after their quiescent point, and use it
/// for the whole batch: every lookup in the batch sees the same table, and a concurrent replace
/// never shows a packet a state that is neither the old table nor the new one. No method
/// allocates, locks or throws (except span-length misuse).
/// </summary>
public sealed class ErouteSnapshot<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    // The trie of this version. IPv6 snapshots (and IPv4 ones published without the compiled
    // stage) always carry it: it answers their lookups. An IPv4 snapshot with a compiled stage
    // carries none: the writer does not path-copy the trie per single update (that was half of an
    // update's CPU time and ~3/4 of its allocation, docs/eroute.md §7), because the index answers
    // every IPv4 lookup. Root then compiles it from the index on first use (tests, benchmarks'
    // A/B, statistics; never a worker) and caches it in this immutable snapshot.
    private TrieNode<TKey>? _root;
    private readonly int _count;
    /// <summary>The compiled IPv4 destination stage (DestIndex) of this version; null for IPv6 (the trie answers).</summary>
    internal readonly DestIndex? Index;

    /// <summary>Publication number (1 for the first table, +1 per published change).</summary>
    public long Version { get; }

    /// <summary>Number of eroutes.</summary>
    public int Count => _count;

    /// <summary>The trie of this version (compiled from the index on first use when the writer did not keep one; allocates then).</summary>
    internal TrieNode<TKey> Root => Volatile.Read(ref _root) ?? MaterializeRoot();

    /// <summary>True when this snapshot was published with its trie (false: IPv4, compiled stage only).</summary>
    internal bool HasTrie => Volatile.Read(ref _root) is not null;

    internal ErouteSnapshot(TrieNode<TKey>? root, int count, long version, DestIndex? index = null)
    {
        if (root is null && index is null) throw new ArgumentException("a snapshot needs a trie or a compiled stage");
        _root = root;
        _count = count;
        Version = version;
        Index = index;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TrieNode<TKey> MaterializeRoot()
    {
        Rule<uint>[] rules = Index!.AllRules();
        TrieNode<uint> built = PolicyTrie<uint>.Build(rules);
        Interlocked.CompareExchange(ref _root, Unsafe.As<TrieNode<TKey>>(built), null);
        return _root!;
    }

    /// <summary>Tables above this size use the interleaved (prefetching) batch of the compiled stage.</summary>
    internal const int InterleaveFrom = 1 << 15;

    /// <summary>The most specific eroute for <paramref name="key"/>: destination, then source, then protocol/ports.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ErouteMatch Lookup(in FlowKey<TKey> key)
    {
        if (typeof(TKey) == typeof(uint) && Index is { } index)
            return index.Lookup(Unsafe.As<FlowKey<TKey>, FlowKey<uint>>(ref Unsafe.AsRef(in key)));
        return PolicyTrie<TKey>.Lookup(_root!, key); // no index: the trie is always there (constructor)
    }

    /// <summary>Batch lookup without counting: compiled stage for IPv4, the trie for IPv6.</summary>
    private void LookupBatch(ReadOnlySpan<FlowKey<TKey>> keys, Span<ErouteMatch> results)
    {
        if (typeof(TKey) == typeof(uint) && Index is { } index)
        {
            var k4 = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<FlowKey<TKey>, FlowKey<uint>>(ref MemoryMarshal.GetReference(keys)), keys.Length);
            if (_count >= InterleaveFrom)
            {
                index.LookupBatch(k4, results);
            }
            else
            {
                ref ErouteMatch r0 = ref MemoryMarshal.GetReference(results);
                for (int i = 0; i < k4.Length; i++) Unsafe.Add(ref r0, i) = index.Lookup(k4[i]);
            }
            return;
        }
        PolicyTrie<TKey>.LookupBatch(_root!, keys, results);
    }

    /// <summary>Looks up a batch: <c>results[i]</c> = <c>Lookup(keys[i])</c> (prefetching, see PolicyTrie.LookupBatch).</summary>
    public void Lookup(ReadOnlySpan<FlowKey<TKey>> keys, Span<ErouteMatch> results)
    {
        if (results.Length < keys.Length) ThrowResultsTooShort();
        LookupBatch(keys, results);
    }

    /// <summary>Looks up a batch and counts each hit in the worker's <paramref name="counters"/>.</summary>
    public void Lookup(ReadOnlySpan<FlowKey<TKey>> keys, Span<ErouteMatch> results, HitCounters counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        if (results.Length < keys.Length) ThrowResultsTooShort();
        LookupBatch(keys, results);
        ref ErouteMatch r0 = ref MemoryMarshal.GetReference(results);
        for (int i = 0; i < keys.Length; i++)
        {
            int id = Unsafe.Add(ref r0, i).Id;
            if (id >= 0) counters.Count(id);
        }
    }

    /// <summary>
    /// Outbound decision for a packet from the inside: no eroute → drop NoPolicy (KLIPS fails
    /// closed); SA → accept (encrypt with <c>Match.Action.SaHandle</c>); %pass/%passthrough →
    /// accept in clear; %drop → ShuntDrop; %reject → ShuntReject (the caller asks its
    /// <see cref="RejectRateLimiter"/> whether to send the ICMP unreachable); %hold → ShuntHold;
    /// %trap → not accepted with ShuntHold, and the caller hands the packet to its
    /// <see cref="TrapHoldQueue{THandle, TKey}"/>, which holds it (or drops it with ShuntHold when full).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PolicyVerdict DecideOutbound(in FlowKey<TKey> key) => Decide(Lookup(key));

    /// <summary>The outbound decision for an already looked-up match (see <see cref="DecideOutbound"/>).</summary>
    public static PolicyVerdict Decide(ErouteMatch m) => m.Action.Kind switch
    {
        ErouteActionKind.Sa or ErouteActionKind.Pass or ErouteActionKind.Passthrough => PolicyVerdict.Allow(m),
        ErouteActionKind.Drop => PolicyVerdict.Deny(DropReason.ShuntDrop, m),
        ErouteActionKind.Reject => PolicyVerdict.Deny(DropReason.ShuntReject, m),
        ErouteActionKind.Hold or ErouteActionKind.Trap => PolicyVerdict.Deny(DropReason.ShuntHold, m),
        _ => PolicyVerdict.Deny(DropReason.NoPolicy, m),
    };

    /// <summary>
    /// Inbound check (a) for a decrypted packet (fixes seed 000 bug #7): its inner source and
    /// destination, reversed, must select an eroute whose action is the SA group the packet
    /// arrived on (<paramref name="saGroup"/> = the group's outbound SPI, as in the eroute).
    /// Anything else — no eroute, a shunt, another SA group — is a PolicyMismatch drop.
    /// </summary>
    public PolicyVerdict CheckDecrypted(in FlowKey<TKey> inner, uint saGroup)
    {
        ErouteMatch m = Lookup(inner.Reversed());
        return m.Action.Kind == ErouteActionKind.Sa && m.Action.SaHandle == saGroup
            ? PolicyVerdict.Allow(m)
            : PolicyVerdict.Deny(DropReason.PolicyMismatch, m);
    }

    /// <summary>
    /// Inbound check (a) by stable policy group (IKE CHILD_SAs): the decrypted packet, reversed, must
    /// select an SA eroute carrying <paramref name="group"/>, whichever outbound SPI it names now, so
    /// both inbound SAs of a make-before-break rekey pass while the eroutes switch SPI.
    /// </summary>
    public PolicyVerdict CheckDecryptedInGroup(in FlowKey<TKey> inner, uint group)
    {
        ErouteMatch m = Lookup(inner.Reversed());
        return m.Action.Kind == ErouteActionKind.Sa && m.Action.Group == group
            ? PolicyVerdict.Allow(m)
            : PolicyVerdict.Deny(DropReason.PolicyMismatch, m);
    }

    /// <summary>
    /// Inbound check (a) against explicit SA selectors (outbound orientation: Src = our side,
    /// Dst = the peer's side, as in the eroute): the decrypted inner packet, reversed, must match.
    /// </summary>
    public static PolicyVerdict CheckDecrypted(in FlowKey<TKey> inner, in ErouteSelector<TKey> saSelectors) =>
        saSelectors.Matches(inner.Reversed())
            ? PolicyVerdict.Allow(ErouteMatch.None)
            : PolicyVerdict.Deny(DropReason.PolicyMismatch, ErouteMatch.None);

    /// <summary>
    /// Inbound check (b) for cleartext arriving on the outside interface: look up the reversed key;
    /// an eroute that protects the flow (an SA, or %trap/%hold: an SA is wanted) → drop
    /// CleartextOnProtected; %drop → ShuntDrop; %reject → ShuntReject; no eroute → NoPolicy
    /// (fail closed); %pass/%passthrough → accept.
    /// </summary>
    public PolicyVerdict CheckCleartextFromOutside(in FlowKey<TKey> key)
    {
        ErouteMatch m = Lookup(key.Reversed());
        return m.Action.Kind switch
        {
            ErouteActionKind.Pass or ErouteActionKind.Passthrough => PolicyVerdict.Allow(m),
            ErouteActionKind.Sa or ErouteActionKind.Trap or ErouteActionKind.Hold => PolicyVerdict.Deny(DropReason.CleartextOnProtected, m),
            ErouteActionKind.Drop => PolicyVerdict.Deny(DropReason.ShuntDrop, m),
            ErouteActionKind.Reject => PolicyVerdict.Deny(DropReason.ShuntReject, m),
            _ => PolicyVerdict.Deny(DropReason.NoPolicy, m),
        };
    }

    private static void ThrowResultsTooShort() => throw new ArgumentException("results shorter than keys", "results");
}
