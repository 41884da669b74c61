using System;
using System.Buffers.Binary;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Pipeline;

// The inbound path: frames from the outside port to the inside port.
//
//   RX outside batch
//     ─► Classifier (outside rules, see Classifier.cs):
//        ESP / ESP-in-UDP to us ─► verdict Forward (the SPI is noted for the policy check)
//        IKE (500, 4500 + zero marker) ─► counted IkeSeen, not forwarded (the kernel's socket has it)
//        NAT keepalive ─► NatKeepalive | other traffic to us ─► LocalDelivery | ARP/ND ─► NotIp
//        a fragment to us ─► Hooks.HandleInboundFragment: reassembled (L3/Reassembler), then classified again
//        transit cleartext ─► CheckCleartextFromOutside: protected flow ─► CleartextOnProtected,
//        %drop/%reject ─► ShuntDrop/ShuntReject, none ─► NoPolicy, %pass ─► Clear (TTL decremented)
//     ─► EspProcessor.Decapsulate (this worker's SadTable: SPI, replay check before crypto, one
//        OpenBatch per SA run, replay update after the ICV, padding, inner header, SA selectors,
//        ECN per RFC 6040; staged for batches spread over many SAs: SAD slots, SAs, replay windows
//        and keys prefetched before any is read, one OpenMixed for the batch)
//     ─► inbound policy (fixes seed 000 bug #7): when the SA was installed with a policy group (the
//        outbound SPI of its tunnel, or — IKE — a stable group that survives rekeys; kept on the SA,
//        so no lookup by SPI), the inner packet, reversed, must select an eroute with that group (the
//        rule of ErouteSnapshot.CheckDecrypted / CheckDecryptedInGroup, here with one batched,
//        prefetching lookup for the whole batch: CheckInboundPolicy) ─► PolicyMismatch otherwise; the SA's own selectors
//        (InnerSource/InnerDestination) were already enforced by the ESP engine
//     ─► TTL of the inner packet decremented (the gateway forwards it: RFC 1812 §5.3.1) ─► TtlExpired
//     ─► next hop by the inner destination ─► Ethernet ─► TX inside; frames back to the slab.

