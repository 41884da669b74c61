using System;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Pipeline;

// The points of the pipeline left for later, one method each, so the engineer who fills one in
// (L3/: PMTU and fragmentation, reassembly, checksum completion) changes only that method and the
// code it calls. Each counts its drop (or its pass) today, so the behaviour is visible in counters
// and asserted by tests until then.
//
//   1. HandleOversize        after ESP (or for %pass/decrypted packets): L3 length > NextHop.Mtu
//                            done: inner DF / IPv6 ─► ICMP "fragmentation needed" (RFC 1191, with
//                            the MTU minus ESP overhead) / "packet too big" (RFC 8201) back to the
//                            sender, before ESP (CheckPathMtu); DF clear ─► the outer packet is
//                            fragmented after ESP (RFC 4459 §3), the peer reassembles
//   2. HandleInboundFragment an IP fragment addressed to us (in practice ESP or ESP-in-UDP that a
//                            path fragmented)
//                            done: reassembly (L3/Reassembler: bounded memory and timeouts;
//                            ReassemblyFailed / Timeout / NoMemory), then the whole datagram is classified
//   3. CompleteChecksum      a frame flagged ChecksumNotReady (CHECKSUM_PARTIAL from a veth:
//                            the L4 checksum field holds only the pseudo-header sum) about to be
//                            encrypted or forwarded in clear
//                            done: the TCP/UDP checksum is finished in place (L3/ChecksumCompletion),
//                            counted (WorkerCounters.ChecksumNotReady); inconsistent lengths ─► BadHeader

public sealed unsafe partial class Worker
{
    // Point 1 lives in two places. Before ESP (CheckPathMtu, called per run of one SA once its next
    // hop is known) the inner packet is still readable: what cannot fit after ESP and may not be
    // fragmented (IPv4 DF, or IPv6, which routers never fragment) gets ICMP "fragmentation needed"
    // (RFC 1191 §4: the MTU the sender must use is the largest inner length that still fits:
    // EspOverhead.MaxInnerLength) or "packet too big" (RFC 8201; at least 1280, RFC 8200 §5) and is
    // dropped FragmentationNeeded — the classic PMTU discovery through a tunnel (RFC 4459 §3.2).
    // After ESP (HandleOversize) only IPv4 DF-clear packets are left oversize: the outer ESP packet is
    // fragmented (RFC 4459 §3, post-fragmentation; RFC 4303 §3.3.4 puts it after ESP) and the peer
    // reassembles. Anything else oversize (a decrypted packet bigger than the inside MTU, IPv6 outer)
    // is dropped FragmentationNeeded.
    private const int MaxOuterFragments = 8;
    private RejectRateLimiter? _pmtuLimiter;

    /// <summary>Before ESP: PMTU for the packets of one SA run whose next hop has MTU <paramref name="mtu"/>.</summary>
    private void CheckPathMtu(Span<Packet> run, OutboundSa sa, int mtu, long now)
    {
        int maxInner = EspOverhead.For(sa).MaxInnerLength(mtu);
        for (int i = 0; i < run.Length; i++)
        {
            ref Packet p = ref run[i];
            if (p.Verdict != PacketVerdict.Forward || p.Length <= maxInner) continue;
            byte* ip = p.Frame + p.Offset;
            bool v4 = (ip[0] >> 4) == 4;
            if (v4 && (Ipv4Header.At(ip).FlagsFragment & Ipv4Header.DontFragment) == 0) continue; // fragmented after ESP
            _pmtuLimiter ??= new RejectRateLimiter(1000, 100, now);
            if (_pmtuLimiter.ShouldSendUnreachable(now)) SendIcmpError(ref p, IcmpError.PathMtu, v4 ? maxInner : Math.Max(1280, maxInner));
            Drop(ref p, DropReason.FragmentationNeeded);
        }
    }

    /// <summary>After ESP: the packet exceeds the path MTU of <paramref name="hop"/>.</summary>
    private void HandleOversize(ref Packet p, in NextHop hop)
    {
        byte* ip = p.Frame + p.Offset;
        if ((ip[0] >> 4) != 4 || !IsLocalSource(ip))
        {
            Drop(ref p, DropReason.FragmentationNeeded);
            return;
        }
        // Our own outer IPv4 ESP packet with DF clear (the SA's DfBit policy copies the inner DF,
        // which CheckPathMtu already answered): fragment it and send the pieces out of the outside port.
        Span<Packet> fragments = stackalloc Packet[MaxOuterFragments];
        FragmentResult r = Ipv4Fragmenter.Fragment(p, 0, hop.Mtu, _slab, fragments, out int n);
        if (r != FragmentResult.Fragmented)
        {
            Drop(ref p, r == FragmentResult.NoFrames ? DropReason.TxFull : DropReason.FragmentationNeeded);
            return;
        }
        int ready = 0;
        for (int i = 0; i < n; i++)
            if (Egress(ref fragments[i], hop)) fragments[ready++] = fragments[i];
        int sent = _outside.Transmit(fragments[..ready]);
        Counters._txOutside += sent;
        Counters._outerFragments += n;
        for (int i = 0; i < n; i++) _slab.Return(fragments[i]);
        // The original's bytes left as fragments: not transmitted itself, its frame goes back to the
        // slab with the batch, and it is not counted as a drop (the fragments are the forwarding).
        p.Verdict = PacketVerdict.Drop;
    }

    private bool IsLocalSource(byte* ip) => _local.ContainsV4(Ipv4Header.At(ip).SourceRaw);

    // Point 2: fragments addressed to us (ESP or ESP-in-UDP that a path, or a peer doing RFC 4459
    // post-fragmentation like HandleOversize above, fragmented). One Reassembler per worker, made
    // on the first fragment (bounded: 64 slots; ~4 MiB, allocated once), expired on each fragment.
    private Reassembler? _reassembler;

    /// <summary>True when <paramref name="p"/> completed a datagram and now is that datagram (the
    /// fragment's frame went back to the slab); false when it was held or dropped (counted).</summary>
    private bool HandleInboundFragment(ref Packet p, long now)
    {
        _reassembler ??= new Reassembler();
        _reassembler.Expire(now);
        switch (_reassembler.Add(ref p, _slab, now, out Packet datagram))
        {
            case ReassemblyResult.Complete:
                _slab.Return(p);
                p = datagram;
                p.Verdict = PacketVerdict.Forward;
                Counters._reassembled++;
                return true;
            case ReassemblyResult.Held:
                // The bytes are in a reassembly slot; the frame goes back with the batch (not a drop).
                p.Verdict = PacketVerdict.Drop;
                return false;
            case ReassemblyResult.Dropped:
                Drop(ref p, p.Drop);
                return false;
            default: // NotFragment: cannot happen for a LocalFragment; treat as malformed
                Drop(ref p, DropReason.ReassemblyFailed);
                return false;
        }
    }

    internal void DisposeHooks() => _reassembler?.Dispose();

    /// <summary>Point 3 (CHECKSUM_PARTIAL): the L4 checksum of the packet is incomplete. Finished in
    /// place over the pseudo-header and the segment (L3/ChecksumCompletion.cs); a frame whose lengths
    /// do not add up is dropped (BadHeader) rather than sent with a checksum that can never verify.</summary>
    private void CompleteChecksum(ref Packet p)
    {
        Counters._checksumNotReady++;
        if (ChecksumCompletion.CompleteIpPacket(ref p) == ChecksumCompletionResult.Malformed) Drop(ref p, DropReason.BadHeader);
    }
}
