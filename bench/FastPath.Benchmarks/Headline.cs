using System;
using System.IO;
using FastPath.Dataplane.Diagnostics;

namespace FastPath.Benchmarks;

/// <summary>
/// `-- headline`: the headline numbers of docs/performance.md. The measuring lives in
/// <see cref="SelfBenchmark"/> (src/FastPath.Dataplane/Diagnostics), which `fastpath bench` runs too, so
/// the CLI and the benchmarks print the same numbers from the same code.
/// </summary>
public static class Headline
{
    /// <summary>Measures and prints the headline table; false when a path allocated per packet.</summary>
    public static bool Print(TextWriter output, bool quick = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        SelfBenchmarkReport r = SelfBenchmark.Run(quick);
        output.Write(SelfBenchmark.Format(r));
        return r.MaxAllocatedBytesPerPacket == 0;
    }
}
