#!/usr/bin/env bash
# strongSwan (charon 5.9, kernel-libipsec userspace ESP over TUN) gateways in the west/east
# namespaces of topology.sh, as /work/shared/PEERS.md describes: one charon per namespace with its
# own /run (mount --bind inside `ip netns exec`'s private mount namespace), STRONGSWAN_CONF per
# instance, vici socket per instance; net-to-net 192.0.2.0/25 <-> 192.0.2.128/25, UDP encapsulation
# (kernel-libipsec does ESP-in-UDP only). Two modes:
#
#   up TAG [ESP] [IKE] [psk|cert]   a charon in west AND east (the baseline of netns-matrix.sh; also
#                                   how the certificates of certs.sh are validated charon↔charon),
#                                   IPv4+IPv6 subnets, west initiates. Topology mode: routed.
#   east TAG ROLE AUTH ESP IKE      ONE charon, in east, the interop peer of a FastPath gateway in west:
#                                   ROLE responder (waits; FastPath initiates: auto=start) or
#                                   initiator (`strongswan.sh initiate TAG` once FastPath runs),
#                                   AUTH psk | cert (certs.sh; RSA) | cert-ecdsa. Also writes the FastPath side's
#                                   ipsec.conf + ipsec.secrets (Libreswan dialect, docs/configuration.md)
#                                   into /tmp/fp-ss-TAG/west/. Topology mode: gateway, then east is
#                                   switched to routed (forwarding on, no static far route: charon's
#                                   TUN routes carry its side) by this script.
#   initiate TAG [west|east]        swanctl --initiate of the child (the charon side of the pair)
#   sas TAG [west|east]             swanctl --list-sas (raw)
#   rekey TAG SIDE child|ike        swanctl --rekey --child net / --ike west-east
#   down TAG                        stop every charon of TAG (by PID)
#
# Knobs for `east` (environment): SS_CHILD_REKEY (child rekey_time, default 1h), SS_CHILD_LIFE (child
# life_time; charon's default of rekey_time + 10 % truncates to the rekey time for a few seconds, so
# a short rekey_time needs it or charon lets the SA expire and re-creates it instead of rekeying), SS_IKE_REKEY
# (default 4h), SS_IKE_OVER (IKE over_time, with rand_time 0: charon's default over_time of 10 % of a short
# rekey_time leaves it 0.2 s to rekey before the IKE SA expires), SS_DPD (dpd_delay of charon and dpddelay of FastPath, 0 = off), SS_FP_KEYLIFE /
# SS_FP_REKEYMARGIN (FastPath-side keylife/rekeymargin: FastPath-initiated rekeys), SS_FP_IKELIFETIME (FastPath
# ikelifetime: FastPath-initiated IKE SA rekeys), SS_RETRANSMIT_TRIES
# (charon, default 3: a peer that stops answering is declared dead within ~10 s), SS_V6=1 (also the
# IPv6 subnets), SS_OUTER6=1 (IKE and ESP-in-UDP over the public link's IPv6 addresses 2001:db8:ffff::1 / ::2),
# SS_LOG (charon ike/chd/knl/net log level, default 1; 4 prints keys, test use only).
set -euo pipefail
SS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ss_dir() { echo "/tmp/fp-ss-$1"; }

SS_PSK="fastpath-perf-psk-0123456789"

