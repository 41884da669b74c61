using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Net;
using System.Security.Cryptography;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Gateway.Ike;
using FastPath.Ike.Crypto;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastPath.Gateway.Tests.Ike;

using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>
/// West and East FastPath dataplanes back to back over in-memory ports (DESIGN.md §5 topology), each
/// with a <see cref="DataplaneChildSaSink"/> in front: the tests play the IKE engine (ChildSaInstall
/// values with keys from SaKeyFactory.CreateChildSa), sunset, sunrise and the wire.
/// sunset 192.0.2.10 ─ west [192.0.2.1 | 203.0.113.1] ═ wire ═ [203.0.113.2 | 192.0.2.129] east ─ sunrise 192.0.2.138
/// </summary>
public sealed unsafe class SinkPair : IDisposable
{
    public static readonly ulong SunsetMac = 0x02_00_00_00_00_10, WestInMac = 0x02_00_00_00_01_01, WestOutMac = 0x02_00_00_00_01_02;
    public static readonly ulong EastOutMac = 0x02_00_00_00_02_02, EastInMac = 0x02_00_00_00_02_01, SunriseMac = 0x02_00_00_00_00_38;
    public static readonly IPAddress WestOutside = IPAddress.Parse("203.0.113.1"), EastOutside = IPAddress.Parse("203.0.113.2");

    public readonly Dataplane West, East;
    public readonly DataplaneChildSaSink WestSink, EastSink;
    public readonly InMemoryIo Sunset, Sunrise, WireWest, WireEast;
    private readonly FrameSlab _slab = new(8192);
    private readonly PacketBatch _batch = new(256);
    private readonly object _ioLock = new();

    public SinkPair(int workers = 1, TimeSpan? holdTimeout = null, bool asynchronous = false)
    {
        // Per worker its own four port pairs (every worker TXes on its own ports, also for packets
        // handed over to it): index 0 is where the test injects; the wire and the far ends are merged.
        var westPorts = new (IPacketIo In, IPacketIo Out)[workers];
        var eastPorts = new (IPacketIo In, IPacketIo Out)[workers];
        for (int i = 0; i < workers; i++)
        {
            var (sunset, westIn) = InMemoryIo.CreatePair();
            var (eastIn, sunrise) = InMemoryIo.CreatePair();
            var (westOut, ww) = InMemoryIo.CreatePair();
            var (we, eastOut) = InMemoryIo.CreatePair();
            _sunsets.Add(sunset); _sunrises.Add(sunrise); _wireWest.Add(ww); _wireEast.Add(we);
            westPorts[i] = (westIn, westOut);
            eastPorts[i] = (eastIn, eastOut);
        }
        Sunset = _sunsets[0]; Sunrise = _sunrises[0]; WireWest = _wireWest[0]; WireEast = _wireEast[0];
        var wo = new DataplaneOptions
        {
            WorkerCount = workers,
            LocalAddresses = [IPAddress.Parse("192.0.2.1"), WestOutside],
            IcmpSourceV4 = IPAddress.Parse("192.0.2.1"),
            HoldTimeout = holdTimeout ?? TimeSpan.FromSeconds(2),
        };
        var eo = new DataplaneOptions
        {
            WorkerCount = workers,
            LocalAddresses = [IPAddress.Parse("192.0.2.129"), EastOutside],
            IcmpSourceV4 = IPAddress.Parse("192.0.2.129"),
            HoldTimeout = holdTimeout ?? TimeSpan.FromSeconds(2),
        };
        West = new Dataplane(wo, i => westPorts[i]);
        East = new Dataplane(eo, i => eastPorts[i]);
        West.NextHops.Set(EastOutside, new NextHop(2, EastOutMac, WestOutMac, 1500));
        West.NextHops.Set(IPAddress.Parse("192.0.2.10"), new NextHop(1, SunsetMac, WestInMac, 1500));
        East.NextHops.Set(WestOutside, new NextHop(2, WestOutMac, EastOutMac, 1500));
        foreach (string h in new[] { "192.0.2.138", "192.0.2.139", "192.0.2.140" })
            East.NextHops.Set(IPAddress.Parse(h), new NextHop(1, SunriseMac, EastInMac, 1500));
        WestSink = new DataplaneChildSaSink(West, NullLogger.Instance) { Asynchronous = asynchronous };
        EastSink = new DataplaneChildSaSink(East, NullLogger.Instance) { Asynchronous = asynchronous };
    }

