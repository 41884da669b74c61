using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace FastPath.Ike.Messages;

// Body parsers of every known payload type. Each gets the body (the bytes after the generic
// payload header, already bounded by the payload length, itself bounded by the message) and the
// body's offset in the message for error reporting. Rules, all from RFC 7296 §3.3-3.16 unless
// cited otherwise:
// - fixed fields present (minimum body sizes); substructure lengths >= their header and within the
//   remaining body; no bytes left over after the last substructure;
// - counts (transforms, selectors, SPIs) must equal what the bytes hold: a count is never used to
//   size an allocation before the bytes it claims were found (a claimed count of 255 selectors in a
//   20-byte body fails on the bytes, not after allocating 255 entries);
// - per-type sizes: Ni/Nr 16..256, ID_IPV4_ADDR 4, ID_IPV6_ADDR 16, ID_NULL 0 (RFC 7619), TS
//   selector length 16 (IPv4) / 40 (IPv6), Delete SPI size 0 (IKE) or 4 (ESP/AH) with exactly
//   count*size bytes, Notify SPI size 0/4/8, NAT_DETECTION_* 20 bytes (SHA-1), COOKIE 1..64 (§2.6),
//   INVALID_KE_PAYLOAD 2 bytes, EAP length field == payload body.
// Reserved fields are ignored on receipt (§3.2) and written as zero.
internal static class PayloadParsers
{
    private static ParseError Err(ParseErrorCode c, int off, string why) => new(c, off, why);

    public static IkePayload? Parse(PayloadType type, bool critical, ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        IkePayload? p = type switch
        {
            PayloadType.SecurityAssociation => ParseSa(b, off, out e),
            PayloadType.KeyExchange => ParseKe(b, off, out e),
            PayloadType.IdInitiator => ParseId(true, b, off, out e),
            PayloadType.IdResponder => ParseId(false, b, off, out e),
            PayloadType.Certificate => b.Length < 1 ? Fail(out e, Err(ParseErrorCode.Truncated, off, "CERT without encoding")) : new CertPayload((CertEncoding)b[0], b[1..].ToArray()),
            PayloadType.CertificateRequest => ParseCertReq(b, off, out e),
            PayloadType.Authentication => ParseAuth(b, off, out e),
            PayloadType.Nonce => ParseNonce(b, off, out e),
            PayloadType.Notify => ParseNotify(b, off, out e),
            PayloadType.Delete => ParseDelete(b, off, out e),
            PayloadType.VendorId => new VendorIdPayload(b.ToArray()),
            PayloadType.TsInitiator => ParseTs(true, b, off, out e),
            PayloadType.TsResponder => ParseTs(false, b, off, out e),
            PayloadType.Configuration => ParseCp(b, off, out e),
            PayloadType.Eap => ParseEap(b, off, out e),
            _ => Fail(out e, Err(ParseErrorCode.InvalidValue, off, $"payload type {(byte)type} has no body parser")),
        };
        if (p is null) return null;
        return critical ? WithCritical(p) : p;
    }

    private static IkePayload? Fail(out ParseError e, ParseError err)
    {
        e = err;
        return null;
    }

    // Critical is init-only; the parsers build without it and this sets it on the rare payload that had it.
    private static IkePayload WithCritical(IkePayload p) => p switch
    {
        SaPayload x => new SaPayload(x.Proposals) { Critical = true },
        KePayload x => new KePayload(x.DhGroup, x.KeyData) { Critical = true },
        IdPayload x => new IdPayload(x.IsInitiator, x.IdType, x.Data) { Critical = true },
        CertPayload x => new CertPayload(x.Encoding, x.Data) { Critical = true },
        CertReqPayload x => new CertReqPayload(x.Encoding, x.Authorities) { Critical = true },
        AuthPayload x => new AuthPayload(x.Method, x.Data) { Critical = true },
        NoncePayload x => new NoncePayload(x.Nonce) { Critical = true },
        NotifyPayload x => new NotifyPayload(x.Protocol, x.NotifyType, x.Spi, x.Data) { Critical = true },
        DeletePayload x => new DeletePayload(x.Protocol, x.SpiSize, x.Spis) { Critical = true },
        VendorIdPayload x => new VendorIdPayload(x.VendorId) { Critical = true },
        TsPayload x => new TsPayload(x.IsInitiator, x.Selectors) { Critical = true },
        CpPayload x => new CpPayload(x.CfgType, x.Attributes) { Critical = true },
        EapPayload x => new EapPayload(x.Message) { Critical = true },
        _ => p,
    };

