using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using FastPath.Ike.Messages;
using Xunit;

namespace FastPath.Ike.Tests.Messages;

// Real strongSwan 5.9.8 messages (Captures/capture.sh): every one parses, every one re-serializes
// byte-identically (SK/SKF bodies opaque), the SA payload variants carry the negotiated transforms,
// the NAT detection hash matches charon's, and the encrypted ones decrypt with the logged SK_* keys.
public class CaptureTests
{
    private static IReadOnlyList<Captures.Datagram> All => Captures.Messages;

    [Fact]
    public void Captures_are_present()
    {
        Assert.True(All.Count >= 18, $"{All.Count} captured messages");
        Assert.Equal(3, Captures.Keys.Count);
    }

    [Fact]
    public void Every_captured_message_parses_and_reserializes_identically()
    {
        foreach (var d in All)
        {
            var r = IkeMessage.Parse(d.Bytes);
            Assert.True(r.Ok, $"message {d.Index}: {r.Error}");
            Assert.Equal(Convert.ToHexString(d.Bytes), Convert.ToHexString(r.Value!.Serialize()));
        }
    }

    [Fact]
    public void Cleartext_IKE_SA_INIT_messages_are_fully_typed()
    {
        var inits = All.Select(d => IkeMessage.Parse(d.Bytes).Value!).Where(m => m.Header.Exchange == ExchangeType.IkeSaInit).ToList();
        Assert.Equal(6, inits.Count);
        foreach (var m in inits)
        {
            Assert.DoesNotContain(m.Payloads, p => p is RawPayload or EncryptedPayload);
            Assert.NotNull(IkeMessage.Find<SaPayload>(m.Payloads));
            Assert.NotNull(IkeMessage.Find<KePayload>(m.Payloads));
            var nonce = IkeMessage.Find<NoncePayload>(m.Payloads)!;
            Assert.InRange(nonce.Nonce.Length, 16, 256);
            Assert.NotNull(IkeMessage.FindNotify(m.Payloads, NotifyType.NatDetectionSourceIp));
            Assert.NotNull(IkeMessage.FindNotify(m.Payloads, NotifyType.NatDetectionDestinationIp));
            Assert.Equal(2, m.Header.MajorVersion);
            Assert.Equal(0u, m.Header.MessageId);
        }
        Assert.True(inits[0].Header.IsInitiator && !inits[0].Header.IsResponse);
        Assert.True(inits[1].Header.IsResponse && !inits[1].Header.IsInitiator);
        Assert.Equal(0ul, inits[0].Header.ResponderSpi);
        Assert.Equal(inits[0].Header.InitiatorSpi, inits[1].Header.InitiatorSpi);
    }

    private static Transform Only(Proposal p, TransformType t) => Assert.Single(p.Transforms, x => x.TransformType == t);

    [Fact]
    public void SA_variants_carry_the_configured_transforms()
    {
        // gcmx: aes128gcm16-prfsha256-x25519 -> ENCR_AES_GCM_16 (20) key 128, PRF_HMAC_SHA2_256 (5), group 31.
        var gcm = IkeMessage.Find<SaPayload>(IkeMessage.Parse(All[1].Bytes).Value!.Payloads)!;
        var p = Assert.Single(gcm.Proposals);
        Assert.Equal(ProtocolId.Ike, p.Protocol);
        Assert.Equal(20, Only(p, TransformType.Encryption).TransformId);
        Assert.Equal(128, Only(p, TransformType.Encryption).KeyLength);
        Assert.Equal(5, Only(p, TransformType.Prf).TransformId);
        Assert.Equal(31, Only(p, TransformType.KeyExchange).TransformId);
        Assert.DoesNotContain(p.Transforms, t => t.TransformType == TransformType.Integrity);
        var ke = IkeMessage.Find<KePayload>(IkeMessage.Parse(All[1].Bytes).Value!.Payloads)!;
        Assert.Equal(31, ke.DhGroup);
        Assert.Equal(32, ke.KeyData.Length);

        // cbcmodp: aes256-sha256-modp2048 -> ENCR_AES_CBC (12) key 256, AUTH_HMAC_SHA2_256_128 (12), PRF 5, group 14.
        var cbcMsg = IkeMessage.Parse(All[7].Bytes).Value!;
        p = Assert.Single(IkeMessage.Find<SaPayload>(cbcMsg.Payloads)!.Proposals);
        Assert.Equal(12, Only(p, TransformType.Encryption).TransformId);
        Assert.Equal(256, Only(p, TransformType.Encryption).KeyLength);
        Assert.Equal(12, Only(p, TransformType.Integrity).TransformId);
        Assert.Equal(5, Only(p, TransformType.Prf).TransformId);
        Assert.Equal(14, Only(p, TransformType.KeyExchange).TransformId);
        Assert.Equal(256, IkeMessage.Find<KePayload>(cbcMsg.Payloads)!.KeyData.Length);

        // The initiator's request proposes exactly its configured proposal.
        var req = IkeMessage.Find<SaPayload>(IkeMessage.Parse(All[6].Bytes).Value!.Payloads)!;
        Assert.Equal(1, Assert.Single(req.Proposals).Number);
    }

