using System;
using System.Collections.Generic;

namespace FastPath.Ike.Messages;

// RFC 7383 §2.6 receive side, one instance per IKE SA (fragments are only used once the SA has keys).
// Flow for each parsed message whose last payload is SKF:
//   Add(msg, bytes, cipher, now)
//     expire entries older than Timeout (since their first fragment)
//     key = (Message ID, R flag): requests and responses number independently (§2.2 of RFC 7296)
//     completed recently -> AlreadyComplete (the exchange layer resends its response on a
//                           retransmitted fragment 1, RFC 7383 §2.6.1), nothing stored
//     Total > MaxFragments -> Discarded
//     entry exists: Total greater than stored -> drop stored, start anew (sender re-fragmented
//                   smaller, §2.6); Total smaller -> discard this fragment; exchange type differs
//                   -> discard this fragment; number already held -> Duplicate
//     decrypt + verify the fragment (§2.6: authenticity of every fragment checked before it is
//     stored; a forged fragment cannot evict real ones) -> failure: Discarded
//     store; bytes above MaxBytes -> the whole message discarded
//     all Total present -> concatenate in order, parse the inner chain with fragment 1's Next
//     Payload; all-or-nothing: a parse failure discards the whole message -> Complete / Discarded
// New message IDs beyond MaxMessages in flight are refused (Discarded) rather than evicting.

/// <summary>Outcome of <see cref="FragmentReassembler.Add"/>.</summary>
public enum ReassemblyStatus
{
    /// <summary>Stored; more fragments needed.</summary>
    Incomplete,
    /// <summary>All fragments present and the inner payloads parsed.</summary>
    Complete,
    /// <summary>This fragment number was already stored; ignored.</summary>
    Duplicate,
    /// <summary>A fragment of a message already reassembled (a retransmission).</summary>
    AlreadyComplete,
    /// <summary>Rejected (see the error); for a parse failure of the whole message, everything stored was dropped.</summary>
    Discarded,
}

/// <summary>Result of adding one fragment.</summary>
public sealed record ReassemblyResult(ReassemblyStatus Status, IReadOnlyList<IkePayload>? Payloads, ParseError Error, ushort FragmentNumber = 0);

/// <summary>Reassembles RFC 7383 Encrypted Fragment messages of one IKE SA (bounded in count, size and time).</summary>
public sealed class FragmentReassembler
{
    private sealed class Entry
    {
        public required ushort Total;
        public required ExchangeType Exchange;
        public required long StartedMs;
        public required byte[]?[] Parts;
        public PayloadType FirstInner;
        public int Received;
        public int Bytes;
    }

    private readonly Dictionary<(uint, bool), Entry> _entries = [];
    private readonly Queue<(uint, bool)> _completedOrder = new();
    private readonly HashSet<(uint, bool)> _completed = [];

    public FragmentReassembler(int maxFragments = 64, int maxBytes = 64 * 1024, int maxMessages = 4, long timeoutMs = 30_000, int rememberCompleted = 8)
    {
        MaxFragments = maxFragments;
        MaxBytes = maxBytes;
        MaxMessages = maxMessages;
        TimeoutMs = timeoutMs;
        RememberCompleted = rememberCompleted;
    }

    public int MaxFragments { get; }
    public int MaxBytes { get; }
    public int MaxMessages { get; }
    public long TimeoutMs { get; }
    public int RememberCompleted { get; }
    /// <summary>Messages currently being reassembled.</summary>
    public int Pending => _entries.Count;

    private static ReassemblyResult Discard(string why, int off = 0) =>
        new(ReassemblyStatus.Discarded, null, new ParseError(ParseErrorCode.InvalidValue, off, why));

    /// <summary>Adds one received fragment message (<paramref name="message"/> parsed from <paramref name="received"/>).</summary>
    public ReassemblyResult Add(IkeMessage message, ReadOnlySpan<byte> received, ISkCipher cipher, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(cipher);
        Expire(nowMs);
        var f = message.Fragment;
        if (f is null) return Discard("not an Encrypted Fragment message");
        var key = (message.Header.MessageId, message.Header.IsResponse);
        if (_completed.Contains(key)) return new(ReassemblyStatus.AlreadyComplete, null, default, f.FragmentNumber);
        if (f.TotalFragments > MaxFragments) return Discard($"{f.TotalFragments} fragments, at most {MaxFragments}");
        if (_entries.TryGetValue(key, out var en))
        {
            if (f.TotalFragments > en.Total) { _entries.Remove(key); en = null; }
            else if (f.TotalFragments < en.Total) return Discard($"Total Fragments {f.TotalFragments} below the {en.Total} already seen");
            else if (message.Header.Exchange != en.Exchange) return Discard($"exchange {message.Header.Exchange} differs from {en.Exchange}");
            else if (en.Parts[f.FragmentNumber - 1] is not null) return new(ReassemblyStatus.Duplicate, null, default, f.FragmentNumber);
        }
        if (en is null && _entries.Count >= MaxMessages) return Discard($"{MaxMessages} messages already in reassembly");

        var plain = message.OpenBody(received, f.BodyOffset, f.Body.Length, cipher, out var err);
        if (plain is null) return new(ReassemblyStatus.Discarded, null, err, f.FragmentNumber);

        if (en is null)
        {
            en = new Entry { Total = f.TotalFragments, Exchange = message.Header.Exchange, StartedMs = nowMs, Parts = new byte[]?[f.TotalFragments] };
            _entries[key] = en;
        }
        if (en.Bytes + plain.Length > MaxBytes)
        {
            _entries.Remove(key);
            return Discard($"reassembled message above {MaxBytes} bytes");
        }
        en.Parts[f.FragmentNumber - 1] = plain;
        en.Bytes += plain.Length;
        en.Received++;
        if (f.FragmentNumber == 1) en.FirstInner = f.FirstInnerPayload;
        if (en.Received < en.Total) return new(ReassemblyStatus.Incomplete, null, default, f.FragmentNumber);

        _entries.Remove(key);
        var all = new byte[en.Bytes];
        int o = 0;
        foreach (var part in en.Parts)
        {
            part!.CopyTo(all, o);
            o += part.Length;
        }
        var inner = IkeMessage.ParseInner(all, en.FirstInner);
        if (!inner.Ok) return new(ReassemblyStatus.Discarded, null, inner.Error, f.FragmentNumber);
        _completed.Add(key);
        _completedOrder.Enqueue(key);
        while (_completedOrder.Count > RememberCompleted) _completed.Remove(_completedOrder.Dequeue());
        return new(ReassemblyStatus.Complete, inner.Value, default, f.FragmentNumber);
    }

    /// <summary>Drops messages whose first fragment is older than <see cref="TimeoutMs"/>; returns how many.</summary>
    public int Expire(long nowMs)
    {
        List<(uint, bool)>? old = null;
        foreach (var kv in _entries)
            if (nowMs - kv.Value.StartedMs > TimeoutMs) (old ??= []).Add(kv.Key);
        if (old is null) return 0;
        foreach (var k in old) _entries.Remove(k);
        return old.Count;
    }
}
