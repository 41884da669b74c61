using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using FastPath.Ike.Crypto;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using Xunit;
using static FastPath.Ike.Tests.Crypto.Hex;

namespace FastPath.Ike.Tests.Exchanges;

// Our CREATE_CHILD_SA path against a real peer's numbers: Crypto/Vectors/rekey.txt holds the
// CREATE_CHILD_SA messages of two strongSwan 5.9.8 charons (CHILD_SA rekey with x25519 PFS, then
// the IKE SA rekey; see RekeyVectorTests) and the keys charon derived. We decrypt charon's
// messages with our SK ciphers and
//  - feed charon's request to our responder (it must accept it: REKEY_SA, SA, KE, TS as charon sends them);
//  - drive our initiator with charon's nonce, SPI and DH value (its g^ir from the log stands in for the
//    private key the log does not have) and feed it charon's response: the KEYMAT and the new IKE SA's
//    SK_* must be exactly what charon derived.
public class StrongSwanRekeyTests
{
    private static readonly IkeSuite Suite = new(EncrId.AesCbc, 128, PrfId.HmacSha2_256, IntegId.HmacSha2_256_128, DhGroup.Curve25519);

    private static (Dictionary<string, byte[]> V, IkeSaKeys K) Load()
    {
        var v = LoadVector("rekey");
        var k = SaKeyFactory.CreateIkeSa(Suite, v["g_ir"], v["ni"], v["nr"],
            BinaryPrimitives.ReadUInt64BigEndian(v["spi_i"]), BinaryPrimitives.ReadUInt64BigEndian(v["spi_r"]));
        return (v, k);
    }

    private static IReadOnlyList<IkePayload> Decrypt(byte[] message, ISkCipher cipher)
    {
        var m = IkeMessage.Parse(message);
        Assert.True(m.Ok, m.Error.ToString());
        Assert.Equal(ExchangeType.CreateChildSa, m.Value!.Header.Exchange);
        var inner = m.Value.DecryptSk(message, cipher);
        Assert.True(inner.Ok, inner.Error.ToString());
        return inner.Value!;
    }

    private static IkeConnection Conn(IReadOnlyList<TrafficSelector> local, IReadOnlyList<TrafficSelector> remote) => new()
    {
        Name = "charon",
        IkeProposals = ProposalParser.Parse("aes128-sha256-x25519!", ProposalProtocol.Ike),
        EspProposals = ProposalParser.Parse("aes128gcm16-x25519!", ProposalProtocol.Esp),
        LocalTs = local,
        RemoteTs = remote,
    };

    private static uint SaSpi32(SaPayload sa) => BinaryPrimitives.ReadUInt32BigEndian(sa.Proposals[0].Spi);

    [Fact]
    public void Our_initiator_derives_charons_child_keymat_from_charons_response()
    {
        var (v, k) = Load();
        var req = Decrypt(v["child_rekey_request"], k.InitiatorToResponder);
        var resp = Decrypt(v["child_rekey_response"], k.ResponderToInitiator);
        var tsi = req.OfType<TsPayload>().First(t => t.IsInitiator).Selectors;
        var tsr = req.OfType<TsPayload>().First(t => !t.IsInitiator).Selectors;
        var rekeySa = IkeMessage.FindNotify(req, NotifyType.RekeySa)!;
        var ni = IkeMessage.Find<NoncePayload>(req)!.Nonce;
        var kei = IkeMessage.Find<KePayload>(req)!;
        uint ourSpi = SaSpi32(IkeMessage.Find<SaPayload>(req)!);
        var ctx = new CreateChildSaContext
        {
            IkeKeys = k,
            Connection = Conn(tsi, tsr),
            LocalAddress = IPAddress.Parse("192.0.2.1"),
            RemoteAddress = IPAddress.Parse("192.0.2.2"),
            AllocateChildSpi = () => ourSpi,
            NonceGenerator = n => ni,
            KeyExchangeFactory = g => new KnownSecretKeyExchange(g, kei.KeyData, v["child_rekey_g_ir"]),
        };
        var old = new ExistingChildSa(BinaryPrimitives.ReadUInt32BigEndian(rekeySa.Spi), 0x01020304,
            new ChildSuite(EncrId.AesGcm16, 128, IntegId.None, DhGroup.Curve25519, EsnId.NoEsn), tsi, tsr);
        var ours = CreateChildSaExchange.BuildChildRekey(ctx, old);
        // Our request carries what charon's did (same REKEY_SA SPI, nonce, KE group, SPI, selectors).
        Assert.Equal(rekeySa.Spi, IkeMessage.FindNotify(ours.Payloads, NotifyType.RekeySa)!.Spi);
        Assert.Equal(kei.DhGroup, IkeMessage.Find<KePayload>(ours.Payloads)!.DhGroup);

        var outcome = CreateChildSaExchange.ProcessResponse(ctx, ours.Pending, resp);
        var c = Assert.IsType<ChildSaCreated>(outcome);
        Assert.Equal(DhGroup.Curve25519, c.Suite.Dh);
        Assert.Equal(S(v["child_rekey_encr_i"]), S(c.OutboundKeys.EncryptionKey));
        Assert.Equal(S(v["child_rekey_encr_r"]), S(c.InboundKeys.EncryptionKey));
        Assert.Equal(SaSpi32(IkeMessage.Find<SaPayload>(resp)!), c.OutboundSpi);
        Assert.Equal(ourSpi, c.InboundSpi);
    }

