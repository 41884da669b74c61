using System;
using System.Collections.Generic;
using System.Linq;
using FastPath.Ike.Crypto;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using Xunit;
using static FastPath.Ike.Tests.Exchanges.ExchangeHarness;

namespace FastPath.Ike.Tests.Exchanges;

// Full in-memory CREATE_CHILD_SA exchanges between a west (initiator) and an east (responder)
// context sharing one IKE SA: new CHILD_SA, rekey with and without PFS, IKE rekey, and each error.
public class CreateChildSaTests
{
    private static string H(byte[] b) => Convert.ToHexString(b);

    private static void AssertMirrored(ChildSaCreated i, ChildSaCreated r)
    {
        Assert.True(i.LocalIsExchangeInitiator);
        Assert.False(r.LocalIsExchangeInitiator);
        Assert.Equal(i.Suite, r.Suite);
        Assert.Equal(i.InboundSpi, r.OutboundSpi);
        Assert.Equal(i.OutboundSpi, r.InboundSpi);
        Assert.Equal(H(i.OutboundKeys.EncryptionKey), H(r.InboundKeys.EncryptionKey));
        Assert.Equal(H(i.OutboundKeys.IntegrityKey), H(r.InboundKeys.IntegrityKey));
        Assert.Equal(H(i.InboundKeys.EncryptionKey), H(r.OutboundKeys.EncryptionKey));
        Assert.NotEqual(H(i.InboundKeys.EncryptionKey), H(i.OutboundKeys.EncryptionKey));
        Assert.Equal(TrafficSelectors.Format(i.LocalTs), TrafficSelectors.Format(r.RemoteTs));
        Assert.Equal(TrafficSelectors.Format(i.RemoteTs), TrafficSelectors.Format(r.LocalTs));
        Assert.Equal(H(i.Ni), H(r.Ni));
        Assert.Equal(H(i.Nr), H(r.Nr));
    }

    [Fact]
    public void New_child_without_pfs_narrows_and_both_sides_agree()
    {
        // West proposes 192.0.2.0/24 === 0.0.0.0/0; east narrows to its 192.0.2.128/25 and west's /25.
        var (w, e) = Pair(westLocal: "192.0.2.0/24", westRemote: "0.0.0.0/0", eastLocal: "192.0.2.128/25", eastRemote: "192.0.2.0/25");
        var req = CreateChildSaExchange.BuildNewChild(w);
        Assert.Null(IkeMessage.Find<KePayload>(req.Payloads));
        var (resp, outcome) = Run(w, e, req);
        var r = Assert.IsType<ChildSaCreated>(resp.Outcome);
        var i = Assert.IsType<ChildSaCreated>(outcome);
        AssertMirrored(i, r);
        Assert.Equal(CreateChildSaKind.NewChild, i.Kind);
        Assert.Equal("192.0.2.0/25", TrafficSelectors.Format(i.LocalTs));
        Assert.Equal("192.0.2.128/25", TrafficSelectors.Format(i.RemoteTs));
        Assert.Equal(DhGroup.None, i.Suite.Dh);
        Assert.False(i.Transport);
        // KEYMAT = prf+(SK_d, Ni | Nr) without PFS (§2.17).
        var expect = SaKeyFactory.CreateChildSa(w.IkeKeys, i.Suite, default, i.Ni, i.Nr);
        Assert.Equal(H(expect.InitiatorToResponder.EncryptionKey), H(i.OutboundKeys.EncryptionKey));
        Assert.Equal(20, i.OutboundKeys.EncryptionKey.Length); // AES-128-GCM key + 4-byte salt
        req.Pending.Dispose();
    }

