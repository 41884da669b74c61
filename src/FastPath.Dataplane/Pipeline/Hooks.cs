using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Pipeline;

// The points of the pipeline left for later, one method each, so the engineer who fills one in
// (L3/: PMTU and fragmentation, reassembly, checksum completion) changes only that method and the
// code it calls. Each counts its drop (or its pass) today, so the behaviour is visible in counters
// and asserted by tests until then.
//
//   1. HandleOversize        after ESP (or for %pass/decrypted packets): L3 length > NextHop.Mtu
//                            today: drop FragmentationNeeded
//                            later: inner DF / IPv6 ─► ICMP "fragmentation needed" (RFC 1191, with
//                            the MTU minus ESP overhead) / "packet too big" (RFC 8201) back to the
//                            sender; DF clear ─► fragment the outer packet (RFC 4459 §3), or
//                            fragment the inner one before ESP (RFC 4459 pre-fragmentation)
//   2. HandleInboundFragment an IP fragment addressed to us (in practice ESP or ESP-in-UDP that a
//                            path fragmented)
//                            today: drop Fragment
//                            later: reassembly (bounded memory and timeouts; ReassemblyFailed /
//                            ReassemblyTimeout / ReassemblyNoMemory), then classify the whole datagram
//   3. CompleteChecksum      a frame flagged ChecksumNotReady (CHECKSUM_PARTIAL from a veth:
//                            the L4 checksum field holds only the pseudo-header sum) about to be
//                            encrypted or forwarded in clear
//                            done: the TCP/UDP checksum is finished in place (L3/ChecksumCompletion),
//                            counted (WorkerCounters.ChecksumNotReady); inconsistent lengths ─► BadHeader

public sealed unsafe partial class Worker
{
    /// <summary>FILL-IN POINT 1 (PMTU): the packet exceeds the path MTU of <paramref name="hop"/>.</summary>
    private void HandleOversize(ref Packet p, in NextHop hop) => Drop(ref p, DropReason.FragmentationNeeded);

    /// <summary>FILL-IN POINT 2 (reassembly): an IP fragment addressed to the gateway.</summary>
    private void HandleInboundFragment(ref Packet p) => Drop(ref p, DropReason.Fragment);

    /// <summary>Point 3 (CHECKSUM_PARTIAL): the L4 checksum of the packet is incomplete. Finished in
    /// place over the pseudo-header and the segment (L3/ChecksumCompletion.cs); a frame whose lengths
    /// do not add up is dropped (BadHeader) rather than sent with a checksum that can never verify.</summary>
    private void CompleteChecksum(ref Packet p)
    {
        Counters._checksumNotReady++;
        if (ChecksumCompletion.CompleteIpPacket(ref p) == ChecksumCompletionResult.Malformed) Drop(ref p, DropReason.BadHeader);
    }
}
