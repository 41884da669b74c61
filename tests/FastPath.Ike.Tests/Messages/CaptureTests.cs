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
        Assert.True(All.Count >= 40, $"{All.Count} captured messages");
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
        var cbcMsg = IkeMessage.Parse(All[11].Bytes).Value!;
        p = Assert.Single(IkeMessage.Find<SaPayload>(cbcMsg.Payloads)!.Proposals);
        Assert.Equal(12, Only(p, TransformType.Encryption).TransformId);
        Assert.Equal(256, Only(p, TransformType.Encryption).KeyLength);
        Assert.Equal(12, Only(p, TransformType.Integrity).TransformId);
        Assert.Equal(5, Only(p, TransformType.Prf).TransformId);
        Assert.Equal(14, Only(p, TransformType.KeyExchange).TransformId);
        Assert.Equal(256, IkeMessage.Find<KePayload>(cbcMsg.Payloads)!.KeyData.Length);

        // The initiator's request proposes exactly its configured proposal.
        var req = IkeMessage.Find<SaPayload>(IkeMessage.Parse(All[10].Bytes).Value!.Payloads)!;
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

    private static void AssertIkeAuthResponse(IReadOnlyList<IkePayload> resp)
    {
        Assert.Equal(new byte[] { 192, 0, 2, 2 }, resp.OfType<IdPayload>().Single(i => !i.IsInitiator).Data);
        Assert.Null(IkeMessage.FindNotify(resp, NotifyType.TsUnacceptable));
        var child = Assert.Single(IkeMessage.Find<SaPayload>(resp)!.Proposals);
        Assert.Equal(ProtocolId.Esp, child.Protocol);
        Assert.Equal(new byte[] { 203, 0, 113, 0 }, resp.OfType<TsPayload>().Single(t => !t.IsInitiator).Selectors[0].StartAddress);
    }

    // CREATE_CHILD_SA rekey of the first child (RFC 7296 §1.3.3): REKEY_SA names the initiator's
    // inbound SPI of the IKE_AUTH child; the INFORMATIONAL that follows deletes that SPI.
    private static void AssertChildRekey(IReadOnlyList<IkePayload> auth, IReadOnlyList<IkePayload> rekey, IReadOnlyList<IkePayload> rekeyResp, IReadOnlyList<IkePayload> delete, int? keGroup)
    {
        var oldSpi = IkeMessage.Find<SaPayload>(auth)!.Proposals[0].Spi;
        var n = IkeMessage.FindNotify(rekey, NotifyType.RekeySa)!;
        Assert.Equal(ProtocolId.Esp, n.Protocol);
        Assert.Equal(oldSpi, n.Spi);
        var newSpi = IkeMessage.Find<SaPayload>(rekey)!.Proposals[0].Spi;
        Assert.NotEqual(oldSpi, newSpi);
        Assert.NotNull(IkeMessage.Find<NoncePayload>(rekey));
        Assert.NotNull(IkeMessage.Find<NoncePayload>(rekeyResp));
        var ke = IkeMessage.Find<KePayload>(rekey);
        if (keGroup is null) Assert.Null(ke);
        else
        {
            Assert.Equal(keGroup, ke!.DhGroup);
            Assert.Equal(keGroup, IkeMessage.Find<KePayload>(rekeyResp)!.DhGroup);
            Assert.Contains(IkeMessage.Find<SaPayload>(rekey)!.Proposals[0].Transforms, t => t.TransformType == TransformType.KeyExchange && t.TransformId == keGroup);
        }
        var d = Assert.IsType<DeletePayload>(Assert.Single(delete));
        Assert.Equal(ProtocolId.Esp, d.Protocol);
        Assert.Equal(oldSpi, Assert.Single(d.Spis));
    }

    [Fact]
    public void AES_CBC_HMAC_SHA256_SA_decrypts_with_the_logged_keys()
    {
        // cbcmodp: 12/13 IKE_AUTH, 14/15 CREATE_CHILD_SA (rekey), 16/17 delete old child, 18/19 delete IKE SA.
        var auth = Decrypt(All[12], CbcFor(1, true));
        AssertIkeAuthRequest(auth);
        AssertIkeAuthResponse(Decrypt(All[13], CbcFor(1, false)));
        Assert.Equal(ExchangeType.CreateChildSa, IkeMessage.Parse(All[14].Bytes).Value!.Header.Exchange);
        AssertChildRekey(auth, Decrypt(All[14], CbcFor(1, true)), Decrypt(All[15], CbcFor(1, false)), Decrypt(All[16], CbcFor(1, true)), null);
        Assert.IsType<DeletePayload>(Assert.Single(Decrypt(All[17], CbcFor(1, false))));
        var del = Assert.IsType<DeletePayload>(Assert.Single(Decrypt(All[18], CbcFor(1, true))));
        Assert.Equal(ProtocolId.Ike, del.Protocol);
        Assert.Empty(Decrypt(All[19], CbcFor(1, false)));
    }

    [Fact]
    public void AES_GCM_SA_decrypts_with_the_logged_keys()
    {
        var auth = Decrypt(All[2], GcmFor(0, true));
        AssertIkeAuthRequest(auth);
        AssertIkeAuthResponse(Decrypt(All[3], GcmFor(0, false)));
        AssertChildRekey(auth, Decrypt(All[4], GcmFor(0, true)), Decrypt(All[5], GcmFor(0, false)), Decrypt(All[6], GcmFor(0, true)), null);
        Assert.Equal(ProtocolId.Ike, Assert.IsType<DeletePayload>(Assert.Single(Decrypt(All[8], GcmFor(0, true)))).Protocol);
    }

    [Fact]
    public void A_flipped_bit_in_a_captured_SK_payload_fails_the_ICV()
    {
        var b = (byte[])All[12].Bytes.Clone();
        b[^20] ^= 1;
        var m = IkeMessage.Parse(b).Value!;
        Assert.Equal(ParseErrorCode.DecryptFailed, m.DecryptSk(b, CbcFor(1, true)).Error.Code);
        // The wrong direction's keys fail too.
        Assert.Equal(ParseErrorCode.DecryptFailed, IkeMessage.Parse(All[12].Bytes).Value!.DecryptSk(All[12].Bytes, CbcFor(1, false)).Error.Code);
    }

    private static IReadOnlyList<IkePayload> Reassemble(IEnumerable<Captures.Datagram> frags, ISkCipher c, int seed)
    {
        var list = frags.ToList();
        var rng = new Random(seed);
        var order = Enumerable.Range(0, list.Count).OrderBy(_ => rng.Next()).ToList();
        var ra = new FragmentReassembler();
        ReassemblyResult? last = null;
        foreach (int i in order)
        {
            Assert.Null(last?.Payloads);
            last = ra.Add(IkeMessage.Parse(list[i].Bytes).Value!, list[i].Bytes, c, 0);
            Assert.NotEqual(ReassemblyStatus.Discarded, last.Status);
        }
        Assert.Equal(ReassemblyStatus.Complete, last!.Status);
        Assert.Equal(0, ra.Pending);
        return last.Payloads!;
    }

    [Fact]
    public void Captured_RFC7383_fragments_reassemble_in_any_order()
    {
        // frag SA (fragment_size = 200): 22-23 IKE_AUTH request (2), 24-25 response (2),
        // 26-30 CREATE_CHILD_SA request with KE modp2048 (5), 31-35 response (5).
        var frags = All.Where(d => IkeMessage.Parse(d.Bytes).Value!.Fragment is not null).Select(d => d.Index).ToList();
        Assert.Equal(Enumerable.Range(22, 14), frags);
        var f1 = IkeMessage.Parse(All[22].Bytes).Value!.Fragment!;
        Assert.Equal((1, 2), (f1.FragmentNumber, f1.TotalFragments));
        Assert.Equal(PayloadType.IdInitiator, f1.FirstInnerPayload);
        Assert.Equal((5, 5), (IkeMessage.Parse(All[30].Bytes).Value!.Fragment!.FragmentNumber, IkeMessage.Parse(All[30].Bytes).Value!.Fragment!.TotalFragments));
        for (int seed = 0; seed < 4; seed++)
        {
            var auth = Reassemble(All.Skip(22).Take(2), CbcFor(2, true), seed);
            AssertIkeAuthRequest(auth);
            AssertIkeAuthResponse(Reassemble(All.Skip(24).Take(2), CbcFor(2, false), seed));
            var rekey = Reassemble(All.Skip(26).Take(5), CbcFor(2, true), seed);
            var rekeyResp = Reassemble(All.Skip(31).Take(5), CbcFor(2, false), seed);
            Assert.Equal(256, IkeMessage.Find<KePayload>(rekey)!.KeyData.Length);
            AssertChildRekey(auth, rekey, rekeyResp, Decrypt(All[36], CbcFor(2, true)), 14);
        }
    }
}
