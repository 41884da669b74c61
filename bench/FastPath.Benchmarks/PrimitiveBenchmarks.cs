using System;
using BenchmarkDotNet.Attributes;
using FastPath.Crypto;

namespace FastPath.Benchmarks;

/// <summary>HMAC single-buffer vs multi-buffer (16 messages, one per lane) vs the BCL.</summary>
[MemoryDiagnoser]
public unsafe class MacBenchmarks
{
    public const int Lanes = 16;

    [Params(HashAlgorithmKind.Sha1, HashAlgorithmKind.Sha256)]
    public HashAlgorithmKind Hash { get; set; }

    [Params("intrinsics", "bcl")]
    public string Engine { get; set; } = "intrinsics";

    [Params(64, 576, 1420, 8192)]
    public int Size { get; set; }

    private Mac _mac = null!;
    private byte[] _data = null!, _out = null!;
    private MacJob[] _jobs = null!;

    [GlobalSetup]
    public void Setup()
    {
        _mac = Inputs.Engine(Engine).CreateHmac(Hash, Inputs.Pinned(HashSizes.Of(Hash), 1));
        _data = Inputs.Pinned(Size * Lanes, 2);
        _out = Inputs.Pinned(32 * Lanes, 3);
        _jobs = new MacJob[Lanes];
        fixed (byte* d = _data)
        fixed (byte* o = _out)
        {
            for (int i = 0; i < Lanes; i++) _jobs[i] = new MacJob(d + i * Size, Size, null, 0, o + 32 * i, 12);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _mac.Dispose();

    [Benchmark]
    public void Single() => _mac.Compute(_data.AsSpan(0, Size), default, _out.AsSpan(0, 12));

    /// <summary>Per message, 16 messages per call.</summary>
    [Benchmark(OperationsPerInvoke = Lanes)]
    public void Multi16() => _mac.ComputeMulti(_jobs);
}

/// <summary>CBC ciphers: serial encrypt, parallel decrypt, and multi-buffer encrypt of 16 messages.</summary>
[MemoryDiagnoser]
public unsafe class CbcBenchmarks
{
    public const int Lanes = 16;

    [Params("aes128", "3des")]
    public string Cipher { get; set; } = "aes128";

    [Params("intrinsics", "bcl")]
    public string Engine { get; set; } = "intrinsics";

    [Params(64, 576, 1420, 8192)]
    public int Size { get; set; }

    private CbcCipher _cbc = null!;
    // CBC takes whole blocks: the message is Size rounded up to the block size (1420 -> 1424 for
    // AES, 1424 for 3DES), as ESP's padding would make it.
    private int _length;
    private byte[] _data = null!, _iv = null!;
    private CbcJob[] _jobs = null!;

    [GlobalSetup]
    public void Setup()
    {
        CryptoEngine e = Inputs.Engine(Engine);
        _cbc = Cipher == "aes128" ? e.CreateAesCbc(Inputs.Pinned(16, 1)) : e.CreateTripleDesCbc(Inputs.Pinned(24, 1));
        _length = (Size + _cbc.BlockSize - 1) / _cbc.BlockSize * _cbc.BlockSize;
        _data = Inputs.Pinned(_length * Lanes, 2);
        _iv = Inputs.Pinned(16 * Lanes, 3);
        _jobs = new CbcJob[Lanes];
        fixed (byte* d = _data)
        fixed (byte* iv = _iv)
        {
            for (int i = 0; i < Lanes; i++) _jobs[i] = new CbcJob(iv + 16 * i, d + i * _length, d + i * _length, _length);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _cbc.Dispose();

    [Benchmark]
    public void Encrypt() => _cbc.Encrypt(_iv.AsSpan(0, _cbc.BlockSize), _data.AsSpan(0, _length), _data.AsSpan(0, _length));

    [Benchmark]
    public void Decrypt() => _cbc.Decrypt(_iv.AsSpan(0, _cbc.BlockSize), _data.AsSpan(0, _length), _data.AsSpan(0, _length));

    /// <summary>Per message, 16 messages per call.</summary>
    [Benchmark(OperationsPerInvoke = Lanes)]
    public void EncryptMulti16() => _cbc.EncryptMulti(_jobs);
}
