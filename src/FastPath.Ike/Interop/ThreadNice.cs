// ThreadNice: lowers the Linux scheduling priority (nice value) of the calling thread.
//
// Why: DESIGN.md's IKE control plane is "low priority" next to the packet workers, but .NET on
// Linux ignores Thread.Priority (it never calls setpriority). On a loaded gateway — an IKE_SA_INIT
// flood while the workers use every core — CFS then shares the cores equally between the IKE
// threads and the workers. Linux applies setpriority(PRIO_PROCESS, tid) to one thread (a tid is a
// process id to the scheduler; sched(7), setpriority(2) NOTES), so a nice of 10 gives the IKE
// threads weight 110 against a worker's 1024 (kernel/sched/core.c sched_prio_to_weight): under
// contention they get ~10% of a core, and all of an idle one.
using System;
using System.Runtime.InteropServices;

namespace FastPath.Ike.Interop;

internal static partial class ThreadNice
{
    private const int PrioProcess = 0;
    private const int SysGettid = 186; // x86_64

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, uint who, int prio);

    [LibraryImport("libc", EntryPoint = "syscall")]
    private static partial long syscall0(long number);

    /// <summary>Sets the calling thread's nice value (0 = default, 19 = lowest); false where the OS
    /// refuses (not Linux x86_64, or lowering below the current value without CAP_SYS_NICE).</summary>
    public static bool SetCurrentThread(int nice)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return false;
        try
        {
            long tid = syscall0(SysGettid);
            return tid > 0 && setpriority(PrioProcess, (uint)tid, nice) == 0;
        }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; }
    }

    /// <summary>The nice value of the IKE threads (engine and receivers).</summary>
    public const int Ike = 10;
}
