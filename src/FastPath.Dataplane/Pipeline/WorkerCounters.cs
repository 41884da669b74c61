using System.Runtime.CompilerServices;
using System.Threading;

namespace FastPath.Dataplane.Pipeline;

// Typed per-worker counters of the pipeline (VPP's per-node error counters): one slot per
// DropReason for the drops the pipeline itself decides (classification, policy, TTL, next hop,
// TX), plus what went where. The ESP engine keeps its own EspWorkerCounters (decapsulation drops:
// Replay, IntegrityFailed, ...); Worker.Drops(reason) adds both. Written only by the owning worker
// with plain increments (no atomics per packet); read by anyone with Volatile.Read (64-bit reads
// are atomic on a 64-bit runtime; a reader may be a batch behind).

/// <summary>Counters of one worker's pipeline (drops by reason and where packets went).</summary>
public sealed class WorkerCounters
{
    private readonly long[] _drops = new long[(int)DropReason.Count];

    internal long _rxInside, _rxOutside, _txInside, _txOutside;
    internal long _clearOutbound, _clearInbound, _ikeSeen, _checksumNotReady;
    internal long _held, _released, _resolveRequests, _resolveSuppressed, _eventOverflows;
    internal long _commands, _batches, _icmpSent, _outerFragments, _reassembled, _handedOff, _handoffReceived;

    /// <summary>Pipeline drops for <paramref name="reason"/> (ESP engine drops not included).</summary>
    public long this[DropReason reason] => Volatile.Read(ref _drops[(int)reason]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void AddDrop(DropReason reason) => _drops[(int)reason]++;

    /// <summary>Frames received on the inside port.</summary>
    public long RxInside => Volatile.Read(ref _rxInside);
    /// <summary>Frames received on the outside port.</summary>
    public long RxOutside => Volatile.Read(ref _rxOutside);
    /// <summary>Frames handed to the inside port's Transmit and accepted.</summary>
    public long TxInside => Volatile.Read(ref _txInside);
    /// <summary>Frames handed to the outside port's Transmit and accepted.</summary>
    public long TxOutside => Volatile.Read(ref _txOutside);
    /// <summary>Inside → outside in clear (%pass / %passthrough).</summary>
    public long ClearOutbound => Volatile.Read(ref _clearOutbound);
    /// <summary>Outside → inside in clear (transit cleartext allowed by a %pass eroute).</summary>
    public long ClearInbound => Volatile.Read(ref _clearInbound);
    /// <summary>IKE (UDP 500, or 4500 with the zero non-ESP marker) seen on the outside and left to
    /// the kernel's socket: counted, not forwarded, not a drop.</summary>
    public long IkeSeen => Volatile.Read(ref _ikeSeen);
    /// <summary>Frames flagged ChecksumNotReady passed on unchanged (completion not implemented yet).</summary>
    public long ChecksumNotReady => Volatile.Read(ref _checksumNotReady);
    /// <summary>Packets put in a %trap hold queue.</summary>
    public long Held => Volatile.Read(ref _held);
    /// <summary>Held packets released into the outbound path after their SA arrived.</summary>
    public long Released => Volatile.Read(ref _released);
    /// <summary>Next-hop resolve requests posted to the control plane.</summary>
    public long ResolveRequests => Volatile.Read(ref _resolveRequests);
    /// <summary>Resolve requests not posted because one for the same address was posted recently.</summary>
    public long ResolveSuppressed => Volatile.Read(ref _resolveSuppressed);
    /// <summary>Events lost because the event ring was full.</summary>
    public long EventOverflows => Volatile.Read(ref _eventOverflows);
    /// <summary>Commands applied.</summary>
    public long Commands => Volatile.Read(ref _commands);
    /// <summary>Loop iterations that moved at least one frame.</summary>
    public long Batches => Volatile.Read(ref _batches);
    /// <summary>ICMP errors sent back to the inside (%reject unreachable, TTL exceeded; rate-limited).</summary>
    public long IcmpSent => Volatile.Read(ref _icmpSent);
    /// <summary>Outer fragments sent for DF-clear packets that did not fit the path MTU after ESP.</summary>
    public long OuterFragments => Volatile.Read(ref _outerFragments);
    /// <summary>Inbound datagrams reassembled from fragments.</summary>
    public long Reassembled => Volatile.Read(ref _reassembled);

    /// <summary>Packets of SAs owned by other workers, copied to the owner's handoff ring.</summary>
    public long HandedOff => Volatile.Read(ref _handedOff);
    /// <summary>Packets of this worker's SAs received from other workers' handoff rings.</summary>
    public long HandoffReceived => Volatile.Read(ref _handoffReceived);

    /// <summary>Sum of the pipeline's drops.</summary>
    public long TotalDrops
    {
        get
        {
            long s = 0;
            for (int i = 0; i < _drops.Length; i++) s += Volatile.Read(ref _drops[i]);
            return s;
        }
    }
}
