#!/usr/bin/env bash
# FastPath entry point. The README's quick start is exactly:
#   ./run.sh demo    the main job on an embedded default: `fastpath demo`, a tunnel between two FastPath
#                    gateways in network namespaces (ping, iperf3, SA table, eroutes, counters; needs root)
#   ./run.sh bench   `fastpath bench`: the headline numbers (AES-GCM vs BCL, pipeline packets/s at
#                    64/1420 B/IMIX, allocations per packet; no root needed; extra arguments go to it)
#   ./run.sh test    every test (unit, known-answer, differential, ESP, oracles, eroute, allocation),
#                    then the crypto known-answer tests and the ESP vectors again under
#                    DOTNET_EnableAVX512=0 / EnableAVX2=0 / EnableHWIntrinsic=0; ends with one line
#                    "Tests: N passed, N failed, N skipped".
# Both install what they need (apt-get as root; NuGet restore) on a fresh Debian 12 with the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

need_packages() {
  # need_packages CMD:PKG ... : install the Debian packages whose command is missing. CMD may be
  # py:MODULE for a Python module of Debian's /usr/bin/python3 (the python3 first on PATH may be
  # another build without Debian's packages), or f=PATH for a file (a library's header).
  local missing=() probe
  for pair in "$@"; do
    probe=${pair%:*}
    case "$probe" in
      py=*) /usr/bin/python3 -c "import ${probe#py=}" >/dev/null 2>&1 || missing+=("${pair##*:}") ;;
      f=*) [ -e "${probe#f=}" ] || missing+=("${pair##*:}") ;;
      *) command -v "$probe" >/dev/null 2>&1 || missing+=("${pair##*:}") ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh: missing ${missing[*]}: run as root (or install them) first" >&2
    return 1
  fi
  echo "run.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
}

# The AF_XDP program and loader shim (native-shims/README.md), built before the managed build so
# FastPath.Dataplane copies them next to the assemblies. Without the toolchain AF_XDP is
# unavailable and the I/O falls back to AF_PACKET (its AF_XDP tests then fail, they do not skip).
XDP_PACKAGES=(clang:clang llc:llvm make:make cc:gcc f=/usr/include/bpf/libbpf.h:libbpf-dev f=/usr/include/xdp/libxdp.h:libxdp-dev)
native() {
  if make -s -C native-shims check 2>/dev/null; then
    make -s -C native-shims
  else
    echo "run.sh: clang/libbpf-dev missing: native-shims not built, AF_XDP unavailable" >&2
  fi
}

build() {
  native
  dotnet build FastPath.sln -c Release -nologo -v quiet -clp:ErrorsOnly "$@"
}

