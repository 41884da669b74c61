#!/usr/bin/env bash
# The end-to-end throughput matrix (issues 5 and 8): the West/East/Sunset/Sunrise topology in network
# namespaces (perf-scripts/lib/topology.sh), traffic from sunset to sunrise through, in ONE run:
#   kernel         plain kernel forwarding on west/east (the machine's ceiling)
#   strongswan     two strongSwan charons, kernel-libipsec (userspace ESP-in-UDP over TUN), per suite
#   fastpath-pass  two FastPath gateways with %pass eroutes: the same AF_PACKET forwarding, no crypto
#   fastpath       two FastPath gateways, manual keys, raw ESP, AF_PACKET (`--io afpacket`), per suite
#   fastpath-xdp   the same on AF_XDP (`--io afxdp`; native-shims must be built), per suite
# suites (--suites): aes128gcm16, aes256gcm16, aes128-sha1 (AES-128-CBC + HMAC-SHA1-96), 3des-sha1;
# tests (--tests): tcp1 / tcp4 (iperf3 TCP, 1 and 4 streams, Gbit/s received), udp64 / udp512 /
# udp1400 (iperf3 -u -b 0 -l SIZE, packets/s received);
# tunnels (--tunnels 1,N, N ≤ 10,000): FastPath AES-128-GCM with N manually keyed tunnels
# (lib/fastpath.sh fp_write_many_scripts: one SA and /32 eroute per tunnel), UDP 64 B from
# lib/udpspray.c spread round robin over all N (source, destination) pairs, packets/s counted by an
# nft counter on sunrise; the same spray with 1 tunnel is the reference.
# Writes perf-scripts/results/netns-matrix.{csv,json}, docs/netns-matrix.md and docs/netns-matrix.png
# (+ docs/netns-matrix-tunnels.png) through lib/matrix-render.py (MATRIX_NOTE= adds a note), and ends
# with BAR lines. Every run is bounded (iperf3 -t,
# timeouts); namespaces are deleted at the end, also on failure or Ctrl-C.
# Usage: perf-scripts/netns-matrix.sh [--time SECONDS] [--configs LIST] [--suites LIST] [--tests LIST]
#        [--tunnels LIST] [--fastpath-args "..."]
#   defaults: --time 5 --configs kernel,strongswan,fastpath-pass,fastpath,fastpath-xdp
#             --suites aes128gcm16,aes256gcm16,aes128-sha1,3des-sha1 --tests tcp1,tcp4,udp64,udp512,udp1400
#             --tunnels 1,10000      (the full matrix is ~20 min on 2 cores; see docs/performance.md)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=5
CONFIGS=kernel,strongswan,fastpath-pass,fastpath,fastpath-xdp
SUITES=aes128gcm16,aes256gcm16,aes128-sha1,3des-sha1
TESTS=tcp1,tcp4,udp64,udp512,udp1400
TUNNELS=1,10000
FPARGS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --time) DUR=$2; shift 2 ;;
    --configs) CONFIGS=$2; shift 2 ;;
    --suites) SUITES=$2; shift 2 ;;
    --tests) TESTS=$2; shift 2 ;;
    --tunnels) TUNNELS=$2; shift 2 ;;
    --fastpath-args) FPARGS=$2; shift 2 ;;
    *) echo "usage: $0 [--time S] [--configs LIST] [--suites LIST] [--tests LIST] [--tunnels LIST] [--fastpath-args ARGS]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "netns-matrix.sh: needs root (network namespaces)" >&2; exit 1; }
for c in iperf3 ip ethtool nft gnuplot cc /usr/lib/ipsec/charon swanctl; do
  command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || { echo "netns-matrix.sh: missing $c (apt-get install iperf3 iproute2 ethtool nftables gnuplot-nox gcc strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-extra-plugins libstrongswan-standard-plugins)" >&2; exit 1; }
