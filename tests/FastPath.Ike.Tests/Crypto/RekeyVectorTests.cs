using System;
using System.Buffers.Binary;
using FastPath.Ike.Crypto;
using FastPath.Ike.Proposals;
using Xunit;
using static FastPath.Ike.Tests.Crypto.Hex;

namespace FastPath.Ike.Tests.Crypto;

// Vectors/rekey.txt: two charons (aes128-sha256-x25519, ESP aes128gcm16-x25519) that rekeyed the
// CHILD_SA with PFS and then the IKE SA (capture.sh with REKEY=1). The CREATE_CHILD_SA messages are
// in the pcap, encrypted under the first IKE SA: we open them with our SK cipher, take the nonces and
// the new SPIs out of them, and must reproduce what charon derived (RFC 7296 §2.17 with PFS, §2.18).
public class RekeyVectorTests
{
    private static readonly IkeSuite Suite = new(EncrId.AesCbc, 128, PrfId.HmacSha2_256, IntegId.HmacSha2_256_128, DhGroup.Curve25519);

    private static IkeSaKeys First(System.Collections.Generic.Dictionary<string, byte[]> v) =>
        SaKeyFactory.CreateIkeSa(Suite, v["g_ir"], v["ni"], v["nr"],
            BinaryPrimitives.ReadUInt64BigEndian(v["spi_i"]), BinaryPrimitives.ReadUInt64BigEndian(v["spi_r"]));

    [Fact]
    public void FirstIkeSaMatches()
    {
        var v = LoadVector("rekey");
        var k = First(v);
        Assert.Equal(S(v["skeyseed"]), S(k.SkeySeed));
        Assert.Equal(S(v["sk_ai"]), S(k.Material.SkAi));
        Assert.Equal(S(v["sk_er"]), S(k.Material.SkEr));
    }

    [Fact]
    public void ChildRekeyWithPfsKeymat()
    {
        var v = LoadVector("rekey");
        var k = First(v);
        var req = StrongSwanVectorTests.Open(k.InitiatorToResponder, v["child_rekey_request"]);
        var resp = StrongSwanVectorTests.Open(k.ResponderToInitiator, v["child_rekey_response"]);
        byte[] ni = req[40], nr = resp[40];
        Assert.Equal(2 + 2 + 32, req[34].Length); // KE: group 31, reserved, 32-byte u
        Assert.Equal(31, BinaryPrimitives.ReadUInt16BigEndian(req[34]));
        // charon's seed = g^ir (new) | Ni | Nr (RFC 7296 §2.17)
        Assert.Equal(S(v["child_rekey_seed"]), S([.. v["child_rekey_g_ir"], .. ni, .. nr]));
        var child = SaKeyFactory.CreateChildSa(k, new ChildSuite(EncrId.AesGcm16, 128, IntegId.None, DhGroup.Curve25519, EsnId.NoEsn),
            v["child_rekey_g_ir"], ni, nr);
        Assert.Equal(S(v["child_rekey_encr_i"]), S(child.InitiatorToResponder.EncryptionKey));
        Assert.Equal(S(v["child_rekey_encr_r"]), S(child.ResponderToInitiator.EncryptionKey));
        // Without the PFS secret the keys differ (the test can fail).
        var noPfs = SaKeyFactory.CreateChildSa(k, new ChildSuite(EncrId.AesGcm16, 128, IntegId.None, DhGroup.None, EsnId.NoEsn), default, ni, nr);
        Assert.NotEqual(S(v["child_rekey_encr_i"]), S(noPfs.InitiatorToResponder.EncryptionKey));
    }

    [Fact]
    public void IkeSaRekeySkeyseedAndSkKeys()
    {
        var v = LoadVector("rekey");
        var old = First(v);
        var req = StrongSwanVectorTests.Open(old.InitiatorToResponder, v["ike_rekey_request"]);
        var resp = StrongSwanVectorTests.Open(old.ResponderToInitiator, v["ike_rekey_response"]);
        ulong spiI = ProposalSpi(req[33]), spiR = ProposalSpi(resp[33]);
        var k = SaKeyFactory.RekeyIkeSa(old, Suite, v["ike_rekey_g_ir"], req[40], resp[40], spiI, spiR);
        Assert.Equal(S(v["ike_rekey_skeyseed"]), S(k.SkeySeed));
        Assert.Equal(S(v["ike_rekey_sk_d"]), S(k.Material.SkD));
        Assert.Equal(S(v["ike_rekey_sk_ai"]), S(k.Material.SkAi));
        Assert.Equal(S(v["ike_rekey_sk_ar"]), S(k.Material.SkAr));
        Assert.Equal(S(v["ike_rekey_sk_ei"]), S(k.Material.SkEi));
        Assert.Equal(S(v["ike_rekey_sk_er"]), S(k.Material.SkEr));
        Assert.Equal(S(v["ike_rekey_sk_pi"]), S(k.Material.SkPi));
        Assert.Equal(S(v["ike_rekey_sk_pr"]), S(k.Material.SkPr));
        // The formula is prf(SK_d old, g^ir | Ni | Nr), not the IKE_SA_INIT one.
        Assert.NotEqual(S(KeyDerivation.SkeySeed(old.Prf, req[40], resp[40], v["ike_rekey_g_ir"])), S(k.SkeySeed));
    }

    // SA payload body: first proposal substructure (RFC 7296 §3.3.1); SPI size 8 for an IKE SA rekey.
    private static ulong ProposalSpi(byte[] sa)
    {
        Assert.Equal(1, sa[5]); // protocol IKE
        Assert.Equal(8, sa[6]); // SPI size
        return BinaryPrimitives.ReadUInt64BigEndian(sa.AsSpan(8));
    }
}