run_tests() {
  # run_tests LABEL TARGET [ENV=VALUE ...] -- [dotnet test args]
  # TARGET is FastPath.sln (every test project) or one test project; the counts of every
  # project's summary line are added up.
  local label=$1 target=$2; shift 2
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift || true
  local log
  log=$(mktemp)
  echo "== $label" >&2
  set +e
  local trx
  trx=$(mktemp -d)
  env "${envs[@]}" dotnet test "$target" -c Release --no-build -nologo \
      --logger "console;verbosity=minimal" --logger trx --results-directory "$trx" "$@" 2>&1 | tee "$log" | grep -E '^\s+Failed |Passed!|Failed!|error|No test' >&2
  local rc=${PIPESTATUS[0]}
  set -e
  # A failed test's message (the first 60 lines: the assertion and the start of its diagnosis), so a CI log says
  # why, not only which; and the slowest tests of the label, to keep the CI budget in view.
  awk '/^  Failed [^ ]/ {n=60} n > 0 {print "   | " $0; n--; if ($0 ~ /^  Stack Trace:/) n=0}' "$log" >&2
  cat "$trx"/*.trx 2>/dev/null | grep -o 'testName="[^"]*" [^>]*duration="[0-9:.]*"' \
    | sed -E 's/testName="([^"]*)".*duration="([0-9:.]*)"/\2 \1/; s/&quot;/"/g' | grep -v '^00:00:00\.' | sort -r | head -8 | sed 's/^/   slowest: /' >&2 || true
  rm -rf "$trx"
  local lines
  lines=$(grep -E '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" || true)
  rm -f "$log"
  if [ -z "$lines" ]; then
    echo "run.sh: '$label' produced no test summary (crash or build error, exit $rc)" >&2
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
    return
  fi
  local f=0 p=0 s=0 line
  while IFS= read -r line; do
    f=$((f + $(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$line")))
    p=$((p + $(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line")))
    s=$((s + $(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$line")))
  done <<<"$lines"
  TOTAL_PASSED=$((TOTAL_PASSED + p)); TOTAL_FAILED=$((TOTAL_FAILED + f)); TOTAL_SKIPPED=$((TOTAL_SKIPPED + s))
  if [ "$p" -eq 0 ]; then
    echo "run.sh: '$label' ran no test" >&2
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "run.sh: '$label' exited $rc with no failed test (test host crash?)" >&2
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
}

# The netns tests: two FastPath gateways and iperf3/tcpdump/ping between sunset and sunrise, the
# kernel guard (nft), and strongSwan charon (IKE crypto vectors checked against a live charon).
NETNS_PACKAGES=(ip:iproute2 iperf3:iperf3 tcpdump:tcpdump mergecap:tshark nft:nftables ping:iputils-ping
  swanctl:strongswan-swanctl f=/usr/lib/ipsec/charon:strongswan-charon
  f=/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so:libcharon-extra-plugins
  f=/usr/lib/ipsec/plugins/libstrongswan-curve25519.so:libstrongswan-extra-plugins
  f=/usr/lib/ipsec/plugins/libstrongswan-openssl.so:libstrongswan-standard-plugins gnuplot:gnuplot-nox
  certutil:libnss3-tools f=/usr/share/dns/root.key:dns-root-data)
# Libreswan (LibreswanInteropTests) conflicts with strongSwan: perf-scripts/lib/libreswan.sh unpacks
# its .deb into /opt/fp-libreswan and installs its library dependencies itself (docs/libreswan.md).

cmd=${1:-help}
case "$cmd" in
  demo)
    # The demo tunnel: `fastpath demo` — two FastPath gateways in network namespaces, ping, iperf3,
    # SA table, eroutes, counters, all torn down afterwards (needs root). Extra arguments go to it
    # (`./run.sh demo --seconds 10`, `--keying ikev2`, `--json`, `--keep`; a bare SUITE as before).
    if [ "$(id -u)" -ne 0 ]; then
      echo "run.sh demo: needs root (network namespaces, raw packet sockets): run it as root" >&2
      echo "             without root, './run.sh bench' runs the self-benchmark (headline numbers)" >&2
      exit 2
    fi
    # What the demo itself needs: ip, ping, iperf3, nft (the gateways' kernel guard), ethtool
    # (offloads off on the veths); tcpdump for the shell fallback's capture; the rest for AF_XDP.
    need_packages ip:iproute2 ping:iputils-ping iperf3:iperf3 nft:nftables ethtool:ethtool tcpdump:tcpdump "${XDP_PACKAGES[@]}"
    build
    shift
    exec perf-scripts/demo.sh "$@"
    ;;
  bench)
    need_packages openssl:openssl
    build
    shift
    dotnet run --project src/FastPath.Cli -c Release --no-build -- bench "$@"
    ;;
  test)
    # The oracles the tests use: openssl (speed comparisons), scapy (ESP oracle), tshark (ESP
    # decoder). Tests that need them fail rather than skip when they are missing under CI=true.
    need_packages openssl:openssl py=scapy:python3-scapy tshark:tshark ethtool:ethtool "${XDP_PACKAGES[@]}" \
      "${NETNS_PACKAGES[@]}"
    build
    TOTAL_PASSED=0 TOTAL_FAILED=0 TOTAL_SKIPPED=0
    run_tests "all tests" FastPath.sln
    # Known-answer tests and the engine-coverage guard again with wider ISAs switched off, so every
    # fallback path (VPCLMUL256, 128-bit PCLMUL, AVX2/SSE lanes, portable) meets the same vectors.
    knobs="Category=KAT|FullyQualifiedName~EngineCoverage|FullyQualifiedName~EspTransformTests.SealThenOpen"
    crypto=tests/FastPath.Crypto.Tests/FastPath.Crypto.Tests.csproj
    # The ESP packet vectors (RFC 3602, draft-mcgrew-gcm-test) and round trips too: under
    # EnableHWIntrinsic=0 the default engine (what SAs are installed with) is the BCL.
    dataplane=tests/FastPath.Dataplane.Tests/FastPath.Dataplane.Tests.csproj
    espknobs="Category=KAT|FullyQualifiedName~EspRoundTripTests"
    # FASTPATH_GHASH=pclmul: the 128-bit GHASH path with every other AVX-512 path still on.
    for knob in DOTNET_EnableAVX512=0 DOTNET_EnableAVX2=0 DOTNET_EnableHWIntrinsic=0 FASTPATH_GHASH=pclmul; do
      run_tests "KAT, $knob" $crypto $knob -- --filter "$knobs"
      run_tests "ESP vectors, $knob" $dataplane $knob -- --filter "$espknobs"
    done
    # The perf gate (perf-scripts/gate.sh, ~1 min): in-run ratios vs perf-scripts/baseline/gate.json,
    # counted as one test.
    echo "== perf gate" >&2
    if perf-scripts/gate.sh >&2; then
      TOTAL_PASSED=$((TOTAL_PASSED + 1))
    else
      echo "run.sh: perf gate failed (perf-scripts/results/gate.json)" >&2
      TOTAL_FAILED=$((TOTAL_FAILED + 1))
    fi
    echo "Tests: ${TOTAL_PASSED} passed, ${TOTAL_FAILED} failed, ${TOTAL_SKIPPED} skipped"
    [ "$TOTAL_FAILED" -eq 0 ]
    ;;
  *)
    echo "usage: ./run.sh demo [SUITE] [fastpath demo options] | test | bench" >&2
    exit 2
    ;;
esac
