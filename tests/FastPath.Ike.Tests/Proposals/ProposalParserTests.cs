using System.Linq;
using FastPath.Ike.Crypto;
using FastPath.Ike.Proposals;
using Xunit;

namespace FastPath.Ike.Tests.Proposals;

public class ProposalParserTests
{
    private static string One(string s, ProposalProtocol p = ProposalProtocol.Ike)
    {
        var list = ProposalParser.Parse(s, p);
        Assert.Single(list.Proposals);
        return list.Proposals[0].ToString();
    }

    [Theory]
    [InlineData("aes128gcm16-prfsha256-x25519", "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519")]
    [InlineData("aes256-sha256-modp2048", "IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048")]
    [InlineData("aes128-sha1-ecp256", "IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/ECP_256")]
    [InlineData("aes-sha1-modp3072", "IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_3072")]
    [InlineData("aes192-sha384-modp4096", "IKE:AES_CBC_192/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/MODP_4096")]
    [InlineData("aes256-sha512-ecp521", "IKE:AES_CBC_256/HMAC_SHA2_512_256/PRF_HMAC_SHA2_512/ECP_521")]
    [InlineData("3des-sha1-prfsha1-ecp384", "IKE:3DES_CBC/HMAC_SHA1_96/PRF_HMAC_SHA1/ECP_384")]
    [InlineData("aes256gcm16-prfsha384-ecp384", "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384")]
    [InlineData("aes256gcm12-prfsha512-curve25519", "IKE:AES_GCM_12_256/PRF_HMAC_SHA2_512/CURVE_25519")]
    [InlineData("aes128gcm8-prfsha1-x25519", "IKE:AES_GCM_8_128/PRF_HMAC_SHA1/CURVE_25519")]
    [InlineData("aes128gcm128-prfsha256-x25519", "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519")]
    [InlineData("aes128gcm96-prfsha256-x25519", "IKE:AES_GCM_12_128/PRF_HMAC_SHA2_256/CURVE_25519")]
    [InlineData("aes128gcm64-prfsha256-x25519", "IKE:AES_GCM_8_128/PRF_HMAC_SHA2_256/CURVE_25519")]
    [InlineData("aes256gcm-prfsha256-x25519", "IKE:AES_GCM_16_256/PRF_HMAC_SHA2_256/CURVE_25519")]
    [InlineData("chacha20poly1305-prfsha256-x25519", "IKE:CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519")]
    [InlineData("AES256-SHA2_256-MODP2048", "IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048")]
    [InlineData("aes256-sha2-modp2048", "IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048")]
    // strongSwan maps integrity to PRF, then drops integrity next to an AEAD.
    [InlineData("aes128gcm16-sha256-x25519", "IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519")]
    public void IkeTokens(string text, string expected) => Assert.Equal(expected, One(text));

    [Theory]
    [InlineData("aes128gcm16", "ESP:AES_GCM_16_128/NO_EXT_SEQ")]
    [InlineData("aes128-sha1", "ESP:AES_CBC_128/HMAC_SHA1_96/NO_EXT_SEQ")]
    [InlineData("aes256-sha256-modp2048", "ESP:AES_CBC_256/HMAC_SHA2_256_128/MODP_2048/NO_EXT_SEQ")]
    [InlineData("aes128gcm16-x25519-esn", "ESP:AES_GCM_16_128/CURVE_25519/EXT_SEQ")]
    [InlineData("aes128-sha256-noesn", "ESP:AES_CBC_128/HMAC_SHA2_256_128/NO_EXT_SEQ")]
    [InlineData("3des-md5", "ESP:3DES_CBC/HMAC_MD5_96/NO_EXT_SEQ")]
    [InlineData("chacha20poly1305", "ESP:CHACHA20_POLY1305/NO_EXT_SEQ")]
    [InlineData("aes128ctr-sha256", "ESP:AES_CTR_128/HMAC_SHA2_256_128/NO_EXT_SEQ")]
    [InlineData("aes256ctr-sha512-ecp256", "ESP:AES_CTR_256/HMAC_SHA2_512_256/ECP_256/NO_EXT_SEQ")]
    [InlineData("aes128gcm16-sha256", "ESP:AES_GCM_16_128/NO_EXT_SEQ")]
    public void EspTokens(string text, string expected) => Assert.Equal(expected, One(text, ProposalProtocol.Esp));

    [Fact]
    public void EsnAndNoEsnTogetherOfferBoth()
    {
        var p = ProposalParser.Parse("aes128gcm16-esn-noesn", ProposalProtocol.Esp).Proposals[0];
        Assert.Equal(2, p.Of(TransformType.ExtendedSequenceNumbers).Count());
    }

    [Fact]
    public void AlternativesInOneProposalAndCommaSeparatedLists()
    {
        var list = ProposalParser.Parse("aes128-aes256-sha256-sha384-modp2048-ecp256, aes128gcm16-prfsha256-x25519", ProposalProtocol.Ike);
        Assert.Equal(2, list.Proposals.Count);
        Assert.Equal("IKE:AES_CBC_128/AES_CBC_256/HMAC_SHA2_256_128/HMAC_SHA2_384_192/PRF_HMAC_SHA2_256/PRF_HMAC_SHA2_384/MODP_2048/ECP_256",
            list.Proposals[0].ToString());
        Assert.False(list.Strict);
    }

