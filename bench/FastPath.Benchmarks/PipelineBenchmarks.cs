using System;
using System.Buffers.Binary;
using System.Net;
using BenchmarkDotNet.Attributes;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;

namespace FastPath.Benchmarks;

// The facade's name is also a namespace (FastPath.Dataplane): inside FastPath.* an alias picks the type.
using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>
/// The whole pipeline, in memory, one thread: a batch of 64 frames from sunset into west's inside
/// port → west (classify, TTL, eroute, ESP encapsulation, next hop, L2, TX) → east's outside port
/// → east (classify, SAD, replay, ICV + decrypt, inbound policy, TTL, next hop, TX) → sunrise.
/// Per packet (OperationsPerInvoke = 64), so Mpps = 1000 / (ns/op); the time covers both gateways
/// and four in-memory copies (two RX, two TX) per packet, on one core.
/// Run briefly: `dotnet run -c Release --project bench/FastPath.Benchmarks -- --filter '*Pipeline*' --job short`.
/// </summary>
[MemoryDiagnoser]
public unsafe class PipelineBenchmarks
{
    public const int Batch = 64;

    [Params("aes128gcm16", "aes128-sha1")]
    public string Suite { get; set; } = "aes128gcm16";

    /// <summary>Inner IP packet size in bytes.</summary>
    [Params(64, 1400)]
    public int Size { get; set; } = 64;

    private Dataplane _west = null!, _east = null!;
    private InMemoryIo _sunset = null!, _sunrise = null!;
    private FrameSlab _slab = null!;
    private PacketBatch _frames = null!, _rx = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (sunset, westIn) = InMemoryIo.CreatePair();
        var (westOut, eastOut) = InMemoryIo.CreatePair();
        var (eastIn, sunrise) = InMemoryIo.CreatePair();
        _sunset = sunset;
        _sunrise = sunrise;
        _west = new Dataplane(new DataplaneOptions { LocalAddresses = [IPAddress.Parse("203.0.113.1")] }, _ => (westIn, westOut));
        _east = new Dataplane(new DataplaneOptions { LocalAddresses = [IPAddress.Parse("203.0.113.2")] }, _ => (eastIn, eastOut));
        var suite = EspSuite.Parse(Suite);
        byte[] keys = new byte[suite.KeyMaterialLength];
        new Random(1).NextBytes(keys);
        _west.InstallOutbound(new SaParameters { Spi = 0x1001, Suite = suite, KeyMaterial = keys, LocalAddress = IpAddress16.Parse("203.0.113.1"), RemoteAddress = IpAddress16.Parse("203.0.113.2"), Esn = true });
        _east.InstallInbound(new SaParameters { Spi = 0x1001, Suite = suite, KeyMaterial = keys, LocalAddress = IpAddress16.Parse("203.0.113.2"), RemoteAddress = IpAddress16.Parse("203.0.113.1"), Esn = true, ReplayWindow = 1024 }, policyGroup: 0x2001);
        _west.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.0/25", "192.0.2.128/25"), ErouteAction.Sa(0x1001));
        _east.ErouteV4.Add(ErouteSelector<uint>.Parse("192.0.2.128/25", "192.0.2.0/25"), ErouteAction.Sa(0x2001));
        _west.NextHops.Set(IPAddress.Parse("203.0.113.2"), new NextHop(2, 0x020000000202, 0x020000000102, 1500));
        _east.NextHops.Set(IPAddress.Parse("192.0.2.138"), new NextHop(1, 0x020000000038, 0x020000000201, 1500));
        _slab = new FrameSlab(512);
        _frames = new PacketBatch(Batch);
        _rx = new PacketBatch(256);
        for (int k = 0; k < Batch; k++)
        {
            _slab.TryRent(out Packet p);
            byte* f = p.Frame + p.Offset;
            NextHop.WriteMac(f, 0x020000000101);
            NextHop.WriteMac(f + 6, 0x020000000010);
            f[12] = 0x08;
            f[13] = 0x00;
            WriteIpv4Udp(new Span<byte>(f + 14, Size), k);
            p.Length = 14 + Size;
            _frames.TryAdd(p);
        }
        for (int i = 0; i < 200; i++) Forward(); // SAs installed, JIT warm
    }

    private static void WriteIpv4Udp(Span<byte> p, int seed)
    {
        p.Clear();
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)p.Length);
        p[8] = 64;
        p[9] = IpProtocol.Udp;
        p[12] = 192; p[13] = 0; p[14] = 2; p[15] = 10;
        p[16] = 192; p[17] = 0; p[18] = 2; p[19] = 138;
        BinaryPrimitives.WriteUInt16BigEndian(p[10..], Checksum.Compute(p[..20]));
        BinaryPrimitives.WriteUInt16BigEndian(p[20..], 5001);
        BinaryPrimitives.WriteUInt16BigEndian(p[22..], 5201);
        BinaryPrimitives.WriteUInt16BigEndian(p[24..], (ushort)(p.Length - 20));
        for (int i = 28; i < p.Length; i++) p[i] = (byte)(i * 7 + seed);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _west.Dispose();
        _east.Dispose();
        _sunset.Dispose();
        _sunrise.Dispose();
        _slab.Dispose();
    }

    /// <summary>One batch sunset → west → east → sunrise.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int Forward()
    {
        _sunset.Transmit(_frames.Packets);
        _west.Step();
        _east.Step();
        int n = _sunrise.Receive(_rx, _slab);
        _slab.ReturnAll(_rx.Packets);
        _rx.Clear();
        if (n != Batch) throw new InvalidOperationException($"{n} of {Batch} packets arrived: drops {_west.Totals.Drops} / {_east.Totals.Drops}");
        return n;
    }
}
