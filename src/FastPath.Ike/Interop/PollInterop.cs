// poll(2) and eventfd(2) for the engine thread's own receive loop (IkeEngine.Polled.cs): the engine
// thread waits on the IKE sockets and on one eventfd that Post() signals, so no receive thread and
// no thread hand-off sits between a datagram and the engine (docs/ike-performance.md: on this PVM
// guest the context switches and futex wake-ups of the hand-off were ~12 % of the responder's CPU,
// the receive thread's own poll another 6 %).
using System;
using System.Runtime.InteropServices;

namespace FastPath.Ike.Interop;

internal static unsafe partial class PollInterop
{
    public const short PollIn = 0x001, PollErr = 0x008, PollHup = 0x010, PollNval = 0x020;
    private const int EfdCloexec = 0x80000, EfdNonblock = 0x800;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    /// <summary>poll(2); EINTR counts as "nothing ready" (0).</summary>
    public static int Poll(Span<PollFd> fds, int timeoutMs)
    {
        fixed (PollFd* p = fds)
        {
            int n = poll(p, (nuint)fds.Length, timeoutMs);
            return n < 0 ? 0 : n;
        }
    }

    /// <summary>A non-blocking, close-on-exec eventfd; -1 when the OS refuses.</summary>
    public static int CreateEventFd() => eventfd(0, EfdCloexec | EfdNonblock);

    /// <summary>Adds one to the eventfd's counter (it becomes readable). A full counter (2^64-2) cannot happen here.</summary>
    public static void Signal(int fd)
    {
        ulong one = 1;
        _ = write(fd, &one, sizeof(ulong));
    }

    /// <summary>Resets the counter (reads it; EAGAIN when it was 0 is fine).</summary>
    public static void Drain(int fd)
    {
        ulong value;
        _ = read(fd, &value, sizeof(ulong));
    }

    public static void Close(int fd)
    {
        if (fd >= 0) _ = close(fd);
    }
}