    [Theory]
    [InlineData("aes128gcm16-x25519!", DhGroup.Curve25519)]
    [InlineData("aes256gcm16-ecp256!", DhGroup.Ecp256)]
    [InlineData("aes128-sha256-modp2048!", DhGroup.Modp2048)]
    public void Child_rekey_with_pfs(string esp, DhGroup group)
    {
        var (w, e) = Pair(westEsp: esp);
        var first = Assert.IsType<ChildSaCreated>(Run(w, e, CreateChildSaExchange.BuildNewChild(w)).Initiator);
        Assert.Equal(group, first.Suite.Dh);
        // East's view of the SA: its outbound SPI is west's inbound.
        var eastOld = new ExistingChildSa(first.OutboundSpi, first.InboundSpi, first.Suite, first.RemoteTs, first.LocalTs, ReqId: 7);
        var westOld = new ExistingChildSa(first.InboundSpi, first.OutboundSpi, first.Suite, first.LocalTs, first.RemoteTs, ReqId: 7);
        using var req = CreateChildSaExchange.BuildChildRekey(w, westOld).Pending;
        var rebuilt = CreateChildSaExchange.BuildChildRekey(w, westOld);
        var rekey = IkeMessage.FindNotify(rebuilt.Payloads, NotifyType.RekeySa)!;
        Assert.Equal(ProtocolId.Esp, rekey.Protocol);
        Assert.Equal(first.InboundSpi, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(rekey.Spi));
        Assert.Equal((ushort)group, IkeMessage.Find<KePayload>(rebuilt.Payloads)!.DhGroup);
        var state = new CreateChildSaResponderState { FindChildByOutboundSpi = s => s == eastOld.OutboundSpi ? eastOld : null };
        var (resp, outcome) = Run(w, e, rebuilt, state);
        var r = Assert.IsType<ChildSaCreated>(resp.Outcome);
        var i = Assert.IsType<ChildSaCreated>(outcome);
        AssertMirrored(i, r);
        Assert.Equal(CreateChildSaKind.ChildRekey, i.Kind);
        Assert.Same(eastOld, r.Rekeyed);
        Assert.Same(westOld, i.Rekeyed);
        Assert.Equal(group, i.Suite.Dh);
        Assert.NotEqual(first.InboundSpi, i.InboundSpi);
        // The PFS secret is in KEYMAT: without it the keys differ.
        var noPfs = SaKeyFactory.CreateChildSa(w.IkeKeys, i.Suite, default, i.Ni, i.Nr);
        Assert.NotEqual(H(noPfs.InitiatorToResponder.EncryptionKey), H(i.OutboundKeys.EncryptionKey));
        // The install of the rekeyed SA replaces the old outbound SPI.
        var wi = CreateChildSaExchange.ToInstall(i, w, 1, 3, 7, new Random(1));
        var ei = CreateChildSaExchange.ToInstall(r, e, 1, 3, 7, new Random(1));
        Assert.Equal(westOld.OutboundSpi, wi.ReplacesOutboundSpi);
        Assert.Equal(eastOld.OutboundSpi, ei.ReplacesOutboundSpi);
        Assert.Equal(H(wi.OutboundEncryptionKey), H(ei.InboundEncryptionKey));
        Assert.Equal(H(wi.OutboundIntegrityKey), H(ei.InboundIntegrityKey));
        Assert.Equal(H(wi.InboundEncryptionKey), H(ei.OutboundEncryptionKey));
        Assert.Equal(wi.InboundSpi, ei.OutboundSpi);
        if (group == DhGroup.Modp2048) Assert.Equal(32, wi.OutboundIntegrityKey.Length); // HMAC-SHA2-256
    }

    [Fact]
    public void Child_rekey_without_pfs()
    {
        var (w, e) = Pair(westEsp: "aes256gcm16!");
        var old = new ExistingChildSa(0xc1c1c1c1, 0xd1d1d1d1, null, [TrafficSelectors.FromPrefix("192.0.2.0/25")], [TrafficSelectors.FromPrefix("192.0.2.128/25")]);
        var eastOld = old with { InboundSpi = 0xd1d1d1d1, OutboundSpi = 0xc1c1c1c1, LocalTs = old.RemoteTs, RemoteTs = old.LocalTs };
        var req = CreateChildSaExchange.BuildChildRekey(w, old);
        Assert.Null(IkeMessage.Find<KePayload>(req.Payloads));
        var (resp, outcome) = Run(w, e, req, new() { FindChildByOutboundSpi = s => s == 0xc1c1c1c1 ? eastOld : null });
        AssertMirrored(Assert.IsType<ChildSaCreated>(outcome), Assert.IsType<ChildSaCreated>(resp.Outcome));
        Assert.Equal(0xc1c1c1c1u, ((ChildSaCreated)resp.Outcome).Rekeyed!.OutboundSpi);
    }

