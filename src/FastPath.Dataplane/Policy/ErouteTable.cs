using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;

namespace FastPath.Dataplane.Policy;

// The eroute table (SPD): the control-plane side that owns the eroutes and publishes immutable
// snapshots (ErouteSnapshot) for the workers.
//
// - Writers (control plane) are serialized by one lock and may allocate freely. Each change is
//   applied to a private copy of what it touches — for IPv4 the compiled stage's directory path
//   and block (DestIndex; no trie is maintained, docs/eroute.md §7), for IPv6 the trie's path
//   (PolicyTrie.Modify) — and made visible by ONE
//   Volatile.Write of the snapshot reference: a single add / replace / delete, a batch of changes
//   (Apply) and a bulk replace of the whole table (ReplaceAll) are each atomic: a reader sees the
//   old or the new table, never a mix, and a replace never opens a window where a packet falls to
//   a more general eroute (seed 000 bug #10, where PF_KEY replace was delete-then-add).
// - Readers (workers) take no lock: Current is one volatile read.
// - Each eroute has an id: the index of its hit counters (per worker, HitCounters) and other
//   per-eroute state (AcquireBroker). A deleted eroute's id is reused only after every worker
//   passed a quiescent point (QuiescentState); old snapshots are reclaimed by the GC.
// - A replace of an existing selector keeps the eroute's id (and counter), as KLIPS kept the
//   eroute's count when its SA changed.

/// <summary>One eroute to install: selectors, action and (for an SA) the peer printed after `@`.</summary>
public readonly record struct ErouteSpec<TKey>(ErouteSelector<TKey> Selector, ErouteAction Action, IPAddress? Peer = null)
    where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>;

/// <summary>An installed eroute as listed by <see cref="ErouteTable{TKey}.List"/>.</summary>
public readonly record struct ErouteEntry<TKey>(int Id, ErouteSelector<TKey> Selector, ErouteAction Action, IPAddress? Peer, long Hits)
    where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    /// <summary>The action as FreeS/WAN prints it: `tun0x1002@203.0.113.2`, `%trap`, ...</summary>
    public string ActionText => Action.Kind == ErouteActionKind.Sa
        ? $"tun0x{Action.SaHandle.ToString("x", CultureInfo.InvariantCulture)}@{Peer?.ToString() ?? "0.0.0.0"}"
        : Action.ShuntName ?? "%none";

    /// <summary>One `ipsec eroute` line: hit count, source, destination, action (KLIPS column layout).</summary>
    public string FormatLine()
    {
        string line = string.Format(CultureInfo.InvariantCulture, "{0,-10} {1,-18} -> {2,-18} => {3}",
            Hits, Selector.SrcText, Selector.DstText, ActionText);
        return Selector.Protocol != 0 ? line + ":" + Selector.Protocol.ToString(CultureInfo.InvariantCulture) : line;
    }
}

/// <summary>A change for <see cref="ErouteTable{TKey}.Apply"/>: add-or-replace (Action set) or delete (Delete).</summary>
public readonly record struct ErouteChange<TKey>(ErouteSpec<TKey> Spec, bool Delete = false)
    where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>;

