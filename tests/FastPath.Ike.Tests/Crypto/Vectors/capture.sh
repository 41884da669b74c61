#!/bin/bash
# Captures IKEv2 key-derivation test vectors from two real strongSwan charons (5.9.8) talking in two
# network namespaces this script creates (fp-ikecr-a 192.0.2.1 <-> fp-ikecr-b 192.0.2.2, no default
# route, documentation addresses only). charon's filelog at ike=4/chd=4 prints Ni, Nr, the DH shared
# secret, SKEYSEED, every SK_* and the CHILD_SA keys; tcpdump records the exchange (IKE_AUTH
# encrypted under SK_ei/SK_ai) so tests can decrypt a real message and verify its AUTH.
# REKEY=1 also rekeys the CHILD_SA and then the IKE SA once.
# Usage: capture.sh OUTDIR NAME IKE_PROPOSAL ESP_PROPOSAL   (e.g. x25519 aes128gcm16-prfsha256-x25519 aes128gcm16)
# Everything is deleted on exit (trap), processes are stopped by the PIDs this script started.
set -u
OUT=$1; NAME=$2; IKEP=$3; ESPP=$4
A=fp-ikecr-a; B=fp-ikecr-b
W=$(mktemp -d /tmp/fp-ikecr-cap.XXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
ip netns add $A; ip netns add $B
ip link add fp-ikecr-va netns $A type veth peer name fp-ikecr-vb netns $B
ip -n $A addr add 192.0.2.1/24 dev fp-ikecr-va; ip -n $B addr add 192.0.2.2/24 dev fp-ikecr-vb
ip -n $A link set fp-ikecr-va up; ip -n $B link set fp-ikecr-vb up
ip -n $A link set lo up; ip -n $B link set lo up
# the CHILD_SA traffic selectors live on lo, so kernel-libipsec can install its routes
ip -n $A addr add 198.51.100.1/32 dev lo; ip -n $B addr add 198.51.100.2/32 dev lo

mk() { # side me peer
  local s=$1 me=$2 peer=$3 d=$W/$1
  mkdir -p $d/run $d/swanctl/conf.d
  cat > $d/strongswan.conf <<C
charon {
  load_modular = no
  load = random nonce openssl aes sha1 sha2 md5 hmac gcm gmp curve25519 chapoly kdf pem pkcs1 pubkey x509 kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = no
  plugins { vici { socket = unix://$d/run/charon.vici } }
  filelog { k { path = $d/charon.log
    default = 1
    ike = 4
    chd = 4
    cfg = 2
    enc = 4
    net = 2
    esp = 0 } }
}
C
  cat > $d/swanctl/swanctl.conf <<C
connections {
  c {
    version = 2
    local_addrs = $me
    remote_addrs = $peer
    proposals = $IKEP
    encap = yes
    mobike = no
    fragmentation = no
    local { auth = psk
      id = $me }
    remote { auth = psk
      id = $peer }
    children { c { esp_proposals = $ESPP
        local_ts = 198.51.100.$4/32
        remote_ts = 198.51.100.$5/32
        start_action = none } }
  }
}
secrets { ike-1 { secret = "fastpath-test-psk-0123456789"
    id-1 = 192.0.2.1
    id-2 = 192.0.2.2 } }
C
}
mk a 192.0.2.1 192.0.2.2 1 2
mk b 192.0.2.2 192.0.2.1 2 1
for s in a b; do
  ns=fp-ikecr-$s
  ip netns exec $ns sh -c "mount --bind $W/$s/run /run && STRONGSWAN_CONF=$W/$s/strongswan.conf exec /usr/lib/ipsec/charon" > $W/$s/stdout 2>&1 &
  PIDS+=($!)
done
timeout 20 ip netns exec $A tcpdump -U --immediate-mode -i fp-ikecr-va -w $W/ike.pcap udp port 500 or udp port 4500 >/dev/null 2>&1 &
PIDS+=($!)
for i in $(seq 50); do [ -S $W/a/run/charon.vici ] && [ -S $W/b/run/charon.vici ] && break; sleep 0.2; done
for s in a b; do SWANCTL_DIR=$W/$s/swanctl timeout 10 ip netns exec fp-ikecr-$s swanctl --load-all --uri unix://$W/$s/run/charon.vici >/dev/null; done
SWANCTL_DIR=$W/a/swanctl timeout 25 ip netns exec $A swanctl --initiate --child c --timeout 20 --uri unix://$W/a/run/charon.vici
rc=$?
if [ "${REKEY:-0}" = 1 ] && [ $rc = 0 ]; then
  # CREATE_CHILD_SA: child rekey (with PFS when ESP_PROPOSAL has a group), then IKE SA rekey (RFC 7296 §2.18)
  SWANCTL_DIR=$W/a/swanctl timeout 10 ip netns exec $A swanctl --rekey --child c --uri unix://$W/a/run/charon.vici; sleep 1.5
  SWANCTL_DIR=$W/a/swanctl timeout 10 ip netns exec $A swanctl --rekey --ike c --uri unix://$W/a/run/charon.vici; sleep 1.5
fi
sleep 1.5
mkdir -p "$OUT"
cp $W/a/charon.log "$OUT/$NAME.initiator.log"; cp $W/b/charon.log "$OUT/$NAME.responder.log"
cp $W/ike.pcap "$OUT/$NAME.pcap" 2>/dev/null
exit $rc
