using System;
using System.IO;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace FastPath.Benchmarks;

/// <summary>The BenchmarkDotNet configuration every bars mode uses: in process (one run, so FastPath,
/// the BCL and the baselines share the machine's state), one launch, short fixed iterations,
/// MemoryDiagnoser (the 0 B/op bars), no console noise, artifacts in the temp folder.</summary>
internal static class BarsConfig
{
    public static IConfig Create(bool quick, int iterations, int iterationMs, string artifacts)
    {
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(quick ? 2 : 4)
            .WithIterationCount(quick ? 5 : iterations)
            .WithIterationTime(TimeInterval.FromMilliseconds(quick ? 100 : iterationMs));
        return ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(BenchmarkDotNet.Columns.DefaultColumnProviders.Instance)
            .AddLogger(BenchmarkDotNet.Loggers.NullLogger.Instance)
            .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), artifacts));
    }
}
