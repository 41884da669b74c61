#!/usr/bin/env bash
# Crypto bars, measured as ratios in one run on this machine: FastPath's engines and the BCL under
# BenchmarkDotNet (in-process, MemoryDiagnoser) and `openssl speed` (aes-128-gcm, aes-128-cbc, sha1,
# des-ede3-cbc) back to back. Prints the ratio tables, then one line per bar:
#   BAR <name> <measured> <floor> PASS|FAIL
# Usage: perf-scripts/crypto.sh [--quick] [--out results/crypto.json]
# Exit status 0 when every bar passes.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v openssl >/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
out=perf-scripts/results/crypto.json
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
dotnet build bench/FastPath.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly
exec dotnet run --project bench/FastPath.Benchmarks -c Release --no-build -- bars --out "$out" "${args[@]}"
