using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using FastPath.Ike.Crypto;
using FastPath.Ike.Proposals;
using Xunit;
using static FastPath.Ike.Tests.Crypto.Hex;

namespace FastPath.Ike.Tests.Crypto;

// Known answers from real strongSwan 5.9.8 charons (Vectors/capture.sh + extract.py): charon printed
// g^ir, SKEYSEED, SK_*, the AUTH inputs and the CHILD_SA keys; the pcap gave SPIs, nonces and the
// encrypted IKE_AUTH messages. Our derivation must reproduce every byte from (Ni, Nr, g^ir, SPIi, SPIr),
// our SK ciphers must open charon's IKE_AUTH messages, and the PSK AUTH values in them must verify.
public class StrongSwanVectorTests
{
    public static IEnumerable<object[]> Cases() =>
    [
        ["x25519", new IkeSuite(EncrId.AesGcm16, 128, PrfId.HmacSha2_256, IntegId.None, DhGroup.Curve25519),
            new ChildSuite(EncrId.AesGcm16, 128, IntegId.None, DhGroup.None, EsnId.NoEsn)],
        ["modp2048", new IkeSuite(EncrId.AesCbc, 256, PrfId.HmacSha2_256, IntegId.HmacSha2_256_128, DhGroup.Modp2048),
            new ChildSuite(EncrId.AesCbc, 256, IntegId.HmacSha2_256_128, DhGroup.None, EsnId.NoEsn)],
        ["ecp256", new IkeSuite(EncrId.AesCbc, 128, PrfId.HmacSha1, IntegId.HmacSha1_96, DhGroup.Ecp256),
            new ChildSuite(EncrId.AesCbc, 128, IntegId.HmacSha1_96, DhGroup.None, EsnId.NoEsn)],
        ["aes256gcm-ecp384", new IkeSuite(EncrId.AesGcm16, 256, PrfId.HmacSha2_384, IntegId.None, DhGroup.Ecp384),
            new ChildSuite(EncrId.AesGcm16, 256, IntegId.None, DhGroup.None, EsnId.NoEsn)],
    ];

