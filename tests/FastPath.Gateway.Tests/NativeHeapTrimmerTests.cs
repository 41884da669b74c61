using System;
using System.Runtime.InteropServices;
using System.Threading;
using FastPath.Gateway.Tests.Interop;
using Xunit;

namespace FastPath.Gateway.Tests;

/// <summary>Tests that read process-wide native memory figures: run alone (no other test allocating meanwhile).</summary>
[CollectionDefinition("native-memory", DisableParallelization = true)]
public sealed class NativeMemoryCollection;

// What the rekey soak's RSS growth was (NativeHeapTrimmer.cs): a thread that comes and goes (the
// runtime's tiering thread) allocates megabytes of 64 KiB scratch pages (the JIT's arena page size),
// frees them, and glibc keeps the free pages resident in that thread's arena. This plays the same
// pattern with NativeMemory (malloc) and checks that the trimmer gives the pages back — and only
// after JIT activity.
[Collection("native-memory")]
public sealed unsafe class NativeHeapTrimmerTests
{
    private const int Page = 64 * 1024, Pages = 384; // 24 MiB of scratch

    /// <summary>Allocates and touches the scratch pages on a thread of its own, keeps every 16th (so the
    /// free runs sit between live chunks and the arena's top cannot shrink), frees the rest, exits.</summary>
    private static nint[] Burst()
    {
        var kept = new nint[Pages / 16];
        var t = new Thread(() =>
        {
            var all = new nint[Pages];
            for (int i = 0; i < Pages; i++)
            {
                all[i] = (nint)NativeMemory.Alloc(Page);
                new Span<byte>((void*)all[i], Page).Fill(0x5a);
            }
            for (int i = 0; i < Pages; i++)
                if (i % 16 == 15) kept[i / 16] = all[i];
                else NativeMemory.Free((void*)all[i]);
        });
        t.Start();
        t.Join();
        return kept;
    }

    [Fact]
    public void After_jit_activity_the_free_pages_of_a_scratch_burst_go_back_to_the_system()
    {
        long jit = 0;
        var trimmer = new NativeHeapTrimmer(() => Interlocked.Read(ref jit)) { Interval = TimeSpan.FromSeconds(10) };
        nint[] kept = Burst();
        try
        {
            long retained = ProcessMemory.StatusKib("RssAnon");
            long freeInArenas = (long)ProcessMemory.Malloc().Fordblks;
            Assert.True(freeInArenas > 16L << 20, $"the burst left only {freeInArenas >> 10} KiB free in malloc's arenas: the test does not model the retention");

            // No JIT since the trimmer was made: nothing to do, nothing done.
            Assert.False(trimmer.Tick(0));
            Assert.True(ProcessMemory.StatusKib("RssAnon") > retained - 8 * 1024, "RSS fell without a trim: the pages were not retained in the first place");

            Interlocked.Add(ref jit, 40);                       // the JIT compiled methods meanwhile
            Assert.False(trimmer.Tick(5_000));                  // not yet: once per interval
            Assert.True(trimmer.Tick(10_000));
            long after = ProcessMemory.StatusKib("RssAnon");
            Assert.True(retained - after >= 16 * 1024, $"RssAnon {retained} -> {after} KiB: the trim gave back less than 16 of the burst's ~22 MiB of free pages");
            Assert.Equal(1, trimmer.Trims);
            Assert.False(trimmer.Tick(20_000));                 // no further JIT: no second trim
        }
        finally
        {
            foreach (nint p in kept) NativeMemory.Free((void*)p);
        }
    }
}
