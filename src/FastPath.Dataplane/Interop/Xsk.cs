using System;
using System.IO;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

// AF_XDP from C#: the socket, UMEM registration, the four rings and their mmap, bind, the kick and
// XDP_STATISTICS are plain system calls (socket/setsockopt/getsockopt/mmap/bind/sendto/poll, the
// [LibraryImport]s of Libc.cs) on the UAPI of linux/if_xdp.h, declared here. Why not libxdp's
// xsk.h helpers: the ring operations there (xsk_ring_prod__reserve, __submit, xsk_ring_cons__peek,
// ...) are static inline functions in the header, not exported by libxdp.so, so C# could only
// reach them through a shim call per batch; written here they are a few loads and release/acquire
// stores on the mmap'ed producer/consumer words, inlined by the JIT. What C# cannot reasonably do
// is loading a BPF ELF object (relocations, BTF, map creation): that is libfastpath_xdp.so
// (native-shims/), reached through XdpShim below.
//
// Ring protocol (Documentation/networking/af_xdp.rst): each ring is a power-of-two array plus a
// producer and a consumer index (free-running u32). The producer writes entries, then publishes
// with a release store of producer; the consumer reads producer with an acquire load, reads the
// entries, then releases them with a release store of consumer. Userspace produces FILL and TX,
// consumes RX and COMPLETION.

internal static class XskConst
{
    public const int AF_XDP = 44;
    public const int SOL_XDP = 283;

    public const int XDP_MMAP_OFFSETS = 1;
    public const int XDP_RX_RING = 2;
    public const int XDP_TX_RING = 3;
    public const int XDP_UMEM_REG = 4;
    public const int XDP_UMEM_FILL_RING = 5;
    public const int XDP_UMEM_COMPLETION_RING = 6;
    public const int XDP_STATISTICS = 7;
    public const int XDP_OPTIONS = 8;
    /// <summary>Descriptors one sendto processes in copy mode (default 32; kernel 6.17+).</summary>
    public const int XDP_MAX_TX_SKB_BUDGET = 9;

    // sockaddr_xdp.sxdp_flags
    public const ushort XDP_SHARED_UMEM = 1 << 0;
    public const ushort XDP_COPY = 1 << 1;
    public const ushort XDP_ZEROCOPY = 1 << 2;
    public const ushort XDP_USE_NEED_WAKEUP = 1 << 3;

    public const uint XDP_RING_NEED_WAKEUP = 1;
    public const uint XDP_OPTIONS_ZEROCOPY = 1;

    public const long XDP_PGOFF_RX_RING = 0;
    public const long XDP_PGOFF_TX_RING = 0x80000000;
    public const long XDP_UMEM_PGOFF_FILL_RING = 0x100000000;
    public const long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000;

    /// <summary>Bytes the kernel keeps in front of the data in each UMEM chunk (copy mode).</summary>
    public const int XDP_PACKET_HEADROOM = 256;

    public const int EBUSY = 16;
    public const int ENETDOWN = 100;
}

/// <summary>struct xdp_umem_reg (with tx_metadata_len, kernel 6.8+; older kernels take the first 28 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XdpUmemReg
{
    public ulong Addr;
    public ulong Len;
    public uint ChunkSize;
    public uint Headroom;
    public uint Flags;
    public uint TxMetadataLen;
}

/// <summary>struct xdp_ring_offset.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XdpRingOffset
{
    public ulong Producer;
    public ulong Consumer;
    public ulong Desc;
    public ulong Flags;
}

/// <summary>struct xdp_mmap_offsets.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XdpMmapOffsets
{
    public XdpRingOffset Rx;
    public XdpRingOffset Tx;
    public XdpRingOffset Fr;
    public XdpRingOffset Cr;
}

/// <summary>struct sockaddr_xdp (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SockaddrXdp
{
    public ushort Family;
    public ushort Flags;
    public uint IfIndex;
    public uint QueueId;
    public uint SharedUmemFd;
}

/// <summary>struct xdp_desc: an RX/TX ring entry (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XdpDesc
{
    public ulong Addr;
    public uint Len;
    public uint Options;
}

/// <summary>struct xdp_statistics (48 bytes; cumulative, not reset by reading).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XdpStatistics
{
    public ulong RxDropped;
    public ulong RxInvalidDescs;
    public ulong TxInvalidDescs;
    public ulong RxRingFull;
    public ulong RxFillRingEmptyDescs;
    public ulong TxRingEmptyDescs;
}

/// <summary>One mmap'ed AF_XDP ring (producer/consumer words, flags, entries).</summary>
internal unsafe struct XskRing
{
    public uint* Producer;
    public uint* Consumer;
    public uint* Flags;
    public void* Ring;
    public uint Mask;
    public uint Size;
    public void* Map;
    public nuint MapSize;
    /// <summary>Our cached copy of the index we own (producer for FILL/TX, consumer for RX/COMPLETION).</summary>
    public uint Cached;
}

