using System;
using System.Runtime.Intrinsics.X86;
using FastPath.Crypto;
using FastPath.Crypto.Intrinsics;
using Xunit;

namespace FastPath.Crypto.Tests;

/// <summary>The FASTPATH_GHASH switch (GhashPath.cs): parsing, and that the path in use in this
/// process is what the variable and the CPU allow. ./run.sh test reruns the KAT category under
/// FASTPATH_GHASH=pclmul, so there these assert the 128-bit path and the AES-GCM vectors go
/// through it.</summary>
public class GhashPathTests
{
    [Theory]
    [InlineData(null, GhashWidth.Auto)]
    [InlineData("", GhashWidth.Auto)]
    [InlineData("auto", GhashWidth.Auto)]
    [InlineData("PCLMUL", GhashWidth.Pclmul)]
    [InlineData(" pclmul ", GhashWidth.Pclmul)]
    [InlineData("vpclmul256", GhashWidth.Vpclmul256)]
    public void KnownValuesParse(string? value, GhashWidth expected)
    {
        Assert.True(GhashPath.TryParse(value, out GhashWidth w));
        Assert.Equal(expected, w);
    }

    [Theory]
    [InlineData("scalar")]
    [InlineData("512")]
    [InlineData("pclmul,auto")]
    public void UnknownValuesAreRefusedAndMeanAuto(string value)
    {
        Assert.False(GhashPath.TryParse(value, out GhashWidth w));
        Assert.Equal(GhashWidth.Auto, w);
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void PathInUseFollowsTheVariableAndTheCpu()
    {
        string? env = Environment.GetEnvironmentVariable(GhashPath.EnvironmentVariable);
        bool known = GhashPath.TryParse(env, out GhashWidth requested);
        Assert.Equal(known ? requested : GhashWidth.Auto, GhashPath.Requested);
        Assert.Equal(known, GhashPath.ConfigurationError is null);
        bool cpu512 = Pclmulqdq.V512.IsSupported && Avx512BW.IsSupported;
        bool cpu256 = Pclmulqdq.V256.IsSupported && Avx2.IsSupported;
        Assert.Equal(GhashPath.Requested == GhashWidth.Auto && cpu512, Ghash.Use512);
        Assert.Equal(!Ghash.Use512 && GhashPath.Requested != GhashWidth.Pclmul && cpu256, Ghash.Use256);
        if (GhashPath.Requested == GhashWidth.Pclmul)
        {
            Assert.False(Ghash.Use512);
            Assert.False(Ghash.Use256);
            if (Ghash.IsSupported) Assert.Equal("pclmulqdq-128", GhashPath.Active);
        }
        string expected = !Ghash.IsSupported ? "none" : Ghash.Use512 ? "vpclmulqdq-512" : Ghash.Use256 ? "vpclmulqdq-256" : "pclmulqdq-128";
        Assert.Equal(expected, GhashPath.Active);
    }
}
