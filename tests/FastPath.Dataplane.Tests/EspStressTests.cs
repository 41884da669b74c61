using System;
using System.Buffers.Binary;
using System.Diagnostics;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;
using FastPath.Dataplane.Tests.Support;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>Randomized mutation (≥ 1M packets, bounded time) and the zero-allocation proof.</summary>
public class EspStressTests
{
    /// <summary>Mutates the ESP part (bytes from <paramref name="espOffset"/>) of a packet in a frame;
    /// keeps the outer IP (and UDP) lengths consistent so the mutation reaches the ESP code.</summary>
    private static unsafe void Mutate(ref Packet p, int espOffset, bool udp, Random rng)
    {
        byte* d = p.Data;
        int espLength = p.Length - espOffset;
        switch (rng.Next(7))
        {
            case 0:
                d[espOffset + rng.Next(espLength)] ^= (byte)(1 << rng.Next(8));
                break;
            case 1:
                for (int n = rng.Next(1, 9); n > 0; n--) d[espOffset + rng.Next(espLength)] ^= (byte)rng.Next(1, 256);
                break;
            case 2:
                p.Length -= rng.Next(1, espLength + 1);
                break;
            case 3:
            {
                int extra = rng.Next(1, Math.Min(64, p.Tailroom) + 1);
                rng.NextBytes(new Span<byte>(d + p.Length, extra));
                p.Length += extra;
                break;
            }
            case 4:
            {
                // Garbage after a valid SPI: reaches the SA, the replay check and the ICV.
                int length = rng.Next(8, Math.Min(espLength + 64, p.FrameSize - p.Offset - espOffset));
                rng.NextBytes(new Span<byte>(d + espOffset + 4, length - 4));
                p.Length = espOffset + length;
                break;
            }
            case 5:
                *(uint*)(d + espOffset) ^= (uint)rng.Next(1, int.MaxValue); // SPI
                break;
            default:
                // Sequence number and IV region (what the ICV/AAD and the nonce depend on).
                d[espOffset + 4 + rng.Next(Math.Min(16, espLength - 4))] ^= (byte)rng.Next(1, 256);
                break;
        }
        if (p.Length < 20) return;
        ref Ipv4Header h = ref Ipv4Header.At(d);
        h.TotalLength = (ushort)p.Length;
        h.UpdateChecksum();
        if (udp && p.Length >= 28) UdpHeader.At(d + 20).DatagramLength = (ushort)(p.Length - 20);
    }

    [Theory]
    [InlineData("aes128gcm16", false, 600_000)]
    [InlineData("aes128gcm16", true, 100_000)]
    [InlineData("aes128-sha1", false, 200_000)]
    [InlineData("3des-sha1", true, 100_000)]
    [InlineData("aes256-sha256", false, 100_000)]
    public void MutatedPacketsAreNeverAcceptedAndNeverThrow(string suite, bool natT, int mutations)
    {
        // 1.1M mutated packets over the five cases.
        var (o, i) = SaPairs.Create(suite, esn: true, natT: natT);
        var sad = new SadTable();
        sad.Install(i);
        var engine = new EspProcessor(64);
        using var frames = new Frames(64);
        var rng = new Random(suite.GetHashCode(StringComparison.Ordinal) ^ mutations);
        // 64 authentic packets of varied sizes (never delivered unmutated, so the window stays at 0
        // and every mutated packet gets as far as the ICV unless the mutation broke the framing).
        var originals = new byte[64][];
        for (int k = 0; k < 64; k++) frames.Add(TestPackets.Ipv4Udp(rng.Next(0, 600), k));
        engine.Encapsulate(frames.Batch, o);
        for (int k = 0; k < 64; k++) originals[k] = frames.Data(k);
        int espOffset = natT ? 28 : 20;
        var sw = Stopwatch.StartNew();
        long done = 0;
        while (done < mutations)
        {
            frames.Reset();
            for (int k = 0; k < 64; k++)
            {
                ref Packet p = ref frames.Add(originals[k]);
                Mutate(ref p, espOffset, natT, rng);
                // Two random edits can cancel (same byte, same XOR): then it is not a mutation.
                if (p.Length >= espOffset && p.Span[espOffset..].SequenceEqual(originals[k].AsSpan(espOffset)))
                    p.Span[^1] ^= 0x80;
            }
            engine.Decapsulate(frames.Batch, sad);
            for (int k = 0; k < 64; k++)
            {
                Packet p = frames.Batch[k];
                Assert.True(p.Verdict != PacketVerdict.Forward, $"a mutated packet was accepted ({suite}, natT={natT})");
            }
            done += 64;
            Assert.True(sw.Elapsed < TimeSpan.FromMinutes(3), "mutation test is bounded in time");
        }
        Assert.Equal(0, i.Counters.Packets);
        Assert.Equal(0UL, i.Replay.Top);
        Assert.True(engine.Counters[DropReason.IntegrityFailed] > done / 4, "most mutations reach the ICV check");
        Assert.True(engine.Counters[DropReason.NoState] > 0);
        Assert.True(engine.Counters[DropReason.Runt] + engine.Counters[DropReason.BadLength] > 0);
        Assert.Equal(done, engine.Counters.TotalDrops + engine.Counters.ToControlPlane);
        o.Dispose();
        i.Dispose();
    }

