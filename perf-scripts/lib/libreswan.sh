#!/usr/bin/env bash
# Libreswan 4.10's pluto as an IKE-only interop peer, WITHOUT installing the libreswan package:
# in Debian 12 it Conflicts: strongswan-charon / strongswan-starter / strongswan-libcharon, and
# strongSwan is the ESP peer every other interop test needs. So the .deb is fetched with
# `apt-get download`, unpacked with `dpkg -x` into a private prefix (default /opt/fp-libreswan,
# FP_LIBRESWAN_PREFIX overrides) and only its library dependencies (none of which conflict) are
# installed with apt. pluto then runs from the prefix inside a network namespace with its own
# config, secrets, NSS db and run dir (docs/libreswan.md). This kernel has XFRM but no ESP
# (CONFIG_INET_ESP unset): pluto starts and negotiates IKE, but every ESP SA it adds is refused
# by the kernel, so it is an IKE-only peer here.
#
#   ensure              install what is missing (idempotent; root), print the prefix. Fails with
#                       a message naming what could not be installed.
#   init DIR            a fresh per-instance tree: DIR/nss (empty-password NSS sql db), DIR/run,
#                       DIR/ipsec.d. The caller writes DIR/ipsec.conf and DIR/ipsec.secrets.
#   pluto NS DIR        exec pluto in netns NS in the foreground (--nofork), log in DIR/pluto.log.
#                       One process: ip netns exec -> sh -> exec pluto, so the caller's PID is pluto's.
#   whack DIR ARGS...   the extracted whack on DIR/run/pluto.ctl (a path: works from any netns).
#
# Why the overlay in `pluto`: pluto forks its compiled-in /usr/libexec/ipsec/addconn at startup to
# load the connections of --config (there is no option to move it). `ip netns exec` runs in a private
# mount namespace, so a read-only overlay of PREFIX/usr/libexec over /usr/libexec exists only for
# pluto and its children; the host's /usr/libexec is neither changed nor hidden.
set -euo pipefail

LSW_PREFIX=${FP_LIBRESWAN_PREFIX:-/opt/fp-libreswan}
LSW_EXEC=$LSW_PREFIX/usr/libexec/ipsec

die() { echo "libreswan.sh: $*" >&2; exit 1; }

lsw_ok() { # the prefix is complete and every library pluto/whack/addconn link against resolves
  [ -x "$LSW_EXEC/pluto" ] && [ -x "$LSW_EXEC/whack" ] && [ -x "$LSW_EXEC/addconn" ] && [ -f "$LSW_PREFIX/.fp-installed" ] || return 1
  command -v certutil >/dev/null 2>&1 || return 1
  [ -e /usr/share/dns/root.key ] || return 1 # pluto's default dnssec-rootkey-file (dns-root-data)
  local b; for b in pluto whack addconn; do
    if ldd "$LSW_EXEC/$b" 2>/dev/null | grep -q 'not found'; then return 1; fi
  done
  "$LSW_EXEC/pluto" --version 2>/dev/null | grep -q '^Libreswan 4\.'
}

lsw_deps() { # DEB: the packages of its Depends that pluto needs at run time (first alternative, no versions)
  dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' | grep -E '^(lib|dns-root-data$)' || true
}

