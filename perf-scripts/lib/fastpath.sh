#!/usr/bin/env bash
# A FastPath gateway pair in the west/east namespaces of topology.sh (mode gateway), keyed by hand
# (`fastpath manual`, FreeS/WAN's `ipsec spi`/`ipsec eroute` lines; docs/manual-keying.md) with fresh
# random keys per run. IPv4 and IPv6 subnets, outer IPv4 (SPIs 0x1001/0x1002) and outer IPv6 (0x2001/0x2002).
# Usage: fastpath.sh up TAG [SUITE] [raw|udp] [esp|pass|tunnels=N] [extra fastpath manual options...]
#        fastpath.sh down TAG
#   SUITE: aes128gcm16 (default), aes128-sha1, 3des-sha1, aes256gcm16, ...
#   pass:  %pass eroutes instead of SAs: the same AF_PACKET forwarding without crypto (the baseline of
#          the "ESP gateway forwards >= 80% of a bare forwarder" bar).
#   tunnels=N: N tunnels west -> east, one SA and /32 eroute each (fp_write_many_scripts), raw ESP.
# FASTPATH (default: dotnet src/FastPath.Cli/bin/Release/net10.0/fastpath.dll) is the command.
set -euo pipefail
FP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${FASTPATH:=dotnet $FP_ROOT/src/FastPath.Cli/bin/Release/net10.0/fastpath.dll}"

fp_dir() { echo "/tmp/fp-gw-$1"; }

fp_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

fp_keylens() { # SUITE -> "ENC_BYTES AUTH_BYTES"
  case "$1" in
    aes128gcm*) echo "20 0" ;; aes192gcm*) echo "28 0" ;; aes256gcm*) echo "36 0" ;;
    chacha20poly1305) echo "36 0" ;;
    aes128-sha1|aes128-sha) echo "16 20" ;; aes256-sha1) echo "32 20" ;;
    aes128-sha256) echo "16 32" ;; aes256-sha256) echo "32 32" ;; aes256-sha384) echo "32 48" ;;
    3des-sha1) echo "24 20" ;; 3des-md5) echo "24 16" ;;
    *) echo "fastpath.sh: no key lengths known for suite $1" >&2; return 1 ;;
  esac
}