    [Theory]
    [InlineData("aes128-sha256-x25519!")]
    [InlineData("aes256gcm16-prfsha384-ecp256!")]
    [InlineData("aes128-sha256-modp2048!")]
    public void Ike_rekey_gives_both_sides_the_same_new_ike_sa(string ike)
    {
        var (w, e) = Pair(westIke: ike);
        var req = CreateChildSaExchange.BuildIkeRekey(w);
        var sa = IkeMessage.Find<SaPayload>(req.Payloads)!;
        Assert.All(sa.Proposals, p => Assert.Equal(8, p.Spi.Length));
        var (resp, outcome) = Run(w, e, req);
        var r = Assert.IsType<IkeSaRekeyed>(resp.Outcome);
        var i = Assert.IsType<IkeSaRekeyed>(outcome);
        Assert.Equal(i.Suite, r.Suite);
        Assert.Equal(i.InitiatorSpi, r.InitiatorSpi);
        Assert.Equal(i.ResponderSpi, r.ResponderSpi);
        Assert.Equal(req.Pending.IkeSpi, i.LocalSpi);
        Assert.Equal(i.LocalSpi, r.RemoteSpi);
        Assert.Equal(H(i.Keys.SkeySeed), H(r.Keys.SkeySeed));
        Assert.Equal(H(i.Keys.SkD), H(r.Keys.SkD));
        Assert.Equal(H(i.Keys.Material.SkEi), H(r.Keys.Material.SkEi));
        Assert.Equal(H(i.Keys.Material.SkAr), H(r.Keys.Material.SkAr));
        Assert.Equal(H(i.Keys.SkPi), H(r.Keys.SkPi));
        Assert.NotEqual(H(w.IkeKeys.SkD), H(i.Keys.SkD));
        // SKEYSEED = prf(SK_d old, g^ir | Ni | Nr) (§2.18): not the IKE_SA_INIT formula; and the new SK ciphers interoperate.
        var header = IkeHeader.Create(i.InitiatorSpi, i.ResponderSpi, ExchangeType.Informational, IkeFlags.Initiator, 0);
        var msg = IkeMessageBuilder.BuildEncrypted(header, [], [new NotifyPayload(NotifyType.InitialContact, [])], i.Keys.Outbound(i.LocalIsExchangeInitiator));
        var parsed = IkeMessage.Parse(msg).Value!;
        Assert.True(parsed.DecryptSk(msg, r.Keys.Inbound(r.LocalIsExchangeInitiator)).Ok);
        Assert.False(parsed.DecryptSk(msg, w.IkeKeys.InitiatorToResponder).Ok);
        req.Pending.Dispose();
    }

    [Fact]
    public void Rekey_prefers_the_old_group_while_offered_else_the_first()
    {
        var (w, e) = Pair(westEsp: "aes128gcm16-x25519-ecp256!");
        var ts = new[] { TrafficSelectors.FromPrefix("192.0.2.0/25") };
        ExistingChildSa Old(DhGroup g) => new(0xc5000001, 0xd5000001, new ChildSuite(EncrId.AesGcm16, 128, IntegId.None, g, EsnId.NoEsn), ts, ts);
        Assert.Equal((ushort)DhGroup.Ecp256, IkeMessage.Find<KePayload>(CreateChildSaExchange.BuildChildRekey(w, Old(DhGroup.Ecp256)).Payloads)!.DhGroup);
        // A group no longer configured (config reload) is not an error: the first configured group is used.
        Assert.Equal((ushort)DhGroup.Curve25519, IkeMessage.Find<KePayload>(CreateChildSaExchange.BuildChildRekey(w, Old(DhGroup.Modp2048)).Payloads)!.DhGroup);
        Assert.Equal((ushort)DhGroup.Curve25519, IkeMessage.Find<KePayload>(CreateChildSaExchange.BuildChildRekey(w, Old(DhGroup.None)).Payloads)!.DhGroup);
        // An explicit retry group must be one we offer.
        Assert.Throws<ArgumentException>(() => CreateChildSaExchange.BuildChildRekey(w, Old(DhGroup.Ecp256), DhGroup.Modp2048));
    }

