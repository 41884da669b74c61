using System;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Pipeline;

// The outbound path: frames from the inside port (cleartext from the protected networks) to the
// outside port (ESP, or %pass cleartext).
//
//   RX inside batch
//     ─► Classifier: Ethernet/802.1Q ─► IPv4/IPv6 header checks; ARP/ND/other ─► NotIp;
//        to the gateway / multicast ─► LocalDelivery (the kernel has its own copy)
//     ─► TTL / hop limit decremented (RFC 791 §3.2, RFC 8200 §3; RFC 1812 §5.3.1): ≤ 1 ─► TtlExpired
//     ─► OutboundL3 (also entered by %trap packets released from a hold queue):
//        keys of the batch per family ─► ErouteSnapshot.Lookup (batched, prefetching, hit counters)
//        SA ─► handle = outbound SPI | %pass/%passthrough ─► Clear | %drop ─► ShuntDrop |
//        %reject ─► ShuntReject (+ rate limiter) | %hold ─► ShuntHold | %trap ─► hold queue
//        (ACQUIRE once per eroute) or HoldQueueFull | none ─► NoPolicy (KLIPS fails closed)
//     ─► ChecksumNotReady frames: Hooks.CompleteChecksum (pass unchanged, counted, for now)
//     ─► ESP for the whole batch, packets of any mix of SAs (EncapsulateStaged): every packet's SA
//        looked up and its object prefetched first, an SA missing from this worker ─► handoff or
//        NoState; next hop per change of SA remote address, PMTU per run of one SA; then one
//        EspProcessor.Encapsulate(batch, SA per packet): hot SA lines prefetched, layout, one
//        SealMixed (grouped by SA: runs keep multi-buffer crypto, keys prefetched a few packets ahead)
//     ─► Clear packets: next hop by their destination
//     ─► Egress: MTU check (Hooks.HandleOversize), Ethernet header, TX outside, frames back to the slab.

public sealed unsafe partial class Worker
{
    private void ProcessInside(PacketBatch batch, long now)
    {
        Span<Packet> pk = batch.Packets;
        Counters._rxInside += pk.Length;
        for (int i = 0; i < pk.Length; i++)
        {
            ref Packet p = ref pk[i];
            p.Verdict = PacketVerdict.Forward;
            ushort etherType = Classifier.StripEthernet(ref p);
            if (etherType == 0)
            {
                Drop(ref p, DropReason.Runt);
                continue;
            }
            ParsedIp ip = Classifier.Parse(ref p, etherType, _local, outside: false);
            if (ip.Class != FrameClass.Transit)
            {
                Drop(ref p, ip.Reason);
                continue;
            }
            if (!DecrementTtl(p.Frame + p.Offset, ip.Version))
            {
                Drop(ref p, DropReason.TtlExpired);
                if (_timeExceeded.ShouldSendUnreachable(now)) SendIcmpError(ref p, IcmpError.TimeExceeded);
                continue;
            }
        }
        OutboundL3(batch, now, allowHandoff: true);
        Transmit(batch.Packets, _outside, ref Counters._txOutside);
        Recycle(batch, keepHeld: true);
    }

