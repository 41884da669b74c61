using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Dataplane.Tests.L3;

/// <summary>Kernel UDP and TCP (IPv4 and IPv6) sent by sockets in fp-l3-*-a through the veth, captured in
/// fp-l3-*-b with AfPacketIo (flagged ChecksumNotReady: CHECKSUM_PARTIAL), completed in place and checked
/// against an independent RFC 1071 sum and against scapy's own checksum computation.</summary>
public sealed unsafe class ChecksumCompletionTests
{
    private readonly ITestOutputHelper _out;
    public ChecksumCompletionTests(ITestOutputHelper output) => _out = output;

    /// <summary>Independent check: pseudo-header + L4 sums to 0xFFFF (one's complement zero) with a 16-bit loop.</summary>
    private static bool IndependentlyValid(byte[] f)
    {
        int l3 = 14;
        int version = f[l3] >> 4;
        byte proto;
        int l4, l4Len;
        uint pseudo = 0;
        if (version == 4)
        {
            int ihl = (f[l3] & 15) * 4;
            proto = f[l3 + 9];
            l4 = l3 + ihl;
            l4Len = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(l3 + 2)) - ihl;
            for (int i = 0; i < 8; i += 2) pseudo += BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(l3 + 12 + i));
        }
        else
        {
            proto = f[l3 + 6];
            l4 = l3 + 40;
            l4Len = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(l3 + 4));
            for (int i = 0; i < 32; i += 2) pseudo += BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(l3 + 8 + i));
        }
        if (proto == IpProtocol.Udp) l4Len = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(l4 + 4));
        pseudo += proto;
        pseudo += (uint)l4Len;
        return L3TestSupport.Rfc1071(f.AsSpan(l4, l4Len), pseudo) == 0;
    }

    [Fact]
    public void KernelTcpAndUdpFramesFromAVethAreCompletedCorrectly()
    {
        using var t = new L3Topology(routes: false);
        using var b = NetworkNamespace.Run(t.NsB, () => new AfPacketIo(new AfPacketOptions { Interface = t.IfB, BlockCount = 4 }));
        var listeners = NetworkNamespace.Run(t.NsB, () =>
        {
            var l4 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            l4.Bind(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 5001));
            l4.Listen(4);
            var l6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            l6.Bind(new IPEndPoint(IPAddress.Parse("2001:db8::2"), 5001));
            l6.Listen(4);
            return (l4, l6);
        });
        using var l4s = listeners.l4;
        using var l6s = listeners.l6;
        var senders = NetworkNamespace.Run(t.NsA, () =>
        {
            var u4 = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var u6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
            var t4 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var t6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            return (u4, u6, t4, t6);
        });
        using var u4s = senders.u4;
        using var u6s = senders.u6;
        using var t4s = senders.t4;
        using var t6s = senders.t6;
        // Neighbors first (ND/ARP are not what we test), then the connections.
        L3Topology.Ip($"netns exec {t.NsA} ping -c 1 -W 2 192.0.2.2");
        L3Topology.Ip($"netns exec {t.NsA} ping -c 1 -W 2 2001:db8::2");
        t4s.Connect(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 5001));
        t6s.Connect(new IPEndPoint(IPAddress.Parse("2001:db8::2"), 5001));

        using var slab = new FrameSlab(256);
        var batch = new PacketBatch(256);
        var rng = new Random(768);
        var captured = new List<byte[]>();
        var seen = new Dictionary<string, int>();
        int flagged = 0, completed = 0;
        long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
        int round = 0;
        while (Stopwatch.GetTimestamp() < deadline && (seen.Count < 4 || captured.Count < 40))
        {
            // Odd and even sizes, small and near the MTU (1480 link MTU).
            var payload = new byte[rng.Next(1, 1400)];
            rng.NextBytes(payload);
            if (round % 7 == 0) payload = new byte[round % 2 + 1];   // tiny payloads, one with a zero byte
            u4s.SendTo(payload, new IPEndPoint(IPAddress.Parse("192.0.2.2"), 9));
            u6s.SendTo(payload, new IPEndPoint(IPAddress.Parse("2001:db8::2"), 9));
            t4s.Send(payload);
            t6s.Send(payload);
            round++;
            b.WaitForReceive(20);
            int n = b.Receive(batch, slab);
            for (int i = 0; i < n; i++)
            {
                ref Packet p = ref batch[i];
                if (p.Length < 54) continue;
                ushort et = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(p.Data + 12, 2));
                byte proto = et == 0x0800 ? p.Data[14 + 9] : et == 0x86DD ? p.Data[14 + 6] : (byte)0;
                if (proto is not (IpProtocol.Tcp or IpProtocol.Udp)) continue;
                if ((p.Flags & PacketFlags.ChecksumNotReady) == 0) continue;
                flagged++;
                var before = p.Span.ToArray();
                var r = ChecksumCompletion.CompleteEthernet(ref p);
                Assert.Equal(ChecksumCompletionResult.Completed, r);
                Assert.Equal(PacketFlags.None, p.Flags & PacketFlags.ChecksumNotReady);
                completed++;
                var after = p.Span.ToArray();
                Assert.True(IndependentlyValid(after), "independent RFC 1071 check failed");
                // Only the checksum field changed.
                int diff = 0;
                for (int k = 0; k < after.Length; k++) if (after[k] != before[k]) diff++;
                Assert.InRange(diff, 0, 2);
                string key = $"{(et == 0x0800 ? "v4" : "v6")}/{(proto == IpProtocol.Tcp ? "tcp" : "udp")}";
                seen[key] = seen.GetValueOrDefault(key) + 1;
                if (captured.Count < 200) captured.Add(after);
            }
            slab.ReturnAll(batch.Packets);
        }
        _out.WriteLine($"flagged {flagged}, completed {completed}: {string.Join(", ", seen)}; {b.Counters}");
        Assert.Equal(4, seen.Count);
        Assert.True(captured.Count >= 40);

        const string Script = """
import sys
from scapy.all import Ether, IP, IPv6, TCP, UDP, raw
n = 0
for line in sys.stdin:
    f = bytes.fromhex(line.strip())
    p = Ether(f)
    l4 = p[TCP] if TCP in p else p[UDP]
    c = l4.chksum
    del l4.chksum
    q = Ether(raw(p))
    c2 = (q[TCP] if TCP in q else q[UDP]).chksum
    assert c == c2, (p.summary(), hex(c), hex(c2))
    n += 1
print(n)
""";
        var sb = new StringBuilder();
        foreach (var f in captured) sb.Append(Convert.ToHexString(f)).Append('\n');
        Assert.Equal(captured.Count.ToString(), L3TestSupport.RunPython(Script, sb.ToString()).Trim());
    }

    [Fact]
    public void PartialChecksumFramesBuiltByHandAreCompletedWithoutAllocation()
    {
        // A UDP/IPv4 frame whose checksum field holds the pseudo-header sum (as the kernel leaves it),
        // a UDP payload making the sum 0 (→ 0xFFFF, RFC 768), a fragment (not applicable), a truncated TCP (malformed).
        using var slab = new FrameSlab(4);
        Assert.True(slab.TryRent(out Packet p));
        byte* d = p.Data;
        new Span<byte>(d, 14).Clear();
        d[12] = 0x08; d[13] = 0;
        var rng = new Random(7);
        var ip = new Packet { Frame = p.Frame, FrameSize = p.FrameSize, Offset = p.Offset + 14 };
        L3TestSupport.WriteIpv4(ref ip, rng, 28 + 100, 1, IpProtocol.Udp, df: false);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(d + 14 + 24, 2), 108);
        p.Length = 14 + 128;
        p.Flags = PacketFlags.ChecksumNotReady;
        Assert.Equal(ChecksumCompletionResult.Completed, ChecksumCompletion.CompleteEthernet(ref p));
        Assert.True(IndependentlyValid(p.Span.ToArray()));
        ushort c = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(d + 14 + 26, 2));
        Assert.NotEqual(0, c);
        // Make the computed sum zero: adjust two payload bytes so that the checksum would be 0x0000.
        ushort wantZero = c;   // adding c to a 16-bit word makes the complemented sum 0 → must be sent as 0xFFFF
        ushort w = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(d + 14 + 28, 2));
        uint s = (uint)w + wantZero;
        s = (s & 0xFFFF) + (s >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(d + 14 + 28, 2), (ushort)s);
        p.Flags = PacketFlags.ChecksumNotReady;
        Assert.Equal(ChecksumCompletionResult.Completed, ChecksumCompletion.CompleteEthernet(ref p));
        Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(d + 14 + 26, 2)));
        Assert.True(IndependentlyValid(p.Span.ToArray()));

        long warm = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 4 / 10;
        while (Stopwatch.GetTimestamp() < warm) ChecksumCompletion.CompleteEthernet(ref p);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200_000; i++) ChecksumCompletion.CompleteEthernet(ref p);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        Ipv4Header.At(d + 14).FlagsFragment = Ipv4Header.MoreFragments;
        Assert.Equal(ChecksumCompletionResult.NotApplicable, ChecksumCompletion.CompleteEthernet(ref p));
        Ipv4Header.At(d + 14).FlagsFragment = 0;
        d[14 + 9] = IpProtocol.Tcp;
        Ipv4Header.At(d + 14).TotalLength = 20 + 12;
        Assert.Equal(ChecksumCompletionResult.Malformed, ChecksumCompletion.CompleteEthernet(ref p));
        slab.Return(p);
    }
}
