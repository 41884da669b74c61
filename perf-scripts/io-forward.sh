#!/usr/bin/env bash
# Forwarding without crypto, AF_XDP vs AF_PACKET, 64 B and 1400 B frames (issue 5, indicative):
#   ns a (AF_XDP sender, flat out) -> veth -> ns b (one forwarder thread: RX IfB, TX IfB2)
#   -> veth -> ns c (the kernel counts rx_packets and drops)
# 0.3 s warm-up + 2 s per case, four cases (~20 s with setup); namespaces fp-xdp-*, created and
# deleted by the test (tests/FastPath.Dataplane.Tests/Io/AfXdpForwardPerfTests.cs). Root only.
# Prints one "FORWARD ..." line per case; with --out FILE also writes them there.
# Usage: perf-scripts/io-forward.sh [--out perf-scripts/results/io-forward.txt]
set -euo pipefail
cd "$(dirname "$0")/.."
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--out FILE]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "io-forward.sh: needs root (network namespaces, XDP)" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
make -s -C native-shims
proj=tests/FastPath.Dataplane.Tests/FastPath.Dataplane.Tests.csproj
dotnet build "$proj" -c Release -nologo -v quiet -clp:ErrorsOnly
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
timeout 300 dotnet test "$proj" -c Release --no-build -nologo \
  --filter "FullyQualifiedName~AfXdpForwardPerfTests" --logger "console;verbosity=detailed" >"$log" 2>&1
rc=$?
set -e
lines=$(grep -E '^FORWARD ' "$log" | sort -u)
{
  echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$lines"
} | tee ${out:+"$out"}
[ "$rc" -eq 0 ] || { grep -E 'Failed |Error Message' -A3 "$log" >&2; exit "$rc"; }