done
source perf-scripts/lib/topology.sh
source perf-scripts/lib/strongswan.sh
source perf-scripts/lib/fastpath.sh
TAG=${MATRIX_TAG:-mx}$$  # MATRIX_TAG: a name part of your own (namespaces are fp-TAG-...)
SPRAY=/tmp/fp-$TAG-udpspray
cleanup() { fp_down "$TAG" 2>/dev/null || true; ss_down "$TAG" 2>/dev/null || true; topo_down "$TAG"; rm -f "$SPRAY"; }
trap cleanup EXIT INT TERM

dotnet build src/FastPath.Cli -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
cc -O2 -o "$SPRAY" perf-scripts/lib/udpspray.c

S=fp-$TAG-sunset R=fp-$TAG-sunrise
iperf() { # ARGS... -> JSON on stdout
  ip netns exec "$R" timeout $((DUR + 15)) iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
  local spid=$!
  sleep 0.5
  ip netns exec "$S" timeout $((DUR + 10)) iperf3 -c 192.0.2.138 -p 5201 -t "$DUR" -J "$@" || true
  wait "$spid" 2>/dev/null || true
}
tcp_gbps() { /usr/bin/python3 -c 'import json,sys
try: d=json.load(sys.stdin); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))
except Exception: print("0")'; }
udp_pps() { /usr/bin/python3 -c 'import json,sys
try:
  d=json.load(sys.stdin); s=d["end"]["sum"]; print("%.0f" % ((s["packets"]-s["lost_packets"])/s["seconds"]))
except Exception: print("0")'; }

CSV=perf-scripts/results/netns-matrix.csv
mkdir -p perf-scripts/results docs
echo "config,io,suite,tunnels,test,value,unit" >"$CSV"
declare -A RES
ROWS=()
record() { # ROW TEST VALUE UNIT IO SUITE TUNNELS
  RES[$1,$2]=$3
  printf '%s,%s,%s,%s,%s,%s,%s\n' "${1%%/*}" "$5" "$6" "$7" "$2" "$3" "$4" >>"$CSV"
}
pinged() {
  local _i
  for _i in 1 2 3 4 5; do ip netns exec "$S" ping -c 2 -i 0.2 -W 1 "$@" >/dev/null 2>&1 && return 0; done
  return 1
}
measure() { # ROW IO SUITE
  local row=$1 io=$2 suite=$3 t v
  ROWS+=("$row")
  pinged 192.0.2.138 || echo "netns-matrix.sh: $row: ping through failed" >&2
  IFS=, read -ra TT <<<"$TESTS"
  for t in "${TT[@]}"; do
    case "$t" in
      tcp1) v=$(iperf | tcp_gbps); record "$row" "$t" "$v" Gbit/s "$io" "$suite" 1 ;;
      tcp4) v=$(iperf -P 4 | tcp_gbps); record "$row" "$t" "$v" Gbit/s "$io" "$suite" 1 ;;
      udp*) v=$(iperf -u -b 0 -l "${t#udp}" | udp_pps); record "$row" "$t" "$v" pps "$io" "$suite" 1 ;;
      *) echo "netns-matrix.sh: unknown test $t" >&2; exit 2 ;;
    esac
  done
  echo "$row: $(for t in "${TT[@]}"; do printf '%s %s  ' "$t" "${RES[$row,$t]}"; done)" >&2
}