    // §3.3: proposals, each with transforms, each with attributes.
    private static SaPayload? ParseSa(ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < 8) { e = Err(ParseErrorCode.Truncated, off, "SA payload without a proposal"); return null; }
        var proposals = new List<Proposal>();
        int o = 0;
        int prevNum = 0;
        while (true)
        {
            if (b.Length - o < 8) { e = Err(ParseErrorCode.Truncated, off + o, "proposal header"); return null; }
            byte last = b[o];
            int plen = BinaryPrimitives.ReadUInt16BigEndian(b[(o + 2)..]);
            if (plen < 8 || plen > b.Length - o) { e = Err(ParseErrorCode.BadLength, off + o + 2, $"proposal length {plen}, {b.Length - o} bytes left"); return null; }
            if (last != 0 && last != 2) { e = Err(ParseErrorCode.InvalidValue, off + o, $"proposal Last Substruc {last} (0 or 2)"); return null; }
            byte num = b[o + 4];
            // §3.3.1: proposal numbers start at one and each one is one more than the previous; a
            // response carries the single accepted proposal with its original number.
            if (num == 0 || (prevNum != 0 && num != prevNum + 1)) { e = Err(ParseErrorCode.InvalidValue, off + o + 4, $"proposal number {num} after {prevNum}"); return null; }
            prevNum = num;
            var proto = (ProtocolId)b[o + 5];
            int spiSize = b[o + 6];
            int ntrans = b[o + 7];
            if (proto is not (ProtocolId.Ike or ProtocolId.Ah or ProtocolId.Esp)) { e = Err(ParseErrorCode.InvalidValue, off + o + 5, $"protocol id {(byte)proto}"); return null; }
            bool spiOk = proto == ProtocolId.Ike ? spiSize is 0 or 8 : spiSize == 4;
            if (!spiOk) { e = Err(ParseErrorCode.InvalidValue, off + o + 6, $"SPI size {spiSize} for {proto}"); return null; }
            if (8 + spiSize > plen) { e = Err(ParseErrorCode.BadLength, off + o + 2, "proposal shorter than its SPI"); return null; }
            var p = b.Slice(o, plen);
            byte[] spi = p.Slice(8, spiSize).ToArray();
            var transforms = new List<Transform>(Math.Min(ntrans, (plen - 8 - spiSize) / 8));
            int t = 8 + spiSize;
            for (int i = 0; i < ntrans; i++)
            {
                if (p.Length - t < 8) { e = Err(ParseErrorCode.Truncated, off + o + t, $"transform {i + 1} of {ntrans}"); return null; }
                byte tlast = p[t];
                int tlen = BinaryPrimitives.ReadUInt16BigEndian(p[(t + 2)..]);
                if (tlen < 8 || tlen > p.Length - t) { e = Err(ParseErrorCode.BadLength, off + o + t + 2, $"transform length {tlen}"); return null; }
                bool isLast = i == ntrans - 1;
                if (tlast != (isLast ? 0 : 3)) { e = Err(ParseErrorCode.InvalidValue, off + o + t, $"transform Last Substruc {tlast} at {i + 1} of {ntrans}"); return null; }
                var ttype = (TransformType)p[t + 4];
                ushort tid = BinaryPrimitives.ReadUInt16BigEndian(p[(t + 6)..]);
                var attrs = new List<TransformAttribute>();
                int a = t + 8;
                while (a < t + tlen)
                {
                    if (t + tlen - a < 4) { e = Err(ParseErrorCode.Truncated, off + o + a, "transform attribute header"); return null; }
                    ushort at = BinaryPrimitives.ReadUInt16BigEndian(p[a..]);
                    ushort av = BinaryPrimitives.ReadUInt16BigEndian(p[(a + 2)..]);
                    if ((at & 0x8000) != 0)
                    {
                        attrs.Add(new TransformAttribute((ushort)(at & 0x7fff), true, av, []));
                        a += 4;
                    }
                    else
                    {
                        if (av > t + tlen - a - 4) { e = Err(ParseErrorCode.BadLength, off + o + a + 2, $"attribute length {av}"); return null; }
                        // §3.3.5: Key Length is TV only.
                        if (at == TransformAttribute.KeyLengthType) { e = Err(ParseErrorCode.InvalidValue, off + o + a, "Key Length attribute in TLV form"); return null; }
                        attrs.Add(new TransformAttribute(at, false, 0, p.Slice(a + 4, av).ToArray()));
                        a += 4 + av;
                    }
                }
                transforms.Add(new Transform(ttype, tid, attrs));
                t += tlen;
            }
            if (t != plen) { e = Err(ParseErrorCode.TrailingData, off + o + t, $"{plen - t} bytes after the transforms of proposal {num}"); return null; }
            proposals.Add(new Proposal(num, proto, spi, transforms));
            o += plen;
            if (last == 0) break;
            if (o == b.Length) { e = Err(ParseErrorCode.InvalidValue, off + o - plen, "proposal says more follow, none does"); return null; }
        }
        if (o != b.Length) { e = Err(ParseErrorCode.TrailingData, off + o, $"{b.Length - o} bytes after the last proposal"); return null; }
        return new SaPayload(proposals);
    }

    private static KePayload? ParseKe(ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < 5) { e = Err(ParseErrorCode.Truncated, off, $"KE body {b.Length} bytes"); return null; }
        return new KePayload(BinaryPrimitives.ReadUInt16BigEndian(b), b[4..].ToArray());
    }

    private static IdPayload? ParseId(bool initiator, ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < 4) { e = Err(ParseErrorCode.Truncated, off, "ID header"); return null; }
        var t = (IdType)b[0];
        int n = b.Length - 4;
        bool ok = t switch
        {
            IdType.Ipv4Addr => n == 4,
            IdType.Ipv6Addr => n == 16,
            IdType.Null => n == 0,
            IdType.Fqdn or IdType.Rfc822Addr or IdType.DerAsn1Dn or IdType.DerAsn1Gn or IdType.KeyId or IdType.FcName => n > 0,
            _ => false,
        };
        if (!ok) { e = Err(ParseErrorCode.InvalidValue, off, $"ID type {(byte)t} with {n} bytes"); return null; }
        return new IdPayload(initiator, t, b[4..].ToArray());
    }

    private static CertReqPayload? ParseCertReq(ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < 1) { e = Err(ParseErrorCode.Truncated, off, "CERTREQ without encoding"); return null; }
        // §3.7: for X.509 the Certification Authority field is a list of 20-byte SHA-1 key hashes.
        if ((CertEncoding)b[0] == CertEncoding.X509Signature && (b.Length - 1) % 20 != 0) { e = Err(ParseErrorCode.BadLength, off + 1, $"{b.Length - 1} bytes of CA hashes, not a multiple of 20"); return null; }
        return new CertReqPayload((CertEncoding)b[0], b[1..].ToArray());
    }

    private static AuthPayload? ParseAuth(ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < 5) { e = Err(ParseErrorCode.Truncated, off, $"AUTH body {b.Length} bytes"); return null; }
        return new AuthPayload((AuthMethod)b[0], b[4..].ToArray());
    }

    private static NoncePayload? ParseNonce(ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < NoncePayload.MinLength || b.Length > NoncePayload.MaxLength) { e = Err(ParseErrorCode.BadLength, off, $"nonce of {b.Length} bytes (16..256)"); return null; }
        return new NoncePayload(b.ToArray());
    }

    private static NotifyPayload? ParseNotify(ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < 4) { e = Err(ParseErrorCode.Truncated, off, "notify header"); return null; }
        var proto = (ProtocolId)b[0];
        int spiSize = b[1];
        var type = (NotifyType)BinaryPrimitives.ReadUInt16BigEndian(b[2..]);
        if ((byte)proto > 3) { e = Err(ParseErrorCode.InvalidValue, off, $"notify protocol id {(byte)proto}"); return null; }
        if (spiSize is not (0 or 4 or 8) || (spiSize == 4 && proto is not (ProtocolId.Ah or ProtocolId.Esp))) { e = Err(ParseErrorCode.InvalidValue, off + 1, $"notify SPI size {spiSize} for protocol {(byte)proto}"); return null; }
        if (4 + spiSize > b.Length) { e = Err(ParseErrorCode.Truncated, off + 4, "notify SPI"); return null; }
        int dlen = b.Length - 4 - spiSize;
        string? bad = type switch
        {
            NotifyType.NatDetectionSourceIp or NotifyType.NatDetectionDestinationIp when dlen != 20 => "NAT detection hash is 20 bytes",
            NotifyType.Cookie when dlen is < 1 or > 64 => "COOKIE is 1..64 bytes",
            NotifyType.InvalidKePayload when dlen != 2 => "INVALID_KE_PAYLOAD carries a 2-byte group",
            NotifyType.InvalidMessageId when dlen != 4 => "INVALID_MESSAGE_ID carries a 4-byte message id",
            NotifyType.SignatureHashAlgorithms when dlen % 2 != 0 => "SIGNATURE_HASH_ALGORITHMS is a list of 2-byte ids",
            NotifyType.RekeySa when spiSize != 4 => "REKEY_SA names a 4-byte SPI",
            NotifyType.SetWindowSize when dlen != 4 => "SET_WINDOW_SIZE carries 4 bytes",
            _ => null,
        };
        if (bad is not null) { e = Err(ParseErrorCode.InvalidValue, off, $"{type}: {bad} (got {dlen})"); return null; }
        return new NotifyPayload(proto, type, b.Slice(4, spiSize).ToArray(), b[(4 + spiSize)..].ToArray());
    }

    private static DeletePayload? ParseDelete(ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < 4) { e = Err(ParseErrorCode.Truncated, off, "delete header"); return null; }
        var proto = (ProtocolId)b[0];
        int spiSize = b[1];
        int count = BinaryPrimitives.ReadUInt16BigEndian(b[2..]);
        // §3.11: IKE SA -> SPI size 0 and no SPIs (the SPIs are in the header); ESP/AH -> 4.
        bool ok = proto switch
        {
            ProtocolId.Ike => spiSize == 0 && count == 0,
            ProtocolId.Ah or ProtocolId.Esp => spiSize == 4 && count > 0,
            _ => false,
        };
        if (!ok) { e = Err(ParseErrorCode.InvalidValue, off, $"delete protocol {(byte)proto}, SPI size {spiSize}, {count} SPIs"); return null; }
        if (b.Length - 4 != spiSize * count) { e = Err(ParseErrorCode.BadLength, off + 2, $"{count} SPIs of {spiSize} bytes in {b.Length - 4} bytes"); return null; }
        var spis = new List<byte[]>(count);
        for (int i = 0; i < count; i++) spis.Add(b.Slice(4 + i * spiSize, spiSize).ToArray());
        return new DeletePayload(proto, (byte)spiSize, spis);
    }

    private static TsPayload? ParseTs(bool initiator, ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < 4) { e = Err(ParseErrorCode.Truncated, off, "TS header"); return null; }
        int count = b[0];
        if (count == 0) { e = Err(ParseErrorCode.InvalidValue, off, "zero traffic selectors"); return null; }
        var list = new List<TrafficSelector>(Math.Min(count, (b.Length - 4) / 16));
        int o = 4;
        for (int i = 0; i < count; i++)
        {
            if (b.Length - o < 8) { e = Err(ParseErrorCode.Truncated, off + o, $"selector {i + 1} of {count}"); return null; }
            var t = (TsType)b[o];
            int alen = TrafficSelector.AddressLength(t);
            if (alen < 0) { e = Err(ParseErrorCode.InvalidValue, off + o, $"TS type {(byte)t}"); return null; }
            int slen = BinaryPrimitives.ReadUInt16BigEndian(b[(o + 2)..]);
            if (slen != 8 + 2 * alen) { e = Err(ParseErrorCode.BadLength, off + o + 2, $"selector length {slen} for {t}"); return null; }
            if (b.Length - o < slen) { e = Err(ParseErrorCode.Truncated, off + o, $"selector {i + 1} needs {slen} bytes"); return null; }
            list.Add(new TrafficSelector(t, b[o + 1],
                BinaryPrimitives.ReadUInt16BigEndian(b[(o + 4)..]), BinaryPrimitives.ReadUInt16BigEndian(b[(o + 6)..]),
                b.Slice(o + 8, alen).ToArray(), b.Slice(o + 8 + alen, alen).ToArray()));
            o += slen;
        }
        if (o != b.Length) { e = Err(ParseErrorCode.TrailingData, off + o, $"{b.Length - o} bytes after {count} selectors"); return null; }
        return new TsPayload(initiator, list);
    }

    private static CpPayload? ParseCp(ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < 4) { e = Err(ParseErrorCode.Truncated, off, "CP header"); return null; }
        var ct = (CfgType)b[0];
        if (ct is < CfgType.Request or > CfgType.Ack) { e = Err(ParseErrorCode.InvalidValue, off, $"CFG type {(byte)ct}"); return null; }
        var attrs = new List<CfgAttribute>();
        int o = 4;
        while (o < b.Length)
        {
            if (b.Length - o < 4) { e = Err(ParseErrorCode.Truncated, off + o, "CP attribute header"); return null; }
            var at = (CfgAttributeType)(BinaryPrimitives.ReadUInt16BigEndian(b[o..]) & 0x7fff);
            int len = BinaryPrimitives.ReadUInt16BigEndian(b[(o + 2)..]);
            if (len > b.Length - o - 4) { e = Err(ParseErrorCode.BadLength, off + o + 2, $"CP attribute length {len}"); return null; }
            // §3.15.1 fixed sizes (0 = request for a value).
            bool ok = at switch
            {
                CfgAttributeType.InternalIp4Address or CfgAttributeType.InternalIp4Netmask or CfgAttributeType.InternalIp4Dns
                    or CfgAttributeType.InternalIp4Nbns or CfgAttributeType.InternalIp4Dhcp => len is 0 or 4,
                CfgAttributeType.InternalIp6Address => len is 0 or 17,
                CfgAttributeType.InternalIp6Dns or CfgAttributeType.InternalIp6Dhcp => len is 0 or 16,
                CfgAttributeType.InternalIp4Subnet => len is 0 or 8,
                CfgAttributeType.InternalIp6Subnet => len is 0 or 17,
                _ => true,
            };
            if (!ok) { e = Err(ParseErrorCode.BadLength, off + o + 2, $"CP attribute {at} of {len} bytes"); return null; }
            attrs.Add(new CfgAttribute(at, b.Slice(o + 4, len).ToArray()));
            o += 4 + len;
        }
        return new CpPayload(ct, attrs);
    }

    private static EapPayload? ParseEap(ReadOnlySpan<byte> b, int off, out ParseError e)
    {
        e = default;
        if (b.Length < 4) { e = Err(ParseErrorCode.Truncated, off, "EAP header"); return null; }
        int len = BinaryPrimitives.ReadUInt16BigEndian(b[2..]);
        if (len != b.Length) { e = Err(ParseErrorCode.BadLength, off + 2, $"EAP length {len} in a {b.Length}-byte payload"); return null; }
        if (b[0] is < 1 or > 6) { e = Err(ParseErrorCode.InvalidValue, off, $"EAP code {b[0]}"); return null; }
        return new EapPayload(b.ToArray());
    }
}
