#!/usr/bin/env bash
# Scaling (issue 8), one run on this machine: the in-memory pipeline (both gateways on one core,
# AES-128-GCM) with 1, 100, 1,000 and 10,000 tunnels, traffic spread round robin over them, at 64 B,
# 1420 B and IMIX; and eroute lookups at 1 .. 1M eroutes. Writes perf-scripts/results/scaling-sas.csv,
# scaling-eroutes.csv, scaling.md and the charts docs/scaling-sas.png and docs/scaling-eroutes.png
# (gnuplot-nox), and ends with the bar lines
#   BAR sa_scaling_10k_over_1_{64B,1420B,imix} <measured> 0.9 PASS|FAIL
# Usage: perf-scripts/scaling.sh [--quick] [--no-eroutes]     (~3-5 min; --quick ~1.5)
# Exit status 0 when every bar passes.
#
# A/B of two builds:  perf-scripts/scaling.sh --ab DIR_A DIR_B [ROUNDS]
#   DIR_* = a bench/FastPath.Benchmarks/bin/Release/net10.0 directory (copy it away before rebuilding;
#   an old commit: `git worktree add /tmp/x COMMIT` and build there). Runs `scaling --quick --no-eroutes`
#   of both AT THE SAME TIME, one per core, ROUNDS (3) times, into perf-scripts/results/ab/, and prints
#   the ns/packet of every size and N per round. On a shared machine alternating runs move ±40 % with
#   the load; side by side both see the same load (compare medians; one core is often slower).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--ab" ]; then
  a=$2 b=$3 rounds=${4:-3} out=perf-scripts/results/ab
  mkdir -p "$out"
  for i in $(seq 1 "$rounds"); do
    dotnet "$a/FastPath.Benchmarks.dll" scaling --quick --no-eroutes --out "$out/A-$i" >/dev/null 2>"$out/A-$i.err" & pa=$!
    dotnet "$b/FastPath.Benchmarks.dll" scaling --quick --no-eroutes --out "$out/B-$i" >/dev/null 2>"$out/B-$i.err" & pb=$!
    wait $pa $pb || true
    for x in A B; do
      echo "round $i $x ($( [ $x = A ] && echo "$a" || echo "$b")): $(grep -E '^  (64|1420|imix) B, +[0-9]+ SAs' "$out/$x-$i.err" | awk '{printf "%s/%s=%s ", $1, $3, $5}')"
    done
  done
  exit 0
fi
command -v gnuplot >/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 gnuplot-nox >/dev/null; } || true
dotnet build bench/FastPath.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
out=perf-scripts/results
set +e
dotnet bench/FastPath.Benchmarks/bin/Release/net10.0/FastPath.Benchmarks.dll scaling --out "$out" "$@"
rc=$?
set -e
if ! command -v gnuplot >/dev/null; then echo "scaling.sh: gnuplot missing, charts not drawn (apt-get install gnuplot-nox)" >&2; exit $rc; fi
day=$(date -u +%F)
gnuplot <<GP || echo "scaling.sh: gnuplot failed" >&2
set terminal pngcairo size 900,480 noenhanced
set datafile separator ","
set output "docs/scaling-sas.png"
set title "FastPath in-memory pipeline vs active SAs (AES-128-GCM, both gateways on one core, $day)"
set logscale x
set xlabel "active SAs (traffic spread round robin)"
set ylabel "packets/s relative to 1 SA"
set yrange [0:1.15]
set key bottom left
set grid
plot 0.9 title "bar: 90% of 1 SA" lc rgb "#999999" dt 2, \
     "< grep '^64,' $out/scaling-sas.csv" using 2:6 with linespoints title "64 B" lw 2, \
     "< grep '^1420,' $out/scaling-sas.csv" using 2:6 with linespoints title "1420 B" lw 2, \
     "< grep '^imix,' $out/scaling-sas.csv" using 2:6 with linespoints title "IMIX" lw 2
GP
if [ -f "$out/scaling-eroutes.csv" ]; then
gnuplot <<GP || echo "scaling.sh: gnuplot failed" >&2
set terminal pngcairo size 900,480 noenhanced
set datafile separator ","
set output "docs/scaling-eroutes.png"
set title "FastPath eroute lookup vs table size (IPv4, batched 256, one thread, $day)"
set logscale x
set xlabel "eroutes"
set ylabel "ns per lookup (thread CPU time)"
set grid
set key top left
plot "$out/scaling-eroutes.csv" every ::1 using 1:2 with linespoints title "ns/lookup" lw 2
GP
fi
exit $rc
