using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Net;

namespace FastPath.Gateway.Tests.Adversarial;

// IKE messages taken from real captures (IkeBed.Start(capture: true)) and turned into frames the
// attacker sends: Ethernet (the original destination MAC, the attacker's source MAC, so the bridge
// keeps forwarding the real peer's frames to the real peer), IPv4 (source kept — the spoofed peer —
// or replaced), UDP (length fixed, checksum 0: "none" for IPv4, RFC 768, so a mutated body still
// reaches the daemon's socket instead of dying in the kernel's checksum check), the non-ESP marker
// on port 4500 (RFC 3948 §2.2), then the IKE bytes. IkeFuzzer mutates those bytes.

/// <summary>One IKE message of a capture.</summary>
public sealed record IkeCaptured(byte[] Frame, IPAddress Source, IPAddress Destination, ushort SourcePort, ushort DestinationPort, byte[] Ike)
{
    public byte Exchange => Ike.Length > 18 ? Ike[18] : (byte)0;
    public bool Response => Ike.Length > 19 && (Ike[19] & 0x20) != 0;
    public override string ToString() => $"{Source}:{SourcePort} -> {Destination}:{DestinationPort} exchange {Exchange} {(Response ? "response" : "request")} {Ike.Length} bytes";
}

public static class IkeFrames
{
    /// <summary>The IKE messages (IPv4, UDP 500 or 4500 with the non-ESP marker) of captured frames.</summary>
    public static List<IkeCaptured> Parse(IEnumerable<byte[]> frames)
    {
        var list = new List<IkeCaptured>();
        foreach (byte[] f in frames)
        {
            if (f.Length < 14 + 20 + 8 || BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) != 0x0800 || f[23] != 17) continue;
            int ihl = (f[14] & 0xf) * 4, udp = 14 + ihl;
            if (f.Length < udp + 8) continue;
            ushort sp = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(udp)), dp = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(udp + 2));
            int body = udp + 8;
            if (sp == 4500 || dp == 4500)
            {
                if (f.Length < body + 4 || BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(body)) != 0) continue; // ESP in UDP or a keepalive
                body += 4;
            }
            if (f.Length < body + 28) continue;
            list.Add(new IkeCaptured(f, new IPAddress(f.AsSpan(26, 4)), new IPAddress(f.AsSpan(30, 4)), sp, dp, f[body..]));
        }
        return list;
    }

    /// <summary>A frame carrying <paramref name="ike"/> from <paramref name="source"/>:<paramref name="sourcePort"/>
    /// to the template's destination and <paramref name="destinationPort"/> (the non-ESP marker first on 4500).</summary>
    public static byte[] Build(IkeCaptured template, byte[] attackerMac, IPAddress source, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> ike, bool marker = true)
    {
        int ihl = 20;
        bool natt = destinationPort == 4500 && marker;
        int udpLen = 8 + (natt ? 4 : 0) + ike.Length;
        var f = new byte[14 + ihl + udpLen];
        template.Frame.AsSpan(0, 6).CopyTo(f);          // the original destination MAC
        attackerMac.CopyTo(f.AsSpan(6));
        f[12] = 0x08; f[13] = 0x00;
        Span<byte> ip = f.AsSpan(14, ihl);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(ihl + udpLen));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)Random.Shared.Next(0, 0x10000));
        ip[8] = 64; ip[9] = 17;
        source.GetAddressBytes().CopyTo(ip[12..]);
        template.Destination.GetAddressBytes().CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum(ip));
        Span<byte> u = f.AsSpan(14 + ihl);
        BinaryPrimitives.WriteUInt16BigEndian(u, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(u[2..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(u[4..], (ushort)udpLen);
        ike.CopyTo(u[(8 + (natt ? 4 : 0))..]);
        return f;
    }

    public static byte[] Mac(string text) => text.Split(':').Select(h => Convert.ToByte(h, 16)).ToArray();

    private static ushort Checksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (int i = 0; i < header.Length; i += 2) sum += (uint)(header[i] << 8 | header[i + 1]);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}

/// <summary>Mutations of one IKE message (its bytes from the IKE header on).</summary>
public static class IkeFuzzer
{
    public static readonly string[] Kinds = ["bitflip", "bytes", "truncate", "extend", "header-length", "payload-length", "next-payload", "header-fields", "garbage", "spis"];

    public static byte[] Mutate(byte[] ike, int kind, Random r)
    {
        byte[] m = (byte[])ike.Clone();
        switch (kind)
        {
            case 0: for (int i = r.Next(1, 9); i > 0; i--) { int b = r.Next(m.Length * 8); m[b / 8] ^= (byte)(1 << (b % 8)); } break;
            case 1: for (int i = r.Next(1, 5); i > 0; i--) m[r.Next(m.Length)] = (byte)r.Next(256); break;
            case 2: m = m[..r.Next(0, m.Length)]; break;
            case 3: { var x = new byte[r.Next(1, 65)]; r.NextBytes(x); m = [.. m, .. x]; break; }
            case 4: BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(24), PickLength(r, m.Length)); break;
            case 5:
            {
                // Walk the generic payload headers (RFC 7296 §3.2) and corrupt one length.
                var at = new List<int>();
                for (int o = 28; o + 4 <= m.Length && at.Count < 32;)
                {
                    at.Add(o);
                    int len = BinaryPrimitives.ReadUInt16BigEndian(m.AsSpan(o + 2));
                    if (len < 4) break;
                    o += len;
                }
                if (at.Count > 0) BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(at[r.Next(at.Count)] + 2), (ushort)(PickLength(r, m.Length) & 0xffff));
                break;
            }
            case 6: if (r.Next(2) == 0) m[16] = (byte)r.Next(256); else if (m.Length > 28) m[28] = (byte)r.Next(256); break;
            case 7: m[17 + r.Next(3)] = (byte)r.Next(256); if (r.Next(2) == 0) BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(20), (uint)r.Next()); break;
            case 8: m = new byte[r.Next(0, 600)]; r.NextBytes(m); break;
            default: if (r.Next(2) == 0) m.AsSpan(0, 8).Clear(); else r.NextBytes(m.AsSpan(r.Next(2) * 8, 8)); break;
        }
        return m;
    }

    private static uint PickLength(Random r, int real) => r.Next(6) switch
    {
        0 => 0,
        1 => 1,
        2 => 3,
        3 => 0xffff,
        4 => (uint)Math.Max(0, real + r.Next(-8, 9)),
        _ => (uint)r.Next(),
    };
}
