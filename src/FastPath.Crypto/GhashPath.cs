using System;
using System.Runtime.Intrinsics.X86;

namespace FastPath.Crypto;

// Which carry-less multiply the intrinsics engine's GHASH (AES-GCM, Intrinsics/Ghash.cs and the
// stitched loops of Intrinsics/AesGcmNi.cs) uses, and the switch that caps it.
//
// By default the widest path the CPU and runtime offer is taken: VPCLMULQDQ on 512-bit vectors
// (4 blocks per multiply, needs AVX-512BW), VPCLMULQDQ on 256-bit vectors (2 blocks, AVX2), or
// PCLMULQDQ (1 block). The environment variable FASTPATH_GHASH caps it, read ONCE when the type is
// first used (the JIT then treats the choice as a constant, so the hot loop has no branch on it):
//   FASTPATH_GHASH=auto        the default
//   FASTPATH_GHASH=vpclmul256  at most the 256-bit VPCLMULQDQ path
//   FASTPATH_GHASH=pclmul      only the 128-bit PCLMULQDQ path (no VPCLMULQDQ)
// Why: (1) the fallback paths get tested on a machine that has AVX-512 (./run.sh test reruns the
// AES-GCM known-answer tests under FASTPATH_GHASH=pclmul, like DOTNET_EnableAVX512=0 but without
// switching off every other AVX-512 path); (2) perf-scripts/gate.sh proves it catches a regression:
// the pclmul path is measurably slower at 1420 B (docs/performance.md), so the gate must fail with
// it. An unknown value is ignored (auto) and reported once on stderr and in ConfigurationError.
// The DOTNET_EnableAVX512=0 / EnableAVX2=0 runtime knobs still apply underneath.

/// <summary>The GHASH multiply width in use and the FASTPATH_GHASH switch that caps it.</summary>
public static class GhashPath
{
    /// <summary>The environment variable read once at first use.</summary>
    public const string EnvironmentVariable = "FASTPATH_GHASH";

    /// <summary>The cap requested by FASTPATH_GHASH (Auto when unset or unknown).</summary>
    public static GhashWidth Requested { get; }

    /// <summary>Non-null when FASTPATH_GHASH held a value that is not understood (then: Auto).</summary>
    public static string? ConfigurationError { get; }

    /// <summary>The 512-bit VPCLMULQDQ path is used (read by the JIT as a constant).</summary>
    internal static readonly bool Use512;

    /// <summary>The 256-bit VPCLMULQDQ path is used (when Use512 is false).</summary>
    internal static readonly bool Use256;

#pragma warning disable CA1810 // explicit static constructor: the three values are derived together, once
    static GhashPath()
#pragma warning restore CA1810
    {
        string? value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (TryParse(value, out GhashWidth width))
        {
            Requested = width;
        }
        else
        {
            Requested = GhashWidth.Auto;
            ConfigurationError = $"{EnvironmentVariable}={value} is not understood (auto, vpclmul256 or pclmul): using auto";
            Console.Error.WriteLine("fastpath: " + ConfigurationError);
        }
        Use512 = Requested == GhashWidth.Auto && Pclmulqdq.V512.IsSupported && Avx512BW.IsSupported;
        Use256 = !Use512 && Requested != GhashWidth.Pclmul && Pclmulqdq.V256.IsSupported && Avx2.IsSupported;
    }

    /// <summary>Parses a FASTPATH_GHASH value: null/empty/auto, vpclmul256, pclmul (case-insensitive).</summary>
    public static bool TryParse(string? value, out GhashWidth width)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "" or "auto": width = GhashWidth.Auto; return true;
            case "vpclmul256": width = GhashWidth.Vpclmul256; return true;
            case "pclmul": width = GhashWidth.Pclmul; return true;
            default: width = GhashWidth.Auto; return false;
        }
    }

    /// <summary>The path in use, for logs, `fastpath bench` and the benchmark reports:
    /// "vpclmulqdq-512", "vpclmulqdq-256", "pclmulqdq-128", or "none" without PCLMULQDQ.</summary>
    public static string Active =>
        !(Pclmulqdq.IsSupported && Ssse3.IsSupported) ? "none"
        : Use512 ? "vpclmulqdq-512" : Use256 ? "vpclmulqdq-256" : "pclmulqdq-128";
}

/// <summary>Caps for the GHASH multiply width (FASTPATH_GHASH).</summary>
public enum GhashWidth
{
    /// <summary>The widest the CPU offers.</summary>
    Auto,
    /// <summary>At most 256-bit VPCLMULQDQ.</summary>
    Vpclmul256,
    /// <summary>Only 128-bit PCLMULQDQ.</summary>
    Pclmul,
}