ss_strongswan_conf() { # DIR
  local d=$1
  mkdir -p "$d/run" "$d/swanctl/conf.d"
  local sub; for sub in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12; do mkdir -p "$d/swanctl/$sub"; done
  local lvl=${SS_LOG:-1}
  cat >"$d/strongswan.conf" <<CONF
charon {
  load_modular = no
  load = random nonce openssl aes sha1 sha2 md5 hmac gcm gmp curve25519 kdf pem pkcs1 pkcs8 pubkey x509 constraints revocation kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = yes
  port = 500
  port_nat_t = 4500
  retransmit_tries = ${SS_RETRANSMIT_TRIES:-3}
  retransmit_timeout = 1.0
  retransmit_base = 1.4
  plugins {
    vici { socket = unix://$d/run/charon.vici }
    kernel-libipsec { allow_peer_ts = no }
    revocation { enable_ocsp = no
                 enable_crl = no }
  }
  filelog {
    log { path = $d/charon.log
          time_format = %H:%M:%S
          flush_line = yes
          default = 1
          ike = $lvl
          chd = $lvl
          cfg = $lvl
          esp = 0 }
  }
}
CONF
}

# The certificate material of one side into swanctl's directories (certs.sh layout in CERTS).
ss_install_certs() { # DIR CERTS SELF
  local d=$1 certs=$2 self=$3
  cp "$certs/ca.pem" "$d/swanctl/x509ca/ca.pem"
  cp "$certs/$self.pem" "$d/swanctl/x509/$self.pem"
  cp "$certs/$self.key" "$d/swanctl/private/$self.key"
  chmod 600 "$d/swanctl/private/$self.key"
}

ss_write_conf() { # DIR NAME LOCAL REMOTE LOCALNETS REMOTENETS ESP IKE [AUTH LOCALID REMOTEID SELF START]
  local d=$1 name=$2 local=$3 remote=$4 lnets=$5 rnets=$6 esp=$7 ike=$8
  local auth=${9:-psk} lid=${10:-$3} rid=${11:-$4} self=${12:-} start=${13:-none}
  ss_strongswan_conf "$d"
  local sauth=psk frag=no certline="" sendcert="" dpd=""
  if [ "$auth" != psk ]; then
    sauth=pubkey
    frag=yes # an IKE_AUTH with a certificate chain may exceed the MTU (RFC 7383)
    certline="certs = $self.pem"
    sendcert="send_cert = always"
  fi
  [ "${SS_DPD:-0}" != 0 ] && dpd="dpd_delay = ${SS_DPD}s"
  cat >"$d/swanctl/swanctl.conf" <<CONF
connections {
  $name {
    version = 2
    local_addrs = $local
    remote_addrs = $remote
    encap = yes
    mobike = no
    fragmentation = $frag
    proposals = $ike
    rekey_time = ${SS_IKE_REKEY:-4h}
${SS_IKE_OVER:+    over_time = $SS_IKE_OVER
    rand_time = 0s
}    $sendcert
    $dpd
    local {
      auth = $sauth
      id = $lid
      $certline
    }
    remote {
      auth = $sauth
      id = $rid
    }
    children {
      net {
        local_ts = $lnets
        remote_ts = $rnets
        esp_proposals = $esp
        start_action = $start
        rekey_time = ${SS_CHILD_REKEY:-1h}
${SS_CHILD_LIFE:+        life_time = $SS_CHILD_LIFE
        rand_time = 1s
}        dpd_action = clear
      }
    }
  }
}
secrets {
  ike-1 {
    id-1 = $local
    id-2 = $remote
    secret = "$SS_PSK"
  }
}
CONF
}

ss_start() { # TAG SIDE
  local tag=$1 side=$2 d i
  d=$(ss_dir "$tag")/$side
  rm -f "$d/charon.log"
  ip netns exec "fp-$tag-$side" env STRONGSWAN_CONF="$d/strongswan.conf" \
    sh -c "mount --bind '$d/run' /run && exec /usr/lib/ipsec/charon" >"$d/stdout" 2>&1 &
  echo $! >"$d/pid"
  for i in $(seq 1 100); do [ -S "$d/run/charon.vici" ] && break; sleep 0.1; done
  [ -S "$d/run/charon.vici" ] || { echo "strongswan.sh: charon in $side did not start (see $d/charon.log)" >&2; return 1; }
  ss_swanctl "$tag" "$side" --load-all >"$d/load.log" 2>&1 \
    || { echo "strongswan.sh: swanctl --load-all failed in $side:" >&2; cat "$d/load.log" >&2; return 1; }
}

ss_swanctl() { # TAG SIDE ARGS...
  local tag=$1 side=$2; shift 2
  local d; d=$(ss_dir "$tag")/$side
  ip netns exec "fp-$tag-$side" env SWANCTL_DIR="$d/swanctl" timeout 40 swanctl "$@" --uri "unix://$d/run/charon.vici"
}

ss_initiate() { # TAG [SIDE]
  local tag=$1 side=${2:-}
  local base; base=$(ss_dir "$tag")
  if [ -z "$side" ]; then side=east; [ -f "$base/west/pid" ] && side=west; fi
  ss_swanctl "$tag" "$side" --initiate --child net --timeout 20 >"$base/$side/initiate.log" 2>&1 \
    || { echo "strongswan.sh: initiate failed (see $base/$side/initiate.log, $base/$side/charon.log)" >&2; tail -20 "$base/$side/charon.log" >&2 || true; return 1; }
}

ss_up() { # TAG [ESP] [IKE] [psk|cert|cert-ecdsa]: a charon on each side, west initiates
  local tag=$1 esp=${2:-aes128gcm16} ike=${3:-aes128gcm16-prfsha256-x25519} auth=${4:-psk}
  local base; base=$(ss_dir "$tag")
  ss_down "$tag"
  rm -rf "$base"
  local wid=203.0.113.1 eid=203.0.113.2
  if [ "$auth" != psk ]; then
    "$SS_LIB/certs.sh" make "$base/certs" "$([ "$auth" = cert-ecdsa ] && echo ecdsa || echo rsa)"
    wid=west.example eid=east.example
  fi
  ss_write_conf "$base/west" west-east 203.0.113.1 203.0.113.2 "192.0.2.0/25,2001:db8:1::/64" "192.0.2.128/25,2001:db8:2::/64" "$esp" "$ike" "$auth" "$wid" "$eid" west
  ss_write_conf "$base/east" west-east 203.0.113.2 203.0.113.1 "192.0.2.128/25,2001:db8:2::/64" "192.0.2.0/25,2001:db8:1::/64" "$esp" "$ike" "$auth" "$eid" "$wid" east
  if [ "$auth" != psk ]; then
    ss_install_certs "$base/west" "$base/certs" west
    ss_install_certs "$base/east" "$base/certs" east
  fi
  ss_start "$tag" west
  ss_start "$tag" east
  ss_initiate "$tag" west
}

# ---- one charon (east) against a FastPath gateway (west) -------------------------------------------

# east of a `topology.sh up TAG gateway` topology becomes a kernel-libipsec gateway: forwarding on,
# and no static route to the far subnet (charon's route into its TUN device, table 220, carries it).
ss_east_routed() { # TAG
  local E=fp-$1-east
  ip -n "$E" route del 192.0.2.0/25 via 203.0.113.1 2>/dev/null || true
  ip -n "$E" -6 route del 2001:db8:1::/64 via 2001:db8:ffff::1 2>/dev/null || true
  ip netns exec "$E" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# The FastPath side (west): ipsec.conf + ipsec.secrets in the Libreswan dialect.
ss_write_fastpath_conf() { # DIR ROLE AUTH ESP IKE CERTS
  local d=$1 role=$2 auth=$3 esp=$4 ike=$5 certs=$6
  mkdir -p "$d"
  local lsub="192.0.2.0/25" rsub="192.0.2.128/25"
  [ "${SS_V6:-0}" = 1 ] && lsub="192.0.2.0/25,2001:db8:1::/64" rsub="192.0.2.128/25,2001:db8:2::/64"
  local wo=203.0.113.1 eo=203.0.113.2
  [ "${SS_OUTER6:-0}" = 1 ] && wo=2001:db8:ffff::1 eo=2001:db8:ffff::2
  local authby=secret ids="    leftid=$wo
    rightid=$eo" certs_conf=""
  if [ "$auth" != psk ]; then
    authby=rsasig; [ "$auth" = cert-ecdsa ] && authby=ecdsa
    mkdir -p "$d/ipsec.d/certs" "$d/ipsec.d/cacerts" "$d/ipsec.d/private"
    cp "$certs/west.pem" "$d/ipsec.d/certs/west.pem"
    cp "$certs/ca.pem" "$d/ipsec.d/cacerts/ca.pem"
    cp "$certs/west.key" "$d/ipsec.d/private/west.key"
    chmod 600 "$d/ipsec.d/private/west.key"
    ids="    leftid=@west.example
    rightid=@east.example"
    certs_conf="    leftcert=$d/ipsec.d/certs/west.pem
    rightca=\"C=CH, O=FastPath Test, CN=FastPath Test CA\""
  fi
  local auto=add; [ "$role" = responder ] && auto=start # charon responds: FastPath initiates
  local extra=""
  [ "${SS_DPD:-0}" != 0 ] && extra+="    dpddelay=${SS_DPD}s
    dpdtimeout=$(( ${SS_DPD} * 3 ))s
    dpdaction=clear
"
  [ -n "${SS_FP_KEYLIFE:-}" ] && extra+="    keylife=${SS_FP_KEYLIFE}
"
  [ -n "${SS_FP_IKELIFETIME:-}" ] && extra+="    ikelifetime=${SS_FP_IKELIFETIME}
"
  [ -n "${SS_FP_KEYLIFE:-}${SS_FP_IKELIFETIME:-}" ] && extra+="    rekeymargin=${SS_FP_REKEYMARGIN:-3s}
    rekeyfuzz=0%
"
  cat >"$d/ipsec.conf" <<CONF
# FastPath side of the strongSwan interop run (perf-scripts/lib/strongswan.sh east).
version 2

config setup
    uniqueids=yes

conn west-east
    ikev2=insist
    authby=$authby
    left=$wo
    leftsubnet=$lsub
$ids
$certs_conf
    right=$eo
    rightsubnet=$rsub
    ike=$ike
    esp=$esp
    encapsulation=yes
    fragmentation=yes
    replay-window=32
$extra    auto=$auto
CONF
  case "$auth" in
    psk) printf '%s %s : PSK "%s"\n' "$wo" "$eo" "$SS_PSK" >"$d/ipsec.secrets" ;;
    cert) printf ': RSA %s\n' "$d/ipsec.d/private/west.key" >"$d/ipsec.secrets" ;;
    cert-ecdsa) printf ': ECDSA %s\n' "$d/ipsec.d/private/west.key" >"$d/ipsec.secrets" ;;
  esac
  chmod 600 "$d/ipsec.secrets"
}