/// <summary>The eroute table of one address family: <c>ErouteTable&lt;uint&gt;</c> (IPv4) or <c>ErouteTable&lt;UInt128&gt;</c> (IPv6).</summary>
public sealed class ErouteTable<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    private struct Record
    {
        public ErouteSelector<TKey> Selector;
        public ErouteAction Action;
        public int Peer; // index into _peers, -1 = none
        public bool Live;
    }

    private readonly object _writeLock = new();
    private readonly QuiescentState _quiescent;
    private readonly Dictionary<ErouteSelector<TKey>, int> _idBySelector = [];
    private readonly List<IPAddress> _peers = [];
    private readonly Dictionary<IPAddress, int> _peerIndex = [];
    private readonly Queue<(int Id, long Epoch)> _retired = new();
    private readonly Stack<int> _free = new();
    private readonly List<IPerErouteState> _perEroute = [];
    private Record[] _records = [];
    private int _nextId;
    private int _capacity;
    private ErouteSnapshot<TKey> _current;

    /// <summary>Creates an empty table (every lookup misses: fail closed).</summary>
    public ErouteTable(QuiescentState? quiescent = null)
    {
        _quiescent = quiescent ?? new QuiescentState();
        _current = typeof(TKey) == typeof(uint)
            ? new ErouteSnapshot<TKey>(null, 0, 1, DestIndex.Empty)
            : new ErouteSnapshot<TKey>(PolicyTrie<TKey>.Empty, 0, 1);
    }

    /// <summary>The quiescent-state domain whose workers gate id reuse.</summary>
    public QuiescentState Quiescent => _quiescent;

    /// <summary>The current snapshot (workers: read once per batch, after <see cref="WorkerEpoch.Quiesce"/>).</summary>
    public ErouteSnapshot<TKey> Current => Volatile.Read(ref _current);

    /// <summary>Number of eroutes.</summary>
    public int Count => Current.Count;

    /// <summary>Ids handed out so far are below this (size of per-eroute arrays).</summary>
    public int IdCapacity => Volatile.Read(ref _capacity);

    /// <summary>Creates hit counters for one worker (kept in step with the table's ids).</summary>
    public HitCounters CreateHitCounters()
    {
        var c = new HitCounters();
        Register(c);
        return c;
    }

    /// <summary>Registers per-eroute state that must grow with the ids and be reset on id reuse.</summary>
    public void Register(IPerErouteState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_writeLock)
        {
            state.EnsureCapacity(_capacity);
            _perEroute.Add(state);
        }
    }

    /// <summary>Adds an eroute; throws if one with the same selectors exists. Returns its id.</summary>
    public int Add(in ErouteSelector<TKey> selector, ErouteAction action, IPAddress? peer = null)
    {
        lock (_writeLock)
        {
            if (_idBySelector.ContainsKey(selector)) throw new InvalidOperationException($"eroute {selector} already exists");
            DestIndex? index = Current.Index;
            TrieNode<TKey>? root = TrieToUpdate(index);
            int id = Upsert(ref root, ref index, new ErouteSpec<TKey>(selector, action, peer));
            Publish(root, index);
            return id;
        }
    }

    /// <summary>Adds the eroute or atomically replaces the action of the one with the same selectors. Returns its id.</summary>
    public int Replace(in ErouteSelector<TKey> selector, ErouteAction action, IPAddress? peer = null)
    {
        lock (_writeLock)
        {
            DestIndex? index = Current.Index;
            TrieNode<TKey>? root = TrieToUpdate(index);
            int id = Upsert(ref root, ref index, new ErouteSpec<TKey>(selector, action, peer));
            Publish(root, index);
            return id;
        }
    }

    /// <summary>Deletes the eroute with these selectors; false if there is none.</summary>
    public bool Delete(in ErouteSelector<TKey> selector)
    {
        lock (_writeLock)
        {
            DestIndex? index = Current.Index;
            TrieNode<TKey>? root = TrieToUpdate(index);
            if (!Remove(ref root, ref index, selector, out int id)) return false;
            Publish(root, index);
            Retire(id);
            return true;
        }
    }

    /// <summary>Applies several changes as one atomic publication.</summary>
    public void Apply(ReadOnlySpan<ErouteChange<TKey>> changes)
    {
        lock (_writeLock)
        {
            DestIndex? index = Current.Index;
            TrieNode<TKey>? root = TrieToUpdate(index);
            var retired = new List<int>();
            foreach (ref readonly ErouteChange<TKey> c in changes)
            {
                if (c.Delete)
                {
                    if (Remove(ref root, ref index, c.Spec.Selector, out int id)) retired.Add(id);
                }
                else
                {
                    Upsert(ref root, ref index, c.Spec);
                }
            }
            Publish(root, index);
            foreach (int id in retired) Retire(id);
        }
    }

    /// <summary>
    /// Replaces the whole table with <paramref name="specs"/> in one publication (e.g. a reload).
    /// Eroutes whose selectors stay keep their ids and counters. Later duplicates win.
    /// </summary>
    public void ReplaceAll(IEnumerable<ErouteSpec<TKey>> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        lock (_writeLock)
        {
            var wanted = new Dictionary<ErouteSelector<TKey>, ErouteSpec<TKey>>();
            foreach (ErouteSpec<TKey> s in specs) wanted[s.Selector] = s;
            var retired = new List<int>();
            foreach (var (sel, id) in _idBySelector.ToArray())
            {
                if (wanted.ContainsKey(sel)) continue;
                _idBySelector.Remove(sel);
                _records[id].Live = false;
                retired.Add(id);
            }
            var rules = new Rule<TKey>[wanted.Count];
            int n = 0;
            foreach (ErouteSpec<TKey> s in wanted.Values)
            {
                if (!_idBySelector.TryGetValue(s.Selector, out int id))
                {
                    id = AllocateId();
                    _idBySelector.Add(s.Selector, id);
                }
                _records[id] = new Record { Selector = s.Selector, Action = s.Action, Peer = PeerIndex(s.Peer), Live = true };
                rules[n++] = new Rule<TKey>(s.Selector, s.Action, id);
            }
            TrieNode<TKey> built = PolicyTrie<TKey>.Build(rules);
            // IPv4: the trie is only the compile input of the index (DestIndex.Build gathers from
            // it); the published snapshot does not keep it (the single updates after this would
            // not maintain it, and it is ~100 B per eroute: docs/eroute.md §7).
            if (typeof(TKey) == typeof(uint) && Current.Index is not null)
                Publish(null, DestIndex.Build(Unsafe.As<TrieNode<uint>>(built)));
            else
                Publish(built, null);
            foreach (int id in retired) Retire(id);
        }
    }

    /// <summary>The eroute with these selectors, if any.</summary>
    public bool TryGet(in ErouteSelector<TKey> selector, out ErouteEntry<TKey> entry)
    {
        lock (_writeLock)
        {
            if (_idBySelector.TryGetValue(selector, out int id))
            {
                entry = EntryOf(id);
                return true;
            }
        }
        entry = default;
        return false;
    }

    /// <summary>The eroute with this id (as returned by a lookup), if live.</summary>
    public bool TryGet(int id, out ErouteEntry<TKey> entry)
    {
        lock (_writeLock)
        {
            if ((uint)id < (uint)_nextId && _records[id].Live)
            {
                entry = EntryOf(id);
                return true;
            }
        }
        entry = default;
        return false;
    }

    /// <summary>Sum of all workers' hits of eroute <paramref name="id"/>.</summary>
    public long Hits(int id)
    {
        long sum = 0;
        lock (_writeLock)
            foreach (IPerErouteState s in _perEroute)
                if (s is HitCounters c) sum += c.Read(id);
        return sum;
    }

    /// <summary>All eroutes with their hit counts, in `ipsec eroute` order (source, then destination).</summary>
    public IReadOnlyList<ErouteEntry<TKey>> List()
    {
        lock (_writeLock)
        {
            var list = new List<ErouteEntry<TKey>>(_idBySelector.Count);
            foreach (int id in _idBySelector.Values) list.Add(EntryOf(id));
            list.Sort(static (a, b) =>
            {
                int c = a.Selector.Src.CompareTo(b.Selector.Src);
                if (c == 0) c = a.Selector.SrcLen.CompareTo(b.Selector.SrcLen);
                if (c == 0) c = a.Selector.Dst.CompareTo(b.Selector.Dst);
                if (c == 0) c = a.Selector.DstLen.CompareTo(b.Selector.DstLen);
                if (c == 0) c = a.Selector.Protocol.CompareTo(b.Selector.Protocol);
                if (c == 0) c = a.Id.CompareTo(b.Id);
                return c;
            });
            return list;
        }
    }

    /// <summary>The `ipsec eroute` listing, one line per eroute (see <see cref="ErouteEntry{TKey}.FormatLine"/>).</summary>
    public string Format()
    {
        var sb = new StringBuilder();
        foreach (ErouteEntry<TKey> e in List()) sb.Append(e.FormatLine()).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// Benchmarks only (the A/B of docs/eroute.md §3): with false, publishes snapshots without the
    /// compiled IPv4 stage (lookups and updates as before it: the trie alone); true recompiles it.
    /// </summary>
    internal void SetCompiledStage(bool on)
    {
        if (typeof(TKey) != typeof(uint)) return;
        lock (_writeLock)
        {
            TrieNode<TKey> root = Current.Root;
            Publish(on ? null : root, on ? DestIndex.Build(Unsafe.As<TrieNode<uint>>(root)) : null);
        }
    }

    // ---- internals (under _writeLock) ---------------------------------------------------------

    private ErouteEntry<TKey> EntryOf(int id)
    {
        ref Record r = ref _records[id];
        long hits = 0;
        foreach (IPerErouteState s in _perEroute)
            if (s is HitCounters c) hits += c.Read(id);
        return new ErouteEntry<TKey>(id, r.Selector, r.Action, r.Peer >= 0 ? _peers[r.Peer] : null, hits);
    }

    private int Upsert(ref TrieNode<TKey>? root, ref DestIndex? index, in ErouteSpec<TKey> s)
    {
        if (_idBySelector.TryGetValue(s.Selector, out int id))
        {
            _records[id].Action = s.Action;
            _records[id].Peer = PeerIndex(s.Peer);
            var changed = new Rule<TKey>(s.Selector, s.Action, id);
            if (root is not null) root = PolicyTrie<TKey>.Modify(root, changed, PolicyTrie<TKey>.Op.Replace);
            if (typeof(TKey) == typeof(uint) && index is not null)
                index = index.ReplaceAction(Unsafe.As<Rule<TKey>, Rule<uint>>(ref changed));
            return id;
        }
        id = AllocateId();
        _idBySelector.Add(s.Selector, id);
        _records[id] = new Record { Selector = s.Selector, Action = s.Action, Peer = PeerIndex(s.Peer), Live = true };
        var added = new Rule<TKey>(s.Selector, s.Action, id);
        if (root is not null) root = PolicyTrie<TKey>.Modify(root, added, PolicyTrie<TKey>.Op.Insert);
        if (typeof(TKey) == typeof(uint) && index is not null)
            index = index.Insert(Unsafe.As<Rule<TKey>, Rule<uint>>(ref added));
        return id;
    }

    private bool Remove(ref TrieNode<TKey>? root, ref DestIndex? index, in ErouteSelector<TKey> selector, out int id)
    {
        if (!_idBySelector.Remove(selector, out id)) return false;
        var removed = new Rule<TKey>(selector, _records[id].Action, id);
        if (root is not null) root = PolicyTrie<TKey>.Modify(root, removed, PolicyTrie<TKey>.Op.Remove);
        if (typeof(TKey) == typeof(uint) && index is not null)
            index = index.Remove(Unsafe.As<Rule<TKey>, Rule<uint>>(ref removed));
        _records[id].Live = false;
        return true;
    }

    /// <summary>
    /// The trie a change must be applied to: none for IPv4 with the compiled stage (the index
    /// answers every IPv4 lookup, so the writer only patches the index: no trie path copy per
    /// single update; a snapshot compiles its trie from its index if a test or benchmark asks),
    /// the current one otherwise (IPv6; IPv4 with the stage switched off — compiled from the index
    /// once if the current snapshot has none).
    /// </summary>
    private TrieNode<TKey>? TrieToUpdate(DestIndex? index) =>
        typeof(TKey) == typeof(uint) && index is not null ? null : Current.Root;

    private void Publish(TrieNode<TKey>? root, DestIndex? index) =>
        Volatile.Write(ref _current, new ErouteSnapshot<TKey>(root, _idBySelector.Count, _current.Version + 1, index));

    private void Retire(int id) => _retired.Enqueue((id, _quiescent.Advance()));

    private int AllocateId()
    {
        while (_retired.Count > 0 && _quiescent.AllPassed(_retired.Peek().Epoch))
        {
            int old = _retired.Dequeue().Id;
            foreach (IPerErouteState s in _perEroute) s.Reset(old);
            _free.Push(old);
        }
        if (_free.Count > 0) return _free.Pop();
        int id = _nextId++;
        if (id >= _records.Length) Array.Resize(ref _records, Math.Max(IdChunks.Size, _records.Length * 2));
        if (id >= _capacity)
        {
            // Grow every per-eroute state before any snapshot can contain this id.
            int capacity = _capacity + IdChunks.Size;
            foreach (IPerErouteState s in _perEroute) s.EnsureCapacity(capacity);
            Volatile.Write(ref _capacity, capacity);
        }
        return id;
    }

    private int PeerIndex(IPAddress? peer)
    {
        if (peer is null) return -1;
        if (!_peerIndex.TryGetValue(peer, out int i))
        {
            i = _peers.Count;
            _peers.Add(peer);
            _peerIndex.Add(peer, i);
        }
        return i;
    }
}
