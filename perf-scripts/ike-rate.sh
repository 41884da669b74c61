#!/usr/bin/env bash
# IKE SA + first CHILD_SA establishments per second (issue 6 bar): a FastPath responder vs a
# strongSwan charon 5.9.8 responder (kernel-libipsec), same load generator, same run, alternating
# (a) FastPath (b) charon (a) (b) ..., medians compared:
#   BAR ike_establish_rate <fastpath/charon> 2.0 PASS|FAIL
#
#   fp-ikr-T-load (198.51.100.10..+N, secondary addresses) ══veth══ fp-ikr-T-resp (198.51.100.1)
#   load generator: tools/FastPath.IkeLoad (FastPath's own IkeEngine as initiator), CPU $GEN_CPU
#   responder:      (a) fastpath-ikeload --respond (IkeEngine + UdpIkeTransport + counting sink)
#                   (b) charon, kernel-libipsec, threads/ikesa_table raised, dos_protection = no
#                   both pinned with taskset to CPU $RESP_CPU, started fresh for each round
# Cookies are off on both responders for the rate test (FastPath --cookie-threshold above any
# half-open count; charon dos_protection = no, which also lifts block_threshold); the flood test
# (tests/FastPath.Ike.Tests/Load/IkeFloodTests.cs) exercises them. Proposals on both sides:
# IKE aes128gcm16-prfsha256-x25519, ESP aes128gcm16, PSK, UDP encapsulation (encap = yes; the
# generator forces it too, so both responders float to 4500 the same way).
# Options (environment): ROUNDS=2 SECONDS_PER_ROUND=10 WARMUP=3 CONCURRENCY=64 SOURCES=16
#   RESP_CPU=1 GEN_CPU=0 OUT=perf-scripts/results/ike-rate.json KEEP_LOGS=DIR CHARON_LOG_LEVEL=0|1
# Bounded: every round is time-limited (timeout), the trap deletes namespaces and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ROUNDS=${ROUNDS:-2} SECS=${SECONDS_PER_ROUND:-10} WARMUP=${WARMUP:-3} CONC=${CONCURRENCY:-64} NSRC=${SOURCES:-16}
RESP_CPU=${RESP_CPU:-1} GEN_CPU=${GEN_CPU:-0} OUT=${OUT:-perf-scripts/results/ike-rate.json}
PSK=fastpath-ike-rate-psk-0123456789
T=$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
NSL=fp-ikr-$T-load NSR=fp-ikr-$T-resp VL=fpikr${T}l VR=fpikr${T}r
DIR=/tmp/fp-ss-ikr-$T
RESP_IP=198.51.100.1
resp_pid=

[ "$(id -u)" = 0 ] || { echo "ike-rate.sh: needs root (network namespaces)" >&2; exit 1; }
[ -x /usr/lib/ipsec/charon ] || { echo "ike-rate.sh: strongSwan charon missing (apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins)" >&2; exit 1; }

