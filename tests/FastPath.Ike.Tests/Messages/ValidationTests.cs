using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using FastPath.Ike.Messages;
using Xunit;

namespace FastPath.Ike.Tests.Messages;

// Strict validation: each rule has a message that breaks exactly it.
public class ValidationTests
{
    private static byte[] Msg(params IkePayload[] payloads) => IkeMessageBuilder.Build(Samples.Header, payloads);

    private static ParseError Fail(byte[] b)
    {
        var r = IkeMessage.Parse(b);
        Assert.False(r.Ok, "parsed although invalid");
        return r.Error;
    }

    // Rewrites the body of the first payload (offset 32) and fixes both lengths.
    private static byte[] WithBody(PayloadType type, byte[] body, byte flags = 0)
    {
        var b = new byte[28 + 4 + body.Length];
        (Samples.Header with { NextPayload = type, Length = (uint)b.Length }).Write(b);
        b[29] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(30), (ushort)(4 + body.Length));
        body.CopyTo(b, 32);
        return b;
    }

    [Fact]
    public void Header_rules()
    {
        Assert.Equal(ParseErrorCode.Truncated, Fail(new byte[27]).Code);
        var ok = Msg(new NoncePayload(new byte[16]));
        Assert.True(IkeMessage.Parse(ok).Ok);
        foreach (byte v in new byte[] { 0x10, 0x30, 0xf0 })
        {
            var b = (byte[])ok.Clone();
            b[17] = v;
            var e = Fail(b);
            Assert.Equal(ParseErrorCode.InvalidMajorVersion, e.Code);
            Assert.Equal(17, e.Offset);
        }
        var minor = (byte[])ok.Clone();
        minor[17] = 0x21; // minor versions are accepted (RFC 7296 §2.5)
        Assert.True(IkeMessage.Parse(minor).Ok);
        // Trailing garbage after the message length; length beyond the datagram; length < 28.
        var longer = new byte[ok.Length + 1];
        ok.CopyTo(longer, 0);
        Assert.Equal(ParseErrorCode.TrailingData, Fail(longer).Code);
        Assert.Equal(ParseErrorCode.Truncated, Fail(ok[..^1]).Code);
        var l20 = (byte[])ok.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(l20.AsSpan(24), 20);
        Assert.Equal(ParseErrorCode.BadLength, Fail(l20).Code);
    }

    [Fact]
    public void Payload_length_rules()
    {
        var ok = Msg(new NoncePayload(new byte[16]), new VendorIdPayload([1]));
        foreach (ushort len in new ushort[] { 0, 3, 200 })
        {
            var b = (byte[])ok.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(30), len);
            Assert.Equal(ParseErrorCode.BadLength, Fail(b).Code);
        }
        // Chain ends (Next Payload 0) before the message does.
        var b2 = (byte[])ok.Clone();
        b2[28] = 0;
        Assert.Equal(ParseErrorCode.TrailingData, Fail(b2).Code);
        // Chain goes on past the message end.
        var b3 = (byte[])ok.Clone();
        b3[48] = (byte)PayloadType.VendorId;
        Assert.Equal(ParseErrorCode.Truncated, Fail(b3).Code);
    }

    [Fact]
    public void Unknown_payloads_critical_rejected_non_critical_kept()
    {
        var e = Fail(WithBody((PayloadType)77, [1, 2], 0x80));
        Assert.Equal(ParseErrorCode.UnsupportedCriticalPayload, e.Code);
        Assert.Equal(77, e.PayloadType);
        var r = IkeMessage.Parse(WithBody((PayloadType)77, [1, 2]));
        Assert.True(r.Ok);
        Assert.Equal(new byte[] { 1, 2 }, Assert.IsType<RawPayload>(Assert.Single(r.Value!.Payloads)).Body);
        // A known payload with the critical bit parses and keeps the bit.
        var k = IkeMessage.Parse(WithBody(PayloadType.VendorId, [1], 0x80)).Value!;
        Assert.True(k.Payloads[0].Critical);
        Assert.Equal(WithBody(PayloadType.VendorId, [1], 0x80), k.Serialize());
    }

    public static IEnumerable<object[]> BadBodies() =>
    [
        [PayloadType.Nonce, new byte[15], ParseErrorCode.BadLength],
        [PayloadType.Nonce, new byte[257], ParseErrorCode.BadLength],
        [PayloadType.KeyExchange, new byte[4], ParseErrorCode.Truncated],
        [PayloadType.IdInitiator, new byte[] { 1, 0, 0, 0, 1, 2, 3 }, ParseErrorCode.InvalidValue],
        [PayloadType.IdInitiator, new byte[] { 5, 0, 0, 0, 1, 2, 3, 4 }, ParseErrorCode.InvalidValue],
        [PayloadType.IdInitiator, new byte[] { 13, 0, 0, 0, 1 }, ParseErrorCode.InvalidValue],
        [PayloadType.IdInitiator, new byte[] { 99, 0, 0, 0, 1 }, ParseErrorCode.InvalidValue],
        [PayloadType.Authentication, new byte[] { 2, 0, 0, 0 }, ParseErrorCode.Truncated],
        [PayloadType.CertificateRequest, new byte[] { 4, 1, 2, 3 }, ParseErrorCode.BadLength],
        [PayloadType.Notify, new byte[] { 0, 0, 0x40, 0x04, 1, 2 }, ParseErrorCode.InvalidValue], // NATD of 2 bytes
        [PayloadType.Notify, new byte[] { 0, 0, 0x40, 0x06 }, ParseErrorCode.InvalidValue], // empty COOKIE
        [PayloadType.Notify, new byte[] { 0, 4, 0x40, 0x09, 1, 2, 3, 4 }, ParseErrorCode.InvalidValue], // SPI 4 without ESP/AH
        [PayloadType.Notify, new byte[] { 3, 4, 0x40, 0x09, 1, 2 }, ParseErrorCode.Truncated],
        [PayloadType.Notify, new byte[] { 3, 3, 0, 1, 1, 2, 3 }, ParseErrorCode.InvalidValue],
        [PayloadType.Delete, new byte[] { 1, 4, 0, 1, 1, 2, 3, 4 }, ParseErrorCode.InvalidValue],
        [PayloadType.Delete, new byte[] { 3, 4, 0, 2, 1, 2, 3, 4 }, ParseErrorCode.BadLength], // 2 SPIs claimed, 1 present
        [PayloadType.Delete, new byte[] { 3, 4, 0xff, 0xff }, ParseErrorCode.BadLength], // huge count, no bytes
        [PayloadType.TsInitiator, new byte[] { 0, 0, 0, 0 }, ParseErrorCode.InvalidValue],
        [PayloadType.TsInitiator, new byte[] { 255, 0, 0, 0, 7, 0, 0, 16, 0, 0, 255, 255, 1, 2, 3, 4, 5, 6, 7, 8 }, ParseErrorCode.Truncated], // huge count
        [PayloadType.TsInitiator, new byte[] { 1, 0, 0, 0, 7, 0, 0, 40, 0, 0, 255, 255, 1, 2, 3, 4, 5, 6, 7, 8 }, ParseErrorCode.BadLength],
        [PayloadType.TsInitiator, new byte[] { 1, 0, 0, 0, 9, 0, 0, 16, 0, 0, 255, 255, 1, 2, 3, 4, 5, 6, 7, 8 }, ParseErrorCode.InvalidValue],
        [PayloadType.TsInitiator, new byte[] { 1, 0, 0, 0, 7, 0, 0, 16, 0, 0, 255, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, ParseErrorCode.TrailingData],
        [PayloadType.Configuration, new byte[] { 9, 0, 0, 0 }, ParseErrorCode.InvalidValue],
        [PayloadType.Configuration, new byte[] { 1, 0, 0, 0, 0, 1, 0, 3, 1, 2, 3 }, ParseErrorCode.BadLength],
        [PayloadType.Configuration, new byte[] { 1, 0, 0, 0, 0, 1, 0, 9 }, ParseErrorCode.BadLength],
        [PayloadType.Eap, new byte[] { 2, 1, 0, 9, 1 }, ParseErrorCode.BadLength],
        [PayloadType.Eap, new byte[] { 9, 1, 0, 4 }, ParseErrorCode.InvalidValue],
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 8, 1, 1, 0, 0 }, ParseErrorCode.None], // empty IKE proposal: OK
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 8, 0, 1, 0, 0 }, ParseErrorCode.InvalidValue], // proposal 0
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 8, 1, 3, 0, 0 }, ParseErrorCode.InvalidValue], // ESP without SPI
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 8, 1, 7, 0, 0 }, ParseErrorCode.InvalidValue], // protocol 7
        [PayloadType.SecurityAssociation, new byte[] { 2, 0, 0, 8, 1, 1, 0, 0 }, ParseErrorCode.InvalidValue], // "more" but none
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 8, 1, 1, 0, 200 }, ParseErrorCode.Truncated], // 200 transforms claimed
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 16, 1, 1, 0, 1, 3, 0, 0, 8, 1, 0, 0, 12 }, ParseErrorCode.InvalidValue], // last transform says "more"
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 16, 1, 1, 0, 1, 0, 0, 0, 9, 1, 0, 0, 12 }, ParseErrorCode.BadLength],
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 20, 1, 1, 0, 1, 0, 0, 0, 12, 1, 0, 0, 12, 0, 14, 0, 0 }, ParseErrorCode.InvalidValue], // Key Length as TLV
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 20, 1, 1, 0, 1, 0, 0, 0, 12, 1, 0, 0, 12, 0, 15, 0, 9 }, ParseErrorCode.BadLength],
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 19, 1, 1, 0, 1, 0, 0, 0, 11, 1, 0, 0, 12, 0x80, 14, 1 }, ParseErrorCode.Truncated],
        [PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 12, 1, 1, 0, 0, 1, 2, 3, 4 }, ParseErrorCode.TrailingData],
        [PayloadType.SecurityAssociation, new byte[] { 2, 0, 0, 8, 1, 1, 0, 0, 0, 0, 0, 8, 3, 1, 0, 0 }, ParseErrorCode.InvalidValue], // proposal 1 then 3
        [PayloadType.EncryptedFragment, new byte[] { 0, 0, 0, 1, 9, 9 }, ParseErrorCode.InvalidValue], // fragment 0
        [PayloadType.EncryptedFragment, new byte[] { 0, 3, 0, 2, 9, 9 }, ParseErrorCode.InvalidValue], // 3 of 2
        [PayloadType.EncryptedFragment, new byte[] { 0, 1 }, ParseErrorCode.Truncated],
    ];

    [Theory]
    [MemberData(nameof(BadBodies))]
    public void Body_rules(PayloadType type, byte[] body, ParseErrorCode expected)
    {
        var r = IkeMessage.Parse(WithBody(type, body));
        if (expected == ParseErrorCode.None)
        {
            Assert.True(r.Ok, r.Error.ToString());
            return;
        }
        Assert.False(r.Ok, $"{type} body {Convert.ToHexString(body)} parsed");
        Assert.Equal(expected, r.Error.Code);
        Assert.InRange(r.Error.Offset, 28, 28 + 4 + body.Length);
    }

    [Fact]
    public void SK_must_be_last_and_not_nested()
    {
        var c = Samples.Cipher();
        var sk = IkeMessageBuilder.BuildEncrypted(Samples.Header, [], [new NoncePayload(new byte[16])], c);
        // Append a payload after SK (fixing the header length): rejected.
        var b = new byte[sk.Length + 5];
        sk.CopyTo(b, 0);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(24), (uint)b.Length);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(b.Length - 3), 5);
        Assert.Equal(ParseErrorCode.BadPayloadChain, Fail(b).Code);
        // SK inside SK.
        var inner = new byte[8];
        inner[0] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(inner.AsSpan(2), 8);
        Assert.Equal(ParseErrorCode.BadPayloadChain, IkeMessage.ParseInner(inner, PayloadType.Encrypted).Error.Code);
        // Fragment 2 naming a first inner payload.
        var f = WithBody(PayloadType.EncryptedFragment, [0, 2, 0, 2, 9, 9]);
        f[28] = (byte)PayloadType.Nonce;
        Assert.Equal(ParseErrorCode.InvalidValue, Fail(f).Code);
    }

    [Fact]
    public void Payload_count_is_bounded()
    {
        var many = new IkePayload[PayloadChain.MaxPayloads + 1];
        for (int i = 0; i < many.Length; i++) many[i] = new VendorIdPayload([]);
        Assert.Equal(ParseErrorCode.InvalidValue, Fail(Msg(many)).Code);
        Assert.True(IkeMessage.Parse(Msg(many[..PayloadChain.MaxPayloads])).Ok);
    }

    [Fact]
    public void Decrypt_with_the_wrong_bytes_is_an_error_not_an_exception()
    {
        var c = Samples.Cipher();
        var sk = IkeMessageBuilder.BuildEncrypted(Samples.Header, [], [new NoncePayload(new byte[16])], c);
        var m = IkeMessage.Parse(sk).Value!;
        Assert.Equal(ParseErrorCode.InvalidValue, m.DecryptSk(sk.AsSpan(0, 40), c).Error.Code);
        Assert.Equal(ParseErrorCode.BadPayloadChain, IkeMessage.Parse(Msg(new NoncePayload(new byte[16]))).Value!.DecryptSk(sk, c).Error.Code);
        // SK body too short for IV + ICV.
        var shortSk = WithBody(PayloadType.Encrypted, new byte[20]);
        Assert.Equal(ParseErrorCode.BadLength, IkeMessage.Parse(shortSk).Value!.DecryptSk(shortSk, c).Error.Code);
    }

    [Fact]
    public void Claimed_counts_and_lengths_cost_no_allocation_before_they_are_checked()
    {
        // Each body claims far more than it holds: 255 proposals' worth of transforms, 255 selectors,
        // 65535 SPIs, a 65535-byte attribute. Parsing fails on the bytes, allocating only the fixed
        // result objects (well under what any claimed size would need).
        var bodies = new[]
        {
            (PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 8, 1, 1, 0, 255 }),
            (PayloadType.TsInitiator, new byte[] { 255, 0, 0, 0 }),
            (PayloadType.Delete, new byte[] { 3, 4, 0xff, 0xff }),
            (PayloadType.SecurityAssociation, new byte[] { 0, 0, 0, 20, 1, 1, 0, 1, 0, 0, 0, 12, 1, 0, 0, 12, 0, 15, 0xff, 0xff }),
        };
        var msgs = bodies.Select(b => WithBody(b.Item1, b.Item2)).ToList();
        foreach (var m in msgs) Assert.False(IkeMessage.Parse(m).Ok); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            foreach (var m in msgs) IkeMessage.Parse(m);
        long perParse = (GC.GetAllocatedBytesForCurrentThread() - before) / (100 * msgs.Count);
        Assert.True(perParse < 2048, $"{perParse} bytes per rejected parse");
    }
}