ss_east() { # TAG ROLE AUTH ESP IKE
  local tag=$1 role=$2 auth=$3 esp=$4 ike=$5
  case "$role" in responder|initiator) ;; *) echo "strongswan.sh: role '$role' is not responder or initiator" >&2; return 2 ;; esac
  case "$auth" in psk|cert|cert-ecdsa) ;; *) echo "strongswan.sh: auth '$auth' is not psk, cert or cert-ecdsa" >&2; return 2 ;; esac
  local base; base=$(ss_dir "$tag")
  ss_down "$tag"
  rm -rf "$base"
  mkdir -p "$base"
  # SS_OUTER6=1: IKE and ESP-in-UDP between the public link's IPv6 addresses instead (2001:db8:ffff::1/::2).
  local wo=203.0.113.1 eo=203.0.113.2
  [ "${SS_OUTER6:-0}" = 1 ] && wo=2001:db8:ffff::1 eo=2001:db8:ffff::2
  local wid=$wo eid=$eo
  if [ "$auth" != psk ]; then
    "$SS_LIB/certs.sh" make "$base/certs" "$([ "$auth" = cert-ecdsa ] && echo ecdsa || echo rsa)"
    wid=west.example eid=east.example
  fi
  local lnets="192.0.2.128/25" rnets="192.0.2.0/25"
  [ "${SS_V6:-0}" = 1 ] && lnets="192.0.2.128/25,2001:db8:2::/64" rnets="192.0.2.0/25,2001:db8:1::/64"
  ss_write_conf "$base/east" west-east "$eo" "$wo" "$lnets" "$rnets" "$esp" "$ike" "$auth" "$eid" "$wid" east none
  [ "$auth" != psk ] && ss_install_certs "$base/east" "$base/certs" east
  ss_write_fastpath_conf "$base/west" "$role" "$auth" "$esp" "$ike" "$base/certs"
  echo "$role" >"$base/role"
  ss_east_routed "$tag"
  ss_start "$tag" east
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
    east) ss_east "$@" ;;
    initiate) ss_initiate "$@" ;;
    sas) ss_swanctl "$1" "${2:-east}" --list-sas ;;
    rekey) # TAG SIDE child|ike: swanctl --rekey of the child "net" or the IKE SA "west-east" (returns once queued)
      if [ "${3:-child}" = ike ]; then ss_swanctl "$1" "$2" --rekey --ike west-east; else ss_swanctl "$1" "$2" --rekey --child net; fi ;;
    down) ss_down "$@" ;;
    *) echo "usage: $0 up TAG [ESP] [IKE] [psk|cert|cert-ecdsa] | east TAG responder|initiator psk|cert|cert-ecdsa ESP IKE | initiate TAG [SIDE] | sas TAG [SIDE] | down TAG" >&2; exit 2 ;;
  esac
fi
