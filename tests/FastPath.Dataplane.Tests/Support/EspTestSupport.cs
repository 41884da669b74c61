using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using FastPath.Crypto;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;

namespace FastPath.Dataplane.Tests.Support;

/// <summary>Which crypto engine the ESP tests use for a suite: <see cref="CryptoEngine.Default"/>
/// (what the gateway installs SAs with) for every suite.</summary>
public static class TestEngines
{
    public static CryptoEngine For(EspSuite suite) => CryptoEngine.Default;

    public static CryptoEngine For(string suite) => For(EspSuite.Parse(suite));
}

/// <summary>Builds SA pairs (outbound on one side, the matching inbound on the other).</summary>
public static class SaPairs
{
    public static readonly string[] AllSuites =
    [
        "aes128gcm16", "aes256gcm16", "aes128gcm8", "aes128gcm12", "aes128-sha1", "aes128-sha256", "aes256-sha384", "aes256-sha512",
        "3des-sha1", "3des-md5", "aes128-md5", "aes128ctr-sha256", "aes128gmac", "chacha20poly1305",
    ];

    public static byte[] Keys(EspSuite suite, int seed) { var b = new byte[suite.KeyMaterialLength]; new Random(seed).NextBytes(b); return b; }

    public static (OutboundSa Out, InboundSa In) Create(string suiteName, bool esn = false, IpsecMode mode = IpsecMode.Tunnel,
        bool ipv6Outer = false, bool natT = false, uint spi = 0x1002, int window = 64, SaLifetime lifetime = default,
        SaEventQueue? events = null, IpPrefix? innerSource = null, IpPrefix? innerDestination = null, bool hideTos = true,
        DfBitMode df = DfBitMode.Copy, CryptoEngine? engine = null, byte[]? keys = null)
    {
        var suite = EspSuite.Parse(suiteName);
        keys ??= Keys(suite, (int)spi);
        engine ??= TestEngines.For(suite);
        IpAddress16 west = IpAddress16.Parse(ipv6Outer ? "2001:db8:ffff::1" : "203.0.113.1");
        IpAddress16 east = IpAddress16.Parse(ipv6Outer ? "2001:db8:ffff::2" : "203.0.113.2");
        var outbound = new OutboundSa(new SaParameters
        {
            Spi = spi, Suite = suite, KeyMaterial = keys, Engine = engine, Esn = esn, Mode = mode,
            LocalAddress = west, RemoteAddress = east, UdpEncapsulation = natT, Lifetime = lifetime, Events = events,
            HideTos = hideTos, DfBit = df,
        });
        var inbound = new InboundSa(new SaParameters
        {
            Spi = spi, Suite = suite, KeyMaterial = keys, Engine = engine, Esn = esn, Mode = mode,
            LocalAddress = east, RemoteAddress = west, UdpEncapsulation = natT, ReplayWindow = window, Lifetime = lifetime, Events = events,
            InnerSource = innerSource, InnerDestination = innerDestination,
        });
        return (outbound, inbound);
    }
}

/// <summary>Inner test packets (documentation addresses, DESIGN.md §5).</summary>
public static class TestPackets
{
    public static byte[] Ipv4Udp(int payloadLength, int seed = 1, string src = "192.0.2.10", string dst = "192.0.2.138", byte tos = 0, bool df = true)
    {
        var p = new byte[20 + 8 + payloadLength];
        p[0] = 0x45;
        p[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)seed);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), df ? (ushort)0x4000 : (ushort)0);
        p[8] = 64;
        p[9] = IpProtocol.Udp;
        IpAddress16.Parse(src).ToIPAddress().TryWriteBytes(p.AsSpan(12), out _);
        IpAddress16.Parse(dst).ToIPAddress().TryWriteBytes(p.AsSpan(16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), 5001);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), 5201);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), (ushort)(8 + payloadLength));
        new Random(seed).NextBytes(p.AsSpan(28));
        return p;
    }

    public static byte[] Ipv6Udp(int payloadLength, int seed = 1, string src = "2001:db8:1::10", string dst = "2001:db8:2::138", byte trafficClass = 0)
    {
        var p = new byte[40 + 8 + payloadLength];
        BinaryPrimitives.WriteUInt32BigEndian(p, (6u << 28) | ((uint)trafficClass << 20));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)(8 + payloadLength));
        p[6] = IpProtocol.Udp;
        p[7] = 64;
        IpAddress16.Parse(src).ToIPAddress().TryWriteBytes(p.AsSpan(8), out _);
        IpAddress16.Parse(dst).ToIPAddress().TryWriteBytes(p.AsSpan(24), out _);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(40), 5001);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(42), 5201);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(44), (ushort)(8 + payloadLength));
        new Random(seed).NextBytes(p.AsSpan(48));
        return p;
    }
}

/// <summary>A slab plus a batch, for loading byte arrays as packets and reading them back.</summary>
public sealed unsafe class Frames : IDisposable
{
    public readonly FrameSlab Slab;
    public readonly PacketBatch Batch;

    public Frames(int capacity = 256, int frameSize = FrameSlab.DefaultFrameSize, int headroom = FrameSlab.DefaultHeadroom)
    {
        Slab = new FrameSlab(capacity, frameSize, headroom);
        Batch = new PacketBatch(capacity);
    }

    /// <summary>Empties the batch and returns every frame.</summary>
    public void Reset()
    {
        foreach (ref Packet p in Batch.Packets) Slab.Return(p);
        Batch.Clear();
    }

    public ref Packet Add(ReadOnlySpan<byte> data, int headroom = -1)
    {
        if (!Slab.TryRent(out Packet p)) throw new InvalidOperationException("slab exhausted");
        if (headroom >= 0) p.Offset = headroom;
        p.Length = data.Length;
        data.CopyTo(p.Span);
        if (!Batch.TryAdd(p)) throw new InvalidOperationException("batch full");
        return ref Batch[Batch.Count - 1];
    }

    public byte[] Data(int index) => Batch[index].Span.ToArray();

    public void Dispose() => Slab.Dispose();
}