# The N-tunnel spray: 80 sources x 125 destinations (10,000 pairs) inside the sunset/sunrise /25s.
spray_addresses() {
  local i
  for i in $(seq 2 81); do [ "$i" -eq 10 ] || ip -n "$S" addr add "192.0.2.$i/25" dev eth0 2>/dev/null || true; done
  for i in $(seq 130 254); do [ "$i" -eq 138 ] || ip -n "$R" addr add "192.0.2.$i/25" dev eth0 2>/dev/null || true; done
  ip netns exec "$R" nft -f - <<'NFT'
table inet fpspray {
  counter sprayed { }
  chain pre { type filter hook prerouting priority -300; udp dport 9 counter name sprayed drop; }
}
NFT
}
spray_pps() { # NSRC NDST PAYLOAD -> packets/s counted on sunrise
  ip netns exec "$R" nft reset counter inet fpspray sprayed >/dev/null
  ip netns exec "$S" timeout $((DUR + 5)) "$SPRAY" 192.0.2.2 "$1" 192.0.2.130 "$2" "$3" "$DUR" 9 >/dev/null || true
  sleep 0.5
  local n
  n=$(ip netns exec "$R" nft list counter inet fpspray sprayed | sed -nE 's/.*packets ([0-9]+).*/\1/p')
  /usr/bin/python3 -c "print('%.0f' % (${n:-0} / $DUR))"
}

IFS=, read -ra CFG <<<"$CONFIGS"
IFS=, read -ra SUI <<<"$SUITES"
for cfg in "${CFG[@]}"; do
  case "$cfg" in
    kernel) topo_up "$TAG" kernel; measure kernel kernel none; topo_down "$TAG" ;;
    fastpath-pass)
      topo_up "$TAG" gateway; fp_up "$TAG" aes128gcm16 raw pass --io afpacket $FPARGS
      measure fastpath-pass afpacket none
      fp_down "$TAG"; topo_down "$TAG" ;;
    strongswan|fastpath|fastpath-xdp)
      for suite in "${SUI[@]}"; do
        case "$cfg" in
          strongswan) topo_up "$TAG" routed; ss_up "$TAG" "$suite" aes128gcm16-prfsha256-x25519; io=libipsec ;;
          fastpath) topo_up "$TAG" gateway; fp_up "$TAG" "$suite" raw esp --io afpacket $FPARGS; io=afpacket ;;
          fastpath-xdp) topo_up "$TAG" gateway; fp_up "$TAG" "$suite" raw esp --io afxdp $FPARGS; io=afxdp ;;
        esac
        measure "$cfg/$suite" "$io" "$suite"
        cp "$(fp_dir "$TAG")/west/stdout" "/tmp/fp-matrix-$cfg-$suite-west.log" 2>/dev/null || true
        fp_down "$TAG"; ss_down "$TAG"; topo_down "$TAG"
      done ;;
    *) echo "netns-matrix.sh: unknown config $cfg" >&2; exit 2 ;;
  esac
done

IFS=, read -ra TUN <<<"$TUNNELS"
declare -A SPRAYED
for ntun in "${TUN[@]}"; do
  [ "$ntun" -ge 1 ] && [ "$ntun" -le 10000 ] || { echo "netns-matrix.sh: --tunnels values must be 1..10000" >&2; exit 2; }
  topo_up "$TAG" gateway
  spray_addresses
  fp_up "$TAG" aes128gcm16 raw "tunnels=$ntun" --io afpacket $FPARGS
  pinged -I 192.0.2.2 192.0.2.130 || echo "netns-matrix.sh: $ntun tunnels: ping through tunnel 0 failed" >&2
  # Warm the next hops of every destination on east (the first packet to each is a resolve request).
  ip netns exec "$S" timeout 5 "$SPRAY" 192.0.2.2 80 192.0.2.130 125 64 1 9 >/dev/null || true
  sleep 1
  # Spread over all n tunnels: sources x destinations covers pairs 0..n-1 exactly when n = k x 125.
  if [ "$ntun" -ge 125 ]; then nsrc=$(( (ntun + 124) / 125 )); ndst=125; else nsrc=1; ndst=$ntun; fi
  [ "$ntun" -eq 1 ] && { nsrc=1; ndst=1; }
  SPRAYED[$ntun]=$(spray_pps "$nsrc" "$ndst" 64)
  printf 'fastpath,afpacket,aes128gcm16,%s,spray64,%s,pps\n' "$ntun" "${SPRAYED[$ntun]}" >>"$CSV"
  echo "tunnels $ntun: udp 64 B spray over $((nsrc * ndst)) pairs: ${SPRAYED[$ntun]} pps" >&2
  cp "$(fp_dir "$TAG")/west/counters.json" "/tmp/fp-matrix-tunnels-$ntun-west-counters.json" 2>/dev/null || true
  cp "$(fp_dir "$TAG")/east/counters.json" "/tmp/fp-matrix-tunnels-$ntun-east-counters.json" 2>/dev/null || true
  fp_down "$TAG"; topo_down "$TAG"