    // ---- errors, responder side and how the initiator reads them ----------------------------------

    [Fact]
    public void No_proposal_chosen_both_ways()
    {
        var (w, e) = Pair(westEsp: "aes128gcm16!", eastEsp: "aes256gcm16!");
        var (resp, outcome) = Run(w, e, CreateChildSaExchange.BuildNewChild(w));
        Assert.Equal(NotifyType.NoProposalChosen, Assert.IsType<CreateChildSaFailed>(resp.Outcome).Notify);
        Assert.Equal(NotifyType.NoProposalChosen, Assert.Single(resp.Payloads).As<NotifyPayload>().NotifyType);
        Assert.Equal(NotifyType.NoProposalChosen, Assert.IsType<CreateChildSaFailed>(outcome).Notify);
        // IKE rekey too.
        var (w2, e2) = Pair(westIke: "aes128-sha256-x25519!", eastIke: "aes256-sha384-ecp384!");
        var (r2, o2) = Run(w2, e2, CreateChildSaExchange.BuildIkeRekey(w2));
        Assert.Equal(NotifyType.NoProposalChosen, ((CreateChildSaFailed)r2.Outcome).Notify);
        Assert.Equal(NotifyType.NoProposalChosen, ((CreateChildSaFailed)o2).Notify);
    }

    [Fact]
    public void Pfs_mismatch_is_no_proposal_chosen()
    {
        // West wants PFS, east offers none: DH in ESP must be on both sides or neither (§3.3.3).
        var (w, e) = Pair(westEsp: "aes128gcm16-x25519!", eastEsp: "aes128gcm16!");
        var (resp, outcome) = Run(w, e, CreateChildSaExchange.BuildNewChild(w));
        Assert.Equal(NotifyType.NoProposalChosen, ((CreateChildSaFailed)resp.Outcome).Notify);
        Assert.Equal(NotifyType.NoProposalChosen, ((CreateChildSaFailed)outcome).Notify);
    }

    [Fact]
    public void Invalid_ke_names_the_group_and_the_retry_succeeds()
    {
        var (w, e) = Pair(westEsp: "aes128gcm16-x25519-ecp256!", eastEsp: "aes128gcm16-ecp256!");
        var req = CreateChildSaExchange.BuildNewChild(w);
        Assert.Equal((ushort)DhGroup.Curve25519, IkeMessage.Find<KePayload>(req.Payloads)!.DhGroup);
        var (resp, outcome) = Run(w, e, req);
        var n = Assert.Single(resp.Payloads).As<NotifyPayload>();
        Assert.Equal(NotifyType.InvalidKePayload, n.NotifyType);
        Assert.Equal(new byte[] { 0, 19 }, n.Data); // §3.10.1: the accepted group, 2 bytes
        var f = Assert.IsType<CreateChildSaFailed>(outcome);
        Assert.Equal(NotifyType.InvalidKePayload, f.Notify);
        Assert.Equal(DhGroup.Ecp256, f.RetryWithGroup);
        var retry = CreateChildSaExchange.BuildNewChild(w, keGroup: f.RetryWithGroup);
        var (resp2, outcome2) = Run(w, e, retry);
        AssertMirrored(Assert.IsType<ChildSaCreated>(outcome2), Assert.IsType<ChildSaCreated>(resp2.Outcome));
        Assert.Equal(DhGroup.Ecp256, ((ChildSaCreated)outcome2).Suite.Dh);
        // A group we did not offer is not a retry.
        var bogus = CreateChildSaExchange.ProcessResponse(w, retry.Pending, [new NotifyPayload(NotifyType.InvalidKePayload, [0, 21])]);
        Assert.Equal(DhGroup.None, ((CreateChildSaFailed)bogus).RetryWithGroup);
    }