fp_spi_line() { # EDST SPI SRC SUITE ENCAP
  local edst=$1 spi=$2 src=$3 suite=$4 encap=$5 lens enc auth
  lens=$(fp_keylens "$suite")
  enc=${lens% *} auth=${lens#* }
  printf 'spi --edst %s --spi %s --src %s --esp %s --enckey 0x%s' "$edst" "$spi" "$src" "$suite" "$(fp_hex "$enc")"
  [ "$auth" -gt 0 ] && printf ' --authkey 0x%s' "$(fp_hex "$auth")"
  [ "$encap" = udp ] && printf ' --encap udp'
  printf '\n'
}

fp_write_scripts() { # DIR SUITE ENCAP MODE
  local d=$1 suite=$2 encap=$3 mode=$4
  mkdir -p "$d/west" "$d/east"
  if [ "$mode" = pass ]; then
    printf '%s\n' \
      "eroute --add --src 192.0.2.0/25 --dst 192.0.2.128/25 --said %pass" \
      "eroute --add --src 2001:db8:1::/64 --dst 2001:db8:2::/64 --said %pass" >"$d/west.keys"
    printf '%s\n' \
      "eroute --add --src 192.0.2.128/25 --dst 192.0.2.0/25 --said %pass" \
      "eroute --add --src 2001:db8:2::/64 --dst 2001:db8:1::/64 --said %pass" >"$d/east.keys"
    return
  fi
  # One set of keys, written into both scripts: west's outbound 0x1002 is east's inbound 0x1002.
  local sa12 sa21 sb12 sb21
  sa12=$(fp_spi_line 203.0.113.2 0x1002 203.0.113.1 "$suite" "$encap")
  sa21=$(fp_spi_line 203.0.113.1 0x1001 203.0.113.2 "$suite" "$encap")
  sb12=$(fp_spi_line 2001:db8:ffff::2 0x2002 2001:db8:ffff::1 "$suite" "$encap")
  sb21=$(fp_spi_line 2001:db8:ffff::1 0x2001 2001:db8:ffff::2 "$suite" "$encap")
  printf '%s\n' "$sa12" "$sa21" "$sb12" "$sb21" \
    "eroute --add --src 192.0.2.0/25 --dst 192.0.2.128/25 --said esp0x1002@203.0.113.2" \
    "eroute --add --src 2001:db8:1::/64 --dst 2001:db8:2::/64 --said esp0x2002@2001:db8:ffff::2" >"$d/west.keys"
  printf '%s\n' "$sa12" "$sa21" "$sb12" "$sb21" \
    "eroute --add --src 192.0.2.128/25 --dst 192.0.2.0/25 --said esp0x1001@203.0.113.1" \
    "eroute --add --src 2001:db8:2::/64 --dst 2001:db8:1::/64 --said esp0x2001@2001:db8:ffff::1" >"$d/east.keys"
  chmod 600 "$d/west.keys" "$d/east.keys"
}

fp_write_many_scripts() { # DIR SUITE N : N tunnels west -> east (docs/performance.md, netns-matrix.sh)
  # Tunnel i: inner 192.0.2.(2 + i/125)/32 -> 192.0.2.(130 + i%125)/32 (the sunset and sunrise /25s),
  # its own SA (SPI 0x10000+i, own random keys) and /32 eroute on west, its inbound SA on east. The
  # return direction (east -> west: replies, pings) is one SA pair and one /25 eroute, which is also the
  # policy group every inbound SA of east checks decrypted packets against (docs/manual-keying.md).
  local d=$1 suite=$2 n=$3 lens
  lens=$(fp_keylens "$suite")
  mkdir -p "$d/west" "$d/east"
  /usr/bin/python3 - "$d" "$suite" "$n" "${lens% *}" "${lens#* }" <<'PY'
import os, sys
d, suite, n, enc, auth = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if not 1 <= n <= 10000: sys.exit("fastpath.sh: 1..10000 tunnels")
def spi(edst, spi, src):
    line = f"spi --edst {edst} --spi {spi:#x} --src {src} --esp {suite} --enckey 0x{os.urandom(enc).hex()}"
    return line + (f" --authkey 0x{os.urandom(auth).hex()}" if auth else "")
sas = [spi("203.0.113.2", 0x10000 + i, "203.0.113.1") for i in range(n)]
back = spi("203.0.113.1", 0x1001, "203.0.113.2")
def src(i): return f"192.0.2.{2 + i // 125}"
def dst(i): return f"192.0.2.{130 + i % 125}"
west = [back] + sas + [f"eroute --add --src {src(i)}/32 --dst {dst(i)}/32 --said esp{0x10000 + i:#x}@203.0.113.2" for i in range(n)]
east = [back] + sas + ["eroute --add --src 192.0.2.128/25 --dst 192.0.2.0/25 --said esp0x1001@203.0.113.1"]
for name, lines in (("west", west), ("east", east)):
    with open(f"{d}/{name}.keys", "w") as f: f.write("\n".join(lines) + "\n")
    os.chmod(f"{d}/{name}.keys", 0o600)
PY
}

fp_up() {
  local tag=$1 suite=${2:-aes128gcm16} encap=${3:-raw} mode=${4:-esp}
  shift $(( $# < 4 ? $# : 4 ))
  local d; d=$(fp_dir "$tag")
  fp_down "$tag"
  rm -rf "$d"; mkdir -p "$d"
  case "$mode" in
    tunnels=*) fp_write_many_scripts "$d" "$suite" "${mode#tunnels=}" ;;
    *) fp_write_scripts "$d" "$suite" "$encap" "$mode" ;;
  esac
  local side
  for side in west east; do
    # shellcheck disable=SC2086
    ip netns exec "fp-$tag-$side" $FASTPATH manual --script "$d/$side.keys" --inside inside --outside outside \
      --rundir "$d/$side" "$@" >"$d/$side/stdout" 2>&1 &
    echo $! >"$d/$side/pid"
  done
  for side in west east; do
    local i
    for i in $(seq 1 600); do [ -f "$d/$side/ready" ] && break; kill -0 "$(cat "$d/$side/pid")" 2>/dev/null || break; sleep 0.1; done
    [ -f "$d/$side/ready" ] || { echo "fastpath.sh: gateway $side did not start:" >&2; cat "$d/$side/stdout" >&2; return 1; }
  done
}

fp_down() {
  local tag=$1 d side pid
  d=$(fp_dir "$tag")
  for side in west east; do
    [ -f "$d/$side/pid" ] || continue
    pid=$(cat "$d/$side/pid")
    # TERM, not INT: a background job of a non-interactive shell starts with SIGINT ignored.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$d/$side/pid"
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cmd=${1:-}; shift || true
  case "$cmd" in
    up) fp_up "$@" ;;
    down) fp_down "$@" ;;
    *) echo "usage: $0 up TAG [SUITE] [raw|udp] [esp|pass] [manual options] | down TAG" >&2; exit 2 ;;
  esac
fi
