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
# Generators: GENERATORS processes (default 1: since the engine receives on its own thread one process drives a
# responder core with ~70 % of the generator core; 4 processes on one core cost more in switching), each its own engine thread, its own SOURCES source
# addresses (198.51.100.10+g*SOURCES ...) and its own CONCURRENCY/GENERATORS slots (child selectors
# 192.0.2.<slot>/32), all pinned to GEN_CPU, all counting the same wall-clock window (--start-at).
# CPU: the responder's utime+stime from /proc/PID/stat sampled at the window's start and end (warm-up
# and JIT excluded for both responders): share of its core (~100 % = saturated, the rate is the
# responder's) and CPU µs per establishment; capacity = rate / share (what a saturated core would do).
# FastPath's CHILD_SAs go into a running FastPath dataplane (SINK=dataplane, the default: one worker,
# DataplaneChildSaSink, as the daemon) — the equivalent of charon's kernel-libipsec installs;
# SINK=counting uses the counting sink (keying only).
# The generators reuse one X25519 key pair each (GEN_ARGS default --reuse-ke; GEN_ARGS= for a fresh key per SA):
# the generator is not the side under test, and one FastPath initiator core must outrun a responder core.
# CONCURRENCY 256 (the maximum: one 192.0.2.x/32 per slot) so that charon, latency-bound at 128, saturates too.
# Options (environment): ROUNDS=3 SECONDS_PER_ROUND=10 WARMUP=3 CONCURRENCY=256 SOURCES=16 GENERATORS=1
#   SINK=dataplane|counting RESP_CPU=1 GEN_CPU=0 OUT=perf-scripts/results/ike-rate.json KEEP_LOGS=DIR CHARON_LOG_LEVEL=0|1
#   RESP_ENV="VAR=value ..." (responder environment) RESP_ARGS (e.g. --sink-sync) GEN_ARGS (default --reuse-ke)
#   PERF_RECORD=DIR (perf record -g of the FastPath responder over each window; with DOTNET_PerfMapEnabled=1)
# Bounded: every round is time-limited (timeout), the trap deletes namespaces and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
ROUNDS=${ROUNDS:-3} SECS=${SECONDS_PER_ROUND:-10} WARMUP=${WARMUP:-3} CONC=${CONCURRENCY:-256} NSRC=${SOURCES:-16}
NGEN=${GENERATORS:-1} SINK=${SINK:-dataplane}
export SINK GENERATORS=$NGEN
[ $((NGEN * NSRC)) -le 240 ] && [ "$CONC" -le 256 ] && [ $((CONC % NGEN)) = 0 ] || { echo "ike-rate.sh: need GENERATORS*SOURCES <= 240, CONCURRENCY <= 256 and a multiple of GENERATORS" >&2; exit 2; }
RESP_ENV=${RESP_ENV:-} RESP_ARGS=${RESP_ARGS:-} GEN_ARGS=${GEN_ARGS---reuse-ke}
export RESP_ENV RESP_ARGS GEN_ARGS
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
for i in $(seq 0 $((NGEN * NSRC - 1))); do ip -n "$NSL" addr add 198.51.100.$((10 + i))/24 dev "$VL"; done
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
  ip netns exec "$NSR" taskset -c "$RESP_CPU" timeout $((SECS + WARMUP + 60)) env $RESP_ENV dotnet "$TOOL" --respond --bind $RESP_IP --psk "$PSK" $([ "$SINK" = dataplane ] && echo --dataplane) $RESP_ARGS \
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
# GENERATORS processes, one shared wall-clock window; the responder's CPU is sampled at its edges.
generate() {
  local start_at pids=() g rc=0
  start_at=$(awk "BEGIN{printf \"%.3f\", $(date +%s.%N) + 3}")   # dotnet start-up under load
  for g in $(seq 0 $((NGEN - 1))); do
    ip netns exec "$NSL" taskset -c "$GEN_CPU" timeout $((SECS + WARMUP + 60)) dotnet "$TOOL" --target $RESP_IP \
      --sources 198.51.100.$((10 + g * NSRC))+$NSRC --concurrency $((CONC / NGEN)) --slot-offset $((g * CONC / NGEN)) \
      --start-at "$start_at" --warmup "$WARMUP" --seconds "$SECS" --psk "$PSK" --label "$1-g$g" $GEN_ARGS \
      --json "$DIR/rounds/$1.g$g.json" >/dev/null 2>"$DIR/rounds/$1.g$g.err" &
    pids+=($!)
  done
  sleep_until "$(awk "BEGIN{printf \"%.3f\", $start_at + $WARMUP}")"; c0=$(cpu_ticks "$cpid"); w0=$(date +%s.%N)
  # PERF_RECORD=DIR: perf record -g of the FastPath responder over the window (run with DOTNET_PerfMapEnabled=1).
  if [ -n "${PERF_RECORD:-}" ] && [ "${1%%-*}" = fastpath ]; then
    mkdir -p "$PERF_RECORD"; perf record -q -g -F 2000 -p "$cpid" -o "$PERF_RECORD/$1.data" -- sleep "$SECS" >/dev/null 2>&1 &
  fi
  sleep_until "$(awk "BEGIN{printf \"%.3f\", $start_at + $WARMUP + $SECS}")"; c1=$(cpu_ticks "$cpid"); w1=$(date +%s.%N)
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}
sleep_until() { local d; d=$(awk "BEGIN{d = $1 - $(date +%s.%N); print (d > 0 ? d : 0)}"); sleep "$d"; }

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
    cpid=$(resp_cpu_pid $side)
    generate "$name" || { echo "ike-rate.sh: generator failed:" >&2; cat "$DIR/rounds/$name".g*.err >&2; exit 1; }
    echo "{\"cpuSeconds\": $(awk "BEGIN{print ($c1 - $c0) / $(getconf CLK_TCK)}"), \"wallSeconds\": $(awk "BEGIN{print $w1 - $w0}")}" >"$DIR/rounds/$name.cpu.json"
    [ $side = charon ] && charon_stats "$name"
    stop_responder
    /usr/bin/python3 - "$DIR/rounds" "$name" <<'PY'
