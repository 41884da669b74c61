#!/usr/bin/env bash
# The adversarial and fault suite (docs/security.md): forgery and replay, cleartext bypass,
# start/stop/kill cycles under traffic, policy churn, malformed floods — real `fastpath manual`
# gateways in network namespaces — and, with two real `fastpath start` IKEv2 daemons: rekey under
# load, IKE_SA_INIT flood from spoofed sources, IKE fuzzing, replace/route churn through the control
# socket (tests/FastPath.Gateway.Tests/Adversarial), bounded in time.
# Prints every FIGURE line the tests measured and one BAR line per bar of issue 9.
# Usage: perf-scripts/reliability.sh [short|long] [--no-build] [--filter CLASS]
#   short (default, the CI profile, ~4 min on an idle 2-core machine): 300k forged/replayed frames,
#         10 start/stop/kill cycles, 8 s of policy churn, 2x5 s malformed-flood iperf3 rounds
#         + IKE: 20 s of rekeys (keylife 3s) under UDP+TCP, 4 s flood at 2000/s, 12k fuzzed messages, 6 s churn
#   long: >= 1.5M forged/replayed frames, 100 cycles, 90 s of churn, 2x15 s rounds
#         + IKE: 660 s of rekeys (keylife 2s, >= 1000 rekeys), 20 s flood at 5000/s, 300k fuzzed, 120 s churn
# Results: perf-scripts/results/reliability-PROFILE.txt (the FIGURE and BAR lines) and the test log
# beside it. Needs root, ip, tcpdump, tshark, iperf3, nft, /usr/bin/python3 with scapy.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-short}
[ $# -gt 0 ] && shift
case "$profile" in short|long) ;; *) echo "usage: $0 [short|long] [--no-build] [--filter CLASS]" >&2; exit 2 ;; esac
build=1 filter=Adversarial
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --filter) filter="Adversarial.$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p perf-scripts/results
out=perf-scripts/results/reliability-$profile.txt
log=perf-scripts/results/reliability-$profile.log
figures=$(mktemp /tmp/fp-reliability-XXXXXX)
trap 'rm -f "$figures"' EXIT
[ $build = 1 ] && dotnet build tests/FastPath.Gateway.Tests -c Release -nologo -v quiet -clp:ErrorsOnly
start=$(date +%s)
rc=0
FP_RELIABILITY_PROFILE=$profile FP_RELIABILITY_FIGURES=$figures CI=${CI:-true} \
  dotnet test tests/FastPath.Gateway.Tests -c Release --no-build --filter "FullyQualifiedName~$filter" \
  --logger "console;verbosity=normal" >"$log" 2>&1 || rc=$?
elapsed=$(( $(date +%s) - start ))

field() { # FIGURE-NAME KEY -> value (last run of that figure)
  # "|| true": a figure that this run did not produce (--filter) is empty, not the end of the script (set -e, pipefail)
  { grep "^FIGURE $1 " "$figures" || true; } | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}
