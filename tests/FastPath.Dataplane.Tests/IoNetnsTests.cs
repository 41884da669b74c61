using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Threading;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.Packets;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Dataplane.Tests;

/// <summary>Two network namespaces fp-io-RANDOM-a/-b joined by a veth pair, made by the test and
/// deleted in Dispose (also when the test fails). No addresses, no routes: only raw Ethernet frames
/// with the local experimental EtherType 0x88B5 cross the pair, and nothing leaves the namespaces.
/// Creation failures throw (the test fails, it never skips).</summary>
public sealed class VethNamespaces : IDisposable
{
    public string NsA { get; }
    public string NsB { get; }
    public string IfA { get; }
    public string IfB { get; }

    public VethNamespaces()
    {
        string id = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..6];
        NsA = $"fp-io-{id}-a";
        NsB = $"fp-io-{id}-b";
        IfA = $"fp{id}a";
        IfB = $"fp{id}b";
        try
        {
            Ip($"netns add {NsA}");
            Ip($"netns add {NsB}");
            // Created directly inside the namespaces: the veth never exists in the host namespace.
            Ip($"link add {IfA} netns {NsA} type veth peer name {IfB} netns {NsB}");
            Ip($"-n {NsA} link set lo up");
            Ip($"-n {NsB} link set lo up");
            Ip($"-n {NsA} link set {IfA} up");
            Ip($"-n {NsB} link set {IfB} up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public static string Ip(string args, bool check = true)
    {
        var psi = new ProcessStartInfo("ip", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start ip");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(10_000))
        {
            p.Kill();
            throw new TimeoutException($"ip {args}: no exit in 10 s");
        }
        if (check && p.ExitCode != 0) throw new InvalidOperationException($"ip {args} failed ({p.ExitCode}): {stderr.Result.Trim()}");
        return stdout.Result;
    }

    public void Dispose()
    {
        Ip($"netns del {NsA}", check: false);
        Ip($"netns del {NsB}", check: false);
    }
}

/// <summary>AfPacketIo over a real veth pair between two namespaces (runs as root, also in CI).</summary>
public sealed unsafe class IoNetnsTests
{
    private const ushort TestEtherType = 0x88B5;   // IEEE local experimental EtherType 1
    private readonly ITestOutputHelper _out;

    public IoNetnsTests(ITestOutputHelper output) => _out = output;

    private static void WriteFrame(ref Packet p, uint seq, int length)
    {
        p.Length = length;
        byte* d = p.Data;
        // dst 02:00:00:00:00:02, src 02:00:00:00:00:01 (locally administered), EtherType, seq, pattern.
        d[0] = 0x02; d[1] = 0; d[2] = 0; d[3] = 0; d[4] = 0; d[5] = 0x02;
        d[6] = 0x02; d[7] = 0; d[8] = 0; d[9] = 0; d[10] = 0; d[11] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(d + 12, 2), TestEtherType);
        BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(d + 14, 4), seq);
        for (int i = 18; i < length; i++) d[i] = (byte)(seq + i);
    }

    private static bool IsTestFrame(in Packet p) =>
        p.Length >= 18 && BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(p.Data + 12, 2)) == TestEtherType;

    private static bool PayloadOk(in Packet p, uint seq)
    {
        byte* d = p.Data;
        for (int i = 18; i < p.Length; i++) if (d[i] != (byte)(seq + i)) return false;
        return true;
    }

    /// <summary>Shared between the receiver thread and the test thread.</summary>
    private sealed class RxState
    {
        public long Received;          // test frames seen (Volatile)
        public long OutOfOrder;
        public long BadPayload;
        public long WrongLength;
        public long AllocatedInLoop = -1;
        public long Other;             // non-test frames (IPv6 ND/MLD of the veth, ...)
        public volatile bool Stop;
    }

