using System;
using System.Diagnostics;

namespace FastPath.Crypto.Tests.Support;

/// <summary>
/// Measures what a loop of per-packet operations allocates on the calling thread, robust against the
/// runtime's own one-off allocations. The JIT installs tier-1 code only after its tiering delay (100 ms
/// by default, longer on a loaded machine) and on-stack-replaces running loops; both can allocate a few
/// KB on the thread that runs the method (a CI run once saw 6216 B in a 100-iteration HMAC loop). So
/// each attempt warms up for a fixed time as well as a count, and the smallest of up to three attempts
/// counts: a real per-operation allocation shows in every attempt, a one-off does not.
/// </summary>
internal static class AllocationProbe
{
    public static long Allocated(Action body, int iterations = 100, int attempts = 3, int warmupMs = 200)
    {
        long smallest = long.MaxValue;
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            var warm = Stopwatch.StartNew();
            for (int i = 0; i < 3 || warm.ElapsedMilliseconds < warmupMs; i++) body();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < iterations; i++) body();
            smallest = Math.Min(smallest, GC.GetAllocatedBytesForCurrentThread() - before);
            if (smallest == 0) break;
        }
        return smallest;
    }
}
