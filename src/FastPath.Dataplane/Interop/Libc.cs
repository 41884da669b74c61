using System;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

// libc system calls used by the packet I/O layer (Linux x86-64 / arm64 LP64 ABI), as
// [LibraryImport] source-generated P/Invokes: no marshalling stubs at run time, blittable
// arguments only (pointers, ints), strings as UTF-8. Every call sets errno
// (SetLastError = true): read it with Marshal.GetLastPInvokeError() right after the call, and
// turn it into text with Errno.Describe. Hot-path calls (poll, sendmmsg) are never allowed to
// throw: callers count failures. Setup calls throw via Errno.Throw with the errno text.
//
// The struct layouts below are the kernel's UAPI (linux/if_packet.h, linux/socket.h,
// sys/socket.h), checked by size in the tests.

internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    // Address / protocol families and socket options.
    public const int AF_PACKET = 17;
    public const int SOCK_RAW = 3;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_RCVBUF = 8;
    public const int SO_SNDBUF = 7;
    public const int SO_SNDBUFFORCE = 32;
    public const int SOL_PACKET = 263;
    public const ushort ETH_P_ALL = 0x0003;

    public const int PACKET_RX_RING = 5;
    public const int PACKET_STATISTICS = 6;
    public const int PACKET_VERSION = 10;
    public const int PACKET_FANOUT = 18;
    public const int PACKET_QDISC_BYPASS = 20;
    public const int PACKET_IGNORE_OUTGOING = 23;
    public const int TPACKET_V3 = 2;
    public const int PACKET_FANOUT_HASH = 0;
    public const int PACKET_FANOUT_FLAG_DEFRAG = 0x8000;

    // tp_status bits (linux/if_packet.h).
    public const uint TP_STATUS_KERNEL = 0;
    public const uint TP_STATUS_USER = 1 << 0;
    public const uint TP_STATUS_COPY = 1 << 1;
    public const uint TP_STATUS_LOSING = 1 << 2;
    public const uint TP_STATUS_CSUMNOTREADY = 1 << 3;
    public const uint TP_STATUS_VLAN_VALID = 1 << 4;
    public const uint TP_STATUS_VLAN_TPID_VALID = 1 << 6;
    public const uint TP_STATUS_CSUM_VALID = 1 << 7;

    public const int PROT_READ = 1;
    public const int PROT_WRITE = 2;
    public const int MAP_SHARED = 1;
    public const int MAP_LOCKED = 0x2000;
    public const int MAP_POPULATE = 0x8000;
    public static readonly nint MAP_FAILED = -1;

    public const short POLLIN = 0x001;
    public const short POLLERR = 0x008;
    public const short POLLHUP = 0x010;

    public const int MSG_DONTWAIT = 0x40;

    public const int O_RDONLY = 0;
    public const int O_CLOEXEC = 0x80000;
    public const int CLONE_NEWNET = 0x40000000;

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOBUFS = 105;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int bind(int fd, void* addr, uint addrlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int optname, void* optval, uint optlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int optname, void* optval, uint* optlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int munmap(void* addr, nuint length);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sendmmsg(int fd, MMsgHdr* msgvec, uint vlen, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint sendto(int fd, void* buf, nuint len, int flags, void* destAddr, uint addrlen);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint if_nametoindex(string ifname);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    /// <summary>Host to network byte order for 16 bits.</summary>
    public static ushort Htons(ushort v) => BitConverter.IsLittleEndian ? (ushort)((v >> 8) | (v << 8)) : v;
}

/// <summary>struct sockaddr_ll (linux/if_packet.h), 20 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SockaddrLl
{
    public ushort Family;
    public ushort Protocol;      // network byte order
    public int IfIndex;
    public ushort HaType;
    public byte PktType;
    public byte HaLen;
    public fixed byte Addr[8];
}

/// <summary>struct tpacket_req3 (linux/if_packet.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TpacketReq3
{
    public uint BlockSize;
    public uint BlockNr;
    public uint FrameSize;
    public uint FrameNr;
    public uint RetireBlkTov;
    public uint SizeofPriv;
    public uint FeatureReqWord;
}

/// <summary>struct tpacket_stats_v3: read-and-reset counters of PACKET_STATISTICS.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TpacketStatsV3
{
    public uint Packets;
    public uint Drops;
    public uint FreezeQCount;
}

/// <summary>struct tpacket_block_desc with its tpacket_hdr_v1 (48 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct TpacketBlockDesc
{
    [FieldOffset(0)] public uint Version;
    [FieldOffset(4)] public uint OffsetToPriv;
    [FieldOffset(8)] public uint BlockStatus;
    [FieldOffset(12)] public uint NumPkts;
    [FieldOffset(16)] public uint OffsetToFirstPkt;
    [FieldOffset(20)] public uint BlkLen;
    [FieldOffset(24)] public ulong SeqNum;
    [FieldOffset(32)] public uint TsFirstSec;
    [FieldOffset(36)] public uint TsFirstNsec;
    [FieldOffset(40)] public uint TsLastSec;
    [FieldOffset(44)] public uint TsLastNsec;
}

/// <summary>struct tpacket3_hdr (48 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct Tpacket3Hdr
{
    [FieldOffset(0)] public uint NextOffset;
    [FieldOffset(4)] public uint Sec;
    [FieldOffset(8)] public uint Nsec;
    [FieldOffset(12)] public uint SnapLen;
    [FieldOffset(16)] public uint Len;
    [FieldOffset(20)] public uint Status;
    [FieldOffset(24)] public ushort Mac;
    [FieldOffset(26)] public ushort Net;
    [FieldOffset(28)] public uint RxHash;
    [FieldOffset(32)] public uint VlanTci;
    [FieldOffset(36)] public ushort VlanTpid;
}

[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short REvents;
}

/// <summary>struct iovec.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}

/// <summary>struct mmsghdr = struct msghdr (56 bytes on LP64, msg_flags at 48) + msg_len at 56, padded to 64.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal unsafe struct MMsgHdr
{
    [FieldOffset(0)] public void* Name;
    [FieldOffset(8)] public uint NameLen;
    [FieldOffset(16)] public IoVec* Iov;
    [FieldOffset(24)] public nuint IovLen;
    [FieldOffset(32)] public void* Control;
    [FieldOffset(40)] public nuint ControlLen;
    [FieldOffset(48)] public int Flags;
    [FieldOffset(56)] public uint Len;
}

/// <summary>errno helpers for setup errors (which throw) and diagnostics.</summary>
internal static class Errno
{
    public static string Describe(int errno) => $"errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}";

    /// <summary>Throws an IOException naming the call and errno text, with the errno of the last P/Invoke.</summary>
    public static Exception Fail(string what)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new System.IO.IOException($"{what} failed ({Describe(errno)})", errno);
    }
}