    [Fact]
    public void Invalid_ke_on_ike_rekey()
    {
        var (w, e) = Pair(westIke: "aes128-sha256-x25519-modp2048!", eastIke: "aes128-sha256-modp2048!");
        var (resp, outcome) = Run(w, e, CreateChildSaExchange.BuildIkeRekey(w));
        Assert.Equal(NotifyType.InvalidKePayload, ((CreateChildSaFailed)resp.Outcome).Notify);
        Assert.Equal(DhGroup.Modp2048, ((CreateChildSaFailed)outcome).RetryWithGroup);
        var (resp2, outcome2) = Run(w, e, CreateChildSaExchange.BuildIkeRekey(w, DhGroup.Modp2048));
        Assert.Equal(H(((IkeSaRekeyed)outcome2).Keys.SkD), H(((IkeSaRekeyed)resp2.Outcome).Keys.SkD));
    }

    [Fact]
    public void The_ke_group_sent_is_preferred_over_our_first_group()
    {
        // East prefers ecp256 but accepts x25519; west sent x25519: east takes it (no INVALID_KE round trip).
        var (w, e) = Pair(westEsp: "aes128gcm16-x25519-ecp256!", eastEsp: "aes128gcm16-ecp256-x25519!");
        var (resp, outcome) = Run(w, e, CreateChildSaExchange.BuildNewChild(w));
        Assert.Equal(DhGroup.Curve25519, Assert.IsType<ChildSaCreated>(outcome).Suite.Dh);
        Assert.IsType<ChildSaCreated>(resp.Outcome);
    }

    [Fact]
    public void Ts_unacceptable_both_ways()
    {
        var (w, e) = Pair(westLocal: "198.51.100.0/24", westRemote: "192.0.2.128/25", eastLocal: "192.0.2.128/25", eastRemote: "192.0.2.0/25");
        var (resp, outcome) = Run(w, e, CreateChildSaExchange.BuildNewChild(w));
        Assert.Equal(NotifyType.TsUnacceptable, ((CreateChildSaFailed)resp.Outcome).Notify);
        Assert.Equal(NotifyType.TsUnacceptable, ((CreateChildSaFailed)outcome).Notify);
    }

    [Fact]
    public void Initiator_refuses_selectors_wider_than_proposed_and_deletes_the_peer_sa()
    {
        var (w, e) = Pair(westLocal: "192.0.2.0/26", westRemote: "192.0.2.128/26", eastLocal: "192.0.2.128/25", eastRemote: "192.0.2.0/25");
        var req = CreateChildSaExchange.BuildNewChild(w);
        var resp = CreateChildSaExchange.ProcessRequest(e, Wire(req.Payloads));
        var created = Assert.IsType<ChildSaCreated>(resp.Outcome);
        // A broken responder answers with its whole /25 instead of narrowing.
        var widened = resp.Payloads.Select(p => p is TsPayload t
            ? new TsPayload(t.IsInitiator, [TrafficSelectors.FromPrefix(t.IsInitiator ? "192.0.2.0/25" : "192.0.2.128/25")])
            : p).ToList();
        var f = Assert.IsType<CreateChildSaFailed>(CreateChildSaExchange.ProcessResponse(w, req.Pending, Wire(widened)));
        Assert.Equal(NotifyType.TsUnacceptable, f.Notify);
        Assert.Equal(created.InboundSpi, f.DeletePeerChildSpi);
        // The honest answer is accepted.
        Assert.IsType<ChildSaCreated>(CreateChildSaExchange.ProcessResponse(w, req.Pending, Wire(resp.Payloads)));
    }

