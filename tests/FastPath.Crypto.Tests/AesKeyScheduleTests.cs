using System;
using FastPath.Crypto.Internal;
using FastPath.Crypto.Tests.Support;
using Xunit;

namespace FastPath.Crypto.Tests;

public class AesKeyScheduleTests
{
    // FIPS-197 Appendix A.1-A.3: last round key of each expansion.
    [Theory]
    [InlineData("2b7e151628aed2a6abf7158809cf4f3c", "d014f9a8c9ee2589e13f0cc8b6630ca6")]
    [InlineData("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "e98ba06f448c773c8ecc720401002202")]
    [InlineData("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "fe4890d1e6188d0b046df344706c631e")]
    public void ExpansionMatchesFips197AppendixA(string key, string lastRoundKey)
    {
        byte[] k = Hex.Parse(key);
        int rounds = AesKeySchedule.Rounds(k.Length);
        var rk = new byte[(rounds + 1) * 16];
        AesKeySchedule.ExpandEncrypt(k, rk);
        Assert.Equal(lastRoundKey, Hex.Format(rk.AsSpan(rounds * 16, 16)));
        Assert.Equal(key, Hex.Format(rk.AsSpan(0, k.Length)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(64)]
    public void RejectsNonAesKeySizes(int length)
    {
        Assert.Throws<ArgumentException>(() => AesKeySchedule.CheckKey(new byte[length]));
    }
}
