using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.Packets;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>InMemoryIo: delivery, bounds, slab exhaustion, waiting, zero allocation; interop layouts.</summary>
public unsafe class IoInMemoryTests
{
    private static void Fill(ref Packet p, uint seq, int length)
    {
        p.Length = length;
        Span<byte> s = p.Span;
        BinaryPrimitives.WriteUInt32BigEndian(s, seq);
        for (int i = 4; i < length; i++) s[i] = (byte)(seq + i);
    }

    private static void Check(in Packet p, uint seq, int length)
    {
        Assert.Equal(length, p.Length);
        ReadOnlySpan<byte> s = p.Span;
        Assert.Equal(seq, BinaryPrimitives.ReadUInt32BigEndian(s));
        for (int i = 4; i < length; i++) Assert.Equal((byte)(seq + i), s[i]);
    }

    [Fact]
    public void WhatOneEndTransmitsTheOtherReceivesInOrderWithHeadroom()
    {
        var (a, b) = InMemoryIo.CreatePair(64);
        using var _a = a;
        using var _b = b;
        using var txSlab = new FrameSlab(16);
        using var rxSlab = new FrameSlab(16, headroom: 192);
        var tx = new PacketBatch(8);
        for (uint i = 0; i < 5; i++)
        {
            Assert.True(txSlab.TryRent(out Packet p));
            Fill(ref p, i, 60 + (int)i * 300);
            tx.TryAdd(p);
        }
        Assert.Equal(5, a.Transmit(tx));
        Assert.Equal(0, a.Pending);
        Assert.Equal(5, b.Pending);
        Assert.True(b.WaitForReceive(0));

        var rx = new PacketBatch(8);
        Assert.Equal(5, b.Receive(rx, rxSlab));
        for (int i = 0; i < 5; i++)
        {
            Check(rx[i], (uint)i, 60 + i * 300);
            Assert.Equal(192, rx[i].Offset);
            Assert.Equal(PacketVerdict.Forward, rx[i].Verdict);
        }
        Assert.Equal(11, rxSlab.FreeCount);
        rxSlab.ReturnAll(rx.Packets);
        Assert.Equal(16, rxSlab.FreeCount);
        // The sender keeps its frames; nothing came back the other way.
        Assert.Equal(11, txSlab.FreeCount);
        Assert.Equal(0, a.Receive(rx, rxSlab));

        Assert.Equal(5, a.Counters.TxPackets);
        Assert.Equal(5, b.Counters.RxPackets);
        long bytes = 0;
        for (int i = 0; i < 5; i++) bytes += 60 + i * 300;
        Assert.Equal(bytes, a.Counters.TxBytes);
        Assert.Equal(bytes, b.Counters.RxBytes);
    }

    [Fact]
    public void BothDirectionsAreIndependent()
    {
        var (a, b) = InMemoryIo.CreatePair(16);
        using var _a = a;
        using var _b = b;
        using var slab = new FrameSlab(8);
        Span<Packet> one = stackalloc Packet[1];
        Assert.True(slab.TryRent(out one[0]));
        Fill(ref one[0], 7, 100);
        Assert.Equal(1, a.Transmit(one));
        Fill(ref one[0], 9, 80);
        Assert.Equal(1, b.Transmit(one));
        slab.Return(one[0]);
        Span<Packet> got = stackalloc Packet[4];
        Assert.Equal(1, b.Receive(got, slab));
        Check(got[0], 7, 100);
        Assert.Equal(1, a.Receive(got[1..], slab));
        Check(got[1], 9, 80);
    }

    [Fact]
    public void AFullQueueRefusesAndCountsTheRest()
    {
        var (a, b) = InMemoryIo.CreatePair(8);
        using var _a = a;
        using var _b = b;
        using var slab = new FrameSlab(16);
        var batch = new PacketBatch(16);
        for (uint i = 0; i < 10; i++)
        {
            Assert.True(slab.TryRent(out Packet p));
            Fill(ref p, i, 64);
            batch.TryAdd(p);
        }
        Assert.Equal(8, a.Transmit(batch));
        Assert.Equal(2, a.Counters.TxQueueFull);
        Assert.Equal(8, a.Counters.TxPackets);
        // Draining makes room again.
        using var rxSlab = new FrameSlab(16);
        var rx = new PacketBatch(16);
        Assert.Equal(8, b.Receive(rx, rxSlab));
        for (int i = 0; i < 8; i++) Check(rx[i], (uint)i, 64);
        Assert.Equal(2, a.Transmit(batch.Packets[8..]));
        rxSlab.ReturnAll(rx.Packets);
        Assert.Equal(2, b.Receive(rx, rxSlab));
        Check(rx[0], 8, 64);
        Check(rx[1], 9, 64);
    }

