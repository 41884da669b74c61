using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Dataplane.Tests.L3;

public sealed unsafe class ReassemblerTests
{
    private readonly ITestOutputHelper _out;
    public ReassemblerTests(ITestOutputHelper output) => _out = output;

    private readonly record struct Piece(int Offset, int Length, bool More, byte[]? Override = null);

    /// <summary>A datagram: header fields and payload; fragments are built from it.</summary>
    private sealed class Datagram
    {
        public bool V6;
        public uint Id;
        public byte[] Payload = [];
        public byte LastSrc;

        public void WriteWhole(ref Packet p)
        {
            byte* d = p.Data;
            int hl = V6 ? 40 : 20;
            WriteHeader(d, Payload.Length, 0, false, whole: true);
            Payload.CopyTo(new Span<byte>(d + hl, Payload.Length));
            p.Length = hl + Payload.Length;
        }

        public void WriteFragment(ref Packet p, in Piece piece)
        {
            byte* d = p.Data;
            int hl = V6 ? 48 : 20;
            WriteHeader(d, piece.Length, piece.Offset, piece.More, whole: false);
            (piece.Override ?? Payload.AsSpan(piece.Offset, piece.Length).ToArray()).CopyTo(new Span<byte>(d + hl, piece.Length));
            p.Length = hl + piece.Length;
        }

