#!/usr/bin/env bash
# Shared runner of the bars modes of bench/FastPath.Benchmarks (one process, one run, ratios side by
# side): builds the benchmarks, then runs MODE with --out (default perf-scripts/results/NAME.json,
# plus a .md table beside it). The per-area scripts (crypto.sh, esp.sh, eroute.sh) call this.
# Usage: perf-scripts/bars.sh MODE NAME [--out FILE] [mode options...]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=$1 name=$2; shift 2
out=perf-scripts/results/$name.json
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
dotnet build bench/FastPath.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly
exec dotnet run --project bench/FastPath.Benchmarks -c Release --no-build -- "$mode" --out "$out" "${args[@]}"