    [Fact]
    public void Initiator_refuses_a_proposal_it_did_not_offer()
    {
        var (w, e) = Pair(westEsp: "aes128gcm16!", eastEsp: "aes128gcm16-aes256gcm16!");
        var req = CreateChildSaExchange.BuildNewChild(w);
        var resp = CreateChildSaExchange.ProcessRequest(e, Wire(req.Payloads));
        var sa = IkeMessage.Find<SaPayload>(resp.Payloads)!;
        var p = sa.Proposals[0];
        var forged = new FastPath.Ike.Messages.Proposal(p.Number, p.Protocol, p.Spi, [FastPath.Ike.Messages.Transform.WithKeyLength(FastPath.Ike.Messages.TransformType.Encryption, (ushort)EncrId.AesGcm16, 256)]);
        var payloads = resp.Payloads.Select(x => x is SaPayload ? new SaPayload([forged]) : x).ToList();
        var f = Assert.IsType<CreateChildSaFailed>(CreateChildSaExchange.ProcessResponse(w, req.Pending, Wire(payloads)));
        Assert.Equal(NotifyType.NoProposalChosen, f.Notify);
        Assert.NotEqual(0u, f.DeletePeerChildSpi);
    }

    [Fact]
    public void Child_sa_not_found_both_ways()
    {
        var (w, e) = Pair();
        var old = new ExistingChildSa(0xc2000001, 0xd2000001, null, [], []);
        var (resp, outcome) = Run(w, e, CreateChildSaExchange.BuildChildRekey(w, old), new() { FindChildByOutboundSpi = _ => null });
        var n = Assert.Single(resp.Payloads).As<NotifyPayload>();
        Assert.Equal(NotifyType.ChildSaNotFound, n.NotifyType);
        Assert.Equal(ProtocolId.Esp, n.Protocol);
        Assert.Equal(new byte[] { 0xc2, 0, 0, 1 }, n.Spi); // copied from REKEY_SA (§2.25)
        var f = Assert.IsType<CreateChildSaFailed>(outcome);
        Assert.Equal(NotifyType.ChildSaNotFound, f.Notify);
        Assert.Equal(0xc2000001u, f.ChildSaNotFoundSpi);
    }

    public static TheoryData<CreateChildSaKind, string> Busy => new()
    {
        { CreateChildSaKind.ChildRekey, "ike-rekey" },
        { CreateChildSaKind.ChildRekey, "ike-delete" },
        { CreateChildSaKind.ChildRekey, "closing" },
        { CreateChildSaKind.NewChild, "ike-rekey" },
        { CreateChildSaKind.IkeRekey, "child" },
        { CreateChildSaKind.IkeRekey, "ike-delete" },
    };

    [Theory]
    [MemberData(nameof(Busy))]
    public void Temporary_failure_both_ways(CreateChildSaKind kind, string busy)
    {
        var (w, e) = Pair();
        var old = new ExistingChildSa(0xc3000001, 0xd3000001, null, [], []);
        var eastOld = new ExistingChildSa(0xd3000001, 0xc3000001, null, [], []);
        var state = new CreateChildSaResponderState
        {
            FindChildByOutboundSpi = s => s == 0xc3000001 ? eastOld : null,
            IkeRekeyInProgress = busy == "ike-rekey",
            IkeDeleteInProgress = busy == "ike-delete",
            ChildExchangeInProgress = busy == "child",
            IsChildClosing = s => busy == "closing" && s == 0xc3000001,
        };
        var req = kind switch
        {
            CreateChildSaKind.ChildRekey => CreateChildSaExchange.BuildChildRekey(w, old),
            CreateChildSaKind.IkeRekey => CreateChildSaExchange.BuildIkeRekey(w),
            _ => CreateChildSaExchange.BuildNewChild(w),
        };
        var (resp, outcome) = Run(w, e, req, state);
        Assert.Equal(NotifyType.TemporaryFailure, Assert.Single(resp.Payloads).As<NotifyPayload>().NotifyType);
        Assert.Equal(kind, resp.Outcome.Kind);
        Assert.Equal(NotifyType.TemporaryFailure, Assert.IsType<CreateChildSaFailed>(outcome).Notify);
        // Without the condition the same request goes through.
        Assert.IsNotType<CreateChildSaFailed>(CreateChildSaExchange.ProcessRequest(e, Wire(req.Payloads),
            new() { FindChildByOutboundSpi = state.FindChildByOutboundSpi }).Outcome);
    }