import json, sys, glob, os
d, name = sys.argv[1], sys.argv[2]
gens = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(d, name + ".g*.json")))]
c = json.load(open(os.path.join(d, name + ".cpu.json")))
fail = {}
for g in gens:
    for k, v in g["failures"].items(): fail[k] = fail.get(k, 0) + v
est = sum(g["established"] for g in gens)
secs = gens[0]["seconds"]
rate = est / secs
share = c["cpuSeconds"] / c["wallSeconds"]
r = {"establishedPerSecond": rate, "established": est, "seconds": secs, "generators": len(gens),
     "concurrency": sum(g["concurrency"] for g in gens), "failures": fail,
     "pendingAtEnd": sum(g["pendingAtEnd"] for g in gens),
     "generatorCpuSeconds": sum(g["generatorCpuSeconds"] for g in gens), "generatorWallSeconds": max(g["generatorWallSeconds"] for g in gens),
     "latencyMsP50": max(g["latencyMs"]["p50"] for g in gens), "latencyMsP99": max(g["latencyMs"]["p99"] for g in gens),
     "responderCpuShare": share, "responderCpuUsPerEstablishment": c["cpuSeconds"] / max(1, est) * 1e6,
     "capacityPerSecond": rate / share if share > 0 else 0, "perGenerator": gens}
json.dump(r, open(os.path.join(d, name + ".json"), "w"), indent=1)
f = ", ".join(f"{k}: {v}" for k, v in fail.items()) or "none"
print(f"   {rate:.1f} establishments/s ({est} in {secs} s, {len(gens)} generators, concurrency {r['concurrency']}); p50 {r['latencyMsP50']:.1f} ms p99 {r['latencyMsP99']:.1f}; failures: {f}; pending at end {r['pendingAtEnd']}")
print(f"   responder in the window: {100 * share:.0f} % of its core, {r['responderCpuUsPerEstablishment']:.0f} µs CPU per establishment, capacity {r['capacityPerSecond']:.0f} /s; "
      f"generators {100 * r['generatorCpuSeconds'] / max(0.1, r['generatorWallSeconds']):.0f} % of one core")
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
cf = statistics.median(x["responderCpuUsPerEstablishment"] for x in fp)
cs = statistics.median(x["responderCpuUsPerEstablishment"] for x in ss)
sf = statistics.median(x["responderCpuShare"] for x in fp)
sc = statistics.median(x["responderCpuShare"] for x in ss)
doc = {
    "bar": "ike_establish_rate", "threshold": 2.0, "ratio": round(ratio, 3), "pass": ok,
    "fastpath_median_per_s": round(mf, 1), "charon_median_per_s": round(ms, 1),
    "fastpath_median_cpu_us_per_establishment": round(cf), "charon_median_cpu_us_per_establishment": round(cs),
    "cpu_ratio": round(cs / cf, 3) if cf > 0 else None,
    "fastpath_median_core_share": round(sf, 3), "charon_median_core_share": round(sc, 3),
    "sink": os.environ.get("SINK", "dataplane"), "generators": int(os.environ.get("GENERATORS", "1")), "generator_args": os.environ.get("GEN_ARGS", ""), "responder_env": os.environ.get("RESP_ENV", ""), "responder_args": os.environ.get("RESP_ARGS", ""),
    "method": "FastPath IkeEngine initiators (tools/FastPath.IkeLoad, GENERATORS processes on one CPU, each reusing one X25519 key pair when generator_args has --reuse-ke; the responders generate a fresh key per SA) -> responder pinned to the other CPU; IKE aes128gcm16-prfsha256-x25519, ESP aes128gcm16, PSK, UDP encap; each SA deleted after its CHILD_SA is installed; cookies off on both; responder CPU from /proc over the measurement window",
    "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "load_average": os.getloadavg(),
    "rounds": [{"side": s, "round": i + 1, **{k: v for k, v in x.items() if k != "perGenerator"}, "responderCpu": cpu(s, i + 1), **({"responder": resp(s, i + 1)} if s == "fastpath" else {})}
               for s, xs in (("fastpath", fp), ("charon", ss)) for i, x in enumerate(xs)],
}
json.dump(doc, open(out, "w"), indent=2)
print(f"fastpath responder: {[round(x['establishedPerSecond'], 1) for x in fp]} -> median {mf:.1f} /s")
print(f"charon responder:   {[round(x['establishedPerSecond'], 1) for x in ss]} -> median {ms:.1f} /s")
print(f"responder CPU per establishment (median): fastpath {cf:.0f} µs ({100 * sf:.0f} % of its core), charon {cs:.0f} µs ({100 * sc:.0f} %): charon/fastpath {cs / cf:.2f}")
print(f"BAR ike_establish_rate {ratio:.2f} 2.0 {'PASS' if ok else 'FAIL'}")
PY
echo "results: $OUT"
