using System;
using System.Linq;
using System.Net;
using FastPath.Crypto;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
using FastPath.Gateway.Ike;
using FastPath.Ike.Crypto;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using Xunit;

namespace FastPath.Gateway.Tests.Ike;

public sealed class ChildSaMappingTests
{
    [Theory]
    [InlineData(EncrId.AesGcm16, 128, IntegId.None, "aes128gcm16")]
    [InlineData(EncrId.AesGcm8, 256, IntegId.None, "aes256gcm8")]
    [InlineData(EncrId.AesCbc, 256, IntegId.HmacSha2_384_192, "aes256-sha384")]
    [InlineData(EncrId.AesCbc, 128, IntegId.HmacSha2_256_128, "aes128-sha256")]
    [InlineData(EncrId.TripleDesCbc, 0, IntegId.HmacSha1_96, "3des-sha1")]
    [InlineData(EncrId.ChaCha20Poly1305, 0, IntegId.None, "chacha20poly1305")]
    [InlineData(EncrId.AesCtr, 192, IntegId.HmacSha2_512_256, "aes192ctr-sha512")]
    public void Iana_suites_map_to_the_dataplane_suite(EncrId encr, int bits, IntegId integ, string expected)
    {
        var s = ChildSaMapping.ToEspSuite(new ChildSuite(encr, bits, integ, DhGroup.None, EsnId.NoEsn));
        Assert.Equal(EspSuite.Parse(expected), s);
        // KEYMAT lengths agree between IKE (SaKeyFactory) and the dataplane: AEAD keys carry the salt.
        var (e, a) = SaKeyFactory.ChildKeyLengths(new ChildSuite(encr, bits, integ, DhGroup.None, EsnId.NoEsn));
        Assert.Equal(s.EncryptionKeyMaterialLength, e);
        Assert.Equal(s.IntegrityKeyLength, a);
    }

    [Fact]
    public void Null_encryption_and_xcbc_are_refused()
    {
        Assert.Throws<NotSupportedException>(() => ChildSaMapping.ToEspSuite(new ChildSuite(EncrId.Null, 0, IntegId.HmacSha1_96, DhGroup.None, EsnId.NoEsn)));
        Assert.Throws<NotSupportedException>(() => ChildSaMapping.ToEspSuite(new ChildSuite(EncrId.AesCbc, 128, IntegId.AesXcbc96, DhGroup.None, EsnId.NoEsn)));
    }

    [Fact]
    public void SaParameters_carry_keys_ports_window_lifetimes_and_the_inner_prefixes()
    {
        var (w, _) = SinkPair.Child("aes128gcm16", 0x1111, 0x2222, tuneWest: x => x with
        {
            LocalPort = 4500, RemotePort = 31337, ReplayWindow = 128, HideTos = true, SoftLifeBytes = 1000, HardLifeBytes = 2000, HardLifePackets = 9,
        });
        SaParameters inb = ChildSaMapping.ToSaParameters(w, inbound: true);
        SaParameters outb = ChildSaMapping.ToSaParameters(w, inbound: false);
        Assert.Equal(0x1111u, inb.Spi);
        Assert.Equal(0x2222u, outb.Spi);
        Assert.Equal(w.InboundEncryptionKey, inb.KeyMaterial);   // 16-byte key + 4-byte salt, no integrity key
        Assert.Equal(20, outb.KeyMaterial.Length);
        Assert.Equal(31337, outb.NatDestinationPort);
        Assert.Equal(4500, outb.NatSourcePort);
        Assert.True(outb.UdpEncapsulation);
        Assert.Equal(128, inb.ReplayWindow);
        Assert.True(inb.HideTos);
        Assert.Equal(new SaLifetime(1000, 2000, 0, 9), outb.Lifetime);
        Assert.Equal("192.0.2.128/25", inb.InnerSource?.ToString());
        Assert.Equal("192.0.2.0/25", inb.InnerDestination?.ToString());
        Assert.Null(outb.InnerSource);

        var bad = w with { OutboundIntegrityKey = new byte[20] };
        Assert.Throws<ArgumentException>(() => ChildSaMapping.ToSaParameters(bad, inbound: false));
    }

    [Fact]
    public void Ranges_become_cidr_blocks_and_protocol_ports_carry_over()
    {
        var range = new TrafficSelector(TsType.Ipv4AddrRange, 0, 0, 65535, IPAddress.Parse("192.0.2.1").GetAddressBytes(), IPAddress.Parse("192.0.2.6").GetAddressBytes());
        var sel = ChildSaMapping.ToSelectors([range], [TrafficSelectors.FromPrefix("198.51.100.0/24")]);
        // 192.0.2.1..6 = .1/32 .2/31 .4/31 .6/32
        Assert.Equal(new[] { "192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/31", "192.0.2.6/32" }, sel.V4.Select(s => s.SrcText));
        Assert.All(sel.V4, s => Assert.Equal("198.51.100.0/24", s.DstText));
        Assert.Empty(sel.V6);

        var tcp = ChildSaMapping.ToSelectors([TrafficSelectors.FromPrefix("192.0.2.0/25", 6, 1024, 65535)], [TrafficSelectors.FromPrefix("192.0.2.128/25", 0, 443, 443)]);
        ErouteSelector<uint> t = Assert.Single(tcp.V4);
        Assert.Equal(6, t.Protocol);
        Assert.Equal(1024, t.SrcPortLo);
        Assert.Equal(443, t.DstPortLo);
        Assert.Equal(443, t.DstPortHi);
        Assert.True(t.Matches(new FlowKey<uint>(KeyBits<uint>.ParseAddress("192.0.2.10"), KeyBits<uint>.ParseAddress("192.0.2.138"), 6, 40000, 443)));
        Assert.False(t.Matches(new FlowKey<uint>(KeyBits<uint>.ParseAddress("192.0.2.10"), KeyBits<uint>.ParseAddress("192.0.2.138"), 17, 40000, 443)));

        // Different protocols select nothing; v4 x v6 pairs are not formed.
        Assert.Equal(0, ChildSaMapping.ToSelectors([TrafficSelectors.FromPrefix("192.0.2.0/25", 6)], [TrafficSelectors.FromPrefix("192.0.2.128/25", 17)]).Count);
        var mixed = ChildSaMapping.ToSelectors([TrafficSelectors.FromPrefix("192.0.2.0/25"), TrafficSelectors.FromPrefix("2001:db8:1::/64")],
            [TrafficSelectors.FromPrefix("192.0.2.128/25"), TrafficSelectors.FromPrefix("2001:db8:2::/64")]);
        Assert.Single(mixed.V4);
        Assert.Equal("2001:db8:1::/64 -> 2001:db8:2::/64", Assert.Single(mixed.V6).ToString());
    }
}
