using System;
using System.Buffers.Binary;
using System.Linq;
using System.Security.Cryptography;
using FastPath.Crypto;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;
using FastPath.Dataplane.Tests.Support;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>Published ESP packets reproduced byte for byte by the engine (encapsulation: inner packet →
/// ESP; decapsulation: ESP → inner packet), including the engine's own padding, pad length, next
/// header and sequence number handling.</summary>
public class EspVectorTests
{
    // RFC 3602 §4, test cases 5-8 (AES-CBC ESP packets; the RFC uses ESP without authentication,
    // so the bytes compared are SPI | Seq | IV | ciphertext and this SA's HMAC-SHA1-96 ICV follows).
    // Cases 5 and 6 are transport mode (ICMP, next header 1), 7 and 8 tunnel mode (next header 4).
    public sealed record CbcVector(string Name, string Key, uint Spi, uint Seq, string Iv, string Payload, byte NextHeader, string Esp);

    public static readonly CbcVector[] Rfc3602 =
    [
        new("Case #5", "90d382b410eeba7ad938c46cec1a82bf", 0x4321, 1, "e96e8c08ab465763fd098d45dd3ff893",
            "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637", 1,
            "0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6"),
        new("Case #6", "90d382b410eeba7ad938c46cec1a82bf", 0x4321, 8, "69d08df7d203329db093fc4924e5bd80",
            "0800b5e8a80a0500a69c083d0b660e00777777777777777777777777", 1,
            "000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4488987ce742e8109689bb379d2d750c0d915dca346a89f75"),
        new("Case #7", "0123456789abcdef0123456789abcdef", 0x8765, 2, "f4e765244f6407adf13dc1380f673f37",
            "45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637", 4,
            "0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d"),
        new("Case #8", "0123456789abcdef0123456789abcdef", 0x8765, 5, "85d47224b5f3dd5d2101d4ea8dffab22",
            "45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 4,
            "000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8047232cc00f7048fe45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de435e7207ed971ef3d2726d9b5ef6affc6d17a0decbb13892"),
    ];

    public static TheoryData<int> Rfc3602Cases => new() { 0, 1, 2, 3 };

    private static readonly byte[] HmacKey = Enumerable.Range(0, 20).Select(i => (byte)(0xA0 + i)).ToArray();

    private static (OutboundSa, InboundSa) CbcSa(CbcVector v)
    {
        var suite = EspSuite.Parse("aes128-sha1");
        byte[] keys = [.. Convert.FromHexString(v.Key), .. HmacKey];
        IpsecMode mode = v.NextHeader == 4 ? IpsecMode.Tunnel : IpsecMode.Transport;
        var p = new SaParameters
        {
            Spi = v.Spi, Suite = suite, KeyMaterial = keys, Engine = TestEngines.For(suite), Mode = mode,
            LocalAddress = IpAddress16.Parse("192.168.123.100"), RemoteAddress = IpAddress16.Parse("192.168.123.99"),
        };
        var o = new OutboundSa(p) { IvOverrideForTest = Convert.FromHexString(v.Iv) };
        o.SetSequenceForTest(v.Seq - 1);
        var i = new InboundSa(new SaParameters { Spi = v.Spi, Suite = suite, KeyMaterial = keys, Engine = TestEngines.For(suite), Mode = mode });
        return (o, i);
    }

    /// <summary>An IPv4 header (20 bytes, valid checksum) around <paramref name="payload"/>.</summary>
    internal static byte[] Ipv4(byte protocol, ReadOnlySpan<byte> payload, string src = "192.168.123.100", string dst = "192.168.123.99")
    {
        var p = new byte[20 + payload.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        p[8] = 64;
        p[9] = protocol;
        IpAddress16.Parse(src).ToIPAddress().TryWriteBytes(p.AsSpan(12), out _);
        IpAddress16.Parse(dst).ToIPAddress().TryWriteBytes(p.AsSpan(16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        payload.CopyTo(p.AsSpan(20));
        return p;
    }

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Rfc3602Cases))]
    public void Rfc3602EspPacketsAreReproducedByteForByte(int index)
    {
        CbcVector v = Rfc3602[index];
        var (o, _) = CbcSa(v);
        using var frames = new Frames();
        byte[] payload = Convert.FromHexString(v.Payload);
        // Tunnel: the payload is the inner IPv4 packet; transport: an ICMP message behind an IP header.
        byte[] inner = v.NextHeader == 4 ? payload : Ipv4(IpProtocol.Icmp, payload);
        frames.Add(inner);
        new EspProcessor().Encapsulate(frames.Batch, o);
        Assert.Equal(PacketVerdict.Forward, frames.Batch[0].Verdict);
        byte[] wire = frames.Data(0);
        byte[] expected = Convert.FromHexString(v.Esp);
        Assert.Equal(20 + expected.Length + 12, wire.Length);
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(wire.AsSpan(20, expected.Length)));
        // The ICV is HMAC-SHA1-96 over exactly those bytes (RFC 2404, RFC 4303 §3.3.2.1).
        byte[] icv = HMACSHA1.HashData(HmacKey, expected).AsSpan(0, 12).ToArray();
        Assert.Equal(icv, wire.AsSpan(20 + expected.Length).ToArray());
    }

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Rfc3602Cases))]
    public void Rfc3602EspPacketsDecapsulateToTheirPayload(int index)
    {
        CbcVector v = Rfc3602[index];
        var (_, i) = CbcSa(v);
        var sad = new SadTable();
        sad.Install(i);
        byte[] esp = Convert.FromHexString(v.Esp);
        byte[] withIcv = [.. esp, .. HMACSHA1.HashData(HmacKey, esp).AsSpan(0, 12)];
        using var frames = new Frames();
        frames.Add(Ipv4(IpProtocol.Esp, withIcv, "192.168.123.99", "192.168.123.100"));
        var engine = new EspProcessor();
        engine.Decapsulate(frames.Batch, sad);
        Assert.Equal(PacketVerdict.Forward, frames.Batch[0].Verdict);
        byte[] payload = Convert.FromHexString(v.Payload);
        byte[] got = frames.Data(0);
        if (v.NextHeader == 4) Assert.Equal(payload, got);
        else
        {
            Assert.Equal(IpProtocol.Icmp, got[9]);
            Assert.Equal(payload, got.AsSpan(20).ToArray());
            Assert.Equal(0, Checksum.Compute(got.AsSpan(0, 20)));
        }
        Assert.Equal(v.Seq, i.Replay.Top);
    }

    // draft-mcgrew-gcm-test-01 §4 ESP packets (the AES-GCM cases also used by the crypto tests):
    // key ‖ salt, SPI, 64-bit sequence number (ESN where the AAD is 12 bytes), IV, plaintext
    // (inner data + padding + pad length + next header, as the draft lists it), ciphertext ‖ ICV.
    public sealed record GcmVector(string Name, string Suite, string Key, string Salt, uint Spi, ulong Seq, bool Esn, string Iv, string Plaintext, string Ciphertext, string Icv);

    public static readonly GcmVector[] McGrew =
    [
        new("AES-128 ESN", "aes128gcm16", "4c80cdefbb5d10da906ac73c3613a634", "2e443b68", 0x4321, 0x8765432100000000, true, "4956ed7e3b244cfe",
            "45000048699a000080114db7c0a80102c0a801010a9bf15638d301000001000000000000045f736970045f756470037369700963796265726369747902646b000021000101020201",
            "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732",
            "459018148f6cbe722fd04796562dfdb4"),
        new("AES-192", "aes192gcm16", "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabe", 0xa5f8, 10, false, "facedbaddecaf888",
            "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001",
            "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0315b27452144cc77", "95457b9652037f5318027b5b4cd7a636"),
        new("AES-256", "aes256gcm16", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "11223344", 0x4a2cbfe3, 2, false, "0102030405060708",
            "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b40101040201020201",
            "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8e",
            "b335f4eecfdbf831824b4c4915956c96"),
    ];

    public static TheoryData<int> McGrewCases => new() { 0, 1, 2 };

    // The draft's plaintexts end in next header 1 with minimal padding; the engine carries them as a
    // transport-mode SA (next header = the protocol field of the IP header it protects).
    private static (OutboundSa, InboundSa) GcmSa(GcmVector v)
    {
        var suite = EspSuite.Parse(v.Suite);
        byte[] keys = Convert.FromHexString(v.Key + v.Salt);
        var o = new OutboundSa(new SaParameters { Spi = v.Spi, Suite = suite, KeyMaterial = keys, Engine = TestEngines.For(suite), Esn = v.Esn, Mode = IpsecMode.Transport })
        {
            IvOverrideForTest = Convert.FromHexString(v.Iv),
        };
        o.SetSequenceForTest(v.Seq - 1);
        var i = new InboundSa(new SaParameters { Spi = v.Spi, Suite = suite, KeyMaterial = keys, Engine = TestEngines.For(suite), Esn = v.Esn, Mode = IpsecMode.Transport });
        i.Replay.Reset(v.Seq - 1);
        return (o, i);
    }

    private static byte[] Esp(GcmVector v) =>
    [
        .. BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(v.Spi)),
        .. BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness((uint)v.Seq)),
        .. Convert.FromHexString(v.Iv), .. Convert.FromHexString(v.Ciphertext), .. Convert.FromHexString(v.Icv),
    ];

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(McGrewCases))]
    public void McGrewGcmEspPacketsAreReproducedByteForByte(int index)
    {
        GcmVector v = McGrew[index];
        var (o, _) = GcmSa(v);
        byte[] plaintext = Convert.FromHexString(v.Plaintext);
        int pad = plaintext[^2];
        Assert.Equal(1, plaintext[^1]);
        using var frames = new Frames();
        frames.Add(Ipv4(plaintext[^1], plaintext.AsSpan(0, plaintext.Length - 2 - pad)));
        new EspProcessor().Encapsulate(frames.Batch, o);
        Assert.Equal(PacketVerdict.Forward, frames.Batch[0].Verdict);
        Assert.Equal(Convert.ToHexString(Esp(v)), Convert.ToHexString(frames.Data(0).AsSpan(20)));
    }

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(McGrewCases))]
    public void McGrewGcmEspPacketsDecapsulate(int index)
    {
        GcmVector v = McGrew[index];
        var (_, i) = GcmSa(v);
        var sad = new SadTable();
        sad.Install(i);
        using var frames = new Frames();
        frames.Add(Ipv4(IpProtocol.Esp, Esp(v)));
        new EspProcessor().Decapsulate(frames.Batch, sad);
        Assert.Equal(PacketVerdict.Forward, frames.Batch[0].Verdict);
        byte[] plaintext = Convert.FromHexString(v.Plaintext);
        byte[] got = frames.Data(0);
        Assert.Equal(plaintext.AsSpan(0, plaintext.Length - 2 - plaintext[^2]).ToArray(), got.AsSpan(20).ToArray());
        Assert.Equal(1, got[9]);
        Assert.Equal(v.Seq, i.Replay.Top);
    }
}
