using System;
using FastPath.Ike.Crypto;
using Xunit;
using static FastPath.Ike.Tests.Crypto.Hex;

namespace FastPath.Ike.Tests.Crypto;

public class PrfTests
{
    // RFC 4231 §4.2 (test case 1), §4.3 (test case 2), §4.7 (test case 6: key longer than the block).
    [Theory]
    [InlineData(PrfId.HmacSha2_256, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")]
    [InlineData(PrfId.HmacSha2_384, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6")]
    [InlineData(PrfId.HmacSha2_512, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854")]
    [InlineData(PrfId.HmacSha2_256, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")]
    [InlineData(PrfId.HmacSha2_512, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")]
    public void Rfc4231Vectors(PrfId id, string key, string data, string expected)
    {
        Assert.Equal(expected, S(Prf.Create(id).Compute(B(key), B(data))));
    }

    [Fact]
    public void Rfc4231Case6LongKey()
    {
        byte[] key = new byte[131];
        Array.Fill(key, (byte)0xaa);
        byte[] data = System.Text.Encoding.ASCII.GetBytes("Test Using Larger Than Block-Size Key - Hash Key First");
        Assert.Equal("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", S(Prf.Create(PrfId.HmacSha2_256).Compute(key, data)));
    }

    [Fact]
    public void PrfPlusIsTheRfc7296Chain()
    {
        var prf = Prf.Create(PrfId.HmacSha1);
        byte[] k = B("000102030405060708090a0b0c0d0e0f"), s = B("a0a1a2a3");
        byte[] t1 = prf.Compute(k, [.. s, 1]);
        byte[] t2 = prf.Compute(k, [.. t1, .. s, 2]);
        byte[] t3 = prf.Compute(k, [.. t2, .. s, 3]);
        byte[] expected = [.. t1, .. t2, .. t3];
        Assert.Equal(S(expected.AsSpan(0, 50)), S(prf.PrfPlus(k, s, 50)));
    }

    [Fact]
    public void PrfPlusRefusesMoreThan255Blocks()
    {
        var prf = Prf.Create(PrfId.HmacSha2_256);
        Assert.Equal(255 * 32, prf.PrfPlus([1], [2], 255 * 32).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => prf.PrfPlus([1], [2], 255 * 32 + 1));
    }

    [Fact]
    public void UnsupportedPrfSaysSo()
    {
        var e = Assert.Throws<NotSupportedException>(() => Prf.Create(PrfId.AesXcbc128));
        Assert.Contains("PRF_AES128_XCBC", e.Message);
        Assert.False(Prf.IsSupported(PrfId.HmacMd5));
    }
}
