using System;
using FastPath.Dataplane.Policy;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>Zero allocation per lookup (DESIGN.md invariant): 1M lookups allocate 0 bytes.</summary>
public class PolicyAllocationTests
{
    [Fact]
    public void Ipv4LookupsAllocateNothing()
    {
        var w = new ErouteWorkload<uint>(31);
        var table = new ErouteTable<uint>();
        var specs = w.Table(10_000);
        table.ReplaceAll(specs);
        HitCounters counters = table.CreateHitCounters();
        FlowKey<uint>[] keys = w.Packets(specs, 1000);
        var results = new ErouteMatch[keys.Length];
        var broker = new AcquireBroker<uint>();
        table.Register(broker);
        var holds = new TrapHoldQueue<int, uint>(broker, 64, 4);
        var limiter = new RejectRateLimiter();
        WorkerEpoch epoch = table.Quiescent.Register();

        void Run()
        {
            for (int round = 0; round < 1000; round++)
            {
                epoch.Quiesce();
                ErouteSnapshot<uint> s = table.Current;
                s.Lookup(keys, results, counters);
                PolicyTrie<uint>.LookupBatchPrefetched(s.Root, keys, results); // the >256k-eroute path
                for (int i = 0; i < 8; i++)
                {
                    PolicyVerdict v = s.DecideOutbound(keys[i]);
                    _ = s.CheckCleartextFromOutside(keys[i]);
                    _ = s.CheckDecrypted(keys[i], 0x1002);
                    if (v.Match.Action.Kind == ErouteActionKind.Trap) holds.Hold(v.Match.Id, i, keys[i], round);
                    if (v.Match.Action.Kind == ErouteActionKind.Reject) limiter.ShouldSendUnreachable(round);
                }
                var sink = new NullSink();
                holds.Poll(ref sink, round, 10);
                while (broker.TryTakeAcquire(out _)) { }
            }
        }

        Run(); // warm-up (JIT, tiering)
        Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(); // 2M batched lookups (1M of them prefetched) + 24k single checks
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Ipv6LookupsAllocateNothing()
    {
        var w = new ErouteWorkload<UInt128>(32);
        var table = new ErouteTable<UInt128>();
        var specs = w.Table(10_000);
        table.ReplaceAll(specs);
        FlowKey<UInt128>[] keys = w.Packets(specs, 1000);
        var results = new ErouteMatch[keys.Length];
        void Run()
        {
            for (int i = 0; i < 100; i++)
            {
                table.Current.Lookup(keys, results);
                PolicyTrie<UInt128>.LookupBatchPrefetched(table.Current.Root, keys, results); // the >256k-eroute path
            }
        }
        // Warm up by time (tiered JIT / OSR would otherwise allocate during the measurement).
        var warm = System.Diagnostics.Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 400) Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private struct NullSink : IHeldPacketSink<int>
    {
        public readonly void Release(int packet, int erouteId) { }
        public readonly void Drop(int packet, int erouteId, DropReason reason) { }
    }
}
