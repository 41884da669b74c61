using System;
using System.Collections.Generic;
using System.Linq;
using FastPath.Crypto;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;
using FastPath.Dataplane.Tests.Support;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>Decapsulation of batches whose packets belong to many SAs (traffic spread over many
/// tunnels, issue 8): the linear-time grouping of EspProcessor.DecapsulateChunk must give every SA
/// its packets in arrival order (replay semantics: of two copies in one batch the first wins),
/// with more SAs than grouping slots over several chunks, and allocate nothing.</summary>
public class EspManySaTests
{
    private static (List<OutboundSa> Out, SadTable Sad, List<InboundSa> In) Tunnels(int n, string suite)
    {
        var outs = new List<OutboundSa>();
        var ins = new List<InboundSa>();
        var sad = new SadTable();
        for (int t = 0; t < n; t++)
        {
            // SPIs spaced by 2^25 collide in the top bits the grouping table hashes; the rest are dense.
            uint spi = t % 3 == 0 ? 0x100u + ((uint)t << 25) + (uint)t : 0x5000u + (uint)t;
            var (o, i) = SaPairs.Create(suite, esn: t % 2 == 0, spi: spi, window: 128);
            outs.Add(o);
            ins.Add(i);
            sad.Install(i);
        }
        return (outs, sad, ins);
    }

    [Theory]
    [InlineData("aes128gcm16", 64)]
    [InlineData("aes128-sha1", 64)]
    [InlineData("aes128gcm16", 16)]
    public void InterleavedSasDecapsulateInOrder(string suite, int maxBatch)
    {
        const int tunnels = 300;
        var (outs, sad, ins) = Tunnels(tunnels, suite);
        var engine = new EspProcessor(maxBatch);
        using var frames = new Frames();
        var rng = new Random(8);
        // 200 packets: tunnel of packet k drawn from a small hot set and a large cold set, so chunks
        // hold both runs of one SA and SAs seen once.
        int[] tunnelOf = Enumerable.Range(0, 200).Select(k => k % 4 == 0 ? rng.Next(4) : rng.Next(tunnels)).ToArray();
        var originals = new byte[tunnelOf.Length][];
        for (int k = 0; k < tunnelOf.Length; k++)
        {
            originals[k] = TestPackets.Ipv4Udp(k * 13 % 900, k);
            frames.Add(originals[k]);
            engine.Encapsulate(frames.Batch.Packets.Slice(k, 1), outs[tunnelOf[k]]);
            Assert.Equal(PacketVerdict.Forward, frames.Batch[k].Verdict);
        }
        // A copy of packet 7 appended: the same SA and sequence number later in the batch is a replay.
        byte[] dup = frames.Data(7);
        frames.Add(dup);
        engine.Decapsulate(frames.Batch, sad);
        for (int k = 0; k < tunnelOf.Length; k++)
        {
            Assert.True(frames.Batch[k].Verdict == PacketVerdict.Forward, $"#{k} (tunnel {tunnelOf[k]}): {frames.Batch[k].Verdict} {frames.Batch[k].Drop}");
            Assert.Equal(originals[k], frames.Data(k));
        }
        Assert.Equal(DropReason.Replay, frames.Batch[tunnelOf.Length].Drop);
        for (int t = 0; t < tunnels; t++)
            Assert.Equal(tunnelOf.Count(x => x == t), ins[t].Counters.Packets);
        Assert.Equal(1, engine.Counters.TotalDrops);
        foreach (var sa in outs) sa.Dispose();
        foreach (var sa in ins) sa.Dispose();
    }

    [Fact]
    public void DecapsulatingABatchOf64SasAllocatesNothing()
    {
        var (outs, sad, ins) = Tunnels(64, "aes128gcm16");
        var engine = new EspProcessor(64);
        using var frames = new Frames();
        long allocated = -1;
        for (int round = 0; round < 3; round++)
        {
            frames.Reset();
            for (int k = 0; k < 64; k++)
            {
                frames.Add(TestPackets.Ipv4Udp(64, k));
                engine.Encapsulate(frames.Batch.Packets.Slice(k, 1), outs[(k * 7 + round) % 64]);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            engine.Decapsulate(frames.Batch, sad);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.All(Enumerable.Range(0, 64), k => Assert.Equal(PacketVerdict.Forward, frames.Batch[k].Verdict));
        }
        Assert.Equal(0, allocated);
        foreach (var sa in outs) sa.Dispose();
        foreach (var sa in ins) sa.Dispose();
    }

    /// <summary>EspProcessor.Encapsulate(packets, SA per packet): a batch mixing SAs (interleaved, runs,
    /// null slots left alone) is sealed in one call; every SA's sequence numbers follow the batch order,
    /// each packet opens with its own SA and comes back unchanged, and the call allocates nothing.</summary>
    [Theory]
    [InlineData("aes128gcm16")]
    [InlineData("aes256gcm16")]
    [InlineData("aes128-sha1")]
    [InlineData("chacha20poly1305")]
    public void MixedSaBatchEncapsulatesWithEachPacketsOwnSa(string suite)
    {
        const int tunnels = 40;
        var (outs, sad, ins) = Tunnels(tunnels, suite);
        var engine = new EspProcessor(64);
        using var frames = new Frames();
        var rng = new Random(9);
        long allocated = -1;
        for (int round = 0; round < 3; round++)
        {
            frames.Reset();
            int[] tunnelOf = Enumerable.Range(0, 64).Select(k => k < 8 ? 3 : k % 5 == 0 ? -1 : rng.Next(tunnels)).ToArray();
            var originals = new byte[64][];
            var sas = new OutboundSa?[64];
            ulong[] before = outs.Select(o => o.Sequence).ToArray();
            for (int k = 0; k < 64; k++)
            {
                originals[k] = TestPackets.Ipv4Udp(k * 29 % 1300, k + 64 * round);
                frames.Add(originals[k]);
                sas[k] = tunnelOf[k] < 0 ? null : outs[tunnelOf[k]];
            }
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            engine.Encapsulate(frames.Batch.Packets, sas);
            allocated = GC.GetAllocatedBytesForCurrentThread() - a0;
            for (int t = 0; t < tunnels; t++)
                Assert.Equal(before[t] + (ulong)tunnelOf.Count(x => x == t), outs[t].Sequence);
            // Sequence numbers of one SA ascend in batch order (RFC 4303 §3.3.3).
            var last = new Dictionary<int, uint>();
            for (int k = 0; k < 64; k++)
            {
                if (tunnelOf[k] < 0)
                {
                    Assert.Equal(originals[k], frames.Data(k)); // no SA: untouched
                    continue;
                }
                byte[] esp = frames.Data(k);
                uint seq = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(esp.AsSpan(20 + 4, 4));
                if (last.TryGetValue(tunnelOf[k], out uint prev)) Assert.True(seq == prev + 1, $"#{k}: seq {seq} after {prev}");
                last[tunnelOf[k]] = seq;
            }
            for (int k = 0; k < 64; k++)
                if (tunnelOf[k] < 0) frames.Batch.Packets[k].Verdict = PacketVerdict.NotEsp; // keep them out of decapsulation
            engine.Decapsulate(frames.Batch, sad);
            for (int k = 0; k < 64; k++)
            {
                if (tunnelOf[k] < 0) continue;
                Assert.True(frames.Batch[k].Verdict == PacketVerdict.Forward, $"#{k} (tunnel {tunnelOf[k]}): {frames.Batch[k].Verdict} {frames.Batch[k].Drop}");
                Assert.Equal(originals[k], frames.Data(k));
            }
        }
        // Zero allocation is the dataplane's and the own engines' guarantee; under
        // DOTNET_EnableHWIntrinsic=0 the default engine is the BCL, whose one-shot HMAC (OpenSSL)
        // allocates a context per call (~57 B/packet measured), which is not ours to remove.
        if (!(CryptoEngine.Default == CryptoEngine.Bcl && suite.Contains("sha"))) Assert.Equal(0, allocated);
        Assert.Equal(0, engine.Counters.TotalDrops);
        foreach (var sa in outs) sa.Dispose();
        foreach (var sa in ins) sa.Dispose();
    }
}