public sealed unsafe partial class Worker
{
    private void ProcessOutside(PacketBatch batch, long now)
    {
        Span<Packet> pk = batch.Packets;
        Counters._rxOutside += pk.Length;
        ErouteSnapshot<uint>? s4 = null;
        ErouteSnapshot<UInt128>? s6 = null;
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
            ParsedIp ip = Classifier.Parse(ref p, etherType, _local, outside: true);
            byte* l3 = p.Frame + p.Offset;
            switch (ip.Class)
            {
                case FrameClass.Esp:
                    int at = ip.L4Offset + (ip.Protocol == IpProtocol.Udp ? UdpHeader.Length : 0);
                    _spi[i] = p.Length >= at + 4 ? BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(l3 + at, 4)) : 0;
                    if (_owners is not null && TryHandOffInbound(ref p, _spi[i])) break; // another worker owns the SA
                    break;
                case FrameClass.Ike:
                    p.Verdict = Held; // consumed: the kernel's IKE socket has its own copy
                    Counters._ikeSeen++;
                    break;
                case FrameClass.LocalFragment:
                    if (!HandleInboundFragment(ref p, now)) break;
                    // p is now the whole datagram (a new frame): classify it again. Only ESP is the
                    // dataplane's; a reassembled IKE message is the kernel's (it reassembles its own copy).
                    ip = Classifier.Parse(ref p, (p.Data[0] >> 4) == 4 ? Classifier.EtherTypeIpv4 : Classifier.EtherTypeIpv6, _local, outside: true);
                    l3 = p.Frame + p.Offset;
                    if (ip.Class != FrameClass.Esp)
                    {
                        Drop(ref p, ip.Class == FrameClass.Invalid ? ip.Reason : DropReason.LocalDelivery);
                        break;
                    }
                    int at2 = ip.L4Offset + (ip.Protocol == IpProtocol.Udp ? UdpHeader.Length : 0);
                    _spi[i] = p.Length >= at2 + 4 ? BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(l3 + at2, 4)) : 0;
                    if (_owners is not null && TryHandOffInbound(ref p, _spi[i])) break;
                    break;
                case FrameClass.Transit:
                    PolicyVerdict v;
                    if (ip.Version == 4)
                    {
                        s4 ??= _eroutes4.Current;
                        v = s4.CheckCleartextFromOutside(Classifier.KeyV4(l3, p.Length));
                    }
                    else
                    {
                        s6 ??= _eroutes6.Current;
                        v = s6.CheckCleartextFromOutside(Classifier.KeyV6(l3, p.Length));
                    }
                    if (!v.Accept) Drop(ref p, v.Reason);
                    else if (!DecrementTtl(l3, ip.Version)) Drop(ref p, DropReason.TtlExpired);
                    else p.Verdict = Clear;
                    break;
                default: // Invalid, NotIp, LocalDelivery, NatKeepalive
                    Drop(ref p, ip.Reason);
                    break;
            }
        }

        FinishInbound(batch, now, s4, s6);
    }

    /// <summary>The second half of the inbound path: decapsulation of the Forward packets (ESP,
    /// SPIs in _spi), inbound policy, TTL, next hop and TX inside for them and the Clear ones; then
    /// every frame goes back to the slab. Also entered with packets handed over by other workers.</summary>
    private void FinishInbound(PacketBatch batch, long now, ErouteSnapshot<uint>? s4, ErouteSnapshot<UInt128>? s6)
    {
        Span<Packet> pk = batch.Packets;
        _esp.Decapsulate(pk, _sad, _inSa);
        CheckInboundPolicy(pk, ref s4, ref s6);

        for (int i = 0; i < pk.Length; i++)
        {
            ref Packet p = ref pk[i];
            if (p.Verdict == PacketVerdict.Forward)
            {
                byte* inner = p.Frame + p.Offset;
                int version = inner[0] >> 4;
                if (!DecrementTtl(inner, version))
                {
                    Drop(ref p, DropReason.TtlExpired);
                    continue;
                }
            }
            else if (p.Verdict != Clear)
            {
                continue;
            }
            byte* l3 = p.Frame + p.Offset;
            IpAddress16 dst = (l3[0] >> 4) == 4 ? IpAddress16.FromIpv4Raw(Ipv4Header.At(l3).DestinationRaw) : Ipv6Header.At(l3).Destination;
            if (!TryNextHop(dst, now, out NextHop hop, out DropReason miss))
            {
                Drop(ref p, miss);
                continue;
            }
            if (Egress(ref p, hop) && p.Verdict == Clear) Counters._clearInbound++;
        }
        Transmit(pk, _inside, ref Counters._txInside);
        Recycle(batch, keepHeld: false);
    }

    /// <summary>
    /// Inbound policy for the decrypted packets of a batch (_inSa: the SA of each), batched: the
    /// reversed inner keys of every packet whose SA has a policy group go through one prefetching
    /// ErouteSnapshot.Lookup per family, then each match is compared with its SA's group — the same
    /// rule as ErouteSnapshot.CheckDecrypted (the eroute names the group's outbound SPI) and
    /// CheckDecryptedInGroup (stable group): anything else ─► PolicyMismatch.
    /// </summary>
    private void CheckInboundPolicy(Span<Packet> pk, ref ErouteSnapshot<uint>? s4, ref ErouteSnapshot<UInt128>? s6)
    {
        int n4 = 0, n6 = 0;
        for (int i = 0; i < pk.Length; i++)
        {
            InboundSa? sa = _inSa[i];
            if (sa is null) continue;
            ref Packet p = ref pk[i];
            if (p.Verdict != PacketVerdict.Forward || sa.PolicyGroupWord == 0)
            {
                _inSa[i] = null;
                continue;
            }
            byte* inner = p.Frame + p.Offset;
            if ((inner[0] >> 4) == 4)
            {
                _policyKeys4[n4] = Classifier.KeyV4(inner, p.Length).Reversed();
                _policyIndex4[n4++] = i;
            }
            else
            {
                _policyKeys6[n6] = Classifier.KeyV6(inner, p.Length).Reversed();
                _policyIndex6[n6++] = i;
            }
        }
        if (n4 != 0)
        {
            s4 ??= _eroutes4.Current;
            s4.Lookup(_policyKeys4.AsSpan(0, n4), _policyResults4.AsSpan(0, n4));
            for (int k = 0; k < n4; k++) CheckGroup(ref pk[_policyIndex4[k]], _policyIndex4[k], _policyResults4[k]);
        }
        if (n6 != 0)
        {
            s6 ??= _eroutes6.Current;
            s6.Lookup(_policyKeys6.AsSpan(0, n6), _policyResults6.AsSpan(0, n6));
            for (int k = 0; k < n6; k++) CheckGroup(ref pk[_policyIndex6[k]], _policyIndex6[k], _policyResults6[k]);
        }
        for (int i = 0; i < pk.Length; i++) _inSa[i] = null;
    }

    private void CheckGroup(ref Packet p, int i, ErouteMatch m)
    {
        ulong word = _inSa[i]!.PolicyGroupWord;
        uint group = (uint)word;
        bool stable = (word >> 32) != 0;
        bool ok = m.Action.Kind == ErouteActionKind.Sa && (stable ? m.Action.Group == group : m.Action.SaHandle == group);
        if (!ok) Drop(ref p, DropReason.PolicyMismatch);
    }
}
