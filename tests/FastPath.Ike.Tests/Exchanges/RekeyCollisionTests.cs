using System;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using Xunit;
using static FastPath.Ike.Tests.Exchanges.ExchangeHarness;

namespace FastPath.Ike.Tests.Exchanges;

// §2.8.1 / §2.8.2: the SA created with the lowest of the four nonces loses, and its creator deletes it.
public class RekeyCollisionTests
{
    private static byte[] N(params byte[] b) => b;

    [Fact]
    public void Lowest_nonce_in_our_exchange_means_ours_loses_and_we_delete_it()
    {
        var r = RekeyCollision.Resolve(ourRequestNonce: N(0x10, 0), peerResponseNonce: N(0x90), peerRequestNonce: N(0x20), ourResponseNonce: N(0x80));
        Assert.False(r.OursSurvives);
        Assert.True(r.LocalMustDelete);
        // Seen from the peer (roles swapped): its own exchange survives, it deletes nothing and waits for our Delete.
        var p = RekeyCollision.Resolve(N(0x20), N(0x80), N(0x10, 0), N(0x90));
        Assert.True(p.OursSurvives);
        Assert.False(p.LocalMustDelete);
    }

    [Theory]
    [InlineData(0)] [InlineData(1)] [InlineData(2)] [InlineData(3)]
    public void Every_position_of_the_lowest_nonce(int lowest)
    {
        var n = new byte[4][];
        for (int i = 0; i < 4; i++) n[i] = [(byte)(i == lowest ? 0x01 : 0x50 + i)];
        var r = RekeyCollision.Resolve(n[0], n[1], n[2], n[3]);
        bool oursHoldsLowest = lowest is 0 or 1; // our request's Ni or the peer's Nr to it
        Assert.Equal(!oursHoldsLowest, r.OursSurvives);
        Assert.Equal(oursHoldsLowest, r.LocalMustDelete);
    }

    [Fact]
    public void Nonces_compare_as_octet_strings()
    {
        Assert.True(RekeyCollision.CompareNonces([0x00, 0xff], [0x01]) < 0); // first byte decides, not length or value
        Assert.True(RekeyCollision.CompareNonces([0x7f], [0x80]) < 0);       // unsigned
        Assert.True(RekeyCollision.CompareNonces([0x01, 0x02], [0x01, 0x02, 0x00]) < 0); // a prefix is lower
        Assert.Equal(0, RekeyCollision.CompareNonces([1, 2, 3], [1, 2, 3]));
    }

    [Fact]
    public void Both_sides_always_agree_on_the_survivor()
    {
        var rng = new Random(2081); // property test; the seed is printed on failure through the message
        for (int it = 0; it < 20_000; it++)
        {
            // Nonces of 16..40 bytes; sometimes sharing a long prefix so later bytes and lengths decide.
            byte[] Nonce()
            {
                var b = new byte[rng.Next(16, 41)];
                rng.NextBytes(b);
                if (rng.Next(3) == 0) b.AsSpan(0, 8).Fill(0x42);
                return b;
            }
            byte[] wReq = Nonce(), eResp = Nonce(), eReq = Nonce(), wResp = Nonce();
            var west = RekeyCollision.Resolve(wReq, eResp, eReq, wResp);
            var east = RekeyCollision.Resolve(eReq, wResp, wReq, eResp);
            Assert.True(west.OursSurvives != east.OursSurvives, $"seed 2081 iteration {it}: both think their own SA survives/loses");
            Assert.True(west.LocalMustDelete != east.LocalMustDelete, $"seed 2081 iteration {it}: delete duty not exactly one side");
            // The loser is the exchange that used the minimum of the four.
            var min = wReq;
            foreach (var x in new[] { eResp, eReq, wResp }) if (RekeyCollision.CompareNonces(x, min) < 0) min = x;
            bool westExchangeHasMin = ReferenceEquals(min, wReq) || ReferenceEquals(min, eResp);
            Assert.Equal(westExchangeHasMin, west.LocalMustDelete);
        }
    }

    [Fact]
    public void Identical_nonces_are_refused()
    {
        var n = new byte[16];
        Assert.Throws<InvalidOperationException>(() => RekeyCollision.Resolve(n, n, n, n));
    }

