using System;
using System.Linq;
using BenchmarkDotNet.Running;

namespace FastPath.Benchmarks;

/// <summary>
/// `dotnet run -c Release --project bench/FastPath.Benchmarks -- MODE [--quick] [--out FILE]`, where MODE
/// runs one group of bars in one process and prints ratio tables and `BAR name measured floor PASS|FAIL`
/// lines:
///   bars          crypto suites + `openssl speed` (perf-scripts/crypto.sh)
///   esp [--all]   ESP engine encap/decap (perf-scripts/esp.sh)
///   eroute        eroute lookups, updates, memory (perf-scripts/eroute.sh); eroute-probe: diagnostics
/// Anything else is passed to BenchmarkDotNet's switcher, e.g. `-- --filter '*Aead*'`.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        string[] rest = args.Skip(1).ToArray();
        switch (args.Length > 0 ? args[0] : "")
        {
            case "bars": return CryptoBars.Run(rest);
            case "esp": return EspBars.Run(rest);
            case "eroute": return ErouteBars.Run(rest);
            case "eroute-probe": return ErouteProbe.Run(rest);
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