/// <summary>libfastpath_xdp.so (native-shims/fastpath_xdp.c), loaded on first use from
/// $FASTPATH_NATIVE_DIR, then the directory of the managed assemblies (AppContext.BaseDirectory),
/// through function pointers: NativeLibrary.Load with an explicit path gives a clear error (the
/// fallback reason) when the shim is missing, and needs no assembly-wide DllImportResolver.
/// Setup-time calls only; nothing here runs per packet.</summary>
internal static unsafe class XdpShim
{
    public const string LibraryName = "libfastpath_xdp.so";
    public const string ObjectName = "fastpath_xdp.bpf.o";
    public const int ModeAuto = 0, ModeNative = 1, ModeGeneric = 2;
    /// <summary>Slots of the program's verdict counters (fastpath_xdp.h).</summary>
    public const int VerdictSlots = 6;

    private static readonly object s_lock = new();
    private static bool s_loaded;
    private static string? s_error;

    private static delegate* unmanaged<byte*, int, int, nint*, byte*, nuint, int> s_attach;
    private static delegate* unmanaged<nint, int> s_mode;
    private static delegate* unmanaged<nint, uint, int, int> s_setXsk;
    private static delegate* unmanaged<nint, uint, int> s_clearXsk;
    private static delegate* unmanaged<nint, uint, uint, int> s_addPassPort;
    private static delegate* unmanaged<nint, ulong*, int, int> s_readVerdicts;
    private static delegate* unmanaged<nint, void> s_detach;

    /// <summary>The directory searched for the shim and the BPF object.</summary>
    public static string NativeDirectory
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("FASTPATH_NATIVE_DIR");
            return string.IsNullOrEmpty(env) ? AppContext.BaseDirectory : env;
        }
    }

    public static string DefaultObjectPath => Path.Combine(NativeDirectory, ObjectName);

    /// <summary>Loads the shim once; false with <paramref name="error"/> when it cannot.</summary>
    public static bool TryLoad(out string? error)
    {
        lock (s_lock)
        {
            if (!s_loaded && s_error == null)
            {
                string path = Path.Combine(NativeDirectory, LibraryName);
                try
                {
                    nint lib = NativeLibrary.Load(path);
                    s_attach = (delegate* unmanaged<byte*, int, int, nint*, byte*, nuint, int>)NativeLibrary.GetExport(lib, "fp_xdp_attach");
                    s_mode = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(lib, "fp_xdp_mode");
                    s_setXsk = (delegate* unmanaged<nint, uint, int, int>)NativeLibrary.GetExport(lib, "fp_xdp_set_xsk");
                    s_clearXsk = (delegate* unmanaged<nint, uint, int>)NativeLibrary.GetExport(lib, "fp_xdp_clear_xsk");
                    s_addPassPort = (delegate* unmanaged<nint, uint, uint, int>)NativeLibrary.GetExport(lib, "fp_xdp_add_pass_port");
                    s_readVerdicts = (delegate* unmanaged<nint, ulong*, int, int>)NativeLibrary.GetExport(lib, "fp_xdp_read_verdicts");
                    s_detach = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(lib, "fp_xdp_detach");
                    s_loaded = true;
                }
                catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
                {
                    s_error = $"cannot load {path} ({e.Message.Trim()}); build it with `make -C native-shims` or set FASTPATH_NATIVE_DIR";
                }
            }
            error = s_error;
            return s_loaded;
        }
    }

    /// <summary>fp_xdp_attach: returns 0 and the handle, or -errno and the shim's reason.</summary>
    public static int Attach(string objectPath, int ifindex, int mode, out nint handle, out string reason)
    {
        handle = 0;
        reason = "";
        byte[] path = System.Text.Encoding.UTF8.GetBytes(objectPath + "\0");
        byte* err = stackalloc byte[512];
        err[0] = 0;
        nint h;
        int rc;
        fixed (byte* p = path) rc = s_attach(p, ifindex, mode, &h, err, 512);
        if (rc == 0) handle = h;
        else reason = Marshal.PtrToStringUTF8((nint)err) ?? $"errno {-rc}";
        return rc;
    }

    public static int Mode(nint h) => s_mode(h);
    public static int SetXsk(nint h, uint queue, int fd) => s_setXsk(h, queue, fd);
    public static int ClearXsk(nint h, uint queue) => s_clearXsk(h, queue);
    public static int AddPassPort(nint h, uint proto, uint port) => s_addPassPort(h, proto, port);
    public static int ReadVerdicts(nint h, ulong* dst, int n) => s_readVerdicts(h, dst, n);
    public static void Detach(nint h) => s_detach(h);
}

internal static unsafe partial class Libc
{
    /// <summary>recvfrom(2): AF_XDP's RX wakeup when the fill ring asks for it (need_wakeup).</summary>
    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint recvfrom(int fd, void* buf, nuint len, int flags, void* srcAddr, uint* addrlen);
}
