using System;
using System.Collections.Generic;
using System.Linq;
using FastPath.Crypto;
using Xunit;

namespace FastPath.Crypto.Tests.Support;

/// <summary>Engine enumeration for theories. Every vector test runs against every engine the
/// runtime supports. Which engines that is depends on the knobs (DOTNET_EnableHWIntrinsic=0 turns
/// the intrinsics engine off); <see cref="EngineCoverageTests"/> asserts the set is what the
/// environment says it must be, so an engine can never silently drop out.</summary>
public static class Engines
{
    /// <summary>Names of the engines supported here, for [MemberData].</summary>
    public static TheoryData<string> Supported
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (CryptoEngine e in CryptoEngine.All.Where(e => e.IsSupported)) data.Add(e.Name);
            return data;
        }
    }

    /// <summary>Supported engines other than the BCL (the BCL is the reference in differential tests).</summary>
    public static TheoryData<string> SupportedOwn
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (CryptoEngine e in CryptoEngine.All.Where(e => e.IsSupported && e.Kind != CryptoEngineKind.Bcl)) data.Add(e.Name);
            return data;
        }
    }

    public static CryptoEngine ByName(string name) => CryptoEngine.All.Single(e => e.Name == name);
}

/// <summary>Test helpers for vectors.</summary>
public static class Hex
{
    public static byte[] Parse(string hex)
    {
        string clean = new string(hex.Where(c => !char.IsWhiteSpace(c)).ToArray());
        return Convert.FromHexString(clean);
    }

    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}

/// <summary>Deterministic random data for differential and property tests (seeded, so a failure
/// reproduces).</summary>
public static class TestRandom
{
    public static Random Create(int seed) => new(seed);

    public static byte[] Bytes(Random rng, int length)
    {
        var b = new byte[length];
        rng.NextBytes(b);
        return b;
    }
}
