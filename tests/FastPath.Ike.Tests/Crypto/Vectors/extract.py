#!/usr/bin/python3
# Turns one capture.sh run (charon filelogs at ike=4/chd=4 + the pcap) into a test-vector file of
# "name = hex" lines: SPIs, nonces and the two IKE_AUTH messages from the pcap; g^ir, SKEYSEED,
# SK_*, AUTH inputs and the CHILD_SA keys exactly as charon printed them.
# Usage: extract.py DIR NAME > NAME.txt
import re, struct, sys

d, name = sys.argv[1], sys.argv[2]

def dumps(path):
    """label -> list of byte strings, in log order, from charon's '%B' hex dumps."""
    out, cur, label = {}, None, None
    for line in open(path, errors='replace'):
        m = re.match(r'^\d+\[(\w+)\] (.*?) => (\d+) bytes @ 0x[0-9a-f]+$', line.rstrip('\n'))
        if m:
            label = m.group(2).strip(); cur = bytearray(); out.setdefault(label, []).append(cur); continue
        m = re.match(r'^\d+\[\w+\]\s+\d+: ((?:[0-9A-F]{2} ?)+)', line)
        if m and cur is not None:
            cur.extend(bytes.fromhex(m.group(1).replace(' ', ''))); continue
        cur = None
    return out

ini = dumps(f'{d}/{name}.initiator.log')
res = dumps(f'{d}/{name}.responder.log')

def pcap_udp(path):
    data = open(path, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    e = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype = struct.unpack(e + 'I', data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + 'IIII', data[off:off + 16]); off += 16
        pkt = data[off:off + incl]; off += incl
        p = pkt[14:] if linktype == 1 else pkt[16:]  # Ethernet or Linux cooked
        if p[0] >> 4 != 4 or p[9] != 17: continue
        ihl = (p[0] & 15) * 4
        sport, dport = struct.unpack('>HH', p[ihl:ihl + 4])
        yield sport, dport, p[ihl + 8:]

msgs = []
for sport, dport, u in pcap_udp(f'{d}/{name}.pcap'):
    if 4500 in (sport, dport):
        if u[:4] != b'\0\0\0\0': continue  # ESP
        u = u[4:]                            # non-ESP marker (RFC 3948 §2.2)
    if len(u) < 28: continue
    msgs.append(u)

def payloads(m):
    nxt, off = m[16], 28
    while nxt != 0 and off + 4 <= len(m):
        ln = struct.unpack('>H', m[off + 2:off + 4])[0]
        yield nxt, m[off + 4:off + ln]
        nxt = m[off]; off += ln

init_req = next(m for m in msgs if m[18] == 34 and not (m[19] & 0x20))
init_resp = next(m for m in msgs if m[18] == 34 and (m[19] & 0x20))
auth_req = next(m for m in msgs if m[18] == 35 and not (m[19] & 0x20))
auth_resp = next(m for m in msgs if m[18] == 35 and (m[19] & 0x20))
ni = next(b for t, b in payloads(init_req) if t == 40)
nr = next(b for t, b in payloads(init_resp) if t == 40)

def one(label, which=0, src=None):
    for s in ([src] if src else [ini, res]):
        if label in s and len(s[label]) > which: return s[label][which].hex()
    return None

rows = [
    ('spi_i', init_req[0:8].hex()), ('spi_r', init_resp[8:16].hex()),
    ('ni', ni.hex()), ('nr', nr.hex()),
    ('g_ir', one('shared Diffie Hellman secret')), ('skeyseed', one('SKEYSEED')),
    ('sk_d', one('Sk_d secret')), ('sk_ai', one('Sk_ai secret')), ('sk_ar', one('Sk_ar secret')),
    ('sk_ei', one('Sk_ei secret')), ('sk_er', one('Sk_er secret')),
    ('sk_pi', one('Sk_pi secret')), ('sk_pr', one('Sk_pr secret')),
    ('ike_sa_init_request', init_req.hex()), ('ike_sa_init_response', init_resp.hex()),
    ('ike_auth_request', auth_req.hex()), ('ike_auth_response', auth_resp.hex()),
    ('psk', one('secret', src=ini)),
    ('initiator_id_rest', one("IDx'", src=ini)),
    ('initiator_auth_octets', one('octets = message + nonce + prf(Sk_px, IDx\')', src=ini)),
    ('initiator_auth', one('AUTH = prf(prf(secret, keypad), octets)', src=ini)),
    ('child_seed', one('seed', src=res) or one('seed')),
    ('child_encr_i', one('encryption initiator key', src=res)), ('child_encr_r', one('encryption responder key', src=res)),
    ('child_integ_i', one('integrity initiator key', src=res)), ('child_integ_r', one('integrity responder key', src=res)),
]
print(f'# strongSwan 5.9.8 charon <-> charon, captured by capture.sh ({name}); values from the filelog (ike=4, chd=4) and the pcap')
for k, v in rows:
    if v is not None: print(f'{k} = {v}')

# With REKEY=1 captures: the CREATE_CHILD_SA exchanges (child rekey with PFS, then IKE SA rekey),
# still encrypted under the first IKE SA's keys, and what charon derived from them.
ccs = [m for m in msgs if m[18] == 36]
if len(ccs) >= 4:
    rk = [
        ('child_rekey_request', ccs[0].hex()), ('child_rekey_response', ccs[1].hex()),
        ('ike_rekey_request', ccs[2].hex()), ('ike_rekey_response', ccs[3].hex()),
        ('child_rekey_g_ir', one('DH secret', 0, ini)),
        ('child_rekey_seed', one('seed', 1, ini)),
        ('child_rekey_encr_i', one('encryption initiator key', 1, ini)), ('child_rekey_encr_r', one('encryption responder key', 1, ini)),
        ('ike_rekey_g_ir', one('shared Diffie Hellman secret', 1, ini)),
        ('ike_rekey_skeyseed', one('SKEYSEED', 1, ini)),
        ('ike_rekey_sk_d', one('Sk_d secret', 1, ini)), ('ike_rekey_sk_ai', one('Sk_ai secret', 1, ini)),
        ('ike_rekey_sk_ar', one('Sk_ar secret', 1, ini)), ('ike_rekey_sk_ei', one('Sk_ei secret', 1, ini)),
        ('ike_rekey_sk_er', one('Sk_er secret', 1, ini)), ('ike_rekey_sk_pi', one('Sk_pi secret', 1, ini)),
        ('ike_rekey_sk_pr', one('Sk_pr secret', 1, ini)),
    ]
    for k, v in rk:
        if v is not None: print(f'{k} = {v}')
