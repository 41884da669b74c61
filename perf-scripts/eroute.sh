#!/usr/bin/env bash
# Eroute (SPD) bars of issue 4, measured in one run on this machine: batched lookup time at 1, 1k,
# 100k and 1M eroutes (IPv4 and IPv6, realistic random mix), single-eroute updates per second on
# the 1M table while another thread looks up, and managed memory per IPv4 eroute at 1M; plus a
# DRAM-latency calibration from the same run. Times are thread CPU time (best pass), so that the
# other processes of a shared machine do not count; wall-clock numbers are printed alongside.
# Ends with one line per bar:
#   BAR <name> <measured> <floor> PASS|FAIL
# Usage: perf-scripts/eroute.sh [--quick] [--out perf-scripts/results/eroute.json]   (~1-2 min)
# Exit status 0 when every bar passes.
set -euo pipefail
exec "$(dirname "$0")/bars.sh" eroute eroute "$@"
