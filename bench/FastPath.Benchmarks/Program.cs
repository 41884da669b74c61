using System;
using System.Linq;
using BenchmarkDotNet.Running;

namespace FastPath.Benchmarks;

/// <summary>
/// `dotnet run -c Release --project bench/FastPath.Benchmarks -- bars [--quick] [--out FILE]` runs the
/// crypto suites that the bars need plus `openssl speed` in the same run and prints ratio tables and
/// `BAR name ratio floor PASS|FAIL` lines (perf-scripts/crypto.sh wraps this). Anything else is passed
/// to BenchmarkDotNet's switcher (`-- eroute [--quick] [--out FILE]` runs the eroute bars, perf-scripts/eroute.sh), e.g. `-- --filter '*Aead*'`.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "bars")
            return CryptoBars.Run(args.Skip(1).ToArray());
        if (args.Length > 0 && args[0] == "eroute")
            return ErouteBars.Run(args.Skip(1).ToArray());
        if (args.Length > 0 && args[0] == "eroute-probe")
            return ErouteProbe.Run(args.Skip(1).ToArray());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
