using System.Threading;

namespace FastPath.Crypto.Diagnostics;

/// <summary>
/// How many native key buffers (round keys, GHASH tables, HMAC states: one or two per keyed cipher,
/// so per SA direction) are allocated now. Counted at allocation and free — once per SA install or
/// delete, never per packet — so a soak can tell "SAs not freed" from "allocator retention"
/// (issue 9; `fastpath memory`).
/// </summary>
public static class NativeKeyMemory
{
    private static long _buffers, _bytes;

    /// <summary>Key buffers allocated and not yet freed.</summary>
    public static long LiveBuffers => Volatile.Read(ref _buffers);

    /// <summary>Their total size in bytes (without the allocator's overhead).</summary>
    public static long LiveBytes => Volatile.Read(ref _bytes);

    internal static void Allocated(int length)
    {
        Interlocked.Increment(ref _buffers);
        Interlocked.Add(ref _bytes, length);
    }

    internal static void Freed(int length)
    {
        Interlocked.Decrement(ref _buffers);
        Interlocked.Add(ref _bytes, -length);
    }
}
