#!/usr/bin/env bash
# The West/East/Sunset/Sunrise test topology of DESIGN.md §5 in four network namespaces, with
# documentation addresses only and no default route anywhere (nothing can leave the namespaces).
#
#   sunset (192.0.2.10, 2001:db8:1::10) --eth0/inside-- west [192.0.2.1 | 203.0.113.1]
#     ==outside/outside== [203.0.113.2 | 192.0.2.129] east --inside/eth0-- sunrise (192.0.2.138, 2001:db8:2::138)
#   public link: 203.0.113.0/24, 2001:db8:ffff::/64
#
# Usage (sourced or run):  topology.sh up TAG [kernel|gateway|routed]   topology.sh down TAG
#   namespaces: fp-TAG-sunset fp-TAG-west fp-TAG-east fp-TAG-sunrise
#   kernel:  west/east forward in the kernel (ip_forward=1, routes to the far subnet via the peer)
#   gateway: west/east do NOT forward (ip_forward=0) but have the routes: a userspace gateway
#            (FastPath) carries the traffic and asks the kernel for next hops.
#   routed:  ip_forward=1 but no routes to the far subnet (strongSwan kernel-libipsec: its TUN device
#            and table-220 routes carry the traffic; without them nothing reaches the far side).
# Interface settings (docs/netns-testbed.md says why): TSO/GSO off on the end hosts (frames on the wire
# are at most MTU-sized, as from a real NIC), GRO off on the gateways' interfaces (AF_PACKET would
# otherwise see 64 KB aggregates), IPv6 DAD off (addresses usable at once).
set -euo pipefail

topo_ns() { echo "fp-$1-$2"; }

topo_down() {
  local tag=$1 n
  for n in sunset west east sunrise; do
    ip netns del "fp-$tag-$n" 2>/dev/null || true
  done
}

topo_up() {
  local tag=$1 mode=${2:-kernel}
  local S=fp-$tag-sunset W=fp-$tag-west E=fp-$tag-east R=fp-$tag-sunrise n
  topo_down "$tag"
  for n in "$S" "$W" "$E" "$R"; do
    ip netns add "$n"
    ip -n "$n" link set lo up
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
  done
  ip link add eth0 netns "$S" type veth peer name inside netns "$W"
  ip link add outside netns "$W" type veth peer name outside netns "$E"
  ip link add inside netns "$E" type veth peer name eth0 netns "$R"

  ip -n "$S" addr add 192.0.2.10/25 dev eth0
  ip -n "$S" addr add 2001:db8:1::10/64 dev eth0 nodad
  ip -n "$W" addr add 192.0.2.1/25 dev inside
  ip -n "$W" addr add 2001:db8:1::1/64 dev inside nodad
  ip -n "$W" addr add 203.0.113.1/24 dev outside
  ip -n "$W" addr add 2001:db8:ffff::1/64 dev outside nodad
  ip -n "$E" addr add 203.0.113.2/24 dev outside
  ip -n "$E" addr add 2001:db8:ffff::2/64 dev outside nodad
  ip -n "$E" addr add 192.0.2.129/25 dev inside
  ip -n "$E" addr add 2001:db8:2::1/64 dev inside nodad
  ip -n "$R" addr add 192.0.2.138/25 dev eth0
  ip -n "$R" addr add 2001:db8:2::138/64 dev eth0 nodad

  local ns dev
  for ns in "$S" "$R"; do
    ip -n "$ns" link set eth0 up
    ip netns exec "$ns" ethtool -K eth0 tso off gso off >/dev/null 2>&1 || true
  done
  for ns in "$W" "$E"; do
    for dev in inside outside; do
      ip -n "$ns" link set "$dev" up
      ip netns exec "$ns" ethtool -K "$dev" gro off lro off >/dev/null 2>&1 || true
    done
  done
  # End hosts reach the far subnet through their gateway; no default route.
  ip -n "$S" route add 192.0.2.128/25 via 192.0.2.1
  ip -n "$S" -6 route add 2001:db8:2::/64 via 2001:db8:1::1
  ip -n "$R" route add 192.0.2.0/25 via 192.0.2.129
  ip -n "$R" -6 route add 2001:db8:1::/64 via 2001:db8:2::1

  if [ "$mode" = kernel ] || [ "$mode" = gateway ]; then
    # gateway mode keeps the routes (the dataplane asks the kernel for next hops of %pass traffic)
    # but forwarding stays off: the kernel itself never forwards.
    ip -n "$W" route add 192.0.2.128/25 via 203.0.113.2
    ip -n "$W" -6 route add 2001:db8:2::/64 via 2001:db8:ffff::2
    ip -n "$E" route add 192.0.2.0/25 via 203.0.113.1
    ip -n "$E" -6 route add 2001:db8:1::/64 via 2001:db8:ffff::1
  fi
  if [ "$mode" = kernel ]; then
    for ns in "$W" "$E"; do
      ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    done
  elif [ "$mode" = routed ]; then
    # strongSwan kernel-libipsec: decrypted packets come out of its TUN device and the kernel forwards
    # them; charon installs the routes into the tunnel itself (table 220), so no static far routes.
    for ns in "$W" "$E"; do
      ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    done
  else
    for ns in "$W" "$E"; do
      ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
    done
  fi
  # Neighbors warm (first pings would otherwise pay ARP/ND).
  ip netns exec "$S" ping -c1 -W1 192.0.2.1 >/dev/null 2>&1 || true
  ip netns exec "$R" ping -c1 -W1 192.0.2.129 >/dev/null 2>&1 || true
  ip netns exec "$W" ping -c1 -W1 203.0.113.2 >/dev/null 2>&1 || true
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cmd=${1:-}; shift || true
  case "$cmd" in
    up) topo_up "$@" ;;
    down) topo_down "$@" ;;
    *) echo "usage: $0 up TAG [kernel|gateway|routed] | down TAG" >&2; exit 2 ;;
  esac
fi
