using System;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace FastPath.Benchmarks;

/// <summary>
/// The one entry point of the benchmarks: `dotnet run -c Release --project bench/FastPath.Benchmarks -- MODE ...`.
/// Modes that run one group of bars in one process and print ratio tables and
/// `BAR name measured floor PASS|FAIL` lines:
///   bars          crypto suites + `openssl speed` (perf-scripts/crypto.sh)
///   esp [--all]   ESP engine encap/decap (perf-scripts/esp.sh)
///   eroute        eroute lookups, updates, memory (perf-scripts/eroute.sh); eroute-probe: diagnostics
///   scaling       pipeline vs 1..10,000 SAs and eroute lookups vs 1..1M entries, CSV + chart data
///                 (perf-scripts/scaling.sh)
///   gate          the CI perf gate: in-run ratios vs perf-scripts/baseline/gate.json (perf-scripts/gate.sh)
///   headline      the headline numbers of docs/performance.md in ~20 s (what `fastpath bench` prints)
/// Anything else goes to BenchmarkDotNet's switcher with [MemoryDiagnoser] and the full JSON exporter
/// added, e.g. `-- --filter '*Pipeline*'`; `-- ci` runs the short CI job over the CI subset
/// (`-- ci --filter PATTERN` for another subset). Results: BenchmarkDotNet.Artifacts/results/*-report-full.json.
/// </summary>
internal static class Program
{
    /// <summary>The CI subset: one case family per area, a couple of minutes with the short CI job.</summary>
    public static readonly string[] CiFilters =
    [
        "*AeadBenchmarks.Encrypt*", "*EspEngineBenchmarks*", "*PipelineBenchmarks*", "*SaScalingBenchmarks*",
        "*SaInstallBenchmarks*", "*IkeHandshakeBenchmarks*",
    ];

    private static int Main(string[] args)
    {
        string[] rest = args.Skip(1).ToArray();
        switch (args.Length > 0 ? args[0] : "")
        {
            case "bars": return CryptoBars.Run(rest);
            case "esp": return EspBars.Run(rest);
            case "eroute": return ErouteBars.Run(rest);
            case "eroute-probe": return ErouteProbe.Run(rest);
            case "eroute-update-probe": return ErouteUpdateProbe.Run(rest);
            case "scaling": return ScalingBars.Run(rest);
            case "gate": return GateRunner.Run(rest);
            case "pipeline-loop": return PipelineLoop(rest);
            case "headline": return Headline.Print(Console.Out, rest.Contains("--quick")) ? 0 : 1;
            case "ci":
                {
                    string[] filters = rest.Contains("--filter") ? rest : rest.Concat(new[] { "--filter" }).Concat(CiFilters).ToArray();
                    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(filters, CiConfig());
                    return 0;
                }
        }
        var config = DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default).AddExporter(JsonExporter.Full);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }

    /// <summary>`-- pipeline-loop [SAS] [SIZE] [SECONDS]`: forwards through a PipelineRig for a while and
    /// prints packets/s; a steady target for perf-scripts/profile.sh (perf stat / perf record).</summary>
    private static int PipelineLoop(string[] a)
    {
        int sas = a.Length > 0 ? int.Parse(a[0], System.Globalization.CultureInfo.InvariantCulture) : 1;
        string size = a.Length > 1 ? a[1] : "64";
        double seconds = a.Length > 2 ? double.Parse(a[2], System.Globalization.CultureInfo.InvariantCulture) : 10;
        using var rig = new PipelineRig("aes128gcm16", sas, size, SaScalingBenchmarks.PoolFrames);
        Console.Error.WriteLine($"pipeline-loop: {sas} SAs, {size} B, {seconds} s (pid {Environment.ProcessId})");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        long packets = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            for (int i = 0; i < 256; i++) packets += rig.Forward();
        }
        Console.WriteLine(System.FormattableString.Invariant($"pipeline-loop: {sas} SAs, {size} B: {packets / sw.Elapsed.TotalSeconds / 1e6:F3} Mpps (wall clock)"));
        return 0;
    }

    /// <summary>The short "CI" job: in process, one launch, 2 warm-up and 5 measured iterations of
    /// ~100 ms, MemoryDiagnoser, full JSON export.</summary>
    public static IConfig CiConfig() =>
        DefaultConfig.Instance
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(2)
                .WithIterationCount(5).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100)).WithId("CI"))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddExporter(JsonExporter.Full)
            .WithOptions(ConfigOptions.JoinSummary);
}
