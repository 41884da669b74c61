#!/usr/bin/python3
# scapy helpers of the adversarial suite (tests/FastPath.Gateway.Tests/Adversarial, docs/security.md).
# Frames are printed as hex, one per line; the C# tests mutate and replay them at volume.
#   craft  DSTMAC SRCMAC SPI KEYHEX SEQBASE N [v4|v6]   N valid AES-128-GCM ESP frames, tunnel west->east
#          (203.0.113.1 -> 203.0.113.2, or 2001:db8:ffff::1 -> ::2), seq SEQBASE+1.., carrying
#          UDP sunset:40000 -> sunrise:9999 "adv-SEQ"
#   check  SPI KEYHEX v4|v6 < hex frames            per frame: "VALID" (decrypts) or "FORGED ..." (scapy rejects)
#   malformed DSTMAC SRCMAC                          the malformed-traffic set, "KIND HEX" per line
import sys
from scapy.all import Ether, IP, IPv6, UDP, TCP, ICMP, Raw, IPOption_RR, IPOption_Timestamp, fragment
from scapy.layers.ipsec import SecurityAssociation, ESP

def sa(spi, key, v6):
    hdr = IPv6(src='2001:db8:ffff::1', dst='2001:db8:ffff::2') if v6 else IP(src='203.0.113.1', dst='203.0.113.2')
    return SecurityAssociation(ESP, spi=spi, crypt_algo='AES-GCM', crypt_key=bytes.fromhex(key), auth_algo='NULL', tunnel_header=hdr)

def inner(seq, v6):
    if v6:
        return IPv6(bytes(IPv6(src='2001:db8:1::10', dst='2001:db8:2::138', hlim=64) / UDP(sport=40000, dport=9999) / Raw(b'adv-%d' % seq)))
    return IP(bytes(IP(src='192.0.2.10', dst='192.0.2.138', ttl=64) / UDP(sport=40000, dport=9999) / Raw(b'adv-%d' % seq)))

mode = sys.argv[1]
if mode == 'craft':
    dmac, smac, spi, key, base, n = sys.argv[2], sys.argv[3], int(sys.argv[4], 0), sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
    v6 = len(sys.argv) > 8 and sys.argv[8] == 'v6'
    s = sa(spi, key, v6)
    for q in range(base + 1, base + n + 1):
        print(bytes(Ether(dst=dmac, src=smac) / s.encrypt(inner(q, v6), seq_num=q)).hex())
elif mode == 'check':
    spi, key, v6 = int(sys.argv[2], 0), sys.argv[3], sys.argv[4] == 'v6'
    s = sa(spi, key, v6)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        f = Ether(bytes.fromhex(line))
        try:
            d = s.decrypt(f[IPv6] if v6 else f[IP])
            print('VALID', bytes(d[UDP].payload).decode(errors='replace'))
        except Exception as e:
            print('FORGED', type(e).__name__)
