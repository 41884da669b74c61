using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using FastPath.Dataplane.Io;

namespace FastPath.Gateway.Tests.Adversarial;

// The attacker's fast injector: scapy's sendp manages a few thousand frames per second, the suite
// needs a million. One AF_PACKET SOCK_RAW socket is opened inside the attacker's namespace (the
// socket belongs to the namespace it was created in; it is created on a dedicated thread that
// called setns(2), NetworkNamespace.Run, so the test process's own threads never change namespace),
// bound to one interface with protocol 0 (it never receives anything), and the frames — copied
// once into native memory — go out 64 per sendmmsg(2) call. ENOBUFS/EAGAIN (the veth's queue is
// full) means "back off and retry": the injector counts only frames the kernel took.
// Optional pacing (frames per second) keeps the victim's RX ring from overflowing when a test
// wants every injected frame to reach the gateway's classifier (drops at the ring are not the
// gateway's decision, so the figures report them separately).

/// <summary>Sends prepared Ethernet frames fast from inside a network namespace.</summary>
public sealed unsafe partial class FrameInjector : IDisposable
{
    private const int AF_PACKET = 17, SOCK_RAW = 3, SOL_SOCKET = 1, SO_SNDBUF = 7, SO_SNDBUFFORCE = 32;
    private const int EAGAIN = 11, ENOBUFS = 105, EINTR = 4;
    private const int Batch = 64;
    private readonly int _fd;

    public string Namespace { get; }
    public string Interface { get; }

    public FrameInjector(string netns, string iface)
    {
        Namespace = netns;
        Interface = iface;
        _fd = NetworkNamespace.Run(netns, () => Open(iface));
    }

    private static int Open(string iface)
    {
        uint index = if_nametoindex(iface);
        if (index == 0) throw new InvalidOperationException($"if_nametoindex({iface}): errno {Marshal.GetLastPInvokeError()}");
        int fd = socket(AF_PACKET, SOCK_RAW, 0);
        if (fd < 0) throw new InvalidOperationException($"socket(AF_PACKET): errno {Marshal.GetLastPInvokeError()}");
        var sll = new SockaddrLl { Family = AF_PACKET, Protocol = 0, IfIndex = (int)index };
        if (bind(fd, &sll, sizeof(SockaddrLl)) != 0)
        {
            int e = Marshal.GetLastPInvokeError();
            _ = close(fd);
            throw new InvalidOperationException($"bind(AF_PACKET, {iface}): errno {e}");
        }
        int buf = 8 << 20;
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(int));
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(int));
        return fd;
    }

    /// <summary>Sends <paramref name="count"/> frames, cycling through <paramref name="frames"/>,
    /// at most <paramref name="framesPerSecond"/> a second (0 = as fast as the kernel takes them) and
    /// for at most <paramref name="maxTime"/>. Returns how many the kernel accepted.</summary>
    public long Send(IReadOnlyList<byte[]> frames, long count, double framesPerSecond = 0, TimeSpan? maxTime = null)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0 || count <= 0) return 0;
        long total = 0;
        foreach (byte[] f in frames) total += f.Length;
        byte* mem = (byte*)NativeMemory.Alloc((nuint)total);
        var iov = (Iovec*)NativeMemory.Alloc((nuint)(frames.Count * sizeof(Iovec)));
        var msgs = (Mmsghdr*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(Mmsghdr)));
        try
        {
            long at = 0;
            for (int i = 0; i < frames.Count; i++)
            {
                frames[i].CopyTo(new Span<byte>(mem + at, frames[i].Length));
                iov[i] = new Iovec { Base = mem + at, Length = (nuint)frames[i].Length };
                at += frames[i].Length;
            }
            long sent = 0;
            int next = 0;
            long start = Stopwatch.GetTimestamp();
            long deadline = maxTime is { } t ? start + (long)(t.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
            while (sent < count)
            {
                long now = Stopwatch.GetTimestamp();
                if (now > deadline) break;
                if (framesPerSecond > 0)
                {
                    double allowed = (now - start) * framesPerSecond / Stopwatch.Frequency;
                    if (sent >= allowed)
                    {
                        // Ahead of the schedule: sleep when the next batch is due in >= 2 ms. A spinning
                        // sender took a whole core of this 2-core machine from the gateways it attacks
                        // (the IKE DoS test measured the sender, not the flood: 0.67 of clean throughput).
                        double ahead = (sent - allowed) / framesPerSecond;
                        if (ahead >= 0.002) Thread.Sleep(TimeSpan.FromSeconds(ahead - 0.001));
                        else Thread.SpinWait(200);
                        continue;
                    }
                }
                int n = (int)Math.Min(Batch, count - sent);
                for (int i = 0; i < n; i++)
                {
                    msgs[i].Header = default;
                    msgs[i].Header.Iov = &iov[(next + i) % frames.Count];
                    msgs[i].Header.IovLen = 1;
                    msgs[i].Length = 0;
                }
                int r = sendmmsg(_fd, msgs, (uint)n, 0);
                if (r < 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    if (e is EAGAIN or ENOBUFS or EINTR) { Thread.Sleep(0); continue; }
                    throw new InvalidOperationException($"sendmmsg on {Namespace}/{Interface}: errno {e} after {sent} frames");
                }
                sent += r;
                next = (next + r) % frames.Count;
            }
            return sent;
        }
        finally
        {
            NativeMemory.Free(msgs);
            NativeMemory.Free(iov);
            NativeMemory.Free(mem);
        }
    }

    public void Dispose() => _ = close(_fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrLl
    {
        public ushort Family;
        public ushort Protocol; // network byte order; 0 = transmit only
        public int IfIndex;
        public ushort HaType;
        public byte PktType;
        public byte HaLen;
        public ulong Addr;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Iovec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Msghdr
    {
        public void* Name;
        public uint NameLen;
        public Iovec* Iov;
        public nuint IovLen;
        public void* Control;
        public nuint ControlLen;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Mmsghdr
    {
        public Msghdr Header;
        public uint Length;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(int fd, void* addr, int len);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, void* value, int len);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int sendmmsg(int fd, Mmsghdr* msgs, uint count, int flags);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial uint if_nametoindex(string name);
}