    [Fact]
    public void NAT_detection_destination_hash_matches_charon()
    {
        // charon-a sends NATD_D_IP = SHA-1(SPIi | 0 | 192.0.2.2 | 500) for the responder's address.
        // Its NATD_S_IP is deliberately wrong: encap=yes fakes a NAT (PEERS.md), so it must differ.
        var m = IkeMessage.Parse(All[0].Bytes).Value!;
        var d = IkeMessage.FindNotify(m.Payloads, NotifyType.NatDetectionDestinationIp)!;
        Assert.Equal(NatT.NatDetectionHash(m.Header.InitiatorSpi, 0, IPAddress.Parse("192.0.2.2"), 500), d.Data);
        var s = IkeMessage.FindNotify(m.Payloads, NotifyType.NatDetectionSourceIp)!;
        Assert.NotEqual(NatT.NatDetectionHash(m.Header.InitiatorSpi, 0, IPAddress.Parse("192.0.2.1"), 500), s.Data);
        // The responder (also encap=yes) fakes its source hash too; its destination hash covers the
        // initiator's address with both SPIs.
        var r = IkeMessage.Parse(All[1].Bytes).Value!;
        var rd = IkeMessage.FindNotify(r.Payloads, NotifyType.NatDetectionDestinationIp)!;
        Assert.Equal(NatT.NatDetectionHash(r.Header.InitiatorSpi, r.Header.ResponderSpi, IPAddress.Parse("192.0.2.1"), 500), rd.Data);
        var rs = IkeMessage.FindNotify(r.Payloads, NotifyType.NatDetectionSourceIp)!;
        Assert.NotEqual(NatT.NatDetectionHash(r.Header.InitiatorSpi, r.Header.ResponderSpi, IPAddress.Parse("192.0.2.2"), 500), rs.Data);
    }

    private static ISkCipher CbcFor(int sa, bool fromInitiator)
    {
        var k = Captures.Keys[sa];
        return fromInitiator ? new TestCbcHmacCipher(k["Sk_ei"], k["Sk_ai"]) : new TestCbcHmacCipher(k["Sk_er"], k["Sk_ar"]);
    }

    private static ISkCipher GcmFor(int sa, bool fromInitiator)
    {
        var k = Captures.Keys[sa][fromInitiator ? "Sk_ei" : "Sk_er"];
        return new TestGcmCipher(k[..16], k[16..]);
    }

    private static IReadOnlyList<IkePayload> Decrypt(Captures.Datagram d, ISkCipher c)
    {
        var m = IkeMessage.Parse(d.Bytes).Value!;
        var r = m.DecryptSk(d.Bytes, c);
        Assert.True(r.Ok, $"message {d.Index}: {r.Error}");
        // The inner chain re-serializes byte-identically to what charon encrypted.
        var plain = new byte[m.Encrypted!.Body.Length];
        int n = c.Open(d.Bytes, m.Encrypted.BodyOffset, m.Encrypted.Body.Length, plain);
        Assert.Equal(Convert.ToHexString(plain, 0, n), Convert.ToHexString(IkeMessageBuilder.SerializeInner(r.Value!)));
        return r.Value!;
    }