    [Fact]
    public void Simultaneous_rekey_of_the_same_child_is_answered_not_refused()
    {
        var (w, e) = Pair();
        var eastOld = new ExistingChildSa(0xd4000001, 0xc4000001, null, [], []);
        var req = CreateChildSaExchange.BuildChildRekey(w, new ExistingChildSa(0xc4000001, 0xd4000001, null, [], []));
        // East is rekeying that very SA itself (ChildExchangeInProgress): §2.25.1 says reply as usual.
        var (resp, _) = Run(w, e, req, new() { FindChildByOutboundSpi = _ => eastOld, ChildExchangeInProgress = true });
        Assert.IsType<ChildSaCreated>(resp.Outcome);
    }

    public static TheoryData<string, PayloadType> Missing => new()
    {
        { "child", PayloadType.SecurityAssociation },
        { "child", PayloadType.Nonce },
        { "child", PayloadType.TsInitiator },
        { "child", PayloadType.TsResponder },
        { "ike", PayloadType.SecurityAssociation },
        { "ike", PayloadType.Nonce },
        { "ike", PayloadType.KeyExchange },
    };

    [Theory]
    [MemberData(nameof(Missing))]
    public void Missing_payloads_are_invalid_syntax_both_ways(string kind, PayloadType drop)
    {
        var (w, e) = Pair();
        var req = kind == "ike" ? CreateChildSaExchange.BuildIkeRekey(w) : CreateChildSaExchange.BuildNewChild(w);
        var resp = CreateChildSaExchange.ProcessRequest(e, Wire(Without(req.Payloads, drop)));
        Assert.Equal(NotifyType.InvalidSyntax, Assert.Single(resp.Payloads).As<NotifyPayload>().NotifyType);
        Assert.Equal(NotifyType.InvalidSyntax, ((CreateChildSaFailed)CreateChildSaExchange.ProcessResponse(w, req.Pending, Wire(resp.Payloads))).Notify);
        // The initiator side: a good response missing the same payload.
        var good = CreateChildSaExchange.ProcessRequest(e, Wire(req.Payloads));
        var f = Assert.IsType<CreateChildSaFailed>(CreateChildSaExchange.ProcessResponse(w, req.Pending, Wire(Without(good.Payloads, drop))));
        Assert.True(f.Notify is NotifyType.InvalidSyntax or NotifyType.InvalidKePayload, f.ToString()); // a missing KEr is a KE problem
    }

    [Fact]
    public void Malformed_rekey_notify_and_short_nonce_are_invalid_syntax()
    {
        var (w, e) = Pair();
        var req = CreateChildSaExchange.BuildNewChild(w);
        var bad = req.Payloads.Prepend(new NotifyPayload(ProtocolId.Ike, NotifyType.RekeySa, [1, 2], [])).ToList();
        Assert.Equal(NotifyType.InvalidSyntax, ((CreateChildSaFailed)CreateChildSaExchange.ProcessRequest(e, bad).Outcome).Notify);
        var shortNonce = req.Payloads.Select(p => p is NoncePayload ? new NoncePayload(new byte[8]) : p).ToList();
        Assert.Equal(NotifyType.InvalidSyntax, ((CreateChildSaFailed)CreateChildSaExchange.ProcessRequest(e, shortNonce).Outcome).Notify);
    }