bar() { # NAME OK-CONDITION TEXT
  if [ "$2" = 1 ]; then echo "BAR $1: PASS $3"; else echo "BAR $1: FAIL $3"; fi
}
{
  echo "# perf-scripts/reliability.sh $profile — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), ${elapsed} s, dotnet test exit $rc"
  cat "$figures"
  inj=$(field forgery-replay injected) acc=$(field forgery-replay accepted)
  if [ -n "$inj" ]; then
    want=$([ "$profile" = long ] && echo 1000000 || echo 100000)
    bar forged-replayed-accepted "$([ "$acc" = 0 ] && [ "$inj" -ge "$want" ] && echo 1 || echo 0)" "accepted $acc of $inj injected (bar: 0 of >= $want)"
  fi
  cyc=$(field restart-leak cycles) cw=$(field restart-leak cleartext_west) ce=$(field restart-leak cleartext_east)
  if [ -n "$cyc" ]; then
    want=$([ "$profile" = long ] && echo 100 || echo 10)
    bar restart-cleartext "$([ "$cw" = 0 ] && [ "$ce" = 0 ] && [ "$cyc" -ge "$want" ] && echo 1 || echo 0)" "cleartext frames $((cw + ce)) across $cyc start/stop/kill cycles (bar: 0 across >= $want)"
  fi
  rep=$(field policy-churn eroute_replacements) clr=$(field policy-churn cleartext) wsa=$(field policy-churn wrong_sa) und=$(field policy-churn undecryptable)
  if [ -n "$rep" ]; then
    bar policy-churn "$([ "$clr" = 0 ] && [ "$wsa" = 0 ] && [ "$und" = 0 ] && [ "$rep" -ge 2000 ] && echo 1 || echo 0)" "cleartext $clr, wrong SA $wsa, undecryptable $und across $rep eroute replacements (bar: 0 across thousands)"
  fi
  del=$(field cleartext-bypass delivered)
  if [ -n "$del" ]; then
    bar cleartext-bypass "$([ "$del" = 0 ] && [ "$(field cleartext-bypass leaked)" = 0 ] && echo 1 || echo 0)" "delivered $del of $(field cleartext-bypass attacker_injected) + leaked $(field cleartext-bypass leaked) of $(field cleartext-bypass tunnel_down_injected) (bar: 0)"
  fi
  ratio=$(field malformed ratio)
  if [ -n "$ratio" ]; then
    ok=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.90) ? 1 : 0 }')
    bar malformed-goodput "$ok" "goodput under the malformed flood = $ratio of clean ($(field malformed attack_mbps) vs $(field malformed clean_mbps) Mbit/s, $(field malformed frames_injected) frames; bar: >= 0.90); delivered $(field malformed delivered)"
  fi
  rk=$(field rekey-load rekeys)
  if [ -n "$rk" ]; then
    want=$([ "$profile" = long ] && echo 1000 || echo 10)
    lost=$(field rekey-load udp_lost) load=$(field rekey-load load_drops) fault=$(field rekey-load rekey_fault_drops)
    bar rekey-loss "$([ "$fault" = 0 ] && [ "$lost" -le "$load" ] && [ "$rk" -ge "$want" ] && echo 1 || echo 0)" "rekey-fault drops $fault, UDP lost $lost of $(field rekey-load udp_packets) (load drops counted $load) across $rk rekeys (bar: 0 attributable to rekey across >= $want)"
    g=$(field rekey-load rss_growth_max)
    bar rekey-memory "$(awk -v g="$g" -v l="$profile" 'BEGIN { print (g < (l == "long" ? 0.05 : 0.15)) ? 1 : 0 }')" "RSS growth $g (west $(field rekey-load rss_west_kib) KiB, east $(field rekey-load rss_east_kib) KiB), GC heap ($(field rekey-load gc_heap_kind)) growth $(field rekey-load gc_growth_max) over $rk rekeys (bar: < 0.05 over 1000)"
  fi
  r=$(field ike-dos ratio)
  if [ -n "$r" ]; then
    ok=$(awk -v r="$r" -v c="$(field ike-dos ike_cpu_flood)" 'BEGIN { print (r >= 0.90 && c < 0.8) ? 1 : 0 }')
    bar ike-dos "$ok" "throughput under the IKE_SA_INIT flood = $r of clean ($(field ike-dos flood_mbps) vs $(field ike-dos clean_mbps) Mbit/s), cookies $(field ike-dos cookies_sent) for $(field ike-dos messages_in) messages, half-open $(field ike-dos half_open), control-plane CPU $(field ike-dos ike_cpu_flood) cores (bar: >= 0.90, bounded)"
  fi
  fz=$(field ike-fuzz sent)
  if [ -n "$fz" ]; then
    bar ike-fuzz "$([ "$(field ike-fuzz ike_sa_kept)" = 1 ] && [ "$(field ike-fuzz tunnel_ok)" = 1 ] && echo 1 || echo 0)" "$fz mutated IKE messages: IKE SA kept $(field ike-fuzz ike_sa_kept), tunnel ok $(field ike-fuzz tunnel_ok), invalid west $(field ike-fuzz invalid_west) east $(field ike-fuzz invalid_east)"
  fi
  ch=$(field ike-policy-churn replaces)
  if [ -n "$ch" ]; then
    bar ike-policy-churn "$([ "$(field ike-policy-churn cleartext)" = 0 ] && [ "$(field ike-policy-churn cleartext_on_protected)" = 0 ] && echo 1 || echo 0)" "cleartext $(field ike-policy-churn cleartext) across $ch replaces + $(field ike-policy-churn route_unroute_cycles) route/unroute cycles (PolicyMismatch drops $(field ike-policy-churn policy_mismatch))"
  fi
} | tee "$out"
if [ $rc -ne 0 ]; then
  echo "reliability.sh: tests failed (exit $rc); see $log" >&2
  grep -E "^\s+Failed |Error Message" -A2 "$log" >&2 || true
fi
exit $rc