    /// <summary>Eroute decision, ESP and egress for a batch of IP packets (data window at L3, TTL
    /// already decremented). Verdict Forward marks the packets still to decide.</summary>
    private void OutboundL3(PacketBatch batch, long now, bool allowHandoff)
    {
        Span<Packet> pk = batch.Packets;
        int n4 = 0, n6 = 0;
        for (int i = 0; i < pk.Length; i++)
        {
            ref Packet p = ref pk[i];
            if (p.Verdict != PacketVerdict.Forward) continue;
            byte* ip = p.Frame + p.Offset;
            if ((ip[0] >> 4) == 4)
            {
                _keys4[n4] = Classifier.KeyV4(ip, p.Length);
                _index4[n4++] = i;
            }
            else
            {
                _keys6[n6] = Classifier.KeyV6(ip, p.Length);
                _index6[n6++] = i;
            }
        }
        if (n4 != 0)
        {
            ErouteSnapshot<uint> s = _eroutes4.Current;
            s.Lookup(_keys4.AsSpan(0, n4), _results4.AsSpan(0, n4), _hits4);
            for (int k = 0; k < n4; k++)
            {
                int i = _index4[k];
                ErouteMatch m = _results4[k];
                if (m.Action.Kind == ErouteActionKind.Trap)
                {
                    ref Packet p = ref pk[i];
                    if (_hold4.Hold(m.Id, p, _keys4[k], now)) Hold(ref p);
                    else Drop(ref p, DropReason.HoldQueueFull);
                }
                else
                {
                    Act(ref pk[i], i, m, now);
                }
            }
        }
        if (n6 != 0)
        {
            ErouteSnapshot<UInt128> s = _eroutes6.Current;
            s.Lookup(_keys6.AsSpan(0, n6), _results6.AsSpan(0, n6), _hits6);
            for (int k = 0; k < n6; k++)
            {
                int i = _index6[k];
                ErouteMatch m = _results6[k];
                if (m.Action.Kind == ErouteActionKind.Trap)
                {
                    ref Packet p = ref pk[i];
                    if (_hold6.Hold(m.Id, p, _keys6[k], now)) Hold(ref p);
                    else Drop(ref p, DropReason.HoldQueueFull);
                }
                else
                {
                    Act(ref pk[i], i, m, now);
                }
            }
        }

        EncapsulateStaged(pk, now, allowHandoff);

        for (int i = 0; i < pk.Length; i++)
        {
            ref Packet p = ref pk[i];
            if (p.Verdict != Clear) continue;
            byte* ip = p.Frame + p.Offset;
            IpAddress16 dst = (ip[0] >> 4) == 4 ? IpAddress16.FromIpv4Raw(Ipv4Header.At(ip).DestinationRaw) : Ipv6Header.At(ip).Destination;
            if (TryNextHop(dst, now, out NextHop hop, out DropReason miss))
            {
                if (Egress(ref p, hop)) Counters._clearOutbound++;
            }
            else
            {
                Drop(ref p, miss);
            }
        }
    }

    /// <summary>Applies a non-%trap eroute decision to packet <paramref name="i"/>.</summary>
    private void Act(ref Packet p, int i, ErouteMatch m, long now)
    {
        switch (m.Action.Kind)
        {
            case ErouteActionKind.Sa:
                _handle[i] = m.Action.SaHandle;
                if ((p.Flags & PacketFlags.ChecksumNotReady) != 0) CompleteChecksum(ref p);
                break;
            case ErouteActionKind.Pass:
            case ErouteActionKind.Passthrough:
                p.Verdict = Clear;
                if ((p.Flags & PacketFlags.ChecksumNotReady) != 0) CompleteChecksum(ref p);
                break;
            case ErouteActionKind.Drop:
                Drop(ref p, DropReason.ShuntDrop);
                break;
            case ErouteActionKind.Reject:
                Drop(ref p, DropReason.ShuntReject);
                if (_reject.ShouldSendUnreachable(now)) SendIcmpError(ref p, IcmpError.AdministrativelyProhibited);
                break;
            case ErouteActionKind.Hold:
                Drop(ref p, DropReason.ShuntHold);
                break;
            default:
                Drop(ref p, DropReason.NoPolicy);
                break;
        }
    }

    private void Hold(ref Packet p)
    {
        p.Verdict = Held;
        Counters._held++;
    }

