#!/usr/bin/env bash
# The demo tunnel (README quick start). A thin wrapper: the demo itself is `fastpath demo`
# (src/FastPath.Cli/Demo, docs/demo.md) — West/East/Sunset/Sunrise in network namespaces, two FastPath
# gateways, ping both ways, iperf3 with live throughput, SA table, eroutes, counters, teardown by PID
# also on Ctrl-C. Usage: demo.sh [SUITE] [fastpath demo options...], e.g. demo.sh --seconds 10 --json.
#
# Until the `fastpath` command registers the `demo` verb (the System.CommandLine rewrite of
# Program.cs), this falls back to the shell version below: the same topology and manual keys via
# perf-scripts/lib, plus a capture of what crosses the public link. Needs root. Bounded: ~30 s.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (it creates network namespaces): run it as root (sudo ./run.sh demo)" >&2; exit 2; }
FP_DLL=src/FastPath.Cli/bin/Release/net10.0/fastpath.dll
args=("$@")
# The old positional form `demo.sh SUITE` still works: a first argument that is not an option is the suite.
if [ ${#args[@]} -gt 0 ] && [ "${args[0]#-}" = "${args[0]}" ]; then args=(--suite "${args[@]}"); fi
if dotnet "$FP_DLL" demo --help >/dev/null 2>&1; then
  exec dotnet "$FP_DLL" demo "${args[@]}"
fi
echo "demo: this fastpath has no 'demo' verb yet; running the shell demo" >&2
SUITE=aes128gcm16
if [ ${#args[@]} -ge 2 ] && [ "${args[0]}" = --suite ]; then SUITE=${args[1]}; fi
source perf-scripts/lib/topology.sh
source perf-scripts/lib/fastpath.sh
TAG=demo$$
cleanup() { fp_down "$TAG" 2>/dev/null || true; topo_down "$TAG"; }
trap cleanup EXIT
trap 'echo "demo: interrupted (INT)" >&2; exit 130' INT
trap 'echo "demo: terminated (TERM)" >&2; exit 143' TERM
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "topology: sunset 192.0.2.10 -- west 203.0.113.1 == east 203.0.113.2 -- sunrise 192.0.2.138 (netns fp-$TAG-*)"
topo_up "$TAG" gateway
step "two FastPath gateways, manual keys ($SUITE, fresh random keys)"
fp_up "$TAG" "$SUITE" raw esp
sed -n '/^0 /p;/eroute add/s/.*info: fastpath\[0\] //p' "$(fp_dir "$TAG")/west/stdout" | sed 's/^/  west: /'
S=fp-$TAG-sunset R=fp-$TAG-sunrise
step "ping sunset -> sunrise through the tunnel (IPv4, IPv6)"
for _ in 1 2 3 4 5; do ip netns exec "$S" ping -c1 -W1 192.0.2.138 >/dev/null 2>&1 && break; done
for _ in 1 2 3 4 5; do ip netns exec "$S" ping -6 -c1 -W1 2001:db8:2::138 >/dev/null 2>&1 && break; done
ip netns exec "$S" ping -c 5 -i 0.2 -W 1 192.0.2.138 | tail -2
ip netns exec "$S" ping -6 -c 5 -i 0.2 -W 1 2001:db8:2::138 | tail -2
step "what crosses the public link (captured on east's outside interface)"
# tcpdump and the pings run in sessions of their own (setsid): no signal of theirs reaches this script.
setsid sh -c "sleep 1; ip netns exec '$S' ping -c 4 -i 0.3 -W 1 192.0.2.138" >/dev/null 2>&1 &
setsid -w ip netns exec "fp-$TAG-east" timeout 6 tcpdump -U --immediate-mode -n -c 4 -i outside 'ip or ip6' 2>/dev/null || true
step "iperf3 TCP sunset -> sunrise, 5 s"
ip netns exec "$R" timeout 20 iperf3 -s -1 >/dev/null 2>&1 &
sleep 0.5
ip netns exec "$S" timeout 15 iperf3 -c 192.0.2.138 -t 5 -f m | grep -E "sender|receiver"
sleep 1.2
step "west's counters (drops by reason, totals)"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["totals"]; print("  encapsulated %d, decapsulated %d, rx inside %d, tx outside %d" % (t["Encapsulated"], t["Decapsulated"], t["RxInside"], t["TxOutside"])); print("  drops: " + (", ".join("%s %d" % kv for kv in d["drops"].items()) or "none"))' "$(fp_dir "$TAG")/west/counters.json" 2>/dev/null || cat "$(fp_dir "$TAG")/west/counters.json"
step "tearing down"
