/* Shared between fastpath_xdp.bpf.c (the XDP program) and fastpath_xdp.c (the loader shim) and
 * mirrored in src/FastPath.Dataplane/Interop/XdpShim.cs: verdict counter slots and the key of
 * the management-port map. */
#ifndef FASTPATH_XDP_H
#define FASTPATH_XDP_H

/* Slots of the per-CPU "verdicts" array (one u64 per slot per CPU). */
enum fp_xdp_verdict {
	FP_XDP_REDIRECT = 0,  /* IPv4/IPv6 frame given to bpf_redirect_map (the dataplane's) */
	FP_XDP_PASS_IKE = 1,  /* UDP 500, or UDP 4500 with the 4-byte non-ESP marker (RFC 3948 s2.2) */
	FP_XDP_PASS_ARP = 2,  /* EtherType 0x0806 */
	FP_XDP_PASS_ND = 3,   /* ICMPv6 133-137 (RFC 4861) */
	FP_XDP_PASS_MGMT = 4, /* TCP/UDP to a configured local management port */
	FP_XDP_PASS_OTHER = 5,/* any other EtherType (LLDP, the veth's own ...) */
	FP_XDP_VERDICT_SLOTS = 6,
};

/* Key of the "pass_ports" hash map: (IP protocol << 16) | destination port, host byte order. */
#define FP_XDP_PORT_KEY(proto, port) ((((unsigned int)(proto)) << 16) | (unsigned int)(port))
#define FP_XDP_MAX_PASS_PORTS 64
#define FP_XDP_MAX_QUEUES 64

#endif
