using System;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

// CPU pinning of worker threads (DESIGN.md §2: "one worker per core used, pinned"):
// sched_setaffinity(2) with pid 0 applies to the calling thread (a Linux thread is a task with its
// own affinity mask). The mask is a cpu_set_t: 1024 bits = 16 ulongs, CPU n is bit n % 64 of word
// n / 64 (glibc's CPU_SET on a little-endian LP64 machine).

internal static unsafe partial class Libc
{
    public const int CpuSetWords = 16;
    public const int MaxCpus = CpuSetWords * 64;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sched_setaffinity(int pid, nuint cpusetsize, ulong* mask);

    /// <summary>Pins the calling thread to <paramref name="cpu"/>; 0 on success, else errno.</summary>
    public static int PinCurrentThread(int cpu)
    {
        if ((uint)cpu >= MaxCpus) return 22; // EINVAL
        ulong* mask = stackalloc ulong[CpuSetWords];
        new Span<ulong>(mask, CpuSetWords).Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        return sched_setaffinity(0, (nuint)(CpuSetWords * sizeof(ulong)), mask) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }
}
