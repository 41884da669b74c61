using BenchmarkDotNet.Attributes;
using FastPath.Crypto;
using FastPath.Crypto.Esp;

namespace FastPath.Benchmarks;

/// <summary>ESP seal/open of a batch of 16 packets through the per-SA transform (what a worker does
/// for one burst of one tunnel). Reported per packet (OperationsPerInvoke = 16).</summary>
[MemoryDiagnoser]
public class EspBatchBenchmarks
{
    public const int Batch = 16;

    [Params("aes128-sha1", "aes128gcm16", "aes256-sha256", "3des-sha1")]
    public string Suite { get; set; } = "aes128-sha1";

    [Params("intrinsics", "bcl")]
    public string Engine { get; set; } = "intrinsics";

    [Params(64, 576, 1420, 8192)]
    public int Size { get; set; }

    private EspTransform _transform = null!;
    private Inputs.EspBatch _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        var suite = EspSuite.Parse(Suite);
        _transform = EspTransform.Create(Inputs.Engine(Engine), suite, Inputs.Pinned(suite.KeyMaterialLength, 1), esn: false);
        _batch = new Inputs.EspBatch(_transform, Batch, Size);
    }

    [GlobalCleanup]
    public void Cleanup() => _transform.Dispose();

    [Benchmark(OperationsPerInvoke = Batch)]
    public void SealBatch() => _transform.SealBatch(_batch.Packets);
}