    private readonly List<InMemoryIo> _sunsets = [], _sunrises = [], _wireWest = [], _wireEast = [];

    /// <summary>Frames at sunrise from any worker's inside port.</summary>
    public List<byte[]> AtSunrise()
    {
        var l = new List<byte[]>();
        foreach (InMemoryIo io in _sunrises) l.AddRange(Drain(io));
        return l;
    }

    /// <summary>Frames at sunset from any worker's inside port.</summary>
    public List<byte[]> AtSunset()
    {
        var l = new List<byte[]>();
        foreach (InMemoryIo io in _sunsets) l.AddRange(Drain(io));
        return l;
    }

    // ---- CHILD_SAs as the engine would hand them over ----------------------------------------

    public static ChildSuite Suite(string name) => name switch
    {
        "aes128gcm16" => new ChildSuite(EncrId.AesGcm16, 128, IntegId.None, DhGroup.None, EsnId.NoEsn),
        "aes256gcm16" => new ChildSuite(EncrId.AesGcm16, 256, IntegId.None, DhGroup.None, EsnId.NoEsn),
        "aes128-sha256" => new ChildSuite(EncrId.AesCbc, 128, IntegId.HmacSha2_256_128, DhGroup.None, EsnId.NoEsn),
        "aes256-sha384" => new ChildSuite(EncrId.AesCbc, 256, IntegId.HmacSha2_384_192, DhGroup.None, EsnId.NoEsn),
        "3des-sha1" => new ChildSuite(EncrId.TripleDesCbc, 0, IntegId.HmacSha1_96, DhGroup.None, EsnId.NoEsn),
        "chacha20poly1305" => new ChildSuite(EncrId.ChaCha20Poly1305, 0, IntegId.None, DhGroup.None, EsnId.NoEsn),
        "aes128ctr-sha1" => new ChildSuite(EncrId.AesCtr, 128, IntegId.HmacSha1_96, DhGroup.None, EsnId.NoEsn),
        _ => throw new ArgumentException(name),
    };

    public static IReadOnlyList<TrafficSelector> Ts(params string[] prefixes)
    {
        var l = new List<TrafficSelector>();
        foreach (string p in prefixes) l.Add(TrafficSelectors.FromPrefix(p));
        return l;
    }

