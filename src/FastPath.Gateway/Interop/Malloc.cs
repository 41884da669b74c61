using System;
using System.Runtime.InteropServices;

namespace FastPath.Gateway.Interop;

// glibc's allocator statistics for the `memory` control verb (issue 9: the rekey soak's RSS grew while
// the managed heap stayed flat, so the native heap has to be visible). mallinfo2(3) (glibc >= 2.33)
// sums over all arenas; the 32-bit mallinfo(3) would wrap above 2 GiB. Control plane only.
internal static partial class Malloc
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct MallInfo2
    {
        public nuint Arena;     // bytes taken from the system by the arenas (not mmapped chunks)
        public nuint Ordblks;   // free chunks
        public nuint Smblks;
        public nuint Hblks;     // chunks allocated with mmap
        public nuint Hblkhd;    // bytes in mmapped chunks
        public nuint Usmblks;
        public nuint Fsmblks;
        public nuint Uordblks;  // bytes in use in the arenas
        public nuint Fordblks;  // free bytes in the arenas (retained, not returned to the system)
        public nuint Keepcost;
    }

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 mallinfo2();

    // malloc_trim(3): since glibc 2.8 it walks every arena and gives the whole free pages inside free
    // chunks back (madvise MADV_DONTNEED), not only the top of the main heap.
    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);

    /// <summary>Returns the free pages of every arena to the system; false when nothing was released or
    /// this libc has no malloc_trim.</summary>
    public static bool Trim()
    {
        try { return malloc_trim(0) != 0; }
        catch (EntryPointNotFoundException) { return false; }
        catch (DllNotFoundException) { return false; }
    }

    /// <summary>The statistics, or default when this libc has no mallinfo2 (musl, glibc &lt; 2.33).</summary>
    public static MallInfo2 Info()
    {
        try { return mallinfo2(); }
        catch (EntryPointNotFoundException) { return default; }
        catch (DllNotFoundException) { return default; }
    }
}
