#!/bin/bash
# Captures real IKEv2 exchanges between two strongSwan charons (kernel-libipsec) in two network
# namespaces fp-ikemsg-a (192.0.2.1) and fp-ikemsg-b (192.0.2.2), one veth, no default route.
# Output (next to this script): ike.pcap, charon-a.keys.log (SK_* lines of the ike=4 log),
# and ike-messages.txt (via extract.py). Bounded: every step has a timeout; namespaces and
# processes we started are removed on exit (trap), by PID.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/fp-ikemsg-cap.XXXXXX)
A=fp-ikemsg-a; B=fp-ikemsg-b
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
}
trap cleanup EXIT
ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
ip netns add $A && ip netns add $B || exit 1
ip link add fp-ikemsg-va netns $A type veth peer name fp-ikemsg-vb netns $B || exit 1
ip -n $A addr add 192.0.2.1/24 dev fp-ikemsg-va; ip -n $B addr add 192.0.2.2/24 dev fp-ikemsg-vb
ip -n $A link set lo up; ip -n $B link set lo up
# Inner (tunnel) addresses inside the traffic selectors, so charon can route the child SA.
ip -n $A addr add 198.51.100.1/32 dev lo; ip -n $B addr add 203.0.113.1/32 dev lo
ip -n $A link set fp-ikemsg-va up; ip -n $B link set fp-ikemsg-vb up

mkconf() { # $1 name  $2 local  $3 remote  $4 role(init|resp)
  local d=$W/$1; mkdir -p $d/run $d/swanctl/conf.d
  cat > $d/strongswan.conf <<EOC
charon {
  load_modular = no
  load = random nonce openssl aes sha1 sha2 md5 hmac gcm gmp curve25519 kdf pem pkcs1 pubkey x509 kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = yes
  fragment_size = 200
  filelog {
    log { path = $d/charon.log
      default = 1
      ike = 4
      cfg = 2
      flush_line = yes }
  }
  plugins {
    vici { socket = unix://$d/run/charon.vici }
    kernel-libipsec { allow_peer_ts = no }
  }
}
EOC
  if [ "$4" = init ]; then
    cat > $d/swanctl/swanctl.conf <<EOC
connections {
$(for c in "gcmx 1 aes128gcm16-prfsha256-x25519 aes128gcm16 no" "cbcmodp 2 aes256-sha256-modp2048 aes256-sha256 no" "frag 3 aes256-sha256-x25519 aes256-sha256-modp2048 yes"; do
  set -- $c
  cat <<EOD
  $1 {
    version = 2
    local_addrs = $2_LOCAL
    remote_addrs = $2_REMOTE
    proposals = $3
    encap = yes
    mobike = no
    fragmentation = $5
    local { auth = psk
      id = 192.0.2.1 }
    remote { auth = psk
      id = 192.0.2.2 }
    children {
      $1c {
        esp_proposals = $4
        local_ts = 198.51.100.0/24
        remote_ts = 203.0.113.0/24
        start_action = none
      }
    }
  }
EOD
done)
}
secrets { ike-1 { secret = "fp-ikemsg-capture-psk"
    id-1 = 192.0.2.1
    id-2 = 192.0.2.2 } }
EOC
  else
    cat > $d/swanctl/swanctl.conf <<EOC
connections {
  resp {
    version = 2
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    proposals = aes128gcm16-prfsha256-x25519, aes256-sha256-modp2048, aes256-sha256-x25519
    encap = yes
    mobike = no
    fragmentation = yes
    local { auth = psk
      id = 192.0.2.2 }
    remote { auth = psk
      id = 192.0.2.1 }
    children {
      respc {
        esp_proposals = aes128gcm16, aes256-sha256, aes256-sha256-modp2048
        local_ts = 203.0.113.0/24
        remote_ts = 198.51.100.0/24
      }
    }
  }
}
secrets { ike-1 { secret = "fp-ikemsg-capture-psk"
    id-1 = 192.0.2.1
    id-2 = 192.0.2.2 } }
EOC
  fi
  sed -i "s/[0-9]_LOCAL/$2/g; s/[0-9]_REMOTE/$3/g" $d/swanctl/swanctl.conf
}
mkconf a 192.0.2.1 192.0.2.2 init
mkconf b 192.0.2.2 192.0.2.1 resp

start_charon() { # $1 ns $2 dir
  STRONGSWAN_CONF=$W/$2/strongswan.conf timeout 120 ip netns exec $1 sh -c "mount --bind $W/$2/run /run && exec /usr/lib/ipsec/charon" > $W/$2/stdout 2>&1 &
  PIDS+=($!)
}
start_charon $A a; start_charon $B b
for d in a b; do for i in $(seq 50); do [ -S $W/$d/run/charon.vici ] && break; sleep 0.2; done; done
ns_of() { [ $1 = a ] && echo $A || echo $B; }
sw() { local d=$1; shift; STRONGSWAN_CONF=$W/$d/strongswan.conf SWANCTL_DIR=$W/$d/swanctl timeout 30 ip netns exec $(ns_of $d) swanctl "$@" --uri unix://$W/$d/run/charon.vici; }
sw a --load-all >/dev/null || { cat $W/a/stdout; exit 1; }
sw b --load-all >/dev/null || { cat $W/b/stdout; exit 1; }

timeout 90 ip netns exec $B tcpdump -i fp-ikemsg-vb -U --immediate-mode -s 0 -w $W/ike.pcap 'udp port 500 or udp port 4500' > $W/tcpdump.out 2>&1 &
TPID=$!; PIDS+=($TPID)
sleep 1.5
for c in gcmx cbcmodp frag; do
  sw a --initiate --child ${c}c --timeout 20 || echo "initiate $c failed"
  sw a --rekey --child ${c}c >/dev/null || echo "rekey $c failed"
  sleep 1
  sw a --terminate --ike $c --timeout 10 >/dev/null || echo "terminate $c failed"
  sleep 0.5
done
sleep 1.5
kill $TPID; wait $TPID 2>/dev/null
cp $W/ike.pcap $HERE/ike.pcap
# The SK_* keys charon logs at ike=4 (test use only): keep just those lines and the SPI lines.
grep -E -A3 'Sk_(d|ai|ar|ei|er|pi|pr) secret|IKE_SA .*established between|SPIs' $W/a/charon.log > $HERE/charon-a.keys.log
/usr/bin/python3 $HERE/extract.py $HERE/ike.pcap > $HERE/ike-messages.txt
echo "captured $(wc -l < $HERE/ike-messages.txt) IKE datagrams"
