using System;
using System.Runtime.ExceptionServices;
using System.Threading;
using FastPath.Dataplane.Interop;

namespace FastPath.Dataplane.Io;

// Running setup code inside a named network namespace (/run/netns/NAME, as `ip netns add` makes
// them). A socket belongs to the namespace it was created in for its whole life, whichever thread
// uses it later; so an AfPacketIo for an interface in another namespace is created on a fresh
// dedicated thread that first calls setns(2) on the namespace file, and the thread then ends
// (setns on CLONE_NEWNET only changes the calling thread, and is allowed in a multi-threaded
// process). The caller's threads never change namespace. If setns fails, nothing runs: the code
// must never fall back to the caller's (host) namespace.

/// <summary>Runs code in a named network namespace on a dedicated thread.</summary>
public static class NetworkNamespace
{
    /// <summary>Runs <paramref name="create"/> in network namespace <paramref name="name"/>
    /// (/run/netns/<paramref name="name"/>) and returns its result; exceptions are rethrown here.</summary>
    public static T Run<T>(string name, Func<T> create)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(create);
        if (name.Contains('/', StringComparison.Ordinal) || name is "." or "..") throw new ArgumentException($"bad namespace name '{name}'", nameof(name));
        T? result = default;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                string path = "/run/netns/" + name;
                int fd = Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
                if (fd < 0) throw Errno.Fail($"open({path})");
                try
                {
                    if (Libc.setns(fd, Libc.CLONE_NEWNET) != 0) throw Errno.Fail($"setns({path}, CLONE_NEWNET)");
                }
                finally
                {
                    _ = Libc.close(fd);
                }
                result = create();
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "netns:" + name,
        };
        thread.Start();
        thread.Join();
        error?.Throw();
        return result!;
    }
}
