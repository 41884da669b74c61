#!/usr/bin/env bash
# An attacker on the public link of topology.sh (docs/security.md): the west–east veth pair becomes a
# bridge in its own namespace, with a third port for the attacker.
#
#   west:outside ── wire:wire-w ─┐
#                           br0 (fp-TAG-wire, learning bridge, no STP)
#   east:outside ── wire:wire-e ─┤
#   attacker:eth0 ─ wire:wire-a ─┘   attacker 203.0.113.66/24, 2001:db8:ffff::66/64 (documentation addresses)
#
# The gateways' interface names, addresses, MTU and routes stay as topology.sh made them, so
# fastpath.sh and the tests run unchanged. Captures of "the outside link" are taken on the wire's
# ports (wire-w sees every frame west sends or receives, whatever socket options the sender used).
# Usage: attacker.sh up TAG   (after topology.sh up TAG gateway, before the gateways start)
#        attacker.sh down TAG (deletes fp-TAG-wire and fp-TAG-attacker; topology.sh down the rest)
set -euo pipefail

atk_down() {
  local tag=$1
  ip netns del "fp-$tag-attacker" 2>/dev/null || true
  ip netns del "fp-$tag-wire" 2>/dev/null || true
}

atk_up() {
  local tag=$1
  local W=fp-$tag-west E=fp-$tag-east X=fp-$tag-wire A=fp-$tag-attacker
  atk_down "$tag"
  ip netns add "$X"
  ip netns add "$A"
  for n in "$X" "$A"; do
    ip -n "$n" link set lo up
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.disable_ipv6=1
  done
  ip netns exec "$A" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
  # Replace the direct pair by two pairs into the wire namespace.
  ip -n "$W" link del outside
  ip link add outside netns "$W" type veth peer name wire-w netns "$X"
  ip link add outside netns "$E" type veth peer name wire-e netns "$X"
  ip link add eth0 netns "$A" type veth peer name wire-a netns "$X"
  ip -n "$X" link add br0 type bridge stp_state 0 forward_delay 0
  local p
  for p in wire-w wire-e wire-a; do
    ip -n "$X" link set dev "$p" master br0
    ip -n "$X" link set dev "$p" up
    ip netns exec "$X" ethtool -K "$p" gro off lro off >/dev/null 2>&1 || true
  done
  ip -n "$X" link set br0 up
  ip -n "$W" addr add 203.0.113.1/24 dev outside
  ip -n "$W" addr add 2001:db8:ffff::1/64 dev outside nodad
  ip -n "$E" addr add 203.0.113.2/24 dev outside
  ip -n "$E" addr add 2001:db8:ffff::2/64 dev outside nodad
  ip -n "$A" addr add 203.0.113.66/24 dev eth0
  ip -n "$A" addr add 2001:db8:ffff::66/64 dev eth0 nodad
  local ns
  for ns in "$W" "$E"; do
    ip -n "$ns" link set outside up
    ip netns exec "$ns" ethtool -K outside gro off lro off >/dev/null 2>&1 || true
  done
  ip -n "$A" link set eth0 up
  ip netns exec "$A" ethtool -K eth0 tso off gso off >/dev/null 2>&1 || true
  # Deleting the old pair took the far-subnet routes with it (they went via outside).
  ip -n "$W" route replace 192.0.2.128/25 via 203.0.113.2
  ip -n "$W" -6 route replace 2001:db8:2::/64 via 2001:db8:ffff::2
  ip -n "$E" route replace 192.0.2.0/25 via 203.0.113.1
  ip -n "$E" -6 route replace 2001:db8:1::/64 via 2001:db8:ffff::1
  # Neighbors warm, so the bridge has learnt every MAC before the gateways start.
  ip netns exec "$W" ping -c1 -W1 203.0.113.2 >/dev/null 2>&1 || true
  ip netns exec "$A" ping -c1 -W1 203.0.113.1 >/dev/null 2>&1 || true
  ip netns exec "$A" ping -c1 -W1 203.0.113.2 >/dev/null 2>&1 || true
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cmd=${1:-}; shift || true
  case "$cmd" in
    up) atk_up "$@" ;;
    down) atk_down "$@" ;;
    *) echo "usage: $0 up TAG | down TAG" >&2; exit 2 ;;
  esac
fi
