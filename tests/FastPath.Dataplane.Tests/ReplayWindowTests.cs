using System;
using System.Collections.Generic;
using FastPath.Dataplane.Esp;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>RFC 4303 §3.4.3 anti-replay and Appendix A ESN inference, against a reference model.</summary>
public class ReplayWindowTests
{
    public static TheoryData<int> Sizes => new() { 32, 64, 100, 128, 1024, 4096, 8192 };

    private static bool Receive(ReplayWindow w, ulong seq)
    {
        if (!w.Check((uint)seq, out ulong s)) return false;
        Assert.Equal(seq, s);
        return w.CheckAndUpdate(s);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void DuplicatesOldAndWindowEdges(int size)
    {
        var w = new ReplayWindow(size, esn: false);
        Assert.False(w.Check(0, out _)); // sequence number 0 is never sent
        Assert.True(Receive(w, 1));
        Assert.False(Receive(w, 1));
        ulong top = (ulong)size * 3 + 17;
        Assert.True(Receive(w, top));
        // Leftmost in-window edge is accepted once, one left of it is too old.
        ulong lowest = top - (ulong)size + 1;
        Assert.True(Receive(w, lowest));
        Assert.False(Receive(w, lowest));
        Assert.False(Receive(w, lowest - 1));
        Assert.False(w.Check((uint)(lowest - 1), out _));
        // Everything inside the window exactly once.
        for (ulong s = lowest + 1; s < top; s++) Assert.True(Receive(w, s));
        for (ulong s = lowest; s <= top; s++) Assert.False(Receive(w, s));
        // A jump larger than the whole bitmap clears it.
        Assert.True(Receive(w, top + (ulong)size * 10));
        Assert.True(Receive(w, top + (ulong)size * 10 - 1));
        Assert.False(Receive(w, top));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void RandomOrderMatchesAReferenceModel(int size)
    {
        var w = new ReplayWindow(size, esn: false);
        var seen = new HashSet<ulong>();
        ulong top = 0;
        var rng = new Random(size);
        ulong next = 1;
        for (int n = 0; n < 200_000; n++)
        {
            ulong seq = rng.Next(4) == 0 ? (ulong)Math.Max(1, (long)next - rng.Next(size * 2)) : next++;
            if (rng.Next(50) == 0) next += (ulong)rng.Next(size * 3);
            bool expected = seq != 0 && !seen.Contains(seq) && (seq > top || top - seq < (ulong)size);
            Assert.Equal(expected, Receive(w, seq));
            if (expected)
            {
                seen.Add(seq);
                if (seq > top) top = seq;
            }
        }
    }

    [Fact]
    public void ACheckThatIsNotCommittedNeverMovesTheWindow()
    {
        // What a forged packet does: passes Check (it claims a fresh number) but fails the ICV, so
        // CheckAndUpdate is never called.
        var w = new ReplayWindow(64, esn: true);
        Assert.True(Receive(w, 100));
        Assert.True(w.Check(5000, out _));
        Assert.True(w.Check(uint.MaxValue, out _));
        Assert.Equal(100UL, w.Top);
        Assert.True(Receive(w, 99)); // still in the window
    }

    [Fact]
    public void EsnRollsOverAt2To32()
    {
        var w = new ReplayWindow(64, esn: true);
        w.Reset(0xFFFF_FFF0);
        for (ulong s = 0xFFFF_FFF1; s <= 0x1_0000_0010; s++)
        {
            Assert.True(w.Check((uint)s, out ulong inferred));
            Assert.Equal(s, inferred);
            Assert.True(w.CheckAndUpdate(inferred));
        }
        Assert.Equal(0x1_0000_0010UL, w.Top);
        // Late packets from before the rollover (Appendix A case B: Seqh = Th − 1) still inside the window.
        Assert.True(w.Check(0xFFFF_FFE0, out ulong late));
        Assert.Equal(0xFFFF_FFE0UL, late);
        Assert.True(w.CheckAndUpdate(late));
        Assert.False(w.Check(0xFFFF_FFF5, out _)); // already seen
        // Below the window's bottom (Tl − W + 1 mod 2^32) Appendix A infers Seqh = Th: a number far
        // ahead, not an old one; the ICV (which covers Seqh) decides, and a wrong guess fails it.
        Assert.True(w.Check(0xFFFF_FF00, out ulong guess));
        Assert.Equal(0x1_FFFF_FF00UL, guess);
        // Case A: a low number far ahead of Tl is the next epoch.
        w.Reset(0x1_8000_0000);
        Assert.True(w.Check(5, out ulong ahead));
        Assert.Equal(0x2_0000_0005UL, ahead);
    }

    [Fact]
    public void NonEsnSequenceIsThirtyTwoBits()
    {
        var w = new ReplayWindow(32, esn: false);
        w.Reset(uint.MaxValue - 1);
        Assert.True(Receive(w, uint.MaxValue));
        Assert.False(w.Check(0, out _));
        Assert.False(w.Check(1, out _));
    }

    [Fact]
    public void SizesOutOfRangeAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayWindow(16, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReplayWindow(1 << 20, false));
    }
}
