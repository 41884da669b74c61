// SPDX-License-Identifier: GPL-2.0
/* fastpath_xdp.bpf.c - the XDP program FastPath attaches to each dataplane interface.
 *
 * Flow per frame (ingress, before the kernel builds an skb in native mode):
 *
 *   Ethernet (up to two 802.1Q/802.1ad tags)
 *     ARP .................................................. XDP_PASS   (kernel resolves neighbors)
 *     not IPv4/IPv6 ........................................ XDP_PASS   (LLDP, anything else)
 *     IPv4 / IPv6 (extension headers walked, at most 6)
 *       UDP dport 500 ...................................... XDP_PASS   (IKE, RFC 7296 s2)
 *       UDP dport 4500, first 4 payload bytes zero ......... XDP_PASS   (IKE behind the non-ESP
 *                                                                        marker, RFC 3948 s2.2)
 *       ICMPv6 type 133-137 ................................ XDP_PASS   (ND, RFC 4861)
 *       TCP/UDP dport in pass_ports ........................ XDP_PASS   (local management)
 *       everything else (cleartext, ESP, ESP-in-UDP, fragments, truncated headers)
 *         ......................... bpf_redirect_map(xsks_map, rx_queue, XDP_PASS): the dataplane
 *
 * Why "everything else" goes to the dataplane: it makes the kernel fail-closed for the traffic
 * the gateway owns. The kernel never sees the cleartext it would otherwise forward around the
 * tunnel, nor the ESP it would answer with ICMP. A header we cannot parse (truncated, a
 * non-first fragment) is the dataplane's too: it counts a drop or reassembles; nothing the
 * program does not positively recognise as control traffic reaches the kernel.
 *
 * The fallback action XDP_PASS of bpf_redirect_map (kernel >= 5.3) applies when no AF_XDP socket
 * is bound at this queue's index: while the dataplane is down the interface behaves like an
 * ordinary one (ip_forward=0 is then the wall). Fragments: a non-first IP fragment has no UDP
 * header, so an IP-fragmented IKE message would be split between kernel and dataplane; IKEv2
 * fragmentation (RFC 7383, strongSwan's default) avoids IP fragments.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "fastpath_xdp.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, FP_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FP_XDP_MAX_PASS_PORTS);
	__type(key, __u32);   /* FP_XDP_PORT_KEY(proto, port) */
	__type(value, __u8);
} pass_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FP_XDP_VERDICT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

static __always_inline void count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&verdicts, &slot);
	if (v)
		*v += 1;
}

static __always_inline int pass(__u32 slot)
{
	count(slot);
	return XDP_PASS;
}

static __always_inline int to_dataplane(struct xdp_md *ctx)
{
	count(FP_XDP_REDIRECT);
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

/* l4 points at the transport header of an unfragmented (or first-fragment) packet. */
static __always_inline int classify_l4(struct xdp_md *ctx, void *l4, void *end, __u8 proto)
{
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > end)
			return to_dataplane(ctx);
		__u16 dport = bpf_ntohs(udp->dest);
		if (dport == 500)
			return pass(FP_XDP_PASS_IKE);
		if (dport == 4500) {
			__u32 *marker = (void *)(udp + 1);
			/* 4500 with a zero marker is IKE; a 1-byte 0xFF is a NAT-keepalive (RFC 3948
			 * s2.3): keepalives are ignored by the dataplane, counted as a drop there. */
			if ((void *)(marker + 1) <= end && *marker == 0)
				return pass(FP_XDP_PASS_IKE);
			return to_dataplane(ctx);
		}
		__u32 key = FP_XDP_PORT_KEY(IPPROTO_UDP, dport);
		if (bpf_map_lookup_elem(&pass_ports, &key))
			return pass(FP_XDP_PASS_MGMT);
		return to_dataplane(ctx);
	}
	if (proto == IPPROTO_TCP) {
		/* dport is bytes 2-3 of the TCP header, same place as UDP's */
		struct udphdr *ports = l4;
		if ((void *)(ports + 1) > end)
			return to_dataplane(ctx);
		__u32 key = FP_XDP_PORT_KEY(IPPROTO_TCP, bpf_ntohs(ports->dest));
		if (bpf_map_lookup_elem(&pass_ports, &key))
			return pass(FP_XDP_PASS_MGMT);
		return to_dataplane(ctx);
	}
	if (proto == IPPROTO_ICMPV6) {
		__u8 *type = l4;
		if ((void *)(type + 1) > end)
			return to_dataplane(ctx);
		if (*type >= 133 && *type <= 137)
			return pass(FP_XDP_PASS_ND);
		return to_dataplane(ctx);
	}
	return to_dataplane(ctx);
}

SEC("xdp")
int fastpath_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return pass(FP_XDP_PASS_OTHER);
	__u16 type = bpf_ntohs(eth->h_proto);
	void *l3 = eth + 1;

#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (type != ETH_P_8021Q && type != ETH_P_8021AD)
			break;
		struct vlan_hdr *vh = l3;
		if ((void *)(vh + 1) > end)
			return pass(FP_XDP_PASS_OTHER);
		type = bpf_ntohs(vh->proto);
		l3 = vh + 1;
	}

	if (type == ETH_P_ARP)
		return pass(FP_XDP_PASS_ARP);

	if (type == ETH_P_IP) {
		struct iphdr *ip = l3;
		if ((void *)(ip + 1) > end)
			return to_dataplane(ctx);
		/* a non-first fragment carries no transport header: the dataplane's (reassembly) */
		if (ip->frag_off & bpf_htons(0x1FFF))
			return to_dataplane(ctx);
		__u32 ihl = ip->ihl * 4;
		if (ihl < sizeof(*ip))
			return to_dataplane(ctx);
		return classify_l4(ctx, l3 + ihl, end, ip->protocol);
	}

	if (type == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > end)
			return to_dataplane(ctx);
		__u8 next = ip6->nexthdr;
		void *p = ip6 + 1;
		/* RFC 8200 s4: hop-by-hop (0), routing (43), fragment (44), destination options (60) */
#pragma unroll
		for (int i = 0; i < 6; i++) {
			if (next != 0 && next != 43 && next != 44 && next != 60)
				break;
			__u8 *h = p;
			if ((void *)(h + 8) > end)
				return to_dataplane(ctx);
			if (next == 44) {
				/* fragment header: offset in bytes 2-3 (13 bits << 3) */
				__u16 off = ((__u16)h[2] << 8 | h[3]) & 0xFFF8;
				if (off != 0)
					return to_dataplane(ctx);
				next = h[0];
				p = h + 8;
			} else {
				next = h[0];
				p = h + 8 + (__u32)h[1] * 8;
			}
		}
		return classify_l4(ctx, p, end, next);
	}

	return pass(FP_XDP_PASS_OTHER);
}

char _license[] SEC("license") = "GPL";
