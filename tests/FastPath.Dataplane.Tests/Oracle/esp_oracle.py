#!/usr/bin/python3
"""ESP oracle for the FastPath dataplane tests (scapy.layers.ipsec.SecurityAssociation).

Reads one JSON document on stdin: {"cases": [...]}; each case describes one SA and a list of
packets, and an operation:
  "decrypt": the packets are wire packets FastPath encapsulated; scapy decrypts and verifies them
             and returns the inner packets (hex) or an error per packet;
  "encrypt": the packets are inner packets; scapy encrypts them with the given sequence numbers
             (ESN high bits too) and returns the wire packets (hex).
Writes {"results": [[{"ok": bool, "hex": str, "error": str}, ...], ...]} to stdout.
Only packet bytes in memory: no network traffic.
"""
import json
import sys

from scapy.all import IP, IPv6, UDP, raw
from scapy.layers.ipsec import ESP, SecurityAssociation


def make_sa(c):
    outer = IPv6 if c["outer6"] else IP
    tunnel = outer(src=c["src"], dst=c["dst"]) if c["mode"] == "tunnel" else None
    natt = UDP(sport=4500, dport=4500) if c["natt"] else None
    kwargs = dict(spi=c["spi"], crypt_algo=c["crypt"], crypt_key=bytes.fromhex(c["crypt_key"]),
                  auth_algo=c["auth"], tunnel_header=tunnel, nat_t_header=natt,
                  esn_en=c["esn"])
    if c["auth"] != "NULL":
        kwargs["auth_key"] = bytes.fromhex(c["auth_key"])
    if c.get("icv"):
        kwargs["crypt_icv_size"] = c["icv"]
    return SecurityAssociation(ESP, **kwargs)


def parse(b):
    return IPv6(b) if (b[0] >> 4) == 6 else IP(b)


def fix_natt(pkt):
    """scapy 2.5 leaves the NAT-T UDP length at 8 after encrypt: set it (and the checksum:
    zero over IPv4 as RFC 3948 allows, computed over IPv6)."""
    b = bytearray(raw(pkt))
    p = parse(bytes(b))
    if UDP in p:
        u = p[UDP]
        u.len = len(u)
        if p.version == 4:
            u.chksum = 0
        else:
            del u.chksum
        return raw(parse(raw(p)))
    return bytes(b)


def check_natt_udp(pkt):
    """RFC 3948 §2.1: ports 4500, length right, checksum zero over IPv4, valid over IPv6."""
    u = pkt[UDP]
    if u.sport != 4500 or u.dport != 4500:
        raise ValueError("NAT-T ports %d->%d" % (u.sport, u.dport))
    if u.len != len(raw(u)):
        raise ValueError("UDP length %d != %d" % (u.len, len(raw(u))))
    if pkt.version == 4:
        if u.chksum != 0:
            raise ValueError("IPv4 NAT-T UDP checksum not zero")
    else:
        fresh = parse(raw(pkt))
        want = fresh[UDP].chksum
        del fresh[UDP].chksum
        if parse(raw(fresh))[UDP].chksum != want:
            raise ValueError("IPv6 UDP checksum wrong")


def run_case(c):
    sa = make_sa(c)
    out = []
    for pk in c["packets"]:
        try:
            data = bytes.fromhex(pk["hex"])
            if c["op"] == "decrypt":
                pkt = parse(data)  # scapy binds UDP port 4500 to ESP (NAT-T)
                if c["natt"]:
                    check_natt_udp(pkt)
                    if c["mode"] == "transport" and pkt.version == 6:
                        # scapy 2.5 bug: IPv6 transport-mode decrypt keeps the UDP layer (it sets
                        # nh on the UDP underlayer). Strip the (already checked) UDP header first.
                        esp = ESP(raw(pkt[UDP].payload))
                        ip = pkt.copy()
                        ip.remove_payload()
                        ip.nh = 50
                        ip.plen = len(esp)
                        pkt = IPv6(raw(ip / esp))
                res = sa.decrypt(pkt, esn_en=c["esn"], esn=pk.get("seq_high", 0))
                out.append({"ok": True, "hex": raw(res).hex()})
            else:
                res = sa.encrypt(parse(data), seq_num=pk["seq"], esn_en=c["esn"], esn=pk.get("seq_high", 0))
                b = fix_natt(res) if c["natt"] else raw(res)
                out.append({"ok": True, "hex": b.hex()})
        except Exception as e:  # reported per packet, the C# side asserts
            out.append({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
    return out


def main():
    doc = json.load(sys.stdin)
    json.dump({"results": [run_case(c) for c in doc["cases"]]}, sys.stdout)


if __name__ == "__main__":
    main()
