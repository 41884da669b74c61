#!/usr/bin/env bash
# The CI perf gate (docs/performance.md "Perf gate"): runs the CI subset of bench/FastPath.Benchmarks
# (`-- gate`: in-run RATIOS — FastPath AES-GCM vs the BCL's AesGcm, ESP CBC+SHA1 seal vs the BCL,
# ESP engine vs a BCL seal of the same payloads, pipeline vs memcpy of the same bytes, 10,000 SAs vs
# 1 SA — medians of 7 interleaved rounds of thread CPU time; and exact zero-allocation checks),
# compares them with the committed baseline perf-scripts/baseline/gate.json (each metric fails below
# value × (1 − tolerance)) and exits non-zero on a regression.
# Usage: perf-scripts/gate.sh [--rounds N] [--no-build] [--update-baseline]
#   --update-baseline  write this run's medians into perf-scripts/baseline/gate.json (tolerances and
#                      notes kept). Deliberate only: on an otherwise idle machine, run the gate 3 times
#                      first, review `git diff perf-scripts/baseline/`, commit with the reason.
# Prints `GATE name measured baseline floor PASS|FAIL` lines and `GATE RESULT PASS|FAIL` last;
# results in perf-scripts/results/gate.json. Exit: 0 pass, 1 regression, 2 setup/baseline error.
# Example of a caught regression: FASTPATH_GHASH=pclmul perf-scripts/gate.sh (GHASH without VPCLMULQDQ).
set -euo pipefail
cd "$(dirname "$0")/.."
build=1 update=() rounds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --update-baseline) update=(--update-baseline perf-scripts/baseline/gate.json); shift ;;
    --rounds) rounds=(--rounds "$2"); shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--no-build] [--update-baseline]" >&2; exit 2 ;;
  esac
done
if [ $build -eq 1 ]; then
  dotnet build bench/FastPath.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
fi
dll=bench/FastPath.Benchmarks/bin/Release/net10.0/FastPath.Benchmarks.dll
[ -f "$dll" ] || { echo "gate.sh: $dll missing (build bench/FastPath.Benchmarks)" >&2; exit 2; }
mkdir -p perf-scripts/results
set +e
dotnet "$dll" gate --baseline perf-scripts/baseline/gate.json --out perf-scripts/results/gate.json "${rounds[@]}" "${update[@]}"
rc=$?
set -e
exit $rc