done

ratio() { /usr/bin/python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('%.2f' % (a/b if b>0 else 0))" "$1" "$2"; }
# docs/netns-matrix.md, results JSON and the plot inputs (/tmp/fp-matrix-*.dat) from the CSV.
/usr/bin/python3 perf-scripts/lib/matrix-render.py "$CSV" "$DUR" "${MATRIX_NOTE:-}"
dat=/tmp/fp-matrix-cells.dat
gnuplot <<GP || echo "netns-matrix.sh: gnuplot failed (plot skipped)" >&2
set terminal pngcairo size 1200,480 noenhanced
set output "docs/netns-matrix.png"
set style data histograms
set style fill solid 0.8
set boxwidth 0.8
set xtics rotate by -40 font ",8"
set multiplot layout 1,2 title "FastPath netns matrix ($DUR s per cell, $(date -u +%F), 2 shared cores)"
set title "iperf3 TCP, 1 stream (Gbit/s)"
plot "$dat" using 2:xtic(1) notitle lc rgb "#3366aa"
set title "UDP 1400 B (kpps received)"
plot "$dat" using 3:xtic(1) notitle lc rgb "#aa6633"
unset multiplot
GP
if [ -s /tmp/fp-matrix-spray.dat ]; then
  dat=/tmp/fp-matrix-spray.dat
  gnuplot <<GP || echo "netns-matrix.sh: gnuplot failed (plot skipped)" >&2
set terminal pngcairo size 800,420 noenhanced
set output "docs/netns-matrix-tunnels.png"
set title "FastPath gateways, UDP 64 B spread over N tunnels ($DUR s, $(date -u +%F))"
set logscale x
set xlabel "tunnels (SAs west -> east)"
set ylabel "packets/s received"
set yrange [0:*]
set grid
plot "$dat" using 1:2 with linespoints lw 2 notitle
GP
fi

bar() { # NAME MEASURED FLOOR
  local ok; ok=$(/usr/bin/python3 -c "import sys; print('PASS' if float(sys.argv[1])>=float(sys.argv[2]) else 'FAIL')" "$2" "$3")
  echo "BAR $1 $2 $3 $ok"
  echo "- \`BAR $1 $2 $3 $ok\`" >>docs/netns-matrix.md
}
printf '\nBars (issues 5 and 8), from this run:\n\n' >>docs/netns-matrix.md
if [[ -n "${RES[fastpath/aes128gcm16,tcp1]:-}" && -n "${RES[strongswan/aes128gcm16,tcp1]:-}" ]]; then
  bar tcp_fastpath_vs_strongswan_x "$(ratio "${RES[fastpath/aes128gcm16,tcp1]}" "${RES[strongswan/aes128gcm16,tcp1]}")" 5.0
fi
if [[ -n "${RES[fastpath/aes128gcm16,udp1400]:-}" && -n "${RES[fastpath-pass,udp1400]:-}" ]]; then
  bar esp_vs_bare_forwarder_1400B "$(ratio "${RES[fastpath/aes128gcm16,udp1400]}" "${RES[fastpath-pass,udp1400]}")" 0.80
fi
if [ ${#TUN[@]} -gt 1 ]; then
  last=${TUN[${#TUN[@]}-1]}
  bar "tunnels_${last}_over_${TUN[0]}_udp64" "$(ratio "${SPRAYED[$last]}" "${SPRAYED[${TUN[0]}]}")" 0.90
fi