    [Theory]
    [InlineData("aes128gcm16", false, 1_000_000)]
    [InlineData("aes128gcm16", true, 200_000)]
    [InlineData("aes128-sha1", false, 200_000)]
    [InlineData("3des-sha1", false, 50_000)]
    public void EncapsulationAndDecapsulationAllocateNothing(string suite, bool natT, int packets)
    {
        var (o, i) = SaPairs.Create(suite, esn: true, natT: natT, window: 1024);
        var sad = new SadTable();
        sad.Install(i);
        var engine = new EspProcessor(64);
        using var frames = new Frames(64);
        byte[] inner = TestPackets.Ipv4Udp(100);
        for (int k = 0; k < 64; k++) frames.Add(inner);
        void Round()
        {
            foreach (ref Packet p in frames.Batch.Packets)
            {
                p.Offset = FrameSlab.DefaultHeadroom;
                p.Length = inner.Length;
                p.Verdict = PacketVerdict.Forward;
                inner.CopyTo(p.Span);
            }
            engine.Encapsulate(frames.Batch, o);
            engine.Decapsulate(frames.Batch, sad);
        }
        for (int k = 0; k < 100; k++) Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int k = 0; k < packets / 64; k++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, engine.Counters.TotalDrops);
        Assert.Equal((packets / 64 + 100) * 64, i.Counters.Packets);
        Assert.Equal(inner, frames.Data(63));
        if (o.Transform.Engine.Kind != FastPath.Crypto.CryptoEngineKind.Bcl) Assert.Equal(0, allocated);
        else
        {
            // Fallback while the default engine's primitive for this suite is a placeholder: the BCL
            // engine's CBC/HMAC allocate inside System.Security.Cryptography. Then the engine must add
            // nothing on top of what the transform alone allocates for the same packets.
            unsafe
            {
                var esp = new FastPath.Crypto.Esp.EspPacket[64];
                var results = new FastPath.Crypto.Esp.EspOpenResult[64];
                foreach (ref Packet p in frames.Batch.Packets)
                {
                    p.Offset = FrameSlab.DefaultHeadroom;
                    p.Length = inner.Length;
                    inner.CopyTo(p.Span);
                }
                engine.Encapsulate(frames.Batch, o);
                int outer = natT ? 28 : 20;
                for (int k = 0; k < 64; k++) esp[k] = new FastPath.Crypto.Esp.EspPacket(frames.Batch[k].Data + outer, frames.Batch[k].Length - outer, 0);
                long t0 = GC.GetAllocatedBytesForCurrentThread();
                for (int k = 0; k < packets / 64; k++)
                {
                    o.Transform.SealBatch(esp);
                    i.Transform.OpenBatch(esp, results);
                }
                long transformOnly = GC.GetAllocatedBytesForCurrentThread() - t0;
                Assert.True(allocated <= transformOnly + transformOnly / 20 + 4096, $"engine allocated {allocated} B, the BCL transform alone {transformOnly} B");
            }
        }
        o.Dispose();
        i.Dispose();
    }
}
