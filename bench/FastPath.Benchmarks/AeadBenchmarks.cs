using System;
using BenchmarkDotNet.Attributes;
using FastPath.Crypto;

namespace FastPath.Benchmarks;

/// <summary>AES-GCM and ChaCha20-Poly1305 per packet, 8-byte AAD (ESP header), 16-byte tag.</summary>
[MemoryDiagnoser]
public class AeadBenchmarks
{
    [Params("aes128gcm", "aes256gcm", "chacha20poly1305")]
    public string Algorithm { get; set; } = "aes128gcm";

    [Params("intrinsics", "bcl")]
    public string Engine { get; set; } = "intrinsics";

    [Params(64, 576, 1420, 8192)]
    public int Size { get; set; }

    private AeadCipher _aead = null!;
    private byte[] _plain = null!, _cipher = null!, _tag = null!, _nonce = null!, _aad = null!;

    [GlobalSetup]
    public void Setup()
    {
        CryptoEngine e = Inputs.Engine(Engine);
        byte[] key = Inputs.Pinned(Algorithm == "aes128gcm" ? 16 : 32, 1);
        _aead = Algorithm.StartsWith("aes", StringComparison.Ordinal) ? e.CreateAesGcm(key) : e.CreateChaCha20Poly1305(key);
        _plain = Inputs.Pinned(Size, 2);
        _cipher = Inputs.Pinned(Size, 3);
        _tag = Inputs.Pinned(16, 4);
        _nonce = Inputs.Pinned(12, 5);
        _aad = Inputs.Pinned(8, 6);
        _aead.Encrypt(_nonce, _plain, _cipher, _tag, _aad);
    }

    [GlobalCleanup]
    public void Cleanup() => _aead.Dispose();

    [Benchmark]
    public void Encrypt() => _aead.Encrypt(_nonce, _plain, _cipher, _tag, _aad);

    [Benchmark]
    public bool Decrypt() => _aead.Decrypt(_nonce, _cipher, _tag, _plain, _aad);
}
