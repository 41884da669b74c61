using System;
using System.Globalization;
using System.IO;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Adversarial;

// The suite's two profiles (docs/security.md): "short" in CI (the default), "long" on demand
// (FP_RELIABILITY_PROFILE=long, perf-scripts/reliability.sh long). Every figure a test measures goes
// to the test output and, when FP_RELIABILITY_FIGURES names a file, is appended there as one line
// "FIGURE name key=value ..." (reliability.sh prints them and the BAR lines).

/// <summary>Profile sizes and figure reporting.</summary>
public static class Profile
{
    public static bool Long => string.Equals(Environment.GetEnvironmentVariable("FP_RELIABILITY_PROFILE"), "long", StringComparison.OrdinalIgnoreCase);

    public static string Name => Long ? "long" : "short";

    /// <summary>The short or long size; FP_RELIABILITY_SCALE (a factor) multiplies it.</summary>
    public static long Size(long shortSize, long longSize)
    {
        double f = double.TryParse(Environment.GetEnvironmentVariable("FP_RELIABILITY_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0 ? s : 1;
        return (long)Math.Max(1, (Long ? longSize : shortSize) * f);
    }

    public static void Figure(ITestOutputHelper output, string name, string values)
    {
        string line = $"FIGURE {name} profile={Name} {values}";
        output.WriteLine(line);
        string? file = Environment.GetEnvironmentVariable("FP_RELIABILITY_FIGURES");
        if (!string.IsNullOrEmpty(file)) File.AppendAllText(file, line + Environment.NewLine);
    }
}
