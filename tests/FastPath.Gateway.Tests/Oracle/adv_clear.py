#!/usr/bin/python3
# Cleartext frames of the bypass tests (docs/security.md), one per line as "P|F HEX":
#   adv_clear.py DSTMAC SRCMAC attacker  P: claiming sunset's addresses (v4, v6, TCP/UDP/ICMP) to sunrise;
#                                        F: from the attacker's own 203.0.113.66 / 2001:db8:ffff::66 to sunrise
#   adv_clear.py DSTMAC SRCMAC sunset    P: from sunset to sunrise (west's inside, the tunnel down)
import sys
from scapy.all import Ether, IP, IPv6, UDP, TCP, ICMP, ICMPv6EchoRequest, Raw

dmac, smac, who = sys.argv[1], sys.argv[2], sys.argv[3]
E = Ether(dst=dmac, src=smac)
out = []
for n in range(16):
    pay = Raw(b'bypass-%d' % n)
    out.append(('P', E / IP(src='192.0.2.10', dst='192.0.2.138') / UDP(sport=40000 + n, dport=9999) / pay))
    out.append(('P', E / IPv6(src='2001:db8:1::10', dst='2001:db8:2::138') / UDP(sport=40000 + n, dport=9999) / pay))
    out.append(('P', E / IP(src='192.0.2.%d' % (2 + n), dst='192.0.2.138') / TCP(sport=40000 + n, dport=22, flags='S')))
    out.append(('P', E / IP(src='192.0.2.10', dst='192.0.2.%d' % (130 + n)) / ICMP() / pay))
    out.append(('P', E / IPv6(src='2001:db8:1::10', dst='2001:db8:2::138') / ICMPv6EchoRequest() / pay))
    if who == 'attacker':
        out.append(('F', E / IP(src='203.0.113.66', dst='192.0.2.138') / UDP(sport=40000 + n, dport=9999) / pay))
        out.append(('F', E / IPv6(src='2001:db8:ffff::66', dst='2001:db8:2::138') / UDP(sport=40000 + n, dport=9999) / pay))
for kind, f in out:
    print(kind, bytes(f).hex())
