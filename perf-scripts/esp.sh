#!/usr/bin/env bash
# ESP engine bars (issue 3), one core, in-memory frames, BenchmarkDotNet in process with
# MemoryDiagnoser: AES-128-GCM tunnel-mode encapsulation >= 5 Mpps at 64 B and >= 20 Gbit/s of
# inner payload at 1420 B, decapsulation within 15% of encapsulation, 0 B allocated per packet.
# Prints the table, then one line per bar:
#   BAR <name> <measured> <floor> PASS|FAIL
# Usage: perf-scripts/esp.sh [--quick] [--all] [--out perf-scripts/results/esp.json]
#   --all  also AES-128-CBC+HMAC-SHA1 and 3DES-SHA1 at 64/512/1420 B (report table)
# Exit status 0 when every bar passes. The machine is shared and noisy: the script pins nothing;
# run it on an otherwise idle machine for absolute numbers.
set -euo pipefail
exec "$(dirname "$0")/bars.sh" esp esp "$@"
