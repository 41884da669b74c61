using System;
using System.Buffers.Binary;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>Hand-built packets for the classifier and drop tests.</summary>
public static class PipelinePackets
{
    /// <summary>An IPv4 packet with <paramref name="payload"/> after a 20-byte header.</summary>
    public static byte[] Ipv4(string src, string dst, byte protocol, byte[] payload, byte ttl = 64, ushort flagsFragment = 0x4000)
    {
        var p = new byte[20 + payload.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), 0x1234);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), flagsFragment);
        p[8] = ttl;
        p[9] = protocol;
        IpAddress16.Parse(src).ToIPAddress().TryWriteBytes(p.AsSpan(12), out _);
        IpAddress16.Parse(dst).ToIPAddress().TryWriteBytes(p.AsSpan(16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), Checksum.Compute(p.AsSpan(0, 20)));
        payload.CopyTo(p, 20);
        return p;
    }

    /// <summary>UDP header + data (checksum 0: allowed over IPv4, RFC 768).</summary>
    public static byte[] Udp(ushort sport, ushort dport, byte[] data)
    {
        var u = new byte[8 + data.Length];
        BinaryPrimitives.WriteUInt16BigEndian(u, sport);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(4), (ushort)u.Length);
        data.CopyTo(u, 8);
        return u;
    }

    public static byte[] Ipv4Udp(string src, string dst, ushort sport, ushort dport, byte[] data, byte ttl = 64) =>
        Ipv4(src, dst, IpProtocol.Udp, Udp(sport, dport, data), ttl);

    /// <summary>ICMP echo request (type 8) with a valid checksum.</summary>
    public static byte[] IcmpEcho(int dataLength = 32)
    {
        var m = new byte[8 + dataLength];
        m[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(4), 0x77);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(6), 1);
        for (int i = 8; i < m.Length; i++) m[i] = (byte)i;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), Checksum.Compute(m));
        return m;
    }

    /// <summary>An IPv6 packet (no extension headers).</summary>
    public static byte[] Ipv6(string src, string dst, byte nextHeader, byte[] payload, byte hopLimit = 64)
    {
        var p = new byte[40 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(p, 6u << 28);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)payload.Length);
        p[6] = nextHeader;
        p[7] = hopLimit;
        IpAddress16.Parse(src).ToIPAddress().TryWriteBytes(p.AsSpan(8), out _);
        IpAddress16.Parse(dst).ToIPAddress().TryWriteBytes(p.AsSpan(24), out _);
        payload.CopyTo(p, 40);
        return p;
    }

    /// <summary>An ARP request frame payload (RFC 826) for 192.0.2.1 from 192.0.2.10.</summary>
    public static byte[] ArpRequest()
    {
        var a = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(a, 1);          // Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(a.AsSpan(2), 0x0800);
        a[4] = 6;
        a[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(a.AsSpan(6), 1); // request
        a[14] = 192; a[15] = 0; a[16] = 2; a[17] = 10;
        a[24] = 192; a[25] = 0; a[26] = 2; a[27] = 1;
        return a;
    }

    /// <summary>An ICMPv6 neighbor solicitation (type 135) to the solicited-node address (RFC 4861 §4.3).</summary>
    public static byte[] NeighborSolicitation() =>
        Ipv6("2001:db8:1::10", "ff02::1:ff00:1", IpProtocol.Icmpv6, [135, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], hopLimit: 255);
}
