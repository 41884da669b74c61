using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using System.Threading.Tasks;
using FastPath.Ike.Crypto;
using Xunit;

namespace FastPath.Ike.Tests.Crypto;

// IkeRandom hands out each pooled CSPRNG byte once: across pool refills (4 KiB), from several threads at once, for
// every request size up to the direct-call limit and above it.
public class IkeRandomTests
{
    [Fact]
    public void NoValueRepeatsAcrossRefillsSizesAndThreads()
    {
        var seen = new HashSet<string>();
        var all = new List<byte[]>();
        object gate = new();
        Parallel.For(0, 4, _ =>
        {
            var mine = new List<byte[]>();
            for (int i = 0; i < 3000; i++) mine.Add(IkeRandom.GetBytes(8 + i % 57)); // 8..64 bytes: ~100 refills per thread
            for (int i = 0; i < 20; i++) mine.Add(IkeRandom.GetBytes(300 + i));      // above 256: straight from the CSPRNG
            lock (gate) all.AddRange(mine);
        });
        foreach (var b in all)
        {
            Assert.True(seen.Add(Convert.ToHexString(b[..8])), "an 8-byte prefix repeated: pooled bytes handed out twice?");
            Assert.False(b.All(x => x == 0), "an all-zero value: a zeroed pool range handed out");
        }
        // Bit balance over ~1.6 Mbit: a stuck or reused source would be far off 50 %.
        long ones = all.Sum(b => b.Sum(x => (long)BitOperations.PopCount(x)));
        long bits = all.Sum(b => 8L * b.Length);
        Assert.InRange(ones / (double)bits, 0.495, 0.505);
    }

    [Fact]
    public void FillWritesExactlyTheDestination()
    {
        var buf = new byte[100];
        IkeRandom.Fill(buf.AsSpan(10, 32));
        Assert.All(buf[..10], b => Assert.Equal(0, b));
        Assert.All(buf[42..], b => Assert.Equal(0, b));
        Assert.False(buf.AsSpan(10, 32).ToArray().All(b => b == 0));
        IkeRandom.Fill(Span<byte>.Empty); // nothing to do, no exception
    }
}