    [Fact]
    public void Transport_mode_is_negotiated_and_a_mismatch_refused()
    {
        var (w, e) = Pair(westTransport: true, eastTransport: true);
        var (resp, outcome) = Run(w, e, CreateChildSaExchange.BuildNewChild(w));
        Assert.True(Assert.IsType<ChildSaCreated>(outcome).Transport);
        Assert.True(((ChildSaCreated)resp.Outcome).Transport);
        Assert.NotNull(IkeMessage.FindNotify(resp.Payloads, NotifyType.UseTransportMode));
        Assert.True(CreateChildSaExchange.ToInstall((ChildSaCreated)outcome, w, 1, 2, 1, new Random(1)).Transport);

        // West asks for transport, east is a tunnel: east answers tunnel, west refuses it and deletes east's SA.
        var (w2, e2) = Pair(westTransport: true, eastTransport: false);
        var (resp2, outcome2) = Run(w2, e2, CreateChildSaExchange.BuildNewChild(w2));
        Assert.False(Assert.IsType<ChildSaCreated>(resp2.Outcome).Transport);
        var f = Assert.IsType<CreateChildSaFailed>(outcome2);
        Assert.Equal(((ChildSaCreated)resp2.Outcome).InboundSpi, f.DeletePeerChildSpi);

        // East requires transport, west asks for a tunnel: refused.
        var (w3, e3) = Pair(westTransport: false, eastTransport: true);
        var (resp3, outcome3) = Run(w3, e3, CreateChildSaExchange.BuildNewChild(w3));
        Assert.Equal(NotifyType.NoProposalChosen, ((CreateChildSaFailed)resp3.Outcome).Notify);
        Assert.IsType<CreateChildSaFailed>(outcome3);
    }

    [Fact]
    public void Install_maps_keys_per_direction_and_volume_limits()
    {
        var keys = SharedIkeKeys();
        var wc = Conn("w", "aes128-sha256!", "192.0.2.0/25", "192.0.2.128/25");
        var w = Ctx(keys, new global::FastPath.Ike.Engine.IkeConnection
        {
            Name = "w", IkeProposals = wc.IkeProposals, EspProposals = wc.EspProposals, LocalTs = wc.LocalTs, RemoteTs = wc.RemoteTs,
            ChildLifeBytes = 1_000_000, ChildLifePackets = 0, ReplayWindow = 64,
        }, true);
        var e = Ctx(keys, Conn("e", "aes128-sha256!", "192.0.2.128/25", "192.0.2.0/25"), false);
        var (resp, outcome) = Run(w, e, CreateChildSaExchange.BuildNewChild(w));
        var i = (ChildSaCreated)outcome;
        var install = CreateChildSaExchange.ToInstall(i, w, 1, 2, 5, new Random(3));
        Assert.Equal(i.InboundSpi, install.InboundSpi);
        Assert.Equal(H(i.Keys.ResponderToInitiator.EncryptionKey), H(install.InboundEncryptionKey));
        Assert.Equal(H(i.Keys.InitiatorToResponder.IntegrityKey), H(install.OutboundIntegrityKey));
        Assert.Equal(1_000_000, install.HardLifeBytes);
        Assert.InRange(install.SoftLifeBytes, 1_000_000 - 2 * 150_000, 1_000_000 - 150_000); // margin 9 min of 60 = 15 %, fuzz 100 %
        Assert.Equal(0, install.HardLifePackets);
        Assert.Equal(64, install.ReplayWindow);
        Assert.Equal(0u, install.ReplacesOutboundSpi);
        var r = CreateChildSaExchange.ToInstall((ChildSaCreated)resp.Outcome, e, 1, 2, 5, new Random(3));
        Assert.Equal(H(install.OutboundEncryptionKey), H(r.InboundEncryptionKey));
        Assert.Equal(East, r.LocalAddress);
    }
}

internal static class PayloadCast
{
    public static T As<T>(this IkePayload p) where T : IkePayload => Assert.IsType<T>(p);
}
