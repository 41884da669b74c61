using System;
using BenchmarkDotNet.Attributes;
using FastPath.Crypto;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;

namespace FastPath.Benchmarks;

/// <summary>
/// The ESP engine per packet, one core, in-memory frames: tunnel-mode IPv4-in-IPv4 encapsulation
/// (inner packet of Size bytes → outer IPv4 | ESP | IV | ciphertext | ICV) and decapsulation (outer
/// checks, SAD lookup, replay check, verify + decrypt, replay update, trailer and inner header
/// validation), a batch of 64 packets per call, reported per packet (OperationsPerInvoke = 64).
/// Both directions first copy the packet into its frame (what an RX ring copy costs), so they are
/// comparable; decapsulation also resets the replay window once per batch (the same 64 sequence
/// numbers are replayed every iteration).
/// </summary>
[MemoryDiagnoser]
public unsafe class EspEngineBenchmarks
{
    public const int Batch = 64;

    [Params("aes128gcm16", "aes128-sha1", "3des-sha1")]
    public string Suite { get; set; } = "aes128gcm16";

    /// <summary>Inner IP packet size in bytes.</summary>
    [Params(64, 512, 1420)]
    public int Size { get; set; } = 64;

    private OutboundSa _out = null!;
    private InboundSa _in = null!;
    private SadTable _sad = null!;
    private EspProcessor _engine = null!;
    private FrameSlab _slab = null!;
    private PacketBatch _batch = null!;
    private byte[] _inner = null!;
    private byte[][] _wire = null!;
    private EspPacket[] _espOnly = null!;
    private System.Security.Cryptography.AesGcm? _bclGcm;
    private byte[] _bclKeys = null!;

    /// <summary>The engine the SA runs on (the default engine).</summary>
    public string EngineUsed => _out.Transform.Engine.Name;

    [GlobalSetup]
    public void Setup()
    {
        var suite = EspSuite.Parse(Suite);
        CryptoEngine engine = CryptoEngine.Default;
        byte[] keys = Inputs.Pinned(suite.KeyMaterialLength, 7);
        IpAddress16 west = IpAddress16.Parse("203.0.113.1"), east = IpAddress16.Parse("203.0.113.2");
        _out = new OutboundSa(new SaParameters { Spi = 0x1002, Suite = suite, KeyMaterial = keys, Engine = engine, LocalAddress = west, RemoteAddress = east });
        _in = new InboundSa(new SaParameters { Spi = 0x1002, Suite = suite, KeyMaterial = keys, Engine = engine, LocalAddress = east, RemoteAddress = west, ReplayWindow = 128 });
        _sad = new SadTable();
        _sad.Install(_in);
        _engine = new EspProcessor(Batch);
        _slab = new FrameSlab(Batch);
        _batch = new PacketBatch(Batch);
        _inner = Ipv4Udp(Size);
        for (int i = 0; i < Batch; i++)
        {
            _slab.TryRent(out Packet p);
            _batch.TryAdd(p);
        }
        Encapsulate();
        _wire = new byte[Batch][];
        for (int i = 0; i < Batch; i++) _wire[i] = _batch[i].Span.ToArray();
        _espOnly = new EspPacket[Batch];
        for (int i = 0; i < Batch; i++) _espOnly[i] = new EspPacket(_batch[i].Data + 20, _batch[i].Length - 20, 0);
        _bclKeys = keys;
        if (suite.Encryption == EncryptionAlgorithm.AesGcm) _bclGcm = new System.Security.Cryptography.AesGcm(keys.AsSpan(0, suite.KeyBits / 8), 16);
        Decapsulate();
        for (int i = 0; i < Batch; i++)
            if (_batch[i].Verdict != PacketVerdict.Forward || !_batch[i].Span.SequenceEqual(_inner))
                throw new InvalidOperationException($"round trip failed: {_batch[i].Verdict} {_batch[i].Drop}");
    }

    private static byte[] Ipv4Udp(int size)
    {
        var p = new byte[size];
        new Random(size).NextBytes(p);
        p[0] = 0x45;
        p[1] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)size);
        p[6] = 0x40;
        p[7] = 0;
        p[8] = 64;
        p[9] = IpProtocol.Udp;
        p[10] = p[11] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        return p;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bclGcm?.Dispose();
        _out.Dispose();
        _in.Dispose();
        _slab.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public void Encapsulate()
    {
        if (_out.Sequence > (1UL << 31)) _out.SetSequenceForTest(0);
        Span<Packet> packets = _batch.Packets;
        byte[] inner = _inner;
        for (int i = 0; i < packets.Length; i++)
        {
            ref Packet p = ref packets[i];
            p.Offset = FrameSlab.DefaultHeadroom;
            p.Length = inner.Length;
            p.Verdict = PacketVerdict.Forward;
            inner.CopyTo(new Span<byte>(p.Frame + p.Offset, inner.Length));
        }
        _engine.Encapsulate(packets, _out);
    }

    /// <summary>Reference: only the per-SA transform's SealBatch over the same 64 ESP packets (payload
    /// copied in first, as in Encapsulate): Encapsulate − SealOnly is the engine's own cost.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void SealOnly()
    {
        byte[] inner = _inner;
        for (int i = 0; i < _espOnly.Length; i++) inner.CopyTo(new Span<byte>(_espOnly[i].Data + 16, inner.Length));
        _out.Transform.SealBatch(_espOnly);
    }

    /// <summary>Baseline: the BCL's AesGcm (OpenSSL) sealing the same ESP payloads (AES-GCM suites only;
    /// the same copy first). Ratio to Encapsulate = what the whole engine costs against one BCL call.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void BclAesGcmSeal()
    {
        if (_bclGcm is null) return;
        byte[] inner = _inner;
        Span<byte> nonce = stackalloc byte[12];
        _bclKeys.AsSpan(_bclKeys.Length - 4).CopyTo(nonce);
        for (int i = 0; i < _espOnly.Length; i++)
        {
            EspPacket p = _espOnly[i];
            inner.CopyTo(new Span<byte>(p.Data + 16, inner.Length));
            new ReadOnlySpan<byte>(p.Data + 8, 8).CopyTo(nonce[4..]);
            var payload = new Span<byte>(p.Data + 16, p.Length - 32);
            _bclGcm.Encrypt(nonce, payload, payload, new Span<byte>(p.Data + p.Length - 16, 16), new ReadOnlySpan<byte>(p.Data, 8));
        }
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public void Decapsulate()
    {
        _in.Replay.Reset(0);
        Span<Packet> packets = _batch.Packets;
        for (int i = 0; i < packets.Length; i++)
        {
            ref Packet p = ref packets[i];
            byte[] wire = _wire[i];
            p.Offset = FrameSlab.DefaultHeadroom;
            p.Length = wire.Length;
            p.Verdict = PacketVerdict.Forward;
            wire.CopyTo(new Span<byte>(p.Frame + p.Offset, wire.Length));
        }
        _engine.Decapsulate(packets, _sad);
    }
}
