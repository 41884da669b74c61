using System;
using System.Buffers.Binary;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Tests.Support;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>Headers, checksums, prefixes, frames.</summary>
public unsafe class PacketTests
{
    /// <summary>Straightforward RFC 1071 reference: 16-bit big-endian words, 32-bit accumulator.</summary>
    private static ushort Reference(ReadOnlySpan<byte> data, uint initial = 0)
    {
        uint sum = initial;
        for (int i = 0; i + 1 < data.Length; i += 2) sum += (uint)(data[i] << 8 | data[i + 1]);
        if ((data.Length & 1) != 0) sum += (uint)data[^1] << 8;
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    [Fact]
    public void ChecksumMatchesTheReferenceForEveryLengthAndAlignment()
    {
        var rng = new Random(1);
        var buffer = new byte[2100];
        rng.NextBytes(buffer);
        for (int offset = 0; offset < 8; offset++)
            for (int length = 0; length < 2048; length += length < 100 ? 1 : 37)
                Assert.Equal(Reference(buffer.AsSpan(offset, length)), Checksum.Compute(buffer.AsSpan(offset, length)));
        var ones = new byte[64];
        Array.Fill(ones, (byte)0xFF);
        Assert.Equal(Reference(ones), Checksum.Compute(ones));
    }

    [Fact]
    public void Ipv4HeaderChecksumOfPublishedPackets()
    {
        // Inner headers of RFC 3602 §4 cases 7 and 8 carry checksums f988 and f990.
        byte[] h7 = Convert.FromHexString("45000054090400004001f988c0a87b03c0a87bc8");
        byte[] h8 = Convert.FromHexString("45000044090c00004001f990c0a87b03c0a87bc8");
        fixed (byte* p = h7) Assert.True(Checksum.Ipv4HeaderValid(p, 20));
        fixed (byte* p = h8) Assert.True(Checksum.Ipv4HeaderValid(p, 20));
        fixed (byte* p = h7)
        {
            ref Ipv4Header h = ref Ipv4Header.At(p);
            Assert.Equal(0xF988, h.Checksum);
            h.UpdateChecksum();
            Assert.Equal(0xF988, h.Checksum);
            Assert.Equal(84, h.TotalLength);
            Assert.Equal(IpProtocol.Icmp, h.Protocol);
            Assert.Equal("192.168.123.3", IpAddress16.FromIpv4Raw(h.SourceRaw).ToString());
            Assert.Equal(0xC0A87BC8u, h.Destination);
        }
    }

    [Fact]
    public void IncrementalUpdateEqualsRecomputation()
    {
        var rng = new Random(2);
        for (int n = 0; n < 10_000; n++)
        {
            byte[] h = TestPackets.Ipv4Udp(0, n).AsSpan(0, 20).ToArray();
            int word = rng.Next(10);
            if (word == 5) continue; // the checksum itself
            ushort old = BinaryPrimitives.ReadUInt16BigEndian(h.AsSpan(word * 2));
            ushort now = (ushort)rng.Next(65536);
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(word * 2), now);
            ushort updated = Checksum.Update(BinaryPrimitives.ReadUInt16BigEndian(h.AsSpan(10)), old, now);
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(10), 0);
            ushort full = Checksum.Compute(h);
            // RFC 1624: equal as one's-complement numbers (0x0000 and 0xFFFF are both zero).
            Assert.True(updated == full || (updated ^ full) == 0xFFFF && (updated == 0 || full == 0), $"{updated:x4} vs {full:x4}");
        }
    }

    [Fact]
    public void UdpChecksumsOverIpv4AndIpv6PseudoHeaders()
    {
        var rng = new Random(3);
        for (int len = 8; len < 600; len += 13)
        {
            byte[] v4 = TestPackets.Ipv4Udp(len - 8, len);
            fixed (byte* p = v4)
            {
                ref Ipv4Header h = ref Ipv4Header.At(p);
                ushort c = Checksum.TransportIpv4(h.SourceRaw, h.DestinationRaw, IpProtocol.Udp, p + 20, len);
                // Reference: pseudo-header bytes + datagram.
                byte[] pseudo = [.. v4.AsSpan(12, 8), 0, IpProtocol.Udp, (byte)(len >> 8), (byte)len, .. v4.AsSpan(20)];
                ushort r = Reference(pseudo);
                Assert.Equal(r == 0 ? 0xFFFF : r, c);
            }
            byte[] v6 = TestPackets.Ipv6Udp(len - 8, len);
            fixed (byte* p = v6)
            {
                ref Ipv6Header h = ref Ipv6Header.At(p);
                Assert.Equal(6, h.Version);
                ushort c = Checksum.TransportIpv6(h.Source, h.Destination, IpProtocol.Udp, p + 40, len);
                byte[] pseudo = [.. v6.AsSpan(8, 32), 0, 0, (byte)(len >> 8), (byte)len, 0, 0, 0, IpProtocol.Udp, .. v6.AsSpan(40)];
                ushort r = Reference(pseudo);
                Assert.Equal(r == 0 ? 0xFFFF : r, c);
            }
        }
    }

    [Fact]
    public void PrefixesMatchBothFamilies()
    {
        var p = IpPrefix.Parse("192.0.2.0/25");
        Assert.True(p.Contains(IpAddress16.Parse("192.0.2.127")));
        Assert.False(p.Contains(IpAddress16.Parse("192.0.2.128")));
        Assert.False(p.Contains(IpAddress16.Parse("::ffff:c000:280")));
        Assert.False(p.Contains(IpAddress16.Parse("2001:db8::1")));
        Assert.True(IpPrefix.Parse("0.0.0.0/0").Contains(IpAddress16.Parse("198.51.100.7")));
        Assert.False(IpPrefix.Parse("0.0.0.0/0").Contains(IpAddress16.Parse("2001:db8::7")));
        var q = IpPrefix.Parse("2001:db8:1::/64");
        Assert.True(q.Contains(IpAddress16.Parse("2001:db8:1::ffff")));
        Assert.False(q.Contains(IpAddress16.Parse("2001:db8:2::1")));
        Assert.True(IpPrefix.Parse("2001:db8:1:2:ff::/72").Contains(IpAddress16.Parse("2001:db8:1:2:ab::1")));
        Assert.False(IpPrefix.Parse("2001:db8:1:2:ff::/72").Contains(IpAddress16.Parse("2001:db8:1:2:1ff::1")));
        Assert.True(IpAddress16.Parse("203.0.113.9").IsIpv4);
        Assert.Equal("203.0.113.9", IpAddress16.Parse("203.0.113.9").ToString());
        Assert.Equal("2001:db8::9", IpAddress16.Parse("2001:db8::9").ToString());
    }

    [Fact]
    public void SlabRentsAndReturnsFramesWithHeadroom()
    {
        using var slab = new FrameSlab(4, 1024, 100);
        var rented = new Packet[4];
        for (int i = 0; i < 4; i++)
        {
            Assert.True(slab.TryRent(out rented[i]));
            Assert.Equal(100, rented[i].Headroom);
            Assert.Equal(1024 - 100, rented[i].Tailroom);
            Assert.Equal(0, (long)rented[i].Frame % 64);
        }
        Assert.False(slab.TryRent(out _));
        slab.Return(rented[2]);
        Assert.True(slab.TryRent(out Packet again));
        Assert.True(again.Frame == rented[2].Frame);
        Assert.Throws<ArgumentException>(() => slab.Return(new Packet { Frame = (byte*)1 }));
    }
}
