using System;
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
//     ─► runs of consecutive packets of one SA (packets of other verdicts may sit between them):
//        one EspProcessor.Encapsulate per run (one SealBatch: multi-buffer crypto across the run),
//        an SA missing from this worker ─► NoState; one next-hop lookup per run (SA remote address)
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

        // Runs of one SA: [start, end) holds every Forward packet with this handle up to the first
        // Forward packet of another handle; non-Forward packets inside are skipped by the engine.
        int at = 0;
        while (at < pk.Length)
        {
            if (pk[at].Verdict != PacketVerdict.Forward)
            {
                at++;
                continue;
            }
            uint handle = _handle[at];
            int end = at + 1;
            for (int j = at + 1; j < pk.Length; j++)
            {
                if (pk[j].Verdict != PacketVerdict.Forward) continue;
                if (_handle[j] != handle) break;
                end = j + 1;
            }
            EncapsulateRun(pk.Slice(at, end - at), handle, now, allowHandoff);
            at = end;
        }

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

    private void EncapsulateRun(Span<Packet> run, uint handle, long now, bool allowHandoff)
    {
        if (!_outboundSas.TryGetValue(handle, out OutboundSa? sa))
        {
            // Owned by another worker: hand the run over (Handoff.cs). Else the eroute names an SA
            // that is not installed (yet, or any more).
            if (allowHandoff && TryHandOffOutbound(run, handle)) return;
            for (int i = 0; i < run.Length; i++)
                if (run[i].Verdict == PacketVerdict.Forward) Drop(ref run[i], DropReason.NoState);
            return;
        }
        bool haveHop = TryNextHop(sa.RemoteAddress, now, out NextHop hop, out DropReason miss);
        if (haveHop && hop.Mtu != 0) CheckPathMtu(run, sa, hop.Mtu, now); // Hooks.cs: PMTU before ESP
        _esp.Encapsulate(run, sa);
        for (int i = 0; i < run.Length; i++)
        {
            ref Packet p = ref run[i];
            if (p.Verdict != PacketVerdict.Forward) continue;
            if (!haveHop) Drop(ref p, miss);
            else Egress(ref p, hop);
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
