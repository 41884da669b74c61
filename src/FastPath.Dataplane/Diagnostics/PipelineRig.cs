using System;
using System.Buffers.Binary;
using System.Net;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Diagnostics;

using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>
/// Two FastPath dataplanes back to back over in-memory links, stepped on the calling thread:
/// sunset → west (classify, TTL, eroute, ESP encapsulation, next hop, L2, TX) → east (classify, SAD,
/// replay, ICV + decrypt, inbound policy, TTL, next hop, TX) → sunrise. Shared by the benchmarks
/// (bench/FastPath.Benchmarks: PipelineBenchmarks, SaScalingBenchmarks, the gate) and by
/// <see cref="SelfBenchmark"/> (`fastpath bench`), so both measure the one rig.
///
/// With <c>sas</c> = N, west has N outbound SAs and N /32→/32 eroutes, east N inbound SAs (policy
/// group = its eroute), each with its own random keys; tunnel i carries inner 192.0.2.(2 + i/125) →
/// 192.0.2.(130 + i%125) (both inside the documentation /25s of the topology; 10,000 pairs fit).
/// Traffic is spread round robin: source frame j belongs to tunnel j mod N, so with N ≥ 64 every
/// packet of a batch uses another SA (the worst case for per-SA runs and SA-state caching). The
/// source pool has <c>poolFrames</c> frames (cycled 64 at a time); scaling runs use the same pool
/// for every N, so the SA count is the only thing that changes.
/// Sizes: inner IP packet bytes "64", "512", "1420" (largest whose ESP packet fits MTU 1500), or
/// "imix" (7:4:1 of 64, 576 and 1420 B, the simple IMIX), interleaved.
/// </summary>
public sealed unsafe class PipelineRig : IDisposable
{
    public const int Batch = 64;
    private static readonly int[] ImixPattern = [64, 576, 64, 64, 1420, 64, 576, 64, 64, 576, 64, 576];

    private readonly Dataplane _west, _east;
    private readonly InMemoryIo _sunset, _sunrise;
    private readonly FrameSlab _sourceSlab, _rxSlab;
    private readonly Packet[] _pool;
    private readonly PacketBatch _rx;
    private int _window;

    public int Sas { get; }
    public string Size { get; }
    public int PoolFrames => _pool.Length;
    /// <summary>Mean inner IP packet size over the pool (bytes).</summary>
    public double MeanInnerBytes { get; }
    /// <summary>Bytes an in-memory pipeline run copies per packet on average: 4 copies (two RX, two
    /// TX) of the frame, the outer ones larger by the ESP overhead; the reference of the
    /// memcpy ratio (the gate's CopyReference).</summary>
    public double MeanFrameBytes { get; }