    private static void AssertIkeAuthRequest(IReadOnlyList<IkePayload> inner)
    {
        var idi = IkeMessage.Find<IdPayload>(inner)!;
        Assert.True(idi.IsInitiator);
        Assert.Equal(IdType.Ipv4Addr, idi.IdType);
        Assert.Equal(new byte[] { 192, 0, 2, 1 }, idi.Data);
        Assert.Equal(AuthMethod.SharedKeyMic, IkeMessage.Find<AuthPayload>(inner)!.Method);
        Assert.NotNull(IkeMessage.FindNotify(inner, NotifyType.InitialContact));
        var tsi = inner.OfType<TsPayload>().Single(t => t.IsInitiator);
        var sel = Assert.Single(tsi.Selectors);
        Assert.Equal(TsType.Ipv4AddrRange, sel.TsType);
        Assert.Equal(new byte[] { 198, 51, 100, 0 }, sel.StartAddress);
        Assert.Equal(new byte[] { 198, 51, 100, 255 }, sel.EndAddress);
        Assert.Equal(0, sel.StartPort);
        Assert.Equal(65535, sel.EndPort);
        var tsr = inner.OfType<TsPayload>().Single(t => !t.IsInitiator);
        Assert.Equal(new byte[] { 203, 0, 113, 0 }, Assert.Single(tsr.Selectors).StartAddress);
        var child = Assert.Single(IkeMessage.Find<SaPayload>(inner)!.Proposals);
        Assert.Equal(ProtocolId.Esp, child.Protocol);
        Assert.Equal(4, child.Spi.Length);
    }

    [Fact]
    public void IKE_AUTH_with_AES_CBC_HMAC_SHA256_decrypts_with_the_logged_keys()
    {
        var req = Decrypt(All[8], CbcFor(1, true));
        AssertIkeAuthRequest(req);
        var resp = Decrypt(All[9], CbcFor(1, false));
        Assert.Equal(new byte[] { 192, 0, 2, 2 }, resp.OfType<IdPayload>().Single().Data);
        Assert.NotNull(IkeMessage.FindNotify(resp, NotifyType.TsUnacceptable));
        // INFORMATIONAL: the initiator deletes the IKE SA; the response is empty.
        var del = Assert.IsType<DeletePayload>(Assert.Single(Decrypt(All[10], CbcFor(1, true))));
        Assert.Equal(ProtocolId.Ike, del.Protocol);
        Assert.Empty(Decrypt(All[11], CbcFor(1, false)));
    }

    [Fact]
    public void IKE_AUTH_with_AES_GCM_decrypts_with_the_logged_keys()
    {
        AssertIkeAuthRequest(Decrypt(All[2], GcmFor(0, true)));
        Assert.NotNull(IkeMessage.FindNotify(Decrypt(All[3], GcmFor(0, false)), NotifyType.TsUnacceptable));
    }

    [Fact]
    public void A_flipped_bit_in_a_captured_SK_payload_fails_the_ICV()
    {
        var b = (byte[])All[8].Bytes.Clone();
        b[^20] ^= 1;
        var m = IkeMessage.Parse(b).Value!;
        Assert.Equal(ParseErrorCode.DecryptFailed, m.DecryptSk(b, CbcFor(1, true)).Error.Code);
        // The wrong direction's keys fail too.
        Assert.Equal(ParseErrorCode.DecryptFailed, IkeMessage.Parse(All[8].Bytes).Value!.DecryptSk(All[8].Bytes, CbcFor(1, false)).Error.Code);
    }

    [Fact]
    public void Captured_RFC7383_fragments_reassemble_in_any_order()
    {
        var frags = All.Where(d => IkeMessage.Parse(d.Bytes).Value!.Fragment is not null).ToList();
        Assert.Equal(2, frags.Count);
        var f1 = IkeMessage.Parse(frags[0].Bytes).Value!.Fragment!;
        Assert.Equal((1, 2), (f1.FragmentNumber, f1.TotalFragments));
        Assert.Equal(PayloadType.IdInitiator, f1.FirstInnerPayload);
        foreach (var order in new[] { new[] { 0, 1 }, new[] { 1, 0 } })
        {
            var ra = new FragmentReassembler();
            ReassemblyResult? last = null;
            foreach (int i in order)
                last = ra.Add(IkeMessage.Parse(frags[i].Bytes).Value!, frags[i].Bytes, CbcFor(2, true), 0);
            Assert.Equal(ReassemblyStatus.Complete, last!.Status);
            AssertIkeAuthRequest(last.Payloads!);
            Assert.Equal(0, ra.Pending);
        }
        // The unfragmented response of that SA decrypts too.
        Assert.NotNull(IkeMessage.FindNotify(Decrypt(All[16], CbcFor(2, false)), NotifyType.TsUnacceptable));
    }
}
