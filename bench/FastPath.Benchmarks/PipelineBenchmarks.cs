using BenchmarkDotNet.Attributes;

namespace FastPath.Benchmarks;

/// <summary>
/// The whole pipeline, in memory, one thread (<see cref="PipelineRig"/>): a batch of 64 frames from
/// sunset into west's inside port → west (classify, TTL, eroute, ESP encapsulation, next hop, L2, TX)
/// → east's outside port → east (classify, SAD, replay, ICV + decrypt, inbound policy, TTL, next
/// hop, TX) → sunrise; one tunnel, 64 source frames (cache-hot). Per packet
/// (OperationsPerInvoke = 64), so packets/s per core = 1e9 / (ns/op); the time covers both
/// gateways and four in-memory copies (two RX, two TX) per packet, on one core.
/// Size: inner IP bytes 64, 512, 1420, or the simple IMIX (7:4:1 of 64/576/1420 B).
/// Run: `dotnet run -c Release --project bench/FastPath.Benchmarks -- --filter '*PipelineBenchmarks*' --job short`.
/// SA scaling (1..10,000 tunnels) is <see cref="SaScalingBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    public const int Batch = PipelineRig.Batch;

    [Params("aes128gcm16", "aes128-sha1")]
    public string Suite { get; set; } = "aes128gcm16";

    /// <summary>Inner IP packet size in bytes, or "imix".</summary>
    [Params("64", "512", "1420", "imix")]
    public string Size { get; set; } = "64";

    private PipelineRig _rig = null!;

    [GlobalSetup]
    public void Setup() => _rig = new PipelineRig(Suite, sas: 1, Size);

    [GlobalCleanup]
    public void Cleanup() => _rig.Dispose();

    /// <summary>One batch sunset → west → east → sunrise.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int Forward() => _rig.Forward();
}

/// <summary>
/// Pipeline throughput against the number of active tunnels: 1, 100, 1,000, 10,000 SA pairs
/// (each with its own keys, eroute and replay window), traffic spread round robin so that every
/// packet of a batch uses another SA once N ≥ 64; the same 10,048-frame source pool for every N
/// (only the SA count changes). The bar (issue 8): at 10,000 SAs ≥ 90% of the 1-SA packet rate;
/// `-- scaling` (ScalingBars) measures it with interleaved rounds and draws the chart.
/// </summary>
[MemoryDiagnoser]
public class SaScalingBenchmarks
{
    public const int PoolFrames = 157 * PipelineRig.Batch;

    [Params(1, 100, 1_000, 10_000)]
    public int Sas { get; set; } = 1;

    [Params("64", "1420", "imix")]
    public string Size { get; set; } = "64";

    private PipelineRig _rig = null!;

    [GlobalSetup]
    public void Setup() => _rig = new PipelineRig("aes128gcm16", Sas, Size, PoolFrames);

    [GlobalCleanup]
    public void Cleanup() => _rig.Dispose();

    [Benchmark(OperationsPerInvoke = PipelineRig.Batch)]
    public int Forward() => _rig.Forward();
}