    private static (IkeSaKeys Keys, Dictionary<string, byte[]> V) Derive(string name, IkeSuite suite)
    {
        var v = LoadVector(name);
        var keys = SaKeyFactory.CreateIkeSa(suite, v["g_ir"], v["ni"], v["nr"],
            BinaryPrimitives.ReadUInt64BigEndian(v["spi_i"]), BinaryPrimitives.ReadUInt64BigEndian(v["spi_r"]));
        return (keys, v);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SkeyseedAndAllSkKeysMatchCharon(string name, IkeSuite suite, ChildSuite child)
    {
        _ = child;
        var (k, v) = Derive(name, suite);
        Assert.Equal(S(v["skeyseed"]), S(k.SkeySeed));
        Assert.Equal(S(v["sk_d"]), S(k.Material.SkD));
        Assert.Equal(S(v["sk_ei"]), S(k.Material.SkEi));
        Assert.Equal(S(v["sk_er"]), S(k.Material.SkEr));
        Assert.Equal(S(v["sk_pi"]), S(k.Material.SkPi));
        Assert.Equal(S(v["sk_pr"]), S(k.Material.SkPr));
        Assert.Equal(v.TryGetValue("sk_ai", out var ai) ? S(ai) : "", S(k.Material.SkAi));
        Assert.Equal(v.TryGetValue("sk_ar", out var ar) ? S(ar) : "", S(k.Material.SkAr));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ChildSaKeymatMatchesCharon(string name, IkeSuite suite, ChildSuite child)
    {
        var (k, v) = Derive(name, suite);
        Assert.Equal(S([.. v["ni"], .. v["nr"]]), S(v["child_seed"])); // charon's seed = Ni | Nr (no PFS)
        var c = SaKeyFactory.CreateChildSa(k, child, default, v["ni"], v["nr"]);
        Assert.Equal(S(v["child_encr_i"]), S(c.InitiatorToResponder.EncryptionKey));
        Assert.Equal(S(v["child_encr_r"]), S(c.ResponderToInitiator.EncryptionKey));
        Assert.Equal(v.TryGetValue("child_integ_i", out var ii) ? S(ii) : "", S(c.InitiatorToResponder.IntegrityKey));
        Assert.Equal(v.TryGetValue("child_integ_r", out var ir) ? S(ir) : "", S(c.ResponderToInitiator.IntegrityKey));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InitiatorPskAuthMatchesCharon(string name, IkeSuite suite, ChildSuite child)
    {
        _ = child;
        var (k, v) = Derive(name, suite);
        byte[] octets = IkeAuth.SignedOctets(k.Prf, v["ike_sa_init_request"], v["nr"], k.SkPi, v["initiator_id_rest"]);
        Assert.Equal(S(v["initiator_auth_octets"]), S(octets));
        Assert.Equal(S(v["initiator_auth"]), S(IkeAuth.PskAuth(k.Prf, v["psk"], octets)));
        Assert.True(IkeAuth.VerifyPskAuth(k.Prf, v["psk"], octets, v["initiator_auth"]));
        Assert.False(IkeAuth.VerifyPskAuth(k.Prf, "wrong-psk"u8, octets, v["initiator_auth"]));
    }

    // Opens charon's encrypted IKE_AUTH request and response with our SK ciphers, finds the AUTH
    // payloads, and checks both PSK AUTH values (the responder's from its IDr and Ni).
    [Theory]
    [MemberData(nameof(Cases))]
    public void DecryptsCharonsIkeAuthAndVerifiesBothAuthPayloads(string name, IkeSuite suite, ChildSuite child)
    {
        _ = child;
        var (k, v) = Derive(name, suite);

        var request = Open(k.InitiatorToResponder, v["ike_auth_request"]);
        Assert.Equal(2, request[39][0]); // AUTH method 2 = PSK
        Assert.Equal(S(v["initiator_auth"]), S(request[39].AsSpan(4)));
        Assert.Equal(S(v["initiator_id_rest"]), S(request[35])); // IDi body = RestOfInitIDPayload

        var response = Open(k.ResponderToInitiator, v["ike_auth_response"]);
        byte[] octets = IkeAuth.SignedOctets(k.Prf, v["ike_sa_init_response"], v["ni"], k.SkPr, response[36]);
        Assert.Equal(2, response[39][0]);
        Assert.True(IkeAuth.VerifyPskAuth(k.Prf, v["psk"], octets, response[39].AsSpan(4)));

        // The wrong direction's key does not open it.
        byte[] m = v["ike_auth_request"];
        int len = BinaryPrimitives.ReadUInt16BigEndian(m.AsSpan(30));
        Assert.Equal(-1, k.ResponderToInitiator.Open(m, 32, len - 4, new byte[len]));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TamperedCharonMessageIsRejected(string name, IkeSuite suite, ChildSuite child)
    {
        _ = child;
        var (k, v) = Derive(name, suite);
        byte[] m = (byte[])v["ike_auth_request"].Clone();
        int len = BinaryPrimitives.ReadUInt16BigEndian(m.AsSpan(30));
        var buf = new byte[len];
        Assert.True(k.InitiatorToResponder.Open(m, 32, len - 4, buf) > 0);
        foreach (int at in new[] { 3, 20, 29, 40, 28 + len - 1 })
        {
            m[at] ^= 0x01; // IKE header (AAD / ICV coverage), payload header, ciphertext, ICV
            Assert.Equal(-1, k.InitiatorToResponder.Open(m, 32, len - 4, buf));
            m[at] ^= 0x01;
        }
    }

    /// <summary>Opens the SK payload (first payload) of <paramref name="message"/> and returns inner payload bodies by type.</summary>
    internal static Dictionary<int, byte[]> Open(ISkCipher cipher, byte[] message)
    {
        Assert.Equal(46, message[16]); // first payload is SK
        int skLen = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(30));
        var plain = new byte[skLen];
        int n = cipher.Open(message, 32, skLen - 4, plain);
        Assert.True(n > 0, "SK payload did not open");
        var result = new Dictionary<int, byte[]>();
        int next = message[28], off = 0;
        while (next != 0)
        {
            int pl = BinaryPrimitives.ReadUInt16BigEndian(plain.AsSpan(off + 2));
            result.TryAdd(next, plain.AsSpan(off + 4, pl - 4).ToArray());
            next = plain[off];
            off += pl;
        }
        Assert.Equal(n, off);
        return result;
    }
}
