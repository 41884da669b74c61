#!/usr/bin/env bash
# A strongSwan (charon 5.9, kernel-libipsec userspace ESP over TUN) gateway pair in the west/east
# namespaces of topology.sh, as /work/shared/PEERS.md describes: one charon per namespace with its
# own /run (mount --bind inside `ip netns exec`'s private mount namespace), STRONGSWAN_CONF per
# instance, vici socket per instance; net-to-net 192.0.2.0/25 <-> 192.0.2.128/25 (and the IPv6
# subnets), PSK, UDP encapsulation (kernel-libipsec does ESP-in-UDP only).
# Usage: strongswan.sh up TAG [ESP_PROPOSAL] [IKE_PROPOSAL]   strongswan.sh down TAG
set -euo pipefail

ss_dir() { echo "/tmp/fp-ss-$1"; }

ss_write_conf() { # DIR NAME LOCAL REMOTE LOCALNETS REMOTENETS ESP IKE
  local d=$1 name=$2 local=$3 remote=$4 lnets=$5 rnets=$6 esp=$7 ike=$8
  mkdir -p "$d/run" "$d/swanctl/conf.d"
  local sub; for sub in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do mkdir -p "$d/swanctl/$sub"; done
  cat >"$d/strongswan.conf" <<CONF
charon {
  load_modular = no
  load = random nonce openssl aes sha1 sha2 md5 hmac gcm gmp curve25519 kdf pem pkcs1 pubkey x509 kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = yes
  port = 500
  port_nat_t = 4500
  plugins {
    vici { socket = unix://$d/run/charon.vici }
    kernel-libipsec { allow_peer_ts = no }
  }
  filelog {
    log { path = $d/charon.log
          default = 1
          esp = 0 }
  }
}
CONF
  cat >"$d/swanctl/swanctl.conf" <<CONF
connections {
  $name {
    version = 2
    local_addrs = $local
    remote_addrs = $remote
    encap = yes
    mobike = no
    fragmentation = no
    proposals = $ike
    local {
      auth = psk
      id = $local
    }
    remote {
      auth = psk
      id = $remote
    }
    children {
      net {
        local_ts = $lnets
        remote_ts = $rnets
        esp_proposals = $esp
        start_action = none
      }
    }
  }
}
secrets {
  ike-1 {
    id-1 = $local
    id-2 = $remote
    secret = "fastpath-perf-psk-0123456789"
  }
}
CONF
}

ss_up() {
  local tag=$1 esp=${2:-aes128gcm16} ike=${3:-aes128gcm16-prfsha256-x25519}
  local base; base=$(ss_dir "$tag")
  ss_down "$tag"
  ss_write_conf "$base/west" west-east 203.0.113.1 203.0.113.2 "192.0.2.0/25,2001:db8:1::/64" "192.0.2.128/25,2001:db8:2::/64" "$esp" "$ike"
  ss_write_conf "$base/east" west-east 203.0.113.2 203.0.113.1 "192.0.2.128/25,2001:db8:2::/64" "192.0.2.0/25,2001:db8:1::/64" "$esp" "$ike"
  local side
  for side in west east; do
    local d=$base/$side
    ip netns exec "fp-$tag-$side" env STRONGSWAN_CONF="$d/strongswan.conf" \
      sh -c "mount --bind '$d/run' /run && exec /usr/lib/ipsec/charon" >"$d/stdout" 2>&1 &
    echo $! >"$d/pid"
  done
  for side in west east; do
    local d=$base/$side i
    for i in $(seq 1 100); do [ -S "$d/run/charon.vici" ] && break; sleep 0.1; done
    [ -S "$d/run/charon.vici" ] || { echo "strongswan.sh: charon in $side did not start (see $d/charon.log)" >&2; return 1; }
    ip netns exec "fp-$tag-$side" env SWANCTL_DIR="$d/swanctl" swanctl --load-all --uri "unix://$d/run/charon.vici" >/dev/null
  done
  local d=$base/west
  ip netns exec "fp-$tag-west" env SWANCTL_DIR="$d/swanctl" timeout 30 swanctl --initiate --child net --timeout 20 --uri "unix://$d/run/charon.vici" >"$d/initiate.log" 2>&1 \
    || { echo "strongswan.sh: initiate failed (see $d/initiate.log, $d/charon.log)" >&2; return 1; }
}

ss_down() {
  local tag=$1 base side pid
  base=$(ss_dir "$tag")
  for side in west east; do
    if [ -f "$base/$side/pid" ]; then
      pid=$(cat "$base/$side/pid")
      # The pid is that of `ip netns exec` which exec'd sh which exec'd charon: the same process.
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$base/$side/pid"
    fi
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cmd=${1:-}; shift || true
  case "$cmd" in
    up) ss_up "$@" ;;
    down) ss_down "$@" ;;
    *) echo "usage: $0 up TAG [ESP] [IKE] | down TAG" >&2; exit 2 ;;
  esac
fi
