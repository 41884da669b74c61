#!/usr/bin/env bash
# Crypto bars, measured as ratios in one run on this machine: FastPath's engines and the BCL under
# BenchmarkDotNet (in-process, MemoryDiagnoser) and `openssl speed` (aes-128-gcm, aes-128-cbc, sha1,
# des-ede3-cbc) back to back. Prints the ratio tables, then one line per bar:
#   BAR <name> <measured> <floor> PASS|FAIL
# Usage: perf-scripts/crypto.sh [--quick] [--out results/crypto.json]
# Exit status 0 when every bar passes.
set -euo pipefail
command -v openssl >/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
exec "$(dirname "$0")/bars.sh" bars crypto "$@"
