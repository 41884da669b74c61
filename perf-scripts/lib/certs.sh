#!/usr/bin/env bash
# A throwaway X.509 PKI for one interop run: a CA and one host certificate per gateway (west, east),
# made with openssl (present on every machine here; strongSwan's `pki` would need strongswan-pki).
# Identities are FQDNs of the reserved .example domain (RFC 2606) plus the host's documentation
# address as a second subjectAltName, so `leftid=@west.example` and `leftid=203.0.113.1` both match
# the certificate (RFC 7296 §3.5: the ID must be bound to the certificate; strongSwan checks SANs).
#
# Usage: certs.sh make DIR [rsa|ecdsa]     writes into DIR:
#          ca.pem ca.key                      the CA ("C=CH, O=FastPath Test, CN=FastPath Test CA")
#          west.pem west.key, east.pem east.key   host certs (CN and SAN DNS=west.example, IP=203.0.113.1 / east…, .2)
#          west.pkcs1.key, east.pkcs1.key     (rsa only) the same keys in PKCS#1 ("BEGIN RSA PRIVATE KEY")
#        certs.sh verify DIR                  openssl verify of both host certs against the CA
# Keys: RSA 2048 (default; authby=rsasig) or ECDSA P-256 (authby=ecdsa). Valid 2 days: test use only.
set -euo pipefail

CERTS_CA_DN="/C=CH/O=FastPath Test/CN=FastPath Test CA"

certs_key() { # TYPE FILE
  case "$1" in
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" 2>/dev/null ;;
    ecdsa) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" 2>/dev/null ;;
    *) echo "certs.sh: key type '$1' is not rsa or ecdsa" >&2; return 2 ;;
  esac
  chmod 600 "$2"
}

certs_make() {
  local dir=$1 type=${2:-rsa}
  mkdir -p "$dir"
  certs_key "$type" "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -out "$dir/ca.pem" -days 2 -sha256 -subj "$CERTS_CA_DN" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
  local host addr
  for host in west east; do
    case $host in west) addr=203.0.113.1 ;; east) addr=203.0.113.2 ;; esac
    certs_key "$type" "$dir/$host.key"
    openssl req -new -key "$dir/$host.key" -out "$dir/$host.csr" -subj "/C=CH/O=FastPath Test/CN=$host.example" 2>/dev/null
    cat >"$dir/$host.ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth,1.3.6.1.5.5.7.3.17
subjectAltName=DNS:$host.example,IP:$addr
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
    openssl x509 -req -in "$dir/$host.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 -sha256 \
      -extfile "$dir/$host.ext" -out "$dir/$host.pem" 2>/dev/null
    rm -f "$dir/$host.csr" "$dir/$host.ext"
    if [ "$type" = rsa ]; then
      openssl pkey -in "$dir/$host.key" -traditional -out "$dir/$host.pkcs1.key" 2>/dev/null
      chmod 600 "$dir/$host.pkcs1.key"
    fi
  done
  rm -f "$dir/ca.srl"
  echo "$type" >"$dir/type"
  certs_verify "$dir"
}

certs_verify() {
  local dir=$1 host
  for host in west east; do
    openssl verify -CAfile "$dir/ca.pem" -purpose sslserver "$dir/$host.pem" >/dev/null \
      || { echo "certs.sh: $host.pem does not verify against $dir/ca.pem" >&2; return 1; }
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cmd=${1:-}; shift || true
  case "$cmd" in
    make) certs_make "$@" ;;
    verify) certs_verify "$@" ;;
    *) echo "usage: $0 make DIR [rsa|ecdsa] | verify DIR" >&2; exit 2 ;;
  esac
fi
