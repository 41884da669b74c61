using System;
using System.Runtime;

namespace FastPath.Gateway;

// Issue 9, "memory growth over 1,000 rekeys < 5 %". The rekey soak's RSS grew (east +11.7 % in 11 min)
// while the live managed heap, the GC's committed bytes and FastPath's own native key buffers stayed
// flat. What grew was glibc's malloc: measured with heaptrack on the running east daemon (171 s of
// rekeys every second under traffic, docs/security.md), 43,000 native allocations in all, and the peak
// (7.9 of 8.2 MiB) was the JIT's scratch memory, compiling methods as they tier up (tier 0 -> tier 1,
// Dynamic PGO) on the runtime's tiering thread — which comes and goes (the daemon's thread count
// alternated 23/24), so each burst may land in another malloc arena. The JIT frees that memory right
// after each method; glibc keeps the free pages in the arena (`fordblks`: 3 -> 14.5 MiB over the run)
// and trims only the top of a heap, so RSS ratchets up with every burst. With
// DOTNET_TieredCompilation=0 (classification only) the same run stayed flat: RSS +0.3 %, malloc flat.
// The control plane keeps tiering up for minutes (a control verb polled every 20 s reaches the
// 30-call threshold after 10 minutes), so the bursts go on long after start.
//
// The remedy here: after JIT activity, hand the free pages back (malloc_trim(0), all arenas). The
// pump thread asks once per Interval; if the runtime compiled methods since the last ask it trims,
// else nothing — in a steady state (no JIT) it costs one counter read per interval. malloc_trim takes
// each arena's lock while it walks it; the workers never malloc per packet (zero allocation), so the
// data path does not wait on it.

/// <summary>Returns the native heap's free pages to the system after the JIT ran (see the comment above).</summary>
public sealed class NativeHeapTrimmer
{
    private readonly Func<long> _compiledMethods;
    private readonly Func<bool> _trim;
    private long _lastCount;
    private long _nextTick;

    /// <param name="compiledMethods">The runtime's JIT-compiled method count (tests substitute it).</param>
    /// <param name="trim">The trim itself (malloc_trim(0)).</param>
    public NativeHeapTrimmer(Func<long>? compiledMethods = null, Func<bool>? trim = null)
    {
        _compiledMethods = compiledMethods ?? (() => JitInfo.GetCompiledMethodCount(currentThread: false));
        _trim = trim ?? Interop.Malloc.Trim;
        _lastCount = _compiledMethods();
    }

    /// <summary>How often <see cref="Tick"/> looks at the JIT count (default 10 s; the trim's own cost was not
    /// measured separately — it walks each arena's free chunks once, on the pump's low-priority thread).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Trims done so far.</summary>
    public long Trims { get; private set; }

    /// <summary>Call periodically with Environment.TickCount64; trims when the interval passed and the JIT
    /// compiled anything since the last check. True when it trimmed.</summary>
    public bool Tick(long nowMs)
    {
        if (nowMs < _nextTick) return false;
        _nextTick = nowMs + (long)Interval.TotalMilliseconds;
        return TrimIfJitted();
    }

    /// <summary>Trims now if the JIT compiled anything since the last check.</summary>
    public bool TrimIfJitted()
    {
        long count = _compiledMethods();
        if (count == _lastCount) return false;
        _lastCount = count;
        _trim();
        Trims++;
        return true;
    }
}
