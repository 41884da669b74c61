using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;

namespace FastPath.Gateway.Tests.Interop;

/// <summary>glibc's mallinfo2(3) (glibc >= 2.33): the allocator's own view, summed over all arenas.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MallInfo2
{
    public nuint Arena;     // non-mmapped bytes taken from the system (sbrk + arena heaps)
    public nuint Ordblks;   // free chunks
    public nuint Smblks;
    public nuint Hblks;     // mmapped chunks
    public nuint Hblkhd;    // bytes in mmapped chunks
    public nuint Usmblks;
    public nuint Fsmblks;
    public nuint Uordblks;  // bytes in use (not mmapped)
    public nuint Fordblks;  // free bytes inside the arenas
    public nuint Keepcost;
}

public static partial class ProcessMemory
{
    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 mallinfo2();

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);

    public static MallInfo2 Malloc() => mallinfo2();

    public static int Trim() => malloc_trim(0);

    /// <summary>A field of /proc/self/status in KiB (VmRSS, RssAnon, RssFile).</summary>
    public static long StatusKib(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(field.Length + 1).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
        return -1;
    }
}
