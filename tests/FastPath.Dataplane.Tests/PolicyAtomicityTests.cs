using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using FastPath.Dataplane.Policy;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>
/// Seed 000 bug #10: KLIPS's replace was delete-then-add, so packets slipped to a more general
/// eroute in between. Here a writer replaces an eroute, and whole tables, thousands of times while
/// reader threads look up continuously; no lookup may see anything but the old or the new action.
/// </summary>
public class PolicyAtomicityTests
{
    private static readonly ErouteSelector<uint> Protected = ErouteSelector<uint>.Parse("192.0.2.0/25", "192.0.2.128/25");
    private static readonly ErouteSelector<uint> Everything = ErouteSelector<uint>.Parse("0.0.0.0/0", "0.0.0.0/0");

    [Fact]
    public void SingleReplaceNeverExposesTheGeneralEroute()
    {
        // A %drop 0/0 eroute under the protected one: a non-atomic replace would show it.
        var table = new ErouteTable<uint>();
        var w = new ErouteWorkload<uint>(7);
        var filler = w.Table(20_000);
        filler.RemoveAll(s => s.Selector == Protected || s.Selector == Everything);
        table.ReplaceAll(filler.Append(new(Everything, ErouteAction.Drop)).Append(new(Protected, ErouteAction.Sa(0x1000))));
        var key = new FlowKey<uint>(KeyBits<uint>.ParseAddress("192.0.2.10"), KeyBits<uint>.ParseAddress("192.0.2.138"));

        long bad = 0, lookups = 0;
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            long n = 0, b = 0;
            while (!stop.IsCancellationRequested)
            {
                ErouteMatch m = table.Current.Lookup(key);
                // The action cycles through SA groups 0x1000..0x1fff; never %drop, never a miss.
                if (m.Action.Kind != ErouteActionKind.Sa || (m.Action.SaHandle & ~0xfffu) != 0x1000) b++;
                n++;
            }
            Interlocked.Add(ref lookups, n);
            Interlocked.Add(ref bad, b);
        })).ToArray();
        foreach (Thread t in readers) t.Start();
        var sw = Stopwatch.StartNew();
        int replaces = 0;
        // Single replaces, and delete+add of the same eroute in one atomic batch (Apply), and
        // replaces of unrelated eroutes in the same trie paths.
        while (sw.ElapsedMilliseconds < 1500 || replaces < 5000)
        {
            uint spi = 0x1000u | (uint)(replaces & 0xfff);
            if ((replaces & 1) == 0) table.Replace(Protected, ErouteAction.Sa(spi));
            else table.Apply([new(new(Protected, default), Delete: true), new(new(Protected, ErouteAction.Sa(spi)))]);
            ErouteSpec<uint> f = filler[replaces % filler.Count];
            table.Replace(f.Selector, ErouteAction.Sa(spi));
            replaces++;
        }
        stop.Cancel();
        foreach (Thread t in readers) t.Join();
        Assert.True(lookups > 10_000, $"only {lookups} lookups");
        Assert.Equal(0, bad);
    }

    [Fact]
    public void SingleReplaceActionsAreAlwaysOldOrNew()
    {
        var table = new ErouteTable<uint>();
        var w = new ErouteWorkload<uint>(8);
        var filler = w.Table(20_000);
        filler.RemoveAll(s => s.Selector == Protected || s.Selector == Everything);
        table.ReplaceAll(filler.Append(new(Everything, ErouteAction.Drop)).Append(new(Protected, ErouteAction.Sa(0x1000))));
        var key = new FlowKey<uint>(KeyBits<uint>.ParseAddress("192.0.2.10"), KeyBits<uint>.ParseAddress("192.0.2.138"));

        long bad = 0, lookups = 0;
        int written = 0; // highest SA number the writer has published
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            long n = 0, b = 0;
            while (!stop.IsCancellationRequested)
            {
                int before = Volatile.Read(ref written);
                ErouteMatch m = table.Current.Lookup(key);
                int after = Volatile.Read(ref written);
                // Must be an SA the writer published: old (≥ before) or new (≤ after + 1).
                long spi = m.Action.SaHandle - 0x1000L;
                if (m.Action.Kind != ErouteActionKind.Sa || spi < before || spi > after + 1) b++;
                n++;
            }
            Interlocked.Add(ref lookups, n);
            Interlocked.Add(ref bad, b);
        })).ToArray();
        foreach (Thread t in readers) t.Start();
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 1500 || written < 5000)
        {
            int next = written + 1;
            if ((next & 1) == 0) table.Replace(Protected, ErouteAction.Sa(0x1000u + (uint)next));
            else table.Apply([new(new(Protected, default), Delete: true), new(new(Protected, ErouteAction.Sa(0x1000u + (uint)next)))]);
            Volatile.Write(ref written, next);
        }
        stop.Cancel();
        foreach (Thread t in readers) t.Join();
        Assert.True(lookups > 10_000, $"only {lookups} lookups");
        Assert.Equal(0, bad);
    }

    [Fact]
    public void BulkReplaceIsSeenWholeOrNotAtAll()
    {
        // Two whole tables with the same selectors and different actions (A: SA 0xA..., B: SA 0xB...).
        // A reader's snapshot must answer every key from one table only.
        var w = new ErouteWorkload<uint>(9);
        var sels = w.Table(1_000).Select(s => s.Selector).ToList();
        var a = sels.Select((s, i) => new ErouteSpec<uint>(s, ErouteAction.Sa(0xA0000u + (uint)i))).ToList();
        var b = sels.Select((s, i) => new ErouteSpec<uint>(s, ErouteAction.Sa(0xB0000u + (uint)i))).ToList();
        var table = new ErouteTable<uint>();
        table.ReplaceAll(a);
        FlowKey<uint>[] keys = w.Packets(a, 256).Where(k => table.Current.Lookup(k).Found).Take(64).ToArray();
        Assert.True(keys.Length >= 32);

        long bad = 0, batches = 0;
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            var results = new ErouteMatch[keys.Length];
            long n = 0, bd = 0;
            while (!stop.IsCancellationRequested)
            {
                table.Current.Lookup(keys, results);
                uint family = results[0].Action.SaHandle >> 16;
                foreach (ErouteMatch m in results)
                    if (m.Action.Kind != ErouteActionKind.Sa || m.Action.SaHandle >> 16 != family) bd++;
                n++;
            }
            Interlocked.Add(ref batches, n);
            Interlocked.Add(ref bad, bd);
        })).ToArray();
        foreach (Thread t in readers) t.Start();
        var sw = Stopwatch.StartNew();
        int swaps = 0;
        // Thousands of whole-table swaps (1k eroutes each), bounded to ~3 s on a slow machine.
        while (swaps < 2000 && (sw.ElapsedMilliseconds < 3000 || swaps < 50))
        {
            table.ReplaceAll((swaps++ & 1) == 0 ? b : a);
        }
        stop.Cancel();
        foreach (Thread t in readers) t.Join();
        Assert.True(swaps >= 50, $"only {swaps} bulk replaces");
        Assert.True(batches > 100, $"only {batches} batches");
        Assert.Equal(0, bad);
    }

    [Fact]
    public void SnapshotsAreImmutable()
    {
        var table = new ErouteTable<uint>();
        table.Add(Protected, ErouteAction.Sa(1));
        ErouteSnapshot<uint> old = table.Current;
        var key = new FlowKey<uint>(KeyBits<uint>.ParseAddress("192.0.2.10"), KeyBits<uint>.ParseAddress("192.0.2.138"));
        table.Replace(Protected, ErouteAction.Sa(2));
        table.Add(Everything, ErouteAction.Drop);
        Assert.Equal(1u, old.Lookup(key).Action.SaHandle);
        Assert.Equal(2u, table.Current.Lookup(key).Action.SaHandle);
        Assert.True(table.Current.Version > old.Version);
        Assert.True(table.Delete(Protected));
        Assert.Equal(1u, old.Lookup(key).Action.SaHandle);
        Assert.Equal(ErouteActionKind.Drop, table.Current.Lookup(key).Action.Kind);
    }

    [Fact]
    public void DeletedIdsAreReusedOnlyAfterEveryWorkerQuiesced()
    {
        var table = new ErouteTable<uint>();
        HitCounters counters = table.CreateHitCounters();
        WorkerEpoch worker = table.Quiescent.Register();
        worker.Quiesce();
        int id = table.Add(Protected, ErouteAction.Sa(1));
        counters.Count(id);
        Assert.True(table.Delete(Protected));
        // The worker has not passed a quiescent point: the id must not come back yet.
        int other = table.Add(Everything, ErouteAction.Drop);
        Assert.NotEqual(id, other);
        worker.Quiesce();
        int reused = table.Add(ErouteSelector<uint>.Parse("10.0.0.0/8", "10.0.0.0/8"), ErouteAction.Pass);
        Assert.Equal(id, reused);
        Assert.Equal(0, table.Hits(reused)); // counters reset on reuse
    }
}