    /// <summary>The two sides' ChildSaInstall of one CHILD_SA (west initiated): KEYMAT from SaKeyFactory.CreateChildSa
    /// with a fresh SK_d and nonces, west's outbound = initiator→responder keys.</summary>
    public static (ChildSaInstall West, ChildSaInstall East) Child(string suite, uint westInSpi, uint eastInSpi, uint reqId = 1, string connection = "west-east",
        IReadOnlyList<TrafficSelector>? westTs = null, IReadOnlyList<TrafficSelector>? eastTs = null, int serial = 2,
        uint westReplaces = 0, uint eastReplaces = 0, Func<ChildSaInstall, ChildSaInstall>? tuneWest = null)
    {
        ChildSuite cs = Suite(suite);
        Prf prf = Prf.Create(PrfId.HmacSha2_256);
        byte[] skD = RandomNumberGenerator.GetBytes(32), ni = RandomNumberGenerator.GetBytes(32), nr = RandomNumberGenerator.GetBytes(32);
        ChildSaKeys k = SaKeyFactory.CreateChildSa(prf, skD, cs, [], ni, nr);
        westTs ??= Ts("192.0.2.0/25");
        eastTs ??= Ts("192.0.2.128/25");
        var w = new ChildSaInstall
        {
            Connection = connection, IkeSerial = 1, ChildSerial = serial, ReqId = reqId,
            InboundSpi = westInSpi, OutboundSpi = eastInSpi, Suite = cs,
            OutboundEncryptionKey = k.InitiatorToResponder.EncryptionKey, OutboundIntegrityKey = k.InitiatorToResponder.IntegrityKey,
            InboundEncryptionKey = k.ResponderToInitiator.EncryptionKey, InboundIntegrityKey = k.ResponderToInitiator.IntegrityKey,
            LocalAddress = WestOutside, RemoteAddress = EastOutside, UdpEncapsulation = true,
            LocalTs = westTs, RemoteTs = eastTs, ReplacesOutboundSpi = westReplaces,
        };
        var e = new ChildSaInstall
        {
            Connection = connection, IkeSerial = 1, ChildSerial = serial, ReqId = reqId + 100,
            InboundSpi = eastInSpi, OutboundSpi = westInSpi, Suite = cs,
            OutboundEncryptionKey = k.ResponderToInitiator.EncryptionKey, OutboundIntegrityKey = k.ResponderToInitiator.IntegrityKey,
            InboundEncryptionKey = k.InitiatorToResponder.EncryptionKey, InboundIntegrityKey = k.InitiatorToResponder.IntegrityKey,
            LocalAddress = EastOutside, RemoteAddress = WestOutside, UdpEncapsulation = true,
            LocalTs = eastTs, RemoteTs = westTs, ReplacesOutboundSpi = eastReplaces,
        };
        return (tuneWest is null ? w : tuneWest(w), e);
    }

    /// <summary>Installs a CHILD_SA on both sides in the engine's order (inbound first).</summary>
    public void Up((ChildSaInstall West, ChildSaInstall East) c)
    {
        WestSink.InstallInbound(c.West);
        EastSink.InstallInbound(c.East);
        WestSink.InstallOutbound(c.West);
        EastSink.InstallOutbound(c.East);
    }

    // ---- packets -----------------------------------------------------------------------------