    [Fact]
    public void Our_responder_accepts_charons_child_rekey_request()
    {
        var (v, k) = Load();
        var req = Decrypt(v["child_rekey_request"], k.InitiatorToResponder);
        var tsi = req.OfType<TsPayload>().First(t => t.IsInitiator).Selectors;
        var tsr = req.OfType<TsPayload>().First(t => !t.IsInitiator).Selectors;
        uint rekeyed = BinaryPrimitives.ReadUInt32BigEndian(IkeMessage.FindNotify(req, NotifyType.RekeySa)!.Spi);
        var ctx = new CreateChildSaContext
        {
            IkeKeys = k, Connection = Conn(tsr, tsi),
            LocalAddress = IPAddress.Parse("192.0.2.2"), RemoteAddress = IPAddress.Parse("192.0.2.1"),
            AllocateChildSpi = () => 0xcafe0001,
        };
        var old = new ExistingChildSa(0xcafe0000, rekeyed, null, tsr, tsi);
        var r = CreateChildSaExchange.ProcessRequest(ctx, req, new() { FindChildByOutboundSpi = s => s == rekeyed ? old : null });
        var c = Assert.IsType<ChildSaCreated>(r.Outcome);
        Assert.Same(old, c.Rekeyed);
        Assert.Equal(DhGroup.Curve25519, c.Suite.Dh);
        Assert.Equal(S(IkeMessage.Find<NoncePayload>(req)!.Nonce), S(c.Ni));
        Assert.Equal(TrafficSelectors.Format(tsi), TrafficSelectors.Format(c.RemoteTs));
        // Unknown SPI: CHILD_SA_NOT_FOUND.
        var nf = CreateChildSaExchange.ProcessRequest(ctx, req, new());
        Assert.Equal(NotifyType.ChildSaNotFound, ((CreateChildSaFailed)nf.Outcome).Notify);
    }

    [Fact]
    public void Our_initiator_derives_charons_rekeyed_ike_sa_from_charons_response()
    {
        var (v, k) = Load();
        var req = Decrypt(v["ike_rekey_request"], k.InitiatorToResponder);
        var resp = Decrypt(v["ike_rekey_response"], k.ResponderToInitiator);
        var ni = IkeMessage.Find<NoncePayload>(req)!.Nonce;
        var kei = IkeMessage.Find<KePayload>(req)!;
        ulong spiI = BinaryPrimitives.ReadUInt64BigEndian(IkeMessage.Find<SaPayload>(req)!.Proposals[0].Spi);
        var ctx = new CreateChildSaContext
        {
            IkeKeys = k, Connection = Conn([], []),
            LocalAddress = IPAddress.Parse("192.0.2.1"), RemoteAddress = IPAddress.Parse("192.0.2.2"),
            AllocateChildSpi = () => 1000, AllocateIkeSpi = () => spiI,
            NonceGenerator = n => ni,
            KeyExchangeFactory = g => new KnownSecretKeyExchange(g, kei.KeyData, v["ike_rekey_g_ir"]),
        };
        var ours = CreateChildSaExchange.BuildIkeRekey(ctx);
        var rekeyed = Assert.IsType<IkeSaRekeyed>(CreateChildSaExchange.ProcessResponse(ctx, ours.Pending, resp));
        Assert.Equal(spiI, rekeyed.InitiatorSpi);
        Assert.Equal(S(v["ike_rekey_skeyseed"]), S(rekeyed.Keys.SkeySeed));
        Assert.Equal(S(v["ike_rekey_sk_d"]), S(rekeyed.Keys.SkD));
        Assert.Equal(S(v["ike_rekey_sk_ai"]), S(rekeyed.Keys.Material.SkAi));
        Assert.Equal(S(v["ike_rekey_sk_ar"]), S(rekeyed.Keys.Material.SkAr));
        Assert.Equal(S(v["ike_rekey_sk_ei"]), S(rekeyed.Keys.Material.SkEi));
        Assert.Equal(S(v["ike_rekey_sk_er"]), S(rekeyed.Keys.Material.SkEr));
        Assert.Equal(S(v["ike_rekey_sk_pi"]), S(rekeyed.Keys.SkPi));
        Assert.Equal(S(v["ike_rekey_sk_pr"]), S(rekeyed.Keys.SkPr));
    }

    [Fact]
    public void Our_responder_accepts_charons_ike_rekey_request()
    {
        var (v, k) = Load();
        var req = Decrypt(v["ike_rekey_request"], k.InitiatorToResponder);
        var ctx = new CreateChildSaContext
        {
            IkeKeys = k, Connection = Conn([], []),
            LocalAddress = IPAddress.Parse("192.0.2.2"), RemoteAddress = IPAddress.Parse("192.0.2.1"),
            AllocateChildSpi = () => 1000, AllocateIkeSpi = () => 0x0123456789abcdef,
        };
        var r = CreateChildSaExchange.ProcessRequest(ctx, req);
        var ike = Assert.IsType<IkeSaRekeyed>(r.Outcome);
        Assert.Equal(Suite, ike.Suite);
        Assert.Equal(0x0123456789abcdefUL, ike.ResponderSpi);
        Assert.Equal(BinaryPrimitives.ReadUInt64BigEndian(IkeMessage.Find<SaPayload>(req)!.Proposals[0].Spi), ike.InitiatorSpi);
        // Busy with a child exchange of our own: TEMPORARY_FAILURE (§2.25.2).
        Assert.Equal(NotifyType.TemporaryFailure, ((CreateChildSaFailed)CreateChildSaExchange.ProcessRequest(ctx, req, new() { ChildExchangeInProgress = true }).Outcome).Notify);
    }
}
