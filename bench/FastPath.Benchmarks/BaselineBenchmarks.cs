using System;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;

namespace FastPath.Benchmarks;

/// <summary>The BCL as an application would call it, with no FastPath code in between: the
/// denominators of the bars in docs/performance.md.</summary>
[MemoryDiagnoser]
public class BaselineBenchmarks
{
    [Params(64, 576, 1420, 8192)]
    public int Size { get; set; }

    private AesGcm _gcm = null!;
    private Aes _aes = null!;
    private TripleDES _des = null!;
    private byte[] _hmacKey = null!, _plain = null!, _cipher = null!, _cbcPlain = null!, _esp = null!, _tag = null!, _nonce = null!, _aad = null!, _iv = null!, _mac = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gcm = new AesGcm(Inputs.Pinned(16, 1), 16);
        _aes = Aes.Create();
        _aes.Key = Inputs.Pinned(16, 2);
        _des = TripleDES.Create();
        _des.Key = Inputs.Pinned(24, 3);
        _hmacKey = Inputs.Pinned(20, 4);
        _plain = Inputs.Pinned(Size, 5);
        _cipher = Inputs.Pinned(Size, 6);
        // CBC works on whole blocks: as ESP pads, 1420 becomes 1424; the ESP packet is
        // SPI | Seq (8) | IV (16) | ciphertext, and the ICV covers all of it (RFC 4303 §3.3.2.1).
        int cbcLength = (Size + 15) & ~15;
        _cbcPlain = Inputs.Pinned(cbcLength, 12);
        _esp = Inputs.Pinned(8 + 16 + cbcLength, 13);
        _tag = Inputs.Pinned(16, 7);
        _nonce = Inputs.Pinned(12, 8);
        _aad = Inputs.Pinned(8, 9);
        _iv = Inputs.Pinned(16, 10);
        _mac = Inputs.Pinned(20, 11);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _gcm.Dispose();
        _aes.Dispose();
        _des.Dispose();
    }

    /// <summary>System.Security.Cryptography.AesGcm, AES-128, 16-byte tag.</summary>
    [Benchmark]
    public void BclAesGcm128Encrypt() => _gcm.Encrypt(_nonce, _plain, _cipher, _tag, _aad);

    /// <summary>What ESP AES-128-CBC + HMAC-SHA1-96 costs with the BCL, per packet, for a batch of 16:
    /// Aes.EncryptCbc then HMACSHA1.HashData over header | IV | ciphertext.</summary>
    [Benchmark(OperationsPerInvoke = EspBatchBenchmarks.Batch)]
    public void BclCbcSha1Batch()
    {
        for (int i = 0; i < EspBatchBenchmarks.Batch; i++)
        {
            _aes.EncryptCbc(_cbcPlain, _iv, _esp.AsSpan(24), PaddingMode.None);
            HMACSHA1.HashData(_hmacKey, _esp, _mac);
        }
    }

    [Benchmark]
    public void BclTripleDesCbcEncrypt() => _des.EncryptCbc(_cbcPlain, _iv.AsSpan(0, 8), _esp.AsSpan(24), PaddingMode.None);
}
