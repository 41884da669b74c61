using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Threading;
using FastPath.Dataplane.Policy;
using FastPath.Gateway.Tests.Interop;
using FastPath.Ike.Engine;
using FastPath.Ike.Proposals;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Ike;

// Issue 9, "memory growth over 1,000 rekeys < 5 %": the daemon soak (Adversarial/RekeyUnderLoadTests)
// saw the rekey responder's RSS grow while its live managed heap stayed flat. This is the fast,
// in-process reproduction: the real IKE engines over an in-memory wire, each feeding a
// DataplaneChildSaSink on a started dataplane (worker threads, as in the daemon), west rekeying
// its CHILD_SA back to back, and the process's native side sampled every N/10 rekeys.
[Collection("native-memory")]
public sealed class RekeyMemoryTests(ITestOutputHelper output)
{
    private static IkeConnection Conn(string name, IPAddress local, IPAddress remote, string localTs, string remoteTs) =>
        InMemoryIkeWire.PskConn(name, local, remote, localTs, remoteTs, "aes128gcm16", "rekey-memory-psk-0123456789abcdef");

    private readonly record struct Sample(int Rekeys, long RssKib, long AnonKib, long MallocInUse, long MallocFree, long MallocArena, long GcCommitted, long LiveHeap);

    private static Sample Take(int rekeys)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        MallInfo2 m = ProcessMemory.Malloc();
        return new Sample(rekeys, ProcessMemory.StatusKib("VmRSS"), ProcessMemory.StatusKib("RssAnon"), (long)(m.Uordblks + m.Hblkhd), (long)m.Fordblks, (long)m.Arena,
            GC.GetGCMemoryInfo().TotalCommittedBytes, GC.GetTotalMemory(false));
    }

    [Fact]
    public void Back_to_back_child_rekeys_leave_native_memory_flat()
    {
        // Warm-up first: the JIT tiers the rekey path up over the first ~250 rekeys (malloc in use +6 MiB, then
        // flat, measured); the samples start after it.
        int n = int.TryParse(Environment.GetEnvironmentVariable("FP_REKEY_MEMORY_N"), out int v) ? v : 600;
        const int warm = 400;
        var g = new SinkPair();
        var wire = new InMemoryIkeWire();
        var west = new IkeEngine(new IkeEngineOptions(), wire.For(SinkPair.WestOutside), g.WestSink, NullLogger.Instance);
        var east = new IkeEngine(new IkeEngineOptions(), wire.For(SinkPair.EastOutside), g.EastSink, NullLogger.Instance);
        try
        {
            wire.Attach(SinkPair.WestOutside, west);
            wire.Attach(SinkPair.EastOutside, east);
            west.AddConnection(Conn("west-east", SinkPair.WestOutside, SinkPair.EastOutside, "192.0.2.0/25", "192.0.2.128/25"));
            east.AddConnection(Conn("east-west", SinkPair.EastOutside, SinkPair.WestOutside, "192.0.2.128/25", "192.0.2.0/25"));
            g.West.Start();
            g.East.Start();
            west.Start();
            east.Start();
            west.Initiate("west-east");
            var sw = Stopwatch.StartNew();
            while (!g.East.ErouteV4.List().Any(e => e.Action.Kind == ErouteActionKind.Sa) || !g.West.ErouteV4.List().Any(e => e.Action.Kind == ErouteActionKind.Sa)
                || west.GetStatus().IkeSas.All(s => s.State != "ESTABLISHED"))
            {
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), "no CHILD_SA after 15 s");
                Thread.Sleep(5);
            }

            // One IKE SA (its SK ciphers) and one CHILD_SA pair per side: the native key buffers of the
            // process (this test runs alone: Collection native-memory).
            // The count is process-wide: tests that ran before this one in the same process may have left SAs
            // whose key buffers only their finalizers free — run those now, so the baseline is this test's own
            // (seen: 12 at the start, 8 at the end, when EngineOverDataplaneTests had just run).
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            long keyBuffers = FastPath.Crypto.Diagnostics.NativeKeyMemory.LiveBuffers;
            output.WriteLine($"native key buffers with one IKE SA and one CHILD_SA up: {keyBuffers}");
            var samples = new System.Collections.Generic.List<Sample>();
            int step = Math.Max(1, n / 10);
            for (int i = 1 - warm; i <= n; i++)
            {
                var t = Stopwatch.StartNew();
                long asked = -1000;
                while (west.GetStatus().Counters.ChildRekeys < i + warm)
                {
                    Assert.True(t.Elapsed < TimeSpan.FromSeconds(10), $"rekey {i} did not complete in 10 s");
                    // Rekey skips a child whose previous rekey is still finishing (outbound pending): ask again.
                    if (t.ElapsedMilliseconds - asked >= 200)
                    {
                        Assert.True(west.Rekey("west-east", ike: false), "no established IKE SA");
                        asked = t.ElapsedMilliseconds;
                    }
                    Thread.Sleep(1);
                }
                if (i == 0 || (i > 0 && i % step == 0)) samples.Add(Take(i));
            }
            foreach (Sample s in samples)
                output.WriteLine($"rekeys={s.Rekeys} rss={s.RssKib} KiB anon={s.AnonKib} KiB malloc_in_use={s.MallocInUse / 1024} KiB malloc_free={s.MallocFree / 1024} KiB arena={s.MallocArena / 1024} KiB gc_committed={s.GcCommitted / 1024} KiB live={s.LiveHeap / 1024} KiB");
            Sample first = samples[0], last = samples[^1];
            double perRekey = (double)(last.MallocInUse - first.MallocInUse) / (last.Rekeys - first.Rekeys);
            output.WriteLine($"malloc in use per rekey: {perRekey:F1} B; RSS {first.RssKib} -> {last.RssKib} KiB");

            // Every replaced SA's keys freed: once the old inbound SAs' linger (2 s) is over and the
            // workers applied the deletes, the key buffers are back at the count before the first rekey.
            var settle = Stopwatch.StartNew();
            // No GC here: a key buffer must go when its SA is deleted (Dispose), not whenever a finalizer runs
            // (a daemon may see no gen2 collection for hours).
            while (FastPath.Crypto.Diagnostics.NativeKeyMemory.LiveBuffers != keyBuffers && settle.Elapsed < TimeSpan.FromSeconds(15))
                Thread.Sleep(100);
            Assert.Equal(keyBuffers, FastPath.Crypto.Diagnostics.NativeKeyMemory.LiveBuffers);
            output.WriteLine($"native key buffers after {n + warm} rekeys: {FastPath.Crypto.Diagnostics.NativeKeyMemory.LiveBuffers}");
            // The native heap in use (malloc's own count, not RSS), a coarse bound: the exact check is the key
            // buffers above; this catches other native leaks of a few KiB per rekey (the JIT moves it by
            // +-3 MiB: 1,000 rekeys measured 103.2 -> 99.3 MiB with 106.7 between).
            Assert.True(last.MallocInUse - first.MallocInUse < 4L << 20, $"malloc in use grew {(last.MallocInUse - first.MallocInUse) >> 10} KiB over {last.Rekeys - first.Rekeys} rekeys");
        }
        finally
        {
            west.Dispose();
            east.Dispose();
            g.West.Stop();
            g.East.Stop();
            g.Dispose();
        }
    }
}