cmd_ensure() {
  if lsw_ok; then echo "$LSW_PREFIX"; return 0; fi
  [ "$(id -u)" -eq 0 ] || die "Libreswan is not set up in $LSW_PREFIX and this is not root: run 'perf-scripts/lib/libreswan.sh ensure' as root"
  # One installer at a time (two test runs may start together); the winner's result is reused.
  exec 9>/run/lock/fp-libreswan.lock || die "cannot open /run/lock/fp-libreswan.lock"
  flock -w 600 9 || die "another libreswan.sh ensure holds /run/lock/fp-libreswan.lock for 10 min"
  if lsw_ok; then echo "$LSW_PREFIX"; return 0; fi
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this setup is for Debian 12 (bookworm)"
  export DEBIAN_FRONTEND=noninteractive
  LSW_TMP=$(mktemp -d /tmp/fp-libreswan-deb.XXXXXX)
  trap 'rm -rf "$LSW_TMP"' EXIT
  local tmp=$LSW_TMP
  chmod 755 "$tmp" # apt's _apt sandbox user writes the download here
  if ! (cd "$tmp" && apt-get download -q libreswan >/dev/null 2>"$tmp/err"); then
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$tmp" && apt-get download -q libreswan >/dev/null 2>"$tmp/err") ||
      die "apt-get download libreswan failed: $(tr '\n' ' ' <"$tmp/err")"
  fi
  local deb; deb=$(ls "$tmp"/libreswan_*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || die "apt-get download libreswan produced no .deb in $tmp"
  local version; version=$(dpkg-deb -f "$deb" Version)
  case "$version" in 4.*) ;; *) echo "libreswan.sh: warning: libreswan $version, this setup was written for 4.10" >&2 ;; esac
  # Library dependencies only (libnss3, libnspr4, libunbound8, libevent-*, libldns3, libcap-ng0,
  # libcurl3-nss, ...) plus libnss3-tools (certutil for the NSS db) and dns-root-data. None of them
  # conflicts with strongSwan; libreswan itself is never installed.
  local want=() p
  for p in $(lsw_deps "$deb") libnss3-tools dns-root-data; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || want+=("$p")
  done
  if [ ${#want[@]} -gt 0 ]; then
    echo "libreswan.sh: installing ${want[*]}" >&2
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${want[@]}" >"$tmp/apt.log" 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 || true
        apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${want[@]}" >"$tmp/apt.log" 2>&1; } ||
      die "apt-get install ${want[*]} failed: $(tail -5 "$tmp/apt.log" | tr '\n' ' ')"
  fi
  # Unpack next to the prefix, then rename: a half-extracted tree is never mistaken for a good one.
  local stage="$LSW_PREFIX.new.$$"
  rm -rf "$stage"; mkdir -p "$stage" 2>/dev/null || die "cannot create $stage (FP_LIBRESWAN_PREFIX=$LSW_PREFIX)"
  dpkg -x "$deb" "$stage" || die "dpkg -x $deb into $stage failed"
  echo "$version" >"$stage/.fp-installed"
  rm -rf "$LSW_PREFIX"; mv "$stage" "$LSW_PREFIX"
  lsw_ok || die "Libreswan unpacked in $LSW_PREFIX but not usable: $(ldd "$LSW_EXEC/pluto" 2>&1 | grep 'not found' | tr '\n' ' ') $(command -v certutil >/dev/null || echo 'certutil missing')"
  echo "libreswan.sh: libreswan $version unpacked in $LSW_PREFIX" >&2
  echo "$LSW_PREFIX"
}

cmd_init() { # DIR
  local d=${1:?init DIR}
  mkdir -p "$d/run" "$d/ipsec.d" "$d/nss"
  [ -f "$d/nss/cert9.db" ] || certutil -N --empty-password -d "sql:$d/nss" || die "certutil -N -d sql:$d/nss failed"
}

cmd_pluto() { # NS DIR
  local ns=${1:?pluto NS DIR} d=${2:?pluto NS DIR}
  lsw_ok || die "Libreswan is not set up in $LSW_PREFIX: run 'perf-scripts/lib/libreswan.sh ensure' first"
  [ -f "$d/ipsec.conf" ] && [ -f "$d/ipsec.secrets" ] && [ -f "$d/nss/cert9.db" ] || die "$d lacks ipsec.conf, ipsec.secrets or nss/ (libreswan.sh init $d)"
  exec ip netns exec "$ns" sh -c 'mount -t overlay fp-libreswan -o "lowerdir=$1/usr/libexec:/usr/libexec" /usr/libexec ||
      { echo "libreswan.sh: mounting the overlay of $1/usr/libexec on /usr/libexec failed (overlayfs?): pluto cannot find addconn" >&2; exit 97; }
    exec "$1/usr/libexec/ipsec/pluto" --nofork --config "$2/ipsec.conf" --secretsfile "$2/ipsec.secrets" \
      --ipsecdir "$2/ipsec.d" --nssdir "$2/nss" --rundir "$2/run" --dumpdir "$2/run" --logfile "$2/pluto.log"' \
    lsw-pluto "$LSW_PREFIX" "$d"
}

cmd_whack() { # DIR ARGS...
  local d=${1:?whack DIR ARGS}; shift
  exec "$LSW_EXEC/whack" --ctlsocket "$d/run/pluto.ctl" "$@"
}

case "${1:-}" in
  ensure) shift; cmd_ensure "$@" ;;
  init) shift; cmd_init "$@" ;;
  pluto) shift; cmd_pluto "$@" ;;
  whack) shift; cmd_whack "$@" ;;
  *) echo "usage: $0 ensure | init DIR | pluto NS DIR | whack DIR ARGS..." >&2; exit 2 ;;
esac