    /// <summary>
    /// ESP for every Forward packet of the batch, whatever SA each one selected (traffic spread over
    /// thousands of tunnels makes every packet its own run, so nothing here is per run of one SA):
    ///   1. each packet's SA (one dictionary lookup per change of handle), its object prefetched;
    ///      an SA this worker does not own ─► handed to its owner (Handoff.cs) or NoState;
    ///   2. per change of SA: next hop of its remote address (cached while it stays the same) and
    ///      PMTU (Hooks.cs) before ESP;
    ///   3. EspProcessor.Encapsulate(batch, SA per packet): prefetch of every SA's transform, keys and
    ///      counters, layout, one SealMixed for the batch;
    ///   4. Egress with the packet's next hop.
    /// </summary>
    private void EncapsulateStaged(Span<Packet> pk, long now, bool allowHandoff)
    {
        OutboundSa?[] sas = _outSa;
        uint lastHandle = 0;
        OutboundSa? last = null;
        bool any = false;
        for (int i = 0; i < pk.Length; i++)
        {
            sas[i] = null;
            if (pk[i].Verdict != PacketVerdict.Forward) continue;
            uint handle = _handle[i];
            if (last is null || handle != lastHandle)
            {
                if (!_outboundSas.TryGetValue(handle, out last))
                {
                    // Owned by another worker: hand the packet over. Else the eroute names an SA that
                    // is not installed (yet, or any more).
                    if (!(allowHandoff && TryHandOffOutbound(pk.Slice(i, 1), handle))) Drop(ref pk[i], DropReason.NoState);
                    continue;
                }
                lastHandle = handle;
                KeyPrefetch.PrefetchObject3(last);
            }
            sas[i] = last;
            any = true;
        }
        if (!any) return;

        // Next hop and PMTU per run of one SA; the hop (or the miss) is kept per packet for Egress.
        OutboundSa? runSa = null;
        IpAddress16 remote = default;
        bool haveRemote = false, haveHop = false;
        NextHop hop = default;
        DropReason miss = default;
        for (int i = 0; i < pk.Length; )
        {
            OutboundSa? sa = sas[i];
            if (sa is null)
            {
                i++;
                continue;
            }
            int end = i + 1;
            while (end < pk.Length && ReferenceEquals(sas[end], sa)) end++;
            if (!ReferenceEquals(sa, runSa))
            {
                runSa = sa;
                if (!haveRemote || sa.RemoteAddress != remote)
                {
                    remote = sa.RemoteAddress;
                    haveRemote = true;
                    haveHop = TryNextHop(remote, now, out hop, out miss);
                }
            }
            if (haveHop && hop.Mtu != 0) CheckPathMtu(pk[i..end], sa, hop.Mtu, now); // Hooks.cs: PMTU before ESP
            for (int j = i; j < end; j++)
            {
                _hopOf[j] = hop;
                _hopOk[j] = haveHop;
                _missOf[j] = miss;
            }
            i = end;
        }

        _esp.Encapsulate(pk, sas);

        for (int i = 0; i < pk.Length; i++)
        {
            if (sas[i] is null) continue;
            sas[i] = null; // no reference kept to an SA deleted before the next batch
            ref Packet p = ref pk[i];
            if (p.Verdict != PacketVerdict.Forward) continue;
            if (!_hopOk[i]) Drop(ref p, _missOf[i]);
            else Egress(ref p, _hopOf[i]);
        }
    }

    /// <summary>%trap: the held packets whose eroute was resolved go back through OutboundL3 (a fresh
    /// lookup, which now finds the SA); failures and timeouts are dropped (ShuntHold).</summary>
    private void PollHolds(long now)
    {
        if (_hold4.Count == 0 && _hold6.Count == 0) return;
        var sink = new HoldSink(this);
        _hold4.Poll(ref sink, now, _holdTicks);
        _hold6.Poll(ref sink, now, _holdTicks);
        if (_released.Count == 0) return;
        Counters._released += _released.Count;
        OutboundL3(_released, now, allowHandoff: true);
        Transmit(_released.Packets, _outside, ref Counters._txOutside);
        Recycle(_released, keepHeld: true);
    }

    private readonly struct HoldSink(Worker worker) : IHeldPacketSink<Packet>
    {
        public void Release(Packet packet, int erouteId)
        {
            packet.Verdict = PacketVerdict.Forward;
            if (!worker._released.TryAdd(packet)) worker.DropAndFree(ref packet, DropReason.HoldQueueFull);
        }

        public void Drop(Packet packet, int erouteId, DropReason reason) => worker.DropAndFree(ref packet, reason);
    }

    private void DropAndFree(ref Packet p, DropReason reason)
    {
        Drop(ref p, reason);
        _slab.Return(p);
    }
}
