#!/usr/bin/python3
# scapy as the far-side gateway of one FastPath gateway (issue 5): run inside east's namespace.
#   send IFACE DSTMAC SPI KEYHEX [SEQBASE]  ESP (AES-128-GCM, tunnel 203.0.113.2 -> 203.0.113.1) carrying
#                                  UDP 192.0.2.138:40000 -> 192.0.2.10:9999 "scapy-N", seq BASE+1..BASE+20
#   recv IFACE SPI KEYHEX SECONDS  sniff ESP from 203.0.113.1, decrypt, print each inner UDP payload
#   listen ADDR PORT SECONDS       (plain sockets, on sunset) print what arrives: "SRC PAYLOAD"
#   udpsend DST PORT COUNT         (plain sockets, on sunset) send "fastpath-N"
import socket
import sys
import time


def sa(spi, key, src, dst):
    return SecurityAssociation(ESP, spi=spi, crypt_algo='AES-GCM', crypt_key=bytes.fromhex(key),
                               auth_algo='NULL', tunnel_header=IP(src=src, dst=dst))

mode = sys.argv[1]
if mode == 'listen':
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((sys.argv[2], int(sys.argv[3])))
    end = time.time() + float(sys.argv[4])
    while time.time() < end:
        sock.settimeout(max(0.1, end - time.time()))
        try:
            data, addr = sock.recvfrom(2048)
        except socket.timeout:
            break
        print(addr[0], data.decode(errors='replace'), flush=True)
    sys.exit(0)
if mode == 'udpsend':
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for n in range(int(sys.argv[4])):
        sock.sendto(b'fastpath-%d' % n, (sys.argv[2], int(sys.argv[3])))
        time.sleep(0.05)
    sys.exit(0)
from scapy.all import Ether, IP, UDP, Raw, sendp, sniff
from scapy.layers.ipsec import SecurityAssociation, ESP
if mode == 'send':
    iface, mac, spi, key = sys.argv[2], sys.argv[3], int(sys.argv[4], 0), sys.argv[5]
    base = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    s = sa(spi, key, '203.0.113.2', '203.0.113.1')
    frames = []
    for n in range(base + 1, base + 21):
        inner = IP(src='192.0.2.138', dst='192.0.2.10', ttl=64) / UDP(sport=40000, dport=9999) / Raw(b'scapy-%d' % n)
        frames.append(Ether(dst=mac) / s.encrypt(IP(bytes(inner)), seq_num=n))
    sendp(frames, iface=iface, verbose=False)
elif mode == 'recv':
    iface, spi, key, secs = sys.argv[2], int(sys.argv[3], 0), sys.argv[4], float(sys.argv[5])
    s = sa(spi, key, '203.0.113.1', '203.0.113.2')
    pkts = sniff(iface=iface, timeout=secs, filter='ip proto 50 and src host 203.0.113.1')
    for p in pkts:
        try:
            d = s.decrypt(p[IP])
            if UDP in d:
                print('DECRYPTED', d[IP].src, d[IP].dst, d[UDP].dport, bytes(d[UDP].payload).decode(errors='replace'), flush=True)
        except Exception as e:  # a tampered or foreign packet: report, do not crash
            print('FAILED', type(e).__name__, e, flush=True)
