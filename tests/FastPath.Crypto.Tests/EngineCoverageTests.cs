using System;
using System.Runtime.Intrinsics.X86;
using FastPath.Crypto;
using Xunit;

namespace FastPath.Crypto.Tests;

/// <summary>Guards against engines silently dropping out of the vector theories.</summary>
public class EngineCoverageTests
{
    [Fact]
    public void PortableAndBclEnginesAlwaysRun()
    {
        Assert.True(CryptoEngine.Portable.IsSupported);
        Assert.True(CryptoEngine.Bcl.IsSupported);
    }

    [Fact]
    public void IntrinsicsEngineRunsWheneverTheHardwareAndRuntimeAllowIt()
    {
        bool hwOff = Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0";
        Assert.Equal(!hwOff && Aes.IsSupported && Pclmulqdq.IsSupported, CryptoEngine.Intrinsics.IsSupported);
        if (hwOff) Assert.False(CryptoEngine.Intrinsics.IsSupported);
        Assert.Equal(CryptoEngine.Intrinsics.IsSupported ? CryptoEngine.Intrinsics : CryptoEngine.Bcl, CryptoEngine.Default);
    }
}