        private void WriteHeader(byte* d, int len, int offset, bool more, bool whole)
        {
            if (!V6)
            {
                d[0] = 0x45; d[1] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(d + 2, 2), (ushort)(20 + len));
                BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(d + 4, 2), (ushort)Id);
                BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(d + 6, 2), (ushort)((more ? Ipv4Header.MoreFragments : 0) | (offset >> 3)));
                d[8] = 64; d[9] = IpProtocol.Esp; d[10] = d[11] = 0;
                d[12] = 203; d[13] = 0; d[14] = 113; d[15] = LastSrc;
                d[16] = 198; d[17] = 51; d[18] = 100; d[19] = 1;
                Ipv4Header.At(d).UpdateChecksum();
                return;
            }
            ref Ipv6Header h = ref Ipv6Header.At(d);
            h.SetVersionClassFlow(0, 0);
            h.PayloadLength = (ushort)((whole ? 0 : 8) + len);
            h.NextHeader = whole ? IpProtocol.Esp : (byte)44;
            h.HopLimit = 64;
            h.Source = IpAddress16.Parse("2001:db8:2::" + LastSrc.ToString("x"));
            h.Destination = IpAddress16.Parse("2001:db8::1");
            if (whole) return;
            d[40] = IpProtocol.Esp; d[41] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(d + 42, 2), (ushort)(offset | (more ? 1 : 0)));
            BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(d + 44, 4), Id);
        }
    }

    private static List<Piece> Cut(Random rng, int length)
    {
        var pieces = new List<Piece>();
        int at = 0;
        while (at < length)
        {
            int len = Math.Min(length - at, rng.Next(1, 180) * 8);
            if (at == 0 && len == length) len = (length - 1) / 8 * 8;   // at least two pieces (an IPv4 offset-0 MF-0 "fragment" is a whole packet)
            pieces.Add(new Piece(at, len, at + len < length));
            at += len;
        }
        return pieces;
    }

    private static void Shuffle<T>(Random rng, IList<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    private enum Scenario { Clean, Duplicates, Missing, Overlap, ConflictingEnd }

    [Fact]
    public void RandomFragmentationsReassembleExactlyOrDropWithTheRightReason()
    {
        var rng = new Random(815);
        using var slab = new FrameSlab(64, 8192);
        using var re = new Reassembler(new ReassemblerOptions { Slots = 8 });
        long now = Stopwatch.GetTimestamp();
        var counts = new Dictionary<Scenario, int>();
        long expectFailed = 0, expectTimeout = 0, expectDup = 0, expectComplete = 0;
        for (int iter = 0; iter < 3000; iter++)
        {
            var dg = new Datagram { V6 = rng.Next(2) == 0, Id = (uint)iter, Payload = new byte[rng.Next(9, 8000)], LastSrc = (byte)rng.Next(1, 250) };
            rng.NextBytes(dg.Payload);
            var pieces = Cut(rng, dg.Payload.Length);
            var scenario = (Scenario)rng.Next(5);
            if (pieces.Count < 2 && scenario is Scenario.Missing or Scenario.Overlap or Scenario.ConflictingEnd) scenario = Scenario.Clean;   // one piece alone is a whole datagram
            counts[scenario] = counts.GetValueOrDefault(scenario) + 1;
            var seq = new List<Piece>(pieces);
            int duplicates = 0;
            switch (scenario)
            {
                case Scenario.Duplicates:
                    for (int k = rng.Next(1, 4); k > 0; k--) { seq.Add(pieces[rng.Next(pieces.Count)]); duplicates++; }
                    break;
                case Scenario.Missing:
                    seq.RemoveAt(rng.Next(seq.Count));
                    break;
                case Scenario.Overlap:
                {
                    // A piece that overlaps a neighbor partially (shifted by 8, or the same range with other bytes).
                    var victim = pieces[rng.Next(pieces.Count - 1)];
                    int off = rng.Next(2) == 0 ? victim.Offset : victim.Offset + 8;
                    int len = Math.Min(victim.Length, dg.Payload.Length - off - 1) & ~7;
                    if (len < 8) { off = victim.Offset; len = victim.Length & ~7; }
                    var bytes = new byte[len];
                    rng.NextBytes(bytes);
                    seq.Add(new Piece(off, len, true, bytes));
                    break;
                }
                case Scenario.ConflictingEnd:
                    var last = pieces[^1];
                    seq.Add(new Piece(last.Offset, last.Length + 8 <= 8000 && last.Length > 8 ? last.Length - 8 : last.Length + 8, false,
                        null));
                    if (seq[^1].Offset + seq[^1].Length > dg.Payload.Length) { var b = new byte[seq[^1].Length]; rng.NextBytes(b); seq[^1] = seq[^1] with { Override = b }; }
                    break;
            }
            Shuffle(rng, seq);
            if (scenario == Scenario.Overlap || scenario == Scenario.ConflictingEnd)
            {
                // The bad piece first and an original it collides with second: otherwise a bad piece that
                // replaces one original entirely is, to any receiver, simply the first copy (and wins).
                int bad = seq.FindIndex(p => !pieces.Contains(p));
                (seq[0], seq[bad]) = (seq[bad], seq[0]);
                var b0 = seq[0];
                int victim = seq.FindIndex(1, p => p.Offset < b0.Offset + b0.Length && b0.Offset < p.Offset + p.Length);
                (seq[1], seq[victim]) = (seq[victim], seq[1]);
            }

            int completes = 0, failed = 0, dups0 = (int)re.Duplicates;
            Packet whole = default;
            var extra = new List<Packet>();
            foreach (var piece in seq)
            {
                Assert.True(slab.TryRent(out Packet f));
                dg.WriteFragment(ref f, piece);
                var r = re.Add(ref f, slab, now, out Packet d);
                if (r == ReassemblyResult.Complete) { completes++; if (completes == 1) whole = d; else extra.Add(d); }
                else if (r == ReassemblyResult.Dropped)
                {
                    Assert.Equal(DropReason.ReassemblyFailed, f.Drop);
                    failed++;
                }
                else Assert.Equal(ReassemblyResult.Held, r);
                slab.Return(f);
            }
            switch (scenario)
            {
                case Scenario.Clean:
                case Scenario.Duplicates:
                    // Late duplicates of every piece may form the datagram once more (ESP replay protection drops that copy).
                    if (scenario == Scenario.Clean) Assert.Equal(1, completes);
                    else Assert.InRange(completes, 1, 2);
                    Assert.True(slab.TryRent(out Packet expect));
                    dg.WriteWhole(ref expect);
                    Assert.True(whole.Span.SequenceEqual(expect.Span), $"iteration {iter} ({scenario}, v6 {dg.V6}): reassembled differs");
                    foreach (var x in extra) { Assert.True(x.Span.SequenceEqual(expect.Span)); slab.Return(x); }
                    expectComplete += extra.Count;
                    if (!dg.V6) Assert.True(Checksum.Ipv4HeaderValid(whole.Data, 20));
                    slab.Return(expect);
                    slab.Return(whole);
                    // Duplicates after completion start a new slot (a late copy): they time out later.
                    int late = re.ActiveSlots;
                    expectTimeout += re.Expire(now + Stopwatch.Frequency * 61) ;
                    Assert.True(late <= 1);
                    expectDup += re.Duplicates - dups0;
                    expectFailed += failed;
                    expectComplete++;
                    break;
                case Scenario.Missing:
                    Assert.Equal(0, completes);
                    Assert.Equal(0, failed);
                    Assert.Equal(1, re.Expire(now + Stopwatch.Frequency * 61));
                    expectTimeout++;
                    break;
                case Scenario.Overlap:
                case Scenario.ConflictingEnd:
                    Assert.True(completes == 0, $"iteration {iter} ({scenario}, v6 {dg.V6}, length {dg.Payload.Length}): completed; pieces {string.Join(" ", pieces.Select(p => $"{p.Offset}+{p.Length}{(p.More ? "M" : "")}"))}; order {string.Join(" ", seq.Select(p => $"{p.Offset}+{p.Length}{(p.More ? "M" : "")}{(p.Override != null ? "!" : "")}"))}");
                    Assert.True(failed >= 1, $"iteration {iter} ({scenario}): no ReassemblyFailed");
                    expectFailed += failed;
                    expectTimeout += re.Expire(now + Stopwatch.Frequency * 61);
                    break;
            }
            Assert.Equal(0, re.ActiveSlots);
            now += Stopwatch.Frequency * 62;
        }
        _out.WriteLine($"scenarios {string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value}"))}; completed {re.Completed}, duplicates {re.Duplicates}, " +
            $"failed {re.Drops(DropReason.ReassemblyFailed)}, timeout {re.Drops(DropReason.ReassemblyTimeout)}, no-memory {re.Drops(DropReason.ReassemblyNoMemory)}");
        Assert.Equal(expectComplete, re.Completed);
        Assert.Equal(expectFailed, re.Drops(DropReason.ReassemblyFailed));
        Assert.Equal(expectTimeout, re.Drops(DropReason.ReassemblyTimeout));
        Assert.Equal(0, re.Drops(DropReason.ReassemblyNoMemory));
        Assert.True(re.Duplicates > 0 && counts.Values.All(c => c > 100));
        Assert.Equal(64, slab.FreeCount);
    }

    [Theory]
    [InlineData(false, 30)]
    [InlineData(true, 60)]
    public void IncompleteDatagramsTimeOutAfterTheRfcDefault(bool v6, int seconds)
    {
        using var slab = new FrameSlab(8);
        using var re = new Reassembler();
        var dg = new Datagram { V6 = v6, Id = 7, Payload = new byte[1000], LastSrc = 1 };
        long t0 = Stopwatch.GetTimestamp();
        Assert.True(slab.TryRent(out Packet f));
        dg.WriteFragment(ref f, new Piece(0, 504, true));
        Assert.Equal(ReassemblyResult.Held, re.Add(ref f, slab, t0, out _));
        Assert.Equal(0, re.Expire(t0 + Stopwatch.Frequency * (seconds - 1)));
        Assert.Equal(1, re.ActiveSlots);
        Assert.Equal(1, re.Expire(t0 + Stopwatch.Frequency * (seconds + 1)));
        Assert.Equal(1, re.Drops(DropReason.ReassemblyTimeout));
        // The second half arriving after the timeout does not complete the expired datagram.
        dg.WriteFragment(ref f, new Piece(504, 496, false));
        Assert.Equal(ReassemblyResult.Held, re.Add(ref f, slab, t0 + Stopwatch.Frequency * (seconds + 2), out _));
        slab.Return(f);
    }

    [Fact]
    public void BoundedSlotsAndFrameSizeDropAsNoMemory()
    {
        using var slab = new FrameSlab(8, 2048);
        using var re = new Reassembler(new ReassemblerOptions { Slots = 2, MaxDatagramLength = 4000 });
        long now = Stopwatch.GetTimestamp();
        Assert.True(slab.TryRent(out Packet f));
        for (uint id = 1; id <= 3; id++)
        {
            var dg = new Datagram { Id = id, Payload = new byte[3000], LastSrc = 2 };
            dg.WriteFragment(ref f, new Piece(0, 1480, true));
            var r = re.Add(ref f, slab, now, out _);
            Assert.Equal(id <= 2 ? ReassemblyResult.Held : ReassemblyResult.Dropped, r);
        }
        Assert.Equal(DropReason.ReassemblyNoMemory, f.Drop);
        // Datagram 1 completes at 3000 bytes: more than a 2048-byte frame holds → NoMemory, slot freed.
        var one = new Datagram { Id = 1, Payload = new byte[3000], LastSrc = 2 };
        one.WriteFragment(ref f, new Piece(1480, 1480, true));
        Assert.Equal(ReassemblyResult.Held, re.Add(ref f, slab, now, out _));
        one.WriteFragment(ref f, new Piece(2960, 40, false));
        Assert.Equal(ReassemblyResult.Dropped, re.Add(ref f, slab, now, out _));
        Assert.Equal(2, re.Drops(DropReason.ReassemblyNoMemory));
        Assert.Equal(1, re.ActiveSlots);
        // Beyond MaxDatagramLength: dropped at once.
        var big = new Datagram { Id = 9, Payload = new byte[4100], LastSrc = 2 };
        big.WriteFragment(ref f, new Piece(3960, 100, false));
        Assert.Equal(ReassemblyResult.Dropped, re.Add(ref f, slab, now, out _));
        Assert.Equal(3, re.Drops(DropReason.ReassemblyNoMemory));
        // A non-last fragment whose length is not a multiple of 8.
        var odd = new Datagram { Id = 10, Payload = new byte[100], LastSrc = 2 };
        odd.WriteFragment(ref f, new Piece(0, 13, true));
        Assert.Equal(ReassemblyResult.Dropped, re.Add(ref f, slab, now, out _));
        Assert.Equal(DropReason.ReassemblyFailed, f.Drop);
        // Not a fragment at all.
        odd.WriteWhole(ref f);
        Assert.Equal(ReassemblyResult.NotFragment, re.Add(ref f, slab, now, out _));
        slab.Return(f);
        Assert.Equal(8, slab.FreeCount);
    }

    [Fact]
    public void ReassemblyAllocatesNothing()
    {
        var rng = new Random(9);
        using var slab = new FrameSlab(32, 4096);
        using var re = new Reassembler(new ReassemblerOptions { Slots = 16 });
        var dgs = new[] { new Datagram { Id = 1, Payload = new byte[3000], LastSrc = 3 }, new Datagram { V6 = true, Id = 2, Payload = new byte[3000], LastSrc = 3 } };
        var frames = new List<Packet>();
        foreach (var dg in dgs)
        {
            rng.NextBytes(dg.Payload);
            foreach (var piece in Cut(rng, 3000))
            {
                Assert.True(slab.TryRent(out Packet f));
                dg.WriteFragment(ref f, piece);
                frames.Add(f);
            }
        }
        var arr = frames.ToArray();
        long completed = 0;
        void Round()
        {
            long now = Stopwatch.GetTimestamp();
            for (int i = 0; i < arr.Length; i++)
            {
                Packet f = arr[i];
                if (re.Add(ref f, slab, now, out Packet d) == ReassemblyResult.Complete)
                {
                    completed++;
                    slab.Return(d);
                }
            }
            re.Expire(now);
        }
        long warm = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 4 / 10;
        while (Stopwatch.GetTimestamp() < warm) Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        completed = 0;
        for (int i = 0; i < 50_000; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        _out.WriteLine($"{arr.Length} fragments per round, {completed} datagrams reassembled, allocated {allocated} B");
        Assert.Equal(100_000, completed);
        Assert.Equal(0, allocated);
    }
}