    private static void ReceiveLoop(IPacketIo io, RxState st, long expected, int length, long deadlineTicks, bool check)
    {
        using var slab = new FrameSlab(512);
        var batch = new PacketBatch(256);
        uint next = 0;
        long allocStart = 0;
        bool measuring = false;
        while (!st.Stop && Stopwatch.GetTimestamp() < deadlineTicks && (expected < 0 || Volatile.Read(ref st.Received) < expected))
        {
            if (!io.WaitForReceive(20)) continue;
            int n = io.Receive(batch, slab);
            long got = 0;
            for (int i = 0; i < n; i++)
            {
                ref Packet p = ref batch[i];
                if (!IsTestFrame(p))
                {
                    st.Other++;
                    continue;
                }
                got++;
                if (!check) continue;
                uint seq = BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(p.Data + 14, 4));
                if (seq != next) st.OutOfOrder++;
                next = seq + 1;
                if (p.Length != length) st.WrongLength++;
                else if (!PayloadOk(p, seq)) st.BadPayload++;
            }
            slab.ReturnAll(batch.Packets);
            long total = Volatile.Read(ref st.Received) + got;
            Volatile.Write(ref st.Received, total);
            if (!measuring && total >= 1000)
            {
                measuring = true;
                allocStart = GC.GetAllocatedBytesForCurrentThread();
            }
        }
        if (measuring) st.AllocatedInLoop = GC.GetAllocatedBytesForCurrentThread() - allocStart;
    }

    [Fact]
    public void VethCarriesTenThousandFramesInOrderWithoutAllocation()
    {
        const int N = 10_000;
        const int Length = 64;
        using var ns = new VethNamespaces();
        using var a = NetworkNamespace.Run(ns.NsA, () => new AfPacketIo(new AfPacketOptions { Interface = ns.IfA, BlockCount = 4 }));
        using var b = NetworkNamespace.Run(ns.NsB, () => new AfPacketIo(new AfPacketOptions { Interface = ns.IfB, BlockCount = 8 }));
        Assert.True(a.IfIndex > 0 && b.IfIndex > 0);

        var st = new RxState();
        long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 15;
        var rxThread = new Thread(() => ReceiveLoop(b, st, N, Length, deadline, check: true)) { IsBackground = true, Name = "io-test-rx" };
        rxThread.Start();

        // Sender: batches of 64, at most 2048 frames ahead of the receiver (a bounded rate).
        using var txSlab = new FrameSlab(64);
        var tx = new PacketBatch(64);
        for (int i = 0; i < 64; i++)
        {
            Assert.True(txSlab.TryRent(out Packet p));
            tx.TryAdd(p);
        }
        uint seq = 0;
        long allocStart = 0, txAllocated = -1;
        while (seq < N && Stopwatch.GetTimestamp() < deadline)
        {
            if (seq - Volatile.Read(ref st.Received) > 2048)
            {
                Thread.Yield();
                continue;
            }
            int count = Math.Min(64, N - (int)seq);
            tx.Count = count;
            for (int i = 0; i < count; i++) WriteFrame(ref tx[i], seq + (uint)i, Length);
            int sent = a.Transmit(tx);
            seq += (uint)sent;
            if (seq >= 1024 && txAllocated < 0 && allocStart == 0) allocStart = GC.GetAllocatedBytesForCurrentThread();
            if (sent < count) break;
        }
        if (allocStart != 0) txAllocated = GC.GetAllocatedBytesForCurrentThread() - allocStart;
        Assert.True(rxThread.Join(TimeSpan.FromSeconds(20)), "receiver did not finish");
        st.Stop = true;

        a.RefreshCounters();
        b.RefreshCounters();
        // Our own transmissions never came back into a's ring (PACKET_IGNORE_OUTGOING).
        Span<Packet> own = stackalloc Packet[64];
        using (var s = new FrameSlab(64))
        {
            int n;
            int ownTest = 0;
            while ((n = a.Receive(own, s)) > 0)
            {
                for (int i = 0; i < n; i++) if (IsTestFrame(own[i])) ownTest++;
                s.ReturnAll(own[..n]);
            }
            Assert.Equal(0, ownTest);
        }
        _out.WriteLine($"a: {a.Counters}");
        _out.WriteLine($"b: {b.Counters}; other frames {st.Other}");

        Assert.Equal((uint)N, seq);
        Assert.Equal(N, a.Counters.TxPackets);
        Assert.Equal(N * (long)Length, a.Counters.TxBytes);
        Assert.Equal(0, a.Counters.TxErrors);
        Assert.Equal(N, Volatile.Read(ref st.Received));
        Assert.Equal(0, st.OutOfOrder);
        Assert.Equal(0, st.WrongLength);
        Assert.Equal(0, st.BadPayload);
        Assert.True(b.Counters.RxPackets >= N);
        Assert.Equal(0, b.Counters.RxRingDrops);
        Assert.Equal(0, b.Counters.RxTooBig);
        Assert.Equal(0, txAllocated);
        Assert.Equal(0, st.AllocatedInLoop);
    }

    [Fact]
    public void FanoutGroupSharesTheInterfaceBetweenTwoSockets()
    {
        const int N = 2000;
        using var ns = new VethNamespaces();
        using var a = NetworkNamespace.Run(ns.NsA, () => new AfPacketIo(new AfPacketOptions { Interface = ns.IfA, Receive = false }));
        int group = Random.Shared.Next(1, 0xFFFF);
        using var b1 = NetworkNamespace.Run(ns.NsB, () => new AfPacketIo(new AfPacketOptions { Interface = ns.IfB, BlockCount = 8, FanoutGroup = group }));
        using var b2 = NetworkNamespace.Run(ns.NsB, () => new AfPacketIo(new AfPacketOptions { Interface = ns.IfB, BlockCount = 8, FanoutGroup = group }));
        Assert.False(a.WaitForReceive(0));   // transmit-only: no ring

        using var txSlab = new FrameSlab(32);
        var tx = new PacketBatch(32);
        for (int i = 0; i < 32; i++)
        {
            Assert.True(txSlab.TryRent(out Packet p));
            tx.TryAdd(p);
        }
        // Send a batch, drain both members, repeat (with a 2 ms retire timeout a ring that nobody
        // reads fills after BlockCount x 2 ms however little traffic there is).
        int total = N / 32 * 32;
        long got1 = 0, got2 = 0;
        using var slab = new FrameSlab(256);
        var batch = new PacketBatch(256);
        long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 5;
        for (uint seq = 0; seq + 32 <= N; seq += 32)
        {
            for (int i = 0; i < 32; i++) WriteUdpFrame(ref tx[i], (ushort)(10_000 + seq + (uint)i));
            Assert.Equal(32, a.Transmit(tx));
            got1 += Drain(b1, batch, slab);
            got2 += Drain(b2, batch, slab);
        }
        while (got1 + got2 < total && Stopwatch.GetTimestamp() < deadline)
        {
            b1.WaitForReceive(10);
            got1 += Drain(b1, batch, slab);
            got2 += Drain(b2, batch, slab);
        }
        b1.RefreshCounters();
        b2.RefreshCounters();
        _out.WriteLine($"fanout: socket 1 got {got1}, socket 2 got {got2}; b1 {b1.Counters}; b2 {b2.Counters}");
        _out.WriteLine(VethNamespaces.Ip($"-n {ns.NsB} -s link show {ns.IfB}"));
        Assert.Equal(total, got1 + got2);   // each frame reached exactly one member of the group
        Assert.True(got1 > 0 && got2 > 0, "the flow hash spread 1984 flows over both members");
        Assert.Equal(0, b1.Counters.RxRingDrops + b2.Counters.RxRingDrops);
    }

    /// <summary>Ethernet + IPv4 198.51.100.1 -> 198.51.100.2 (TTL 1) + UDP srcPort -> 9, 100 bytes:
    /// one flow per source port, so PACKET_FANOUT_HASH spreads them. The destination MAC is not b's,
    /// so b's kernel drops them as PACKET_OTHERHOST (and it has no address or route anyway).</summary>
    private static void WriteUdpFrame(ref Packet p, ushort srcPort)
    {
        const int Length = 100;
        p.Length = Length;
        byte* d = p.Data;
        new Span<byte>(d, Length).Clear();
        d[0] = 0x02; d[5] = 0x02; d[6] = 0x02; d[11] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(d + 12, 2), 0x0800);
        byte* ip = d + 14;
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(ip + 2, 2), Length - 14);
        ip[8] = 1;
        ip[9] = IpProtocol.Udp;
        ip[12] = 198; ip[13] = 51; ip[14] = 100; ip[15] = 1;
        ip[16] = 198; ip[17] = 51; ip[18] = 100; ip[19] = 2;
        Ipv4Header.At(ip).UpdateChecksum();
        byte* udp = ip + 20;
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(udp, 2), srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(udp + 2, 2), 9);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(udp + 4, 2), Length - 34);
    }

    private static bool IsUdpTestFrame(in Packet p) =>
        p.Length == 100 && p.Data[12] == 0x08 && p.Data[13] == 0x00 && p.Data[14 + 9] == IpProtocol.Udp && p.Data[14 + 19] == 2;

    private static long Drain(IPacketIo io, PacketBatch batch, FrameSlab slab)
    {
        long got = 0;
        int n;
        while ((n = io.Receive(batch, slab)) > 0)
        {
            for (int i = 0; i < n; i++) if (IsUdpTestFrame(batch[i])) got++;
            slab.ReturnAll(batch.Packets);
        }
        return got;
    }

    [Fact]
    public void KernelUdpFromAVethArrivesFlaggedChecksumNotReady()
    {
        using var ns = new VethNamespaces();
        VethNamespaces.Ip($"-n {ns.NsA} addr add 198.51.100.1/24 dev {ns.IfA}");
        VethNamespaces.Ip($"-n {ns.NsB} addr add 198.51.100.2/24 dev {ns.IfB}");
        using var b = NetworkNamespace.Run(ns.NsB, () => new AfPacketIo(new AfPacketOptions { Interface = ns.IfB, BlockCount = 2 }));
        using var udp = NetworkNamespace.Run(ns.NsA, () => new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp));
        var to = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("198.51.100.2"), 9);
        using var slab = new FrameSlab(256);
        var batch = new PacketBatch(256);
        int flagged = 0, udpSeen = 0;
        long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 5;
        while (udpSeen < 5 && Stopwatch.GetTimestamp() < deadline)
        {
            udp.SendTo(new byte[200], to);
            b.WaitForReceive(50);
            int n = b.Receive(batch, slab);
            for (int i = 0; i < n; i++)
            {
                ref Packet p = ref batch[i];
                if (p.Length >= 42 && p.Data[12] == 0x08 && p.Data[13] == 0 && p.Data[14 + 9] == IpProtocol.Udp)
                {
                    udpSeen++;
                    if ((p.Flags & PacketFlags.ChecksumNotReady) != 0) flagged++;
                }
            }
            slab.ReturnAll(batch.Packets);
        }
        _out.WriteLine($"udp frames {udpSeen}, flagged ChecksumNotReady {flagged}; {b.Counters}");
        Assert.True(udpSeen >= 5, "kernel UDP frames did not arrive");
        Assert.Equal(udpSeen, flagged);
        Assert.Equal(flagged, b.Counters.RxChecksumNotReady);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(1400)]
    public void MeasureReceivePpsWhileTheOtherSideSendsFlatOut(int length)
    {
        using var ns = new VethNamespaces();
        using var a = NetworkNamespace.Run(ns.NsA, () => new AfPacketIo(new AfPacketOptions { Interface = ns.IfA, Receive = false }));
        using var b = NetworkNamespace.Run(ns.NsB, () => new AfPacketIo(new AfPacketOptions { Interface = ns.IfB }));
        var st = new RxState();
        long hardDeadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
        var rxThread = new Thread(() => ReceiveLoop(b, st, -1, length, hardDeadline, check: false)) { IsBackground = true, Name = "io-measure-rx" };
        rxThread.Start();

        using var txSlab = new FrameSlab(64);
        var tx = new PacketBatch(64);
        for (int i = 0; i < 64; i++)
        {
            Assert.True(txSlab.TryRent(out Packet p));
            WriteFrame(ref p, (uint)i, length);
            tx.TryAdd(p);
        }
        // Warm up 0.2 s, then measure 2 s.
        long warm = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 5;
        while (Stopwatch.GetTimestamp() < warm) a.Transmit(tx);
        b.RefreshCounters();
        long rx0 = Volatile.Read(ref st.Received), tx0 = a.Counters.TxPackets, drops0 = b.Counters.RxRingDrops;
        long t0 = Stopwatch.GetTimestamp();
        long end = t0 + Stopwatch.Frequency * 2;
        while (Stopwatch.GetTimestamp() < end) a.Transmit(tx);
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        long rx1 = Volatile.Read(ref st.Received), tx1 = a.Counters.TxPackets;
        st.Stop = true;
        Assert.True(rxThread.Join(TimeSpan.FromSeconds(5)));
        b.RefreshCounters();
        double rxPps = (rx1 - rx0) / seconds, txPps = (tx1 - tx0) / seconds;
        string line = $"AF_PACKET veth {length} B: rx {rxPps / 1e6:F3} Mpps ({rxPps * length * 8 / 1e9:F2} Gbit/s), tx {txPps / 1e6:F3} Mpps, ring drops {b.Counters.RxRingDrops - drops0}, tx errors {a.Counters.TxErrors}";
        _out.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(rx1 - rx0 > 0, "nothing received");
        Assert.Equal(0, a.Counters.TxErrors);
    }
}