    [Fact]
    public void AnEmptySlabStopsReceiveWithoutLosingFrames()
    {
        var (a, b) = InMemoryIo.CreatePair(16);
        using var _a = a;
        using var _b = b;
        using var txSlab = new FrameSlab(8);
        var batch = new PacketBatch(8);
        for (uint i = 0; i < 8; i++)
        {
            Assert.True(txSlab.TryRent(out Packet p));
            Fill(ref p, i, 64);
            batch.TryAdd(p);
        }
        Assert.Equal(8, a.Transmit(batch));
        using var rxSlab = new FrameSlab(3);
        var rx = new PacketBatch(8);
        uint next = 0;
        for (int round = 0; round < 3; round++)
        {
            int n = b.Receive(rx, rxSlab);
            Assert.Equal(round < 2 ? 3 : 2, n);
            for (int i = 0; i < n; i++) Check(rx[i], next++, 64);
            rxSlab.ReturnAll(rx.Packets);
        }
        Assert.Equal(8u, next);
        Assert.Equal(0, b.Pending);
    }

    [Fact]
    public void OversizeFramesAreCountedNotDelivered()
    {
        var (a, b) = InMemoryIo.CreatePair(16, maxFrame: 1024);
        using var _a = a;
        using var _b = b;
        using var txSlab = new FrameSlab(4, frameSize: 4096);
        Span<Packet> p = stackalloc Packet[3];
        for (int i = 0; i < 3; i++) Assert.True(txSlab.TryRent(out p[i]));
        Fill(ref p[0], 1, 2000);   // larger than a queue slot: TxErrors
        Fill(ref p[1], 2, 1000);   // fits the queue, not the small receiver slab: RxTooBig
        Fill(ref p[2], 3, 100);
        Assert.Equal(2, a.Transmit(p));
        Assert.Equal(1, a.Counters.TxErrors);
        using var rxSlab = new FrameSlab(4, frameSize: 1024, headroom: 128);   // room 896
        Span<Packet> got = stackalloc Packet[4];
        Assert.Equal(1, b.Receive(got, rxSlab));
        Check(got[0], 3, 100);
        Assert.Equal(1, b.Counters.RxTooBig);
    }

    [Fact]
    public void WaitForReceiveHonoursItsTimeout()
    {
        var (a, b) = InMemoryIo.CreatePair(16);
        using var _a = a;
        using var _b = b;
        var sw = Stopwatch.StartNew();
        Assert.False(b.WaitForReceive(30));
        Assert.InRange(sw.ElapsedMilliseconds, 25, 2000);
        Assert.False(b.WaitForReceive(0));
        using var slab = new FrameSlab(2);
        Span<Packet> one = stackalloc Packet[1];
        Assert.True(slab.TryRent(out one[0]));
        Fill(ref one[0], 1, 64);
        a.Transmit(one);
        Assert.True(b.WaitForReceive(1000));
    }

    [Fact]
    public void SteadyStateAllocatesNothing()
    {
        var (a, b) = InMemoryIo.CreatePair(1024);
        using var _a = a;
        using var _b = b;
        using var txSlab = new FrameSlab(64);
        using var rxSlab = new FrameSlab(512);
        var tx = new PacketBatch(64);
        for (uint i = 0; i < 64; i++)
        {
            Assert.True(txSlab.TryRent(out Packet p));
            Fill(ref p, i, 64 + (int)i * 20);
            tx.TryAdd(p);
        }
        var rx = new PacketBatch(256);
        IPacketIo sender = a, receiver = b;
        long total = Loop(sender, receiver, tx, rx, rxSlab, 200);   // warm-up (JIT, tiering)
        long before = GC.GetAllocatedBytesForCurrentThread();
        total += Loop(sender, receiver, tx, rx, rxSlab, 20_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(64L * 20_200, total);
        Assert.Equal(total, b.Counters.RxPackets);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Loop(IPacketIo sender, IPacketIo receiver, PacketBatch tx, PacketBatch rx, FrameSlab rxSlab, int rounds)
    {
        long got = 0;
        for (int r = 0; r < rounds; r++)
        {
            sender.Transmit(tx);
            while (receiver.WaitForReceive(0))
            {
                int n = receiver.Receive(rx, rxSlab);
                got += n;
                rxSlab.ReturnAll(rx.Packets);
            }
        }
        return got;
    }

    [Fact]
    public void InteropLayoutsMatchTheKernelAbi()
    {
        Assert.Equal(24, sizeof(Packet));
        Assert.Equal(20, sizeof(SockaddrLl));
        Assert.Equal(28, sizeof(TpacketReq3));
        Assert.Equal(12, sizeof(TpacketStatsV3));
        Assert.Equal(48, sizeof(TpacketBlockDesc));
        Assert.Equal(48, sizeof(Tpacket3Hdr));
        Assert.Equal(8, sizeof(PollFd));
        Assert.Equal(16, sizeof(IoVec));
        Assert.Equal(64, sizeof(MMsgHdr));
    }

    [Fact]
    public void AfPacketSetupErrorsNameTheInterfaceAndErrno()
    {
        var e = Assert.Throws<System.IO.IOException>(() => new AfPacketIo(new AfPacketOptions { Interface = "fp-nonexist0" }));
        Assert.Contains("fp-nonexist0", e.Message);
        Assert.Contains("errno", e.Message);
    }
}