    public PipelineRig(string suite = "aes128gcm16", int sas = 1, string size = "64", int poolFrames = Batch)
    {
        if (sas < 1 || sas > 15_000) throw new ArgumentOutOfRangeException(nameof(sas), "1..15000 tunnels");
        if (poolFrames < Batch || poolFrames % Batch != 0) throw new ArgumentOutOfRangeException(nameof(poolFrames), "a multiple of 64");
        Sas = sas;
        Size = size;
        var (sunset, westIn) = InMemoryIo.CreatePair();
        var (westOut, eastOut) = InMemoryIo.CreatePair();
        var (eastIn, sunrise) = InMemoryIo.CreatePair();
        _sunset = sunset;
        _sunrise = sunrise;
        // Room for every install command without stepping (the rings drain on the first Step).
        int ring = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1024, 2 * sas + 16));
        _west = new Dataplane(new DataplaneOptions { LocalAddresses = [IPAddress.Parse("203.0.113.1")], CommandRingCapacity = ring }, _ => (westIn, westOut));
        _east = new Dataplane(new DataplaneOptions { LocalAddresses = [IPAddress.Parse("203.0.113.2")], CommandRingCapacity = ring }, _ => (eastIn, eastOut));
        var esp = EspSuite.Parse(suite);
        var rng = new Random(1);
        IpAddress16 west = IpAddress16.Parse("203.0.113.1"), east = IpAddress16.Parse("203.0.113.2");
        var westRoutes = new ErouteSpec<uint>[sas];
        var eastRoutes = new ErouteSpec<uint>[sas];
        for (int i = 0; i < sas; i++)
        {
            byte[] keys = new byte[esp.KeyMaterialLength];
            rng.NextBytes(keys);
            uint spi = 0x10000u + (uint)i, group = 0x40000u + (uint)i;
            _west.InstallOutbound(new SaParameters { Spi = spi, Suite = esp, KeyMaterial = keys, LocalAddress = west, RemoteAddress = east, Esn = true });
            _east.InstallInbound(new SaParameters { Spi = spi, Suite = esp, KeyMaterial = keys, LocalAddress = east, RemoteAddress = west, Esn = true, ReplayWindow = 1024 }, policyGroup: group);
            uint src = InnerSource(i), dst = InnerDestination(i);
            westRoutes[i] = new ErouteSpec<uint>(new ErouteSelector<uint>(src, 32, dst, 32), ErouteAction.Sa(spi));
            eastRoutes[i] = new ErouteSpec<uint>(new ErouteSelector<uint>(dst, 32, src, 32), ErouteAction.Sa(group));
        }
        _west.ErouteV4.ReplaceAll(westRoutes);
        _east.ErouteV4.ReplaceAll(eastRoutes);
        _west.NextHops.Set(IPAddress.Parse("203.0.113.2"), new NextHop(2, 0x020000000202, 0x020000000102, 1500));
        for (int d = 0; d < 125; d++)
            _east.NextHops.Set(new IPAddress(BinaryPrimitives.ReverseEndianness(InnerDestination(d))), new NextHop(1, 0x020000000038, 0x020000000201, 1500));

        _sourceSlab = new FrameSlab(poolFrames);
        _rxSlab = new FrameSlab(4 * Batch);
        _pool = new Packet[poolFrames];
        _rx = new PacketBatch(4 * Batch);
        long inner = 0;
        for (int j = 0; j < poolFrames; j++)
        {
            _sourceSlab.TryRent(out Packet p);
            int bytes = size == "imix" ? ImixPattern[j % ImixPattern.Length] : int.Parse(size, System.Globalization.CultureInfo.InvariantCulture);
            byte* f = p.Frame + p.Offset;
            NextHop.WriteMac(f, 0x020000000101);
            NextHop.WriteMac(f + 6, 0x020000000010);
            f[12] = 0x08;
            f[13] = 0x00;
            int tunnel = j % sas;
            WriteIpv4Udp(new Span<byte>(f + 14, bytes), InnerSource(tunnel), InnerDestination(tunnel), j);
            p.Length = 14 + bytes;
            _pool[j] = p;
            inner += bytes;
        }
        MeanInnerBytes = (double)inner / poolFrames;
        int overhead = esp.Encryption is FastPath.Crypto.EncryptionAlgorithm.AesGcm ? 20 + 8 + 8 + 16 + 2 : 20 + 8 + 16 + 12 + 2 + 8;
        MeanFrameBytes = 2 * (14 + MeanInnerBytes) + 2 * (14 + MeanInnerBytes + overhead);
        // SAs installed on the first steps, JIT warm, every SA has carried traffic (replay windows started).
        int warm = Math.Max(200, 2 * poolFrames / Batch);
        for (int i = 0; i < warm; i++) Forward();
    }

    /// <summary>Inner source of tunnel i, host order.</summary>
    public static uint InnerSource(int i) => 0xC0000200u | (uint)(2 + i / 125);

    /// <summary>Inner destination of tunnel i, host order.</summary>
    public static uint InnerDestination(int i) => 0xC0000200u | (uint)(130 + i % 125);

    private static void WriteIpv4Udp(Span<byte> p, uint src, uint dst, int seed)
    {
        p.Clear();
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)p.Length);
        p[8] = 64;
        p[9] = IpProtocol.Udp;
        BinaryPrimitives.WriteUInt32BigEndian(p[12..], src);
        BinaryPrimitives.WriteUInt32BigEndian(p[16..], dst);
        BinaryPrimitives.WriteUInt16BigEndian(p[10..], Checksum.Compute(p[..20]));
        BinaryPrimitives.WriteUInt16BigEndian(p[20..], 5001);
        BinaryPrimitives.WriteUInt16BigEndian(p[22..], 5201);
        BinaryPrimitives.WriteUInt16BigEndian(p[24..], (ushort)(p.Length - 20));
        for (int i = 28; i < p.Length; i++) p[i] = (byte)(i * 7 + seed);
    }

    /// <summary>One batch of 64 frames sunset → west → east → sunrise; returns the frames that arrived
    /// (always 64, else it throws with the drop counts: a benchmark of a broken pipeline is worthless).</summary>
    public int Forward()
    {
        int at = _window * Batch;
        _window = at + Batch == _pool.Length ? 0 : _window + 1;
        _sunset.Transmit(new ReadOnlySpan<Packet>(_pool, at, Batch));
        _west.Step();
        _east.Step();
        int n = _sunrise.Receive(_rx, _rxSlab);
        _rxSlab.ReturnAll(_rx.Packets);
        _rx.Clear();
        if (n != Batch) throw new InvalidOperationException($"{n} of {Batch} packets arrived: drops {_west.Totals.Drops} / {_east.Totals.Drops}");
        return n;
    }

    public void Dispose()
    {
        _west.Dispose();
        _east.Dispose();
        _sunset.Dispose();
        _sunrise.Dispose();
        _sourceSlab.Dispose();
        _rxSlab.Dispose();
    }
}
