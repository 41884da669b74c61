// NetnsThread: runs a function on a fresh thread that has entered a network namespace (setns(2)
// with CLONE_NEWNET on /var/run/netns/NAME). Sockets created there stay in that namespace after the
// thread leaves it, which is how the interop and flood tests put an in-process engine's UDP sockets
// inside a netns without running the whole test process there.
using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace FastPath.Ike.Tests.Interop;

internal static partial class NetnsThread
{
    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    /// <summary>Runs <paramref name="f"/> on a thread inside <paramref name="netns"/>; its exception is rethrown here, wrapped.</summary>
    public static T Run<T>(string netns, Func<T> f)
    {
        T result = default!;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                using var original = File.OpenHandle("/proc/thread-self/ns/net");
                using var target = File.OpenHandle($"/var/run/netns/{netns}");
                if (SetNs((int)target.DangerousGetHandle(), CloneNewNet) != 0) throw new InvalidOperationException($"setns {netns}: errno {Marshal.GetLastPInvokeError()}");
                try { result = f(); }
                finally
                {
                    if (SetNs((int)original.DangerousGetHandle(), CloneNewNet) != 0) Environment.FailFast("setns back to the original namespace failed");
                }
            }
#pragma warning disable CA1031 // handed to the caller
            catch (Exception e) { error = e; }
#pragma warning restore CA1031
        });
        t.Start();
        t.Join();
        if (error is not null) throw new InvalidOperationException($"in {netns}: {error.Message}", error);
        return result;
    }
}
