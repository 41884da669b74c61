namespace FastPath.Dataplane;

/// <summary>
/// Why the dataplane dropped a packet. Every drop has exactly one reason and increments one
/// counter (per worker, and per SA where an SA is known); there is no logging and no exception
/// per packet. Names follow Linux xfrm's LINUX_MIB_XFRM* statistics and VPP's ipsec error
/// counters, so operators recognize them. Values are stable (they index counter arrays and appear
/// in `fastpath status --json`): append new reasons before <see cref="Count"/>, never renumber.
/// </summary>
public enum DropReason : byte
{
    /// <summary>No eroute matched: KLIPS fails closed (no eroute = drop).</summary>
    NoPolicy = 0,
    /// <summary>Inbound ESP whose SPI (and destination) is in no SA (xfrm XfrmInNoStates).</summary>
    NoState,
    /// <summary>Sequence number is a duplicate or left of the anti-replay window (RFC 4303 §3.4.3).</summary>
    Replay,
    /// <summary>ICV or AEAD tag did not verify (RFC 4303 §3.4.4).</summary>
    IntegrityFailed,
    /// <summary>Too short for the headers it claims (truncated IP/UDP/ESP header, ICV or IV).</summary>
    Runt,
    /// <summary>ESP padding bytes not 1, 2, 3, ... or pad length past the payload (RFC 4303 §2.4).</summary>
    BadPadding,
    /// <summary>Outbound sequence number would cycle; the SA must be rekeyed (RFC 4303 §3.3.3).</summary>
    SeqCycled,
    /// <summary>A decrypted packet does not match the selectors of the SA it arrived on, or a shunt's
    /// selectors (fixes FreeS/WAN seed 000 bug #7).</summary>
    PolicyMismatch,
    /// <summary>Cleartext arriving on the outside that matches a protected eroute.</summary>
    CleartextOnProtected,
    /// <summary>Inner TTL / hop limit would reach zero.</summary>
    TtlExpired,
    /// <summary>The frame has no room for the ESP trailer and ICV (or outer headers in headroom).</summary>
    NoTailSpace,
    /// <summary>Malformed IP header: version, header length, total length or checksum wrong.</summary>
    BadHeader,
    /// <summary>Ciphertext length not a multiple of the cipher block size (RFC 4303 §2.4).</summary>
    BadLength,
    /// <summary>TFC dummy packet (next header 59, RFC 4303 §2.6): dropped by design, counted.</summary>
    DummyPacket,
    /// <summary>NAT-T keepalive (a single 0xFF byte, RFC 3948 §2.3): dropped by design, counted.</summary>
    NatKeepalive,
    /// <summary>SA hard lifetime (bytes or packets) reached.</summary>
    LifetimeExpired,
    /// <summary>Eroute action %drop.</summary>
    ShuntDrop,
    /// <summary>Eroute action %reject (an ICMP unreachable may be sent, rate-limited).</summary>
    ShuntReject,
    /// <summary>Eroute action %hold, or a %trap hold queue that was full or timed out.</summary>
    ShuntHold,
    /// <summary>The next protocol after decryption is not one the SA carries (tunnel: IPv4/IPv6).</summary>
    BadNextHeader,
    /// <summary>The TX ring or queue was full.</summary>
    TxFull,
    /// <summary>Outer header marked CE (congestion) but the inner packet is Not-ECT: RFC 6040 §4.2 says drop.</summary>
    EcnMismatch,
    /// <summary>An IP fragment where a whole datagram is required (ESP on a fragment: no reassembly here).</summary>
    Fragment,
    /// <summary>No next hop (route) known for the destination: the control plane was asked to resolve it.</summary>
    NoRoute,
    /// <summary>The next hop's link-layer address (ARP/ND) is not known yet: the control plane was asked to resolve it.</summary>
    NoNeighbor,
    /// <summary>The packet (after ESP) exceeds the path MTU and may not be fragmented (DF / IPv6): ICMP
    /// "fragmentation needed" / "packet too big" was sent back (RFC 1191, RFC 8201).</summary>
    FragmentationNeeded,
    /// <summary>A fragment that cannot be reassembled (overlap, bad offset, too large, inconsistent).</summary>
    ReassemblyFailed,
    /// <summary>A partly reassembled datagram timed out.</summary>
    ReassemblyTimeout,
    /// <summary>No reassembly slot or buffer left (bounded memory).</summary>
    ReassemblyNoMemory,
    /// <summary>A %trap/%hold eroute's per-eroute hold queue was full.</summary>
    HoldQueueFull,
    /// <summary>A packet for the control plane (IKE) found its queue full.</summary>
    ControlQueueFull,
    /// <summary>Not IPv4/IPv6 (or ARP/ND left to the kernel) on a dataplane interface.</summary>
    NotIp,
    /// <summary>Addressed to the gateway itself but not ESP/IKE: left to the kernel, not forwarded.</summary>
    LocalDelivery,
    /// <summary>The handoff ring to the worker that owns the packet's SA was full (several workers
    /// sharing fanout ports; Pipeline/Handoff.cs).</summary>
    HandoffQueueFull,
    // Reserved for later reasons: append here, before Count.
    /// <summary>Number of reasons (array size), not a reason.</summary>
    Count,
}