stop_responder() {
  if [ -n "$resp_pid" ]; then
    kill "$resp_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$resp_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$resp_pid" 2>/dev/null || true
    wait "$resp_pid" 2>/dev/null || true
    resp_pid=
  fi
}
cleanup() {
  stop_responder
  ip netns del "$NSL" 2>/dev/null || true
  ip netns del "$NSR" 2>/dev/null || true
  if [ -n "${KEEP_LOGS:-}" ] && [ -d "$DIR" ]; then mkdir -p "$KEEP_LOGS" && cp -r "$DIR/rounds" "$DIR/charon.log" "$KEEP_LOGS"/ 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

echo "== building tools/FastPath.IkeLoad"
dotnet build tools/FastPath.IkeLoad -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
TOOL=$root/tools/FastPath.IkeLoad/bin/Release/net10.0/fastpath-ikeload.dll
[ -f "$TOOL" ] || { echo "ike-rate.sh: $TOOL not built" >&2; exit 1; }

echo "== namespaces $NSL / $NSR"
ip netns add "$NSL"; ip netns add "$NSR"
ip link add "$VL" type veth peer name "$VR"
ip link set "$VL" netns "$NSL"; ip link set "$VR" netns "$NSR"
ip -n "$NSR" addr add $RESP_IP/24 dev "$VR"
for i in $(seq 0 $((NSRC - 1))); do ip -n "$NSL" addr add 198.51.100.$((10 + i))/24 dev "$VL"; done
for ns in "$NSL" "$NSR"; do ip -n "$ns" link set lo up; done
# kernel-libipsec routes a CHILD_SA's remote selector into its TUN device with a source address from
# the local selector (203.0.113.0/24): charon's namespace needs one (PEERS.md, CharonTestbed).
ip -n "$NSR" addr add 203.0.113.1/32 dev lo
ip -n "$NSL" link set "$VL" up; ip -n "$NSR" link set "$VR" up

mkdir -p "$DIR/run" "$DIR/rounds"
for sub in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12 conf.d; do mkdir -p "$DIR/swanctl/$sub"; done
cat >"$DIR/strongswan.conf" <<CONF
charon {
  load_modular = no
  load = random nonce openssl aes sha1 sha2 md5 hmac gcm gmp curve25519 kdf pem pkcs1 pubkey x509 kernel-libipsec kernel-netlink socket-default vici updown
  install_routes = no
  port = 500
  port_nat_t = 4500
  threads = 16
  ikesa_table_size = 4096
  ikesa_table_segments = 16
  dos_protection = no
  block_threshold = 100000
  init_limit_half_open = 0
  half_open_timeout = 30
  plugins {
    vici { socket = unix://$DIR/run/charon.vici }
    kernel-libipsec { allow_peer_ts = no }
  }
  filelog {
    log { path = $DIR/charon.log
          default = ${CHARON_LOG_LEVEL:-0}
          esp = 0 }
  }
}
CONF
cat >"$DIR/swanctl/swanctl.conf" <<CONF
connections {
  rate {
    version = 2
    local_addrs = $RESP_IP
    remote_addrs = %any
    encap = yes
    mobike = no
    fragmentation = no
    unique = no
    proposals = aes128gcm16-prfsha256-x25519
    local {
      auth = psk
      id = $RESP_IP
    }
    remote {
      auth = psk
      id = %any
    }
    children {
      c {
        esp_proposals = aes128gcm16
        local_ts = 203.0.113.0/24
        remote_ts = 192.0.2.0/24
        start_action = none
      }
    }
  }
}
secrets {
  ike-any {
    secret = "$PSK"
  }
}
CONF

start_fastpath() {
  ip netns exec "$NSR" taskset -c "$RESP_CPU" timeout $((SECS + WARMUP + 60)) dotnet "$TOOL" --respond --bind $RESP_IP --psk "$PSK" \
    >"$DIR/rounds/$1.resp.json" 2>"$DIR/rounds/$1.resp.err" &
  resp_pid=$!
  for _ in $(seq 1 100); do grep -q responding "$DIR/rounds/$1.resp.err" 2>/dev/null && return 0; sleep 0.1; done
  echo "ike-rate.sh: FastPath responder did not start:" >&2; cat "$DIR/rounds/$1.resp.err" >&2; return 1
}
start_charon() {
  rm -f "$DIR/run/charon.vici"
  ip netns exec "$NSR" env STRONGSWAN_CONF="$DIR/strongswan.conf" taskset -c "$RESP_CPU" \
    sh -c "mount --bind '$DIR/run' /run && exec /usr/lib/ipsec/charon" >"$DIR/rounds/$1.charon.out" 2>&1 &
  resp_pid=$!   # ip netns exec → sh → exec charon: one process, this PID
  for _ in $(seq 1 100); do [ -S "$DIR/run/charon.vici" ] && break; sleep 0.1; done
  [ -S "$DIR/run/charon.vici" ] || { echo "ike-rate.sh: charon did not start (see $DIR/charon.log)" >&2; return 1; }
  ip netns exec "$NSR" env SWANCTL_DIR="$DIR/swanctl" timeout 20 swanctl --load-all --uri "unix://$DIR/run/charon.vici" >"$DIR/rounds/$1.load" 2>&1
}
charon_stats() {
  ip netns exec "$NSR" env SWANCTL_DIR="$DIR/swanctl" timeout 10 swanctl --stats --uri "unix://$DIR/run/charon.vici" >"$DIR/rounds/$1.stats" 2>&1 || true
}
generate() {
  ip netns exec "$NSL" taskset -c "$GEN_CPU" timeout $((SECS + WARMUP + 60)) dotnet "$TOOL" --target $RESP_IP --sources 198.51.100.10+$NSRC \
    --concurrency "$CONC" --warmup "$WARMUP" --seconds "$SECS" --psk "$PSK" --label "$1" --json "$DIR/rounds/$1.json" >/dev/null 2>"$DIR/rounds/$1.gen.err"
}

# CPU time (utime + stime, clock ticks) of the responder process: the FastPath host runs under
# `timeout` (its child), charon is the started PID itself (ip netns exec → env → taskset → sh → exec).
resp_cpu_pid() {
  if [ "$1" = fastpath ]; then cat /proc/"$resp_pid"/task/*/children 2>/dev/null | awk '{print $1}'; else echo "$resp_pid"; fi
}
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat 2>/dev/null || echo 0; }

for r in $(seq 1 "$ROUNDS"); do
  for side in fastpath charon; do
    name=$side-$r
    echo "== round $r: $side"
    if [ $side = fastpath ]; then start_fastpath "$name"; else start_charon "$name"; fi
    cpid=$(resp_cpu_pid $side); c0=$(cpu_ticks "$cpid"); w0=$(date +%s.%N)
    generate "$name" || { echo "ike-rate.sh: generator failed:" >&2; cat "$DIR/rounds/$name.gen.err" >&2; exit 1; }
    c1=$(cpu_ticks "$cpid"); w1=$(date +%s.%N)
    echo "{\"cpuSeconds\": $(awk "BEGIN{print ($c1 - $c0) / $(getconf CLK_TCK)}"), \"wallSeconds\": $(awk "BEGIN{print $w1 - $w0}")}" >"$DIR/rounds/$name.cpu.json"
    [ $side = charon ] && charon_stats "$name"
    stop_responder
    /usr/bin/python3 - "$DIR/rounds/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = ", ".join(f"{k}: {v}" for k, v in r["failures"].items()) or "none"
l = r["latencyMs"]
import os
c = json.load(open(sys.argv[1].replace(".json", ".cpu.json")))
us = c["cpuSeconds"] / max(1, r["establishedTotal"]) * 1e6
print(f"   generator CPU {r['generatorCpuSeconds']:.1f} s over {r['generatorWallSeconds']:.1f} s ({100 * r['generatorCpuSeconds'] / max(0.1, r['generatorWallSeconds']):.0f} % of one core)")
print(f"   responder CPU {c['cpuSeconds']:.1f} s over {c['wallSeconds']:.1f} s wall ({100 * c['cpuSeconds'] / c['wallSeconds']:.0f} % of one core), {us:.0f} µs per establishment")
print(f"   {r['establishedPerSecond']:.1f} establishments/s ({r['established']} in {r['seconds']} s, concurrency {r['concurrency']}); "
      f"latency p50 {l['p50']:.1f} ms p90 {l['p90']:.1f} p99 {l['p99']:.1f}; failures: {f}; pending at end {r['pendingAtEnd']}")
PY
  done
done
cp "$DIR/charon.log" "$DIR/rounds/charon.log" 2>/dev/null || true

mkdir -p "$(dirname "$OUT")"
/usr/bin/python3 - "$DIR/rounds" "$OUT" "$ROUNDS" <<'PY'
import json, os, statistics, sys, glob, platform, datetime
d, out, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def load(side):
    return [json.load(open(os.path.join(d, f"{side}-{r}.json"))) for r in range(1, rounds + 1)]
def cpu(side, r):
    try: return json.load(open(os.path.join(d, f"{side}-{r}.cpu.json")))
    except Exception: return None
def resp(side, r):
    p = os.path.join(d, f"{side}-{r}.resp.json")
    try: return json.loads(open(p).read().strip().splitlines()[-1])
    except Exception: return None
fp, ss = load("fastpath"), load("charon")
mf = statistics.median(x["establishedPerSecond"] for x in fp)
ms = statistics.median(x["establishedPerSecond"] for x in ss)
ratio = mf / ms if ms > 0 else float("inf")
ok = ratio >= 2.0
doc = {
    "bar": "ike_establish_rate", "threshold": 2.0, "ratio": round(ratio, 3), "pass": ok,
    "fastpath_median_per_s": round(mf, 1), "charon_median_per_s": round(ms, 1),
    "method": "FastPath IkeEngine initiator (tools/FastPath.IkeLoad) -> responder pinned to one CPU; IKE aes128gcm16-prfsha256-x25519, ESP aes128gcm16, PSK, UDP encap; each SA deleted after its CHILD_SA is installed; cookies off on both",
    "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "load_average": os.getloadavg(),
    "rounds": [{"side": s, "round": i + 1, **x, "responderCpu": cpu(s, i + 1), **({"responder": resp(s, i + 1)} if s == "fastpath" else {})}
               for s, xs in (("fastpath", fp), ("charon", ss)) for i, x in enumerate(xs)],
}
json.dump(doc, open(out, "w"), indent=2)
print(f"fastpath responder: {[round(x['establishedPerSecond'], 1) for x in fp]} -> median {mf:.1f} /s")
print(f"charon responder:   {[round(x['establishedPerSecond'], 1) for x in ss]} -> median {ms:.1f} /s")
print(f"BAR ike_establish_rate {ratio:.2f} 2.0 {'PASS' if ok else 'FAIL'}")
PY
echo "results: $OUT"