    /// <summary>IPv4/UDP with a 4-byte sequence number (and filler) as payload.</summary>
    public static byte[] Udp(string src, string dst, uint seq, int size = 64, ushort sport = 40000, ushort dport = 5001)
    {
        int payload = Math.Max(4, size - 28);
        var p = new byte[28 + payload];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)seq);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), 0x4000);
        p[8] = 64;
        p[9] = 17;
        IPAddress.Parse(src).TryWriteBytes(p.AsSpan(12), out _);
        IPAddress.Parse(dst).TryWriteBytes(p.AsSpan(16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), sport);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), dport);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), (ushort)(8 + payload));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(28), seq);
        for (int i = 32; i < p.Length; i++) p[i] = (byte)(seq + i);
        return p;
    }

    /// <summary>The sequence numbers of the UDP frames in <paramref name="frames"/> (Ethernet + IPv4 + UDP).</summary>
    public static List<uint> Sequences(List<byte[]> frames)
    {
        var l = new List<uint>();
        foreach (byte[] f in frames)
            if (f.Length >= 14 + 32 && f[14 + 9] == 17) l.Add(BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(14 + 28)));
        return l;
    }

    public static byte[] Frame(ulong dst, ulong src, byte[] l3)
    {
        var f = new byte[14 + l3.Length];
        fixed (byte* p = f)
        {
            NextHop.WriteMac(p, dst);
            NextHop.WriteMac(p + 6, src);
        }
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0800);
        l3.CopyTo(f, 14);
        return f;
    }

    public void FromSunset(byte[] l3) => Send(Sunset, Frame(WestInMac, SunsetMac, l3));
    public void FromSunrise(byte[] l3) => Send(Sunrise, Frame(EastInMac, SunriseMac, l3));

    public void Send(InMemoryIo io, byte[] frame)
    {
        lock (_ioLock)
        {
            if (!_slab.TryRent(out Packet p)) throw new InvalidOperationException("test slab exhausted");
            frame.CopyTo(new Span<byte>(p.Frame + p.Offset, frame.Length));
            p.Length = frame.Length;
            int sent = io.Transmit(new ReadOnlySpan<Packet>(in p));
            _slab.Return(p);
            if (sent != 1) throw new InvalidOperationException("test port full");
        }
    }

    public List<byte[]> Drain(InMemoryIo io)
    {
        lock (_ioLock)
        {
            var list = new List<byte[]>();
            while (io.Receive(_batch, _slab) > 0)
            {
                foreach (ref Packet p in _batch.Packets)
                {
                    list.Add(p.Span.ToArray());
                    _slab.Return(p);
                }
                _batch.Clear();
            }
            return list;
        }
    }

    /// <summary>Every frame that crossed the wire (both directions), for fail-closed checks.</summary>
    public List<byte[]> WireLog { get; } = new();

    /// <summary>Moves frames across the wire. Returns how many moved.</summary>
    public int Relay()
    {
        int moved = 0;
        foreach (InMemoryIo w in _wireWest)
            foreach (byte[] f in Drain(w)) { WireLog.Add(f); Send(WireEast, f); moved++; }
        foreach (InMemoryIo e in _wireEast)
            foreach (byte[] f in Drain(e)) { WireLog.Add(f); Send(WireWest, f); moved++; }
        return moved;
    }

    /// <summary>Steps both gateways and the wire until nothing moves (bounded).</summary>
    public void Pump(int maxRounds = 64)
    {
        for (int i = 0; i < maxRounds; i++)
        {
            int moved = West.Step() + Relay() + East.Step() + Relay();
            if (moved == 0 && Sunset.Pending == 0 && Sunrise.Pending == 0 && _wireWest.TrueForAll(w => w.Pending == 0) && _wireEast.TrueForAll(w => w.Pending == 0)) return;
        }
    }

    /// <summary>True when a wire frame is not ESP-in-UDP (IPv4/UDP to 4500 with a non-zero SPI): cleartext leaked.</summary>
    public static bool IsCleartext(byte[] f)
    {
        if (f.Length < 14 + 20 + 8 + 4) return true;
        if (f[14 + 9] != 17) return true;
        int ihl = (f[14] & 0xF) * 4;
        ushort dport = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + ihl + 2));
        uint spi = BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(14 + ihl + 8));
        return dport != 4500 || spi == 0;
    }

    public void Dispose()
    {
        WestSink.Dispose();
        EastSink.Dispose();
        West.Dispose();
        East.Dispose();
        foreach (var list in new[] { _sunsets, _sunrises, _wireWest, _wireEast })
            foreach (InMemoryIo d in list) d.Dispose();
        _slab.Dispose();
    }
}

/// <summary>The engine side of Dispatch, recording what it was told.</summary>
public sealed class FakeIkeTarget : IIkeEventTarget
{
    public List<(string Connection, IPAddress Source, IPAddress Destination, byte Protocol, ushort SourcePort, ushort DestinationPort)> Acquires { get; } = new();
    public List<(uint Spi, bool Inbound, bool Hard)> Lifetimes { get; } = new();
    public Action<string>? OnAcquireHook { get; set; }

    public void OnAcquire(string connection, IPAddress source, IPAddress destination, byte protocol, ushort sourcePort, ushort destinationPort)
    {
        Acquires.Add((connection, source, destination, protocol, sourcePort, destinationPort));
        OnAcquireHook?.Invoke(connection);
    }

    public void OnChildLifetime(uint spi, bool inbound, bool hard) => Lifetimes.Add((spi, inbound, hard));
}
