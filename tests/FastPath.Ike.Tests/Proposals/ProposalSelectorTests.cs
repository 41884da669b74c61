using FastPath.Ike.Crypto;
using FastPath.Ike.Proposals;
using Xunit;

namespace FastPath.Ike.Tests.Proposals;

public class ProposalSelectorTests
{
    private static System.Collections.Generic.IReadOnlyList<Proposal> P(string s, ProposalProtocol p = ProposalProtocol.Ike) =>
        ProposalParser.Parse(s, p).Proposals;

    [Fact]
    public void OurOrderWinsAndTheReplyHasOneTransformPerType()
    {
        var ours = P("aes256gcm16-prfsha384-ecp384,aes128gcm16-prfsha256-x25519");
        var theirs = P("aes128gcm16-aes256gcm16-prfsha256-prfsha384-x25519-ecp384");
        Assert.True(ProposalSelector.TrySelectIke(ours, theirs, out var suite, out var chosen, out int idx));
        Assert.Equal(0, idx);
        Assert.Equal(new IkeSuite(EncrId.AesGcm16, 256, PrfId.HmacSha2_384, IntegId.None, DhGroup.Ecp384), suite);
        Assert.Equal("IKE:AES_GCM_16_256/PRF_HMAC_SHA2_384/ECP_384", chosen!.ToString());
        Assert.Equal(suite, ProposalSelector.ToIkeSuite(chosen));
    }

    [Fact]
    public void SecondOfferedProposalIsIndexed()
    {
        Assert.True(ProposalSelector.TrySelectIke(P("aes256-sha256-modp2048"), P("aes128gcm16-prfsha256-x25519,aes256-sha256-modp2048"),
            out var suite, out _, out int idx));
        Assert.Equal(1, idx);
        Assert.Equal(IntegId.HmacSha2_256_128, suite!.Integ);
    }

    [Fact]
    public void KeyLengthMustMatch()
    {
        Assert.False(ProposalSelector.TrySelectIke(P("aes128-sha256-x25519"), P("aes256-sha256-x25519"), out _, out _, out _));
    }

    [Fact]
    public void NoCommonGroupIsNoProposalChosen()
    {
        Assert.False(ProposalSelector.TrySelectIke(P("aes128-sha256-x25519"), P("aes128-sha256-modp2048"), out _, out _, out _));
    }

    [Fact]
    public void UnknownTransformTypeMakesAnOfferedProposalUnselectable()
    {
        var offered = new Proposal(ProposalProtocol.Ike,
        [
            Transform.Encr(EncrId.AesCbc, 128), Transform.Integ(IntegId.HmacSha2_256_128), Transform.PrfOf(PrfId.HmacSha2_256),
            Transform.Dh(DhGroup.Curve25519), new Transform((TransformType)9, 1),
        ]);
        Assert.False(ProposalSelector.TrySelectIke(P("aes128-sha256-x25519"), [offered], out _, out _, out _));
    }

    [Fact]
    public void ChildPfsAndEsn()
    {
        var esp = ProposalProtocol.Esp;
        Assert.True(ProposalSelector.TrySelectChild(P("aes128gcm16-x25519", esp), P("aes128gcm16-modp2048-x25519", esp), out var s, out _, out _));
        Assert.Equal(DhGroup.Curve25519, s!.Dh);
        Assert.False(ProposalSelector.TrySelectChild(P("aes128gcm16-x25519", esp), P("aes128gcm16", esp), out _, out _, out _));
        Assert.False(ProposalSelector.TrySelectChild(P("aes128gcm16", esp), P("aes128gcm16-x25519", esp), out _, out _, out _));
        Assert.True(ProposalSelector.TrySelectChild(P("aes128-sha256-esn-noesn", esp), P("aes128-sha256-noesn", esp), out s, out var c, out _));
        Assert.Equal(EsnId.NoEsn, s!.Esn);
        Assert.Equal("ESP:AES_CBC_128/HMAC_SHA2_256_128/NO_EXT_SEQ", c!.ToString());
        Assert.False(ProposalSelector.TrySelectChild(P("aes128-sha256-esn", esp), P("aes128-sha256", esp), out _, out _, out _));
    }
}