elif mode == 'malformed':
    dmac, smac = sys.argv[2], sys.argv[3]
    E = Ether(dst=dmac, src=smac)
    out = []
    def add(kind, frame):
        out.append((kind, bytes(frame)))
    junk = bytes(range(256)) * 6
    esp = IP(src='203.0.113.66', dst='203.0.113.2', proto=50)
    # IP options on ESP and on cleartext from a protected source
    add('ip-options-esp', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50, options=[IPOption_RR(routers=['0.0.0.0'] * 4)]) / Raw(b'\x00\x00\x10\x02' + b'\x00\x00\x00\x09' + junk[:120]))
    add('ip-options-clear', E / IP(src='192.0.2.10', dst='192.0.2.138', options=[IPOption_Timestamp(flg=0, oflw=0, timestamp=0)]) / UDP(sport=40000, dport=9999) / Raw(b'opt'))
    # fragments: overlapping, tiny, incomplete (ESP and cleartext)
    p = IP(src='203.0.113.1', dst='203.0.113.2', proto=50, id=0x4242) / Raw(b'\x00\x00\x10\x02\x00\x00\x00\x07' + junk[:1000])
    frags = fragment(p, fragsize=400)
    for f in frags:
        add('frag-esp', E / f)
    add('frag-overlap', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50, id=0x4343, flags='MF', frag=0) / Raw(junk[:64]))
    add('frag-overlap', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50, id=0x4343, flags='MF', frag=4) / Raw(junk[:64]))
    add('frag-overlap', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50, id=0x4343, frag=2) / Raw(junk[:64]))
    for i in range(8):
        add('frag-tiny', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50, id=0x4444, flags='MF' if i < 7 else 0, frag=i) / Raw(junk[i * 8:(i + 1) * 8]))
    for i in range(4):
        add('frag-incomplete', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50, id=0x4500 + i, flags='MF', frag=0) / Raw(junk[:200]))
    add('frag-clear', E / IP(src='192.0.2.10', dst='192.0.2.138', id=0x4600, flags='MF', frag=0) / UDP(sport=40000, dport=9999) / Raw(junk[:64]))
    add('frag-clear', E / IP(src='192.0.2.10', dst='192.0.2.138', id=0x4600, frag=9) / Raw(junk[:64]))
    add('frag-v6-clear', E / IPv6(src='2001:db8:1::10', dst='2001:db8:2::138', nh=44) / Raw(b'\x11\x00\x00\x01\x00\x00\x47\x00' + junk[:64]))
    # zero-length and short frames
    add('eth-only', E / Raw(b''))
    add('eth-ip-empty', Ether(dst=dmac, src=smac, type=0x0800))
    add('ip-totlen-0', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50, len=0) / Raw(junk[:40]))
    add('ip-ihl-bad', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50, ihl=15) / Raw(junk[:10]))
    add('ip-totlen-big', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50, len=9000) / Raw(junk[:200]))
    add('ip-version-bad', E / Raw(b'\x75' + junk[:60]))
    # jumbo (a full 1500-byte MTU frame and over-long payload claims)
    add('jumbo-esp', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50) / Raw(b'\x00\x00\x10\x02\x00\x00\x00\x0e' + (junk * 6)[:8972]))
    add('jumbo-clear', E / IP(src='192.0.2.10', dst='192.0.2.138') / UDP(sport=40000, dport=9999) / Raw((junk * 6)[:8900]))
    add('full-mtu-esp', E / IP(src='203.0.113.1', dst='203.0.113.2', proto=50) / Raw(b'\x00\x00\x10\x02\x00\x00\x00\x0b' + junk[:1472]))
    # bad checksums
    bad = IP(src='203.0.113.1', dst='203.0.113.2', proto=50) / Raw(b'\x00\x00\x10\x02\x00\x00\x00\x0c' + junk[:100])
    b = bytearray(bytes(bad)); b[10] ^= 0xff
    add('ip-csum-bad', E / Raw(bytes(b)))
    add('clear-csum-bad', E / IP(src='192.0.2.10', dst='192.0.2.138') / UDP(sport=40000, dport=9999, chksum=0x1234) / Raw(b'bad'))
    # truncated ESP: SPI only, SPI+seq, header+IV, header+IV+short ICV
    for n in (1, 4, 8, 12, 16, 20, 23):
        add('esp-truncated', E / esp / Raw((b'\x00\x00\x10\x02\x00\x00\x00\x0d' + junk)[:n]))
    add('esp-spi-zero', E / esp / Raw(b'\x00' * 48))
    # ESP-in-UDP on 4500 (truncated, keepalive, zero marker = IKE), garbage to 500
    add('udp4500-short', E / IP(src='203.0.113.66', dst='203.0.113.2') / UDP(sport=4500, dport=4500) / Raw(b'\x00\x00\x10'))
    add('udp4500-keepalive', E / IP(src='203.0.113.66', dst='203.0.113.2') / UDP(sport=4500, dport=4500) / Raw(b'\xff'))
    add('udp4500-esp-garbage', E / IP(src='203.0.113.66', dst='203.0.113.2') / UDP(sport=4500, dport=4500) / Raw(b'\x00\x00\x10\x02' + junk[:80]))
    add('udp500-garbage', E / IP(src='203.0.113.66', dst='203.0.113.2') / UDP(sport=500, dport=500) / Raw(junk[:300]))
    # IPv6 ESP with extension headers, truncated
    add('v6-esp-truncated', E / IPv6(src='2001:db8:ffff::66', dst='2001:db8:ffff::2', nh=50) / Raw(b'\x00\x00\x20\x02'))
    add('v6-hbh-esp', E / IPv6(src='2001:db8:ffff::66', dst='2001:db8:ffff::2', nh=0) / Raw(b'\x32\x00\x01\x04\x00\x00\x00\x00' + b'\x00\x00\x20\x02\x00\x00\x00\x01' + junk[:64]))
    add('v6-payload-len-big', E / IPv6(src='2001:db8:ffff::66', dst='2001:db8:ffff::2', nh=50, plen=9000) / Raw(junk[:64]))
    # non-IP ethertypes, VLAN-tagged junk
    add('ethertype-junk', Ether(dst=dmac, src=smac, type=0x88b5) / Raw(junk[:60]))
    add('vlan-junk', Ether(dst=dmac, src=smac, type=0x8100) / Raw(b'\x00\x05\x08\x00' + junk[:60]))
    for kind, f in out:
        print(kind, f.hex())