    [Fact]
    public void StrictSuffixAndDefaults()
    {
        var strict = ProposalParser.Parse("aes256-sha256-modp2048!", ProposalProtocol.Ike);
        Assert.True(strict.Strict);
        Assert.Single(ProposalParser.Effective(strict, ProposalProtocol.Ike));
        var loose = ProposalParser.Parse("aes256-sha256-modp2048", ProposalProtocol.Ike);
        var eff = ProposalParser.Effective(loose, ProposalProtocol.Ike);
        Assert.Equal(3, eff.Count); // ours + the two default proposals
        Assert.Equal("IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048", eff[0].ToString());

        var unset = ProposalParser.Parse(null, ProposalProtocol.Ike);
        Assert.Equal(2, unset.Proposals.Count);
        Assert.StartsWith("IKE:AES_GCM_16_128/AES_GCM_16_256/CHACHA20_POLY1305/PRF_HMAC_SHA2_256", unset.Proposals[0].ToString());
        Assert.Equal(2, ProposalParser.Parse("  ", ProposalProtocol.Esp).Proposals.Count);
        Assert.Equal(3, ProposalParser.Parse("aes128-sha256-x25519,default", ProposalProtocol.Ike).Proposals.Count);
    }

    [Theory]
    // FreeS/WAN's refusals, with the reason.
    [InlineData("des-sha1-modp2048", "single DES", "brute-forced")]
    [InlineData("null-sha1", "NULL encryption", "no confidentiality")]
    [InlineData("aes128-sha1-modp768", "DH group 1", "768-bit")]
    [InlineData("3des-sha1-modp1024", "DH group 2", "Logjam")]
    [InlineData("aes128-sha1-modp1536", "DH group 5", "RFC 8247")]
    // strongSwan's structural rules.
    [InlineData("aes128gcm16-x25519", "a PRF is mandatory", "prfsha256")]
    [InlineData("aes128-sha1", "a DH group is mandatory", "x25519")]
    [InlineData("sha256-x25519", "no encryption algorithm", "aes128gcm16")]
    [InlineData("aes128-x25519", "integrity algorithm is mandatory", "sha256")] // classic cipher, no integ
    [InlineData("aes128gcm16-md5-x25519", "HMAC-MD5", "ESP")]
    [InlineData("aes128-aes128gcm16-sha256-x25519", "cannot share", ",")]
    [InlineData("aes128-sha256-x25519-esn", "belong to ESP", "esn")]
    [InlineData("aes128-md5-modp2048", "HMAC-MD5", "ESP")]
    [InlineData("aes128-sha256-prfmd5-modp2048", "PRF_HMAC_MD5", "refused")]
    [InlineData("aes128-sha256-prfaesxcbc-modp2048", "not supported", "prfsha256")]
    [InlineData("aes128-sha256-x448", "not supported", "x25519")]
    [InlineData("aes128ctr-sha256-x25519", "AES-CTR", "only supported in ESP")]
    [InlineData("aes192gcm16-prfsha256-x25519", "192-bit key", "aes256gcm16")]
    [InlineData("blowfish-sha256-x25519", "not supported", "aes")]
    [InlineData("aes128-foo-x25519", "unknown algorithm 'foo'", "aes128-foo-x25519")]
    [InlineData("aes128--sha256", "empty algorithm", "dash")]
    [InlineData("aes128-sha256-x25519,,aes256-sha256-x25519", "empty proposal", "comma")]
    [InlineData("aes128-sha256-x25519!,aes256-sha256-x25519", "'!'", "end")]
    public void IkeErrors(string text, string what, string why)
    {
        var e = Assert.Throws<ProposalSyntaxException>(() => ProposalParser.Parse(text, ProposalProtocol.Ike));
        Assert.Contains(what, e.Message);
        Assert.Contains(why, e.Message);
    }

    [Theory]
    [InlineData("aes128", "integrity algorithm is mandatory", "sha256")]
    [InlineData("aes128-sha256-prfsha256", "a PRF belongs to IKE", "ESP")]
    [InlineData("null-sha256", "NULL encryption", "FreeS/WAN")]
    [InlineData("des-md5", "single DES", "56-bit")]
    [InlineData("aes128gcm16-modpnone", "modpnone", "PFS")]
    public void EspErrors(string text, string what, string why)
    {
        var e = Assert.Throws<ProposalSyntaxException>(() => ProposalParser.Parse(text, ProposalProtocol.Esp));
        Assert.Contains(what, e.Message);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void AhIsRefused() =>
        Assert.Contains("AH", Assert.Throws<ProposalSyntaxException>(() => ProposalParser.Parse("sha256", ProposalProtocol.Ah)).Message);

    [Fact]
    public void ErrorNamesTheToken()
    {
        var e = Assert.Throws<ProposalSyntaxException>(() => ProposalParser.Parse("aes128-sha1-modp768", ProposalProtocol.Ike));
        Assert.Equal("modp768", e.Token);
    }
}
