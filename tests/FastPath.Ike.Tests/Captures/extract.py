#!/usr/bin/python3
# Extracts the IKE messages of a pcap as text: one line per UDP datagram,
#   <index> <src>:<sport> <dst>:<dport> <hex of the IKE message>
# The 4-byte non-ESP marker of port 4500 (RFC 3948 §2.2) is stripped; keepalives/ESP are skipped.
import sys
from scapy.all import rdpcap, IP, UDP
n = 0
for p in rdpcap(sys.argv[1]):
    if IP not in p or UDP not in p:
        continue
    u = p[UDP]
    data = bytes(u.payload)
    if 4500 in (u.sport, u.dport):
        if len(data) < 4 or data[:4] != b"\0\0\0\0":
            continue
        data = data[4:]
    print(n, f"{p[IP].src}:{u.sport}", f"{p[IP].dst}:{u.dport}", data.hex())
    n += 1
