#!/usr/bin/env bash
# perf helpers for FastPath (linux-perf; `apt-get install linux-perf`). .NET JIT-compiled frames are
# named through the perf map the runtime writes with DOTNET_PerfMapEnabled=1 (/tmp/perf-PID.map).
# Usage:
#   perf-scripts/profile.sh stat   [--] CMD...      perf stat (cycles, instructions, cache and branch misses) of CMD
#   perf-scripts/profile.sh record [--] CMD...      perf record -g of CMD, then the top of perf report (--no-children)
#   perf-scripts/profile.sh pipeline [SAS] [SIZE] [SECONDS]   record the in-memory pipeline (bench `pipeline-loop`)
# Output: perf-scripts/results/profile-*.txt (report) and /tmp/fp-prf-perf.data (raw).
# Examples:
#   perf-scripts/profile.sh pipeline 10000 64 8      # where the 10,000-SA pipeline spends its time
#   perf-scripts/profile.sh stat -- dotnet bench/FastPath.Benchmarks/bin/Release/net10.0/FastPath.Benchmarks.dll pipeline-loop 1 64 5
# In a VM without PMU access perf stat prints "<not supported>" for hardware counters; perf record then
# falls back to the cpu-clock software event (-e cpu-clock), which still samples correctly.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v perf >/dev/null || {
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 linux-perf >/dev/null
  else echo "profile.sh: perf missing (apt-get install linux-perf)" >&2; exit 1; fi
}
export DOTNET_PerfMapEnabled=1
# W^X double mapping hides JIT code from perf (frames show as memfd:doublemapper): off while profiling.
export DOTNET_EnableWriteXorExecute=0
mkdir -p perf-scripts/results
mode=${1:-}; shift || true
[ "${1:-}" = "--" ] && shift
data=/tmp/fp-prf-perf.data
event=cycles
perf stat -e cycles true >/dev/null 2>&1 || event=cpu-clock
case "$mode" in
  stat)
    perf stat -e task-clock,"$event",instructions,branch-misses,cache-misses,L1-dcache-load-misses -- "$@" 2>&1 | tee perf-scripts/results/profile-stat.txt
    ;;
  record)
    perf record -e "$event" -g -o "$data" -- "$@"
    perf report -i "$data" --no-children -g none --sort dso,symbol --stdio 2>/dev/null | grep -E "^ +[0-9]" | head -60 | tee perf-scripts/results/profile-record.txt
    ;;
  pipeline)
    sas=${1:-1} size=${2:-64} secs=${3:-8}
    dotnet build bench/FastPath.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
    perf record -e "$event" -g -o "$data" -- dotnet bench/FastPath.Benchmarks/bin/Release/net10.0/FastPath.Benchmarks.dll pipeline-loop "$sas" "$size" "$secs"
    perf report -i "$data" --no-children -g none --sort dso,symbol --stdio 2>/dev/null | grep -E "^ +[0-9]" | head -45 | tee "perf-scripts/results/profile-pipeline-$sas-$size.txt"
    ;;
  *)
    sed -n '2,16p' "$0" >&2
    exit 2
    ;;
esac