    [Fact]
    public void A_real_simultaneous_child_rekey_resolves_to_one_sa()
    {
        // West and east both rekey the same CHILD_SA; both exchanges complete; the rule leaves one pair.
        var (w, e) = Pair(westEsp: "aes128gcm16-x25519!");
        var first = (ChildSaCreated)Run(w, e, CreateChildSaExchange.BuildNewChild(w)).Initiator;
        var westOld = new ExistingChildSa(first.InboundSpi, first.OutboundSpi, first.Suite, first.LocalTs, first.RemoteTs);
        var eastOld = new ExistingChildSa(first.OutboundSpi, first.InboundSpi, first.Suite, first.RemoteTs, first.LocalTs);
        var westReq = CreateChildSaExchange.BuildChildRekey(w, westOld);
        var eastReq = CreateChildSaExchange.BuildChildRekey(e, eastOld);
        // Each answers the other's request while its own is outstanding (§2.25.1: reply as usual).
        var eastAnswers = CreateChildSaExchange.ProcessRequest(e, Wire(westReq.Payloads), new() { FindChildByOutboundSpi = _ => eastOld, ChildExchangeInProgress = true });
        var westAnswers = CreateChildSaExchange.ProcessRequest(w, Wire(eastReq.Payloads), new() { FindChildByOutboundSpi = _ => westOld, ChildExchangeInProgress = true });
        var westOwn = (ChildSaCreated)CreateChildSaExchange.ProcessResponse(w, westReq.Pending, Wire(eastAnswers.Payloads));
        var eastOwn = (ChildSaCreated)CreateChildSaExchange.ProcessResponse(e, eastReq.Pending, Wire(westAnswers.Payloads));
        var westPeer = (ChildSaCreated)westAnswers.Outcome;
        var eastPeer = (ChildSaCreated)eastAnswers.Outcome;
        var wr = RekeyCollision.Resolve(westOwn.Ni, westOwn.Nr, westPeer.Ni, westPeer.Nr);
        var er = RekeyCollision.Resolve(eastOwn.Ni, eastOwn.Nr, eastPeer.Ni, eastPeer.Nr);
        var westKeeps = wr.OursSurvives ? westOwn : westPeer;
        var eastKeeps = er.OursSurvives ? eastOwn : eastPeer;
        Assert.Equal(westKeeps.InboundSpi, eastKeeps.OutboundSpi);
        Assert.Equal(Convert.ToHexString(westKeeps.OutboundKeys.EncryptionKey), Convert.ToHexString(eastKeeps.InboundKeys.EncryptionKey));
        Assert.True(wr.LocalMustDelete ^ er.LocalMustDelete);
    }

    [Fact]
    public void Admission_rules_of_section_2_25()
    {
        var idle = new CreateChildSaResponderState();
        foreach (CreateChildSaKind k in Enum.GetValues<CreateChildSaKind>()) Assert.Null(RekeyCollision.Admit(k, idle, 5));
        var ikeRekey = new CreateChildSaResponderState { IkeRekeyInProgress = true };
        Assert.Equal(NotifyType.TemporaryFailure, RekeyCollision.Admit(CreateChildSaKind.ChildRekey, ikeRekey, 5));
        Assert.Equal(NotifyType.TemporaryFailure, RekeyCollision.Admit(CreateChildSaKind.NewChild, ikeRekey, 0));
        Assert.Null(RekeyCollision.Admit(CreateChildSaKind.IkeRekey, ikeRekey, 0)); // simultaneous IKE rekey: answer (§2.8.2)
        var child = new CreateChildSaResponderState { ChildExchangeInProgress = true };
        Assert.Equal(NotifyType.TemporaryFailure, RekeyCollision.Admit(CreateChildSaKind.IkeRekey, child, 0));
        Assert.Null(RekeyCollision.Admit(CreateChildSaKind.ChildRekey, child, 5));
        var closing = new CreateChildSaResponderState { IsChildClosing = s => s == 5 };
        Assert.Equal(NotifyType.TemporaryFailure, RekeyCollision.Admit(CreateChildSaKind.ChildRekey, closing, 5));
        Assert.Null(RekeyCollision.Admit(CreateChildSaKind.ChildRekey, closing, 6));
        var deleting = new CreateChildSaResponderState { IkeDeleteInProgress = true };
        foreach (CreateChildSaKind k in Enum.GetValues<CreateChildSaKind>()) Assert.Equal(NotifyType.TemporaryFailure, RekeyCollision.Admit(k, deleting, 5));
    }
}
