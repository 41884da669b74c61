using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Io;

// AF_XDP I/O on one queue of one interface: an XDP program (native-shims/fastpath_xdp.bpf.c)
// steers the frames the dataplane owns into an AF_XDP socket; the rings are driven from C#
// (Interop/Xsk.cs), only program load/attach and map updates go through libfastpath_xdp.so.
//
// Setup (constructor, in the calling thread's network namespace; every failure throws IOException
// with the call and errno text, which PacketIoFactory turns into the fallback reason):
//   if_nametoindex; XdpProgram.Attach (native, else generic) unless a shared program is given
//   socket(AF_XDP, SOCK_RAW|SOCK_CLOEXEC, 0)
//   UMEM: FrameCount x FrameSize bytes, page aligned; XDP_UMEM_REG (headroom 0)
//   ring sizes (FILL = RX = RxFrames, TX = COMPLETION = TxFrames); XDP_MMAP_OFFSETS; mmap the rings
//   FILL gets every RX frame; bind(sockaddr_xdp{ifindex, queue, XDP_USE_NEED_WAKEUP}) (the kernel
//   picks zero-copy if the driver has it, else copy: veth is copy only, IO.md)
//   XDP_MAX_TX_SKB_BUDGET = TxSkbBudget (6.17+; ignored when refused); xsks_map[queue] = fd.
//
// UMEM layout: frames [0, RxFrames) circulate FILL -> kernel -> RX -> us -> FILL; frames
// [RxFrames, RxFrames+TxFrames) circulate free stack -> TX -> kernel -> COMPLETION -> free stack.
// FILL and RX have RxFrames entries, TX and COMPLETION TxFrames: a frame is in exactly one place,
// so a producer never finds its ring full and needs no space check.
//
// RX: Receive peeks the RX ring (acquire load of producer), copies each frame (desc.addr/len)
// into a FrameSlab frame at its headroom (IPacketIo.cs: ESP needs headroom/tailroom; UMEM frames
// must go back at once or the fill ring runs dry) and writes the UMEM address straight back into
// FILL; then a release store of RX.consumer and of FILL.producer per batch. AF_XDP carries no
// checksum metadata, so Packet.Flags is None. Beware (measured, both modes, test
// KernelUdpFromAVethCarriesAPartialChecksum...): a local kernel sender behind a veth with tx
// checksum offload hands over CHECKSUM_PARTIAL frames whose L4 checksum is unfinished, and
// nothing tells us (AF_PACKET flags them). Real NICs deliver complete checksums; on veth turn
// the sender's offload off (ethtool -K <peer> tx off) or recompute L4 checksums. Frames
// larger than a slab frame minus headroom are dropped and counted RxTooBig (cannot happen with
// the default 2048 B chunks: the kernel's limit is chunk - 256 = 1792 B, larger ones it drops as
// rx_dropped).
//
// TX: Transmit reaps COMPLETION into the free stack, copies each packet into a free TX frame,
// writes the descriptors, publishes TX.producer once, and kicks with sendto(MSG_DONTWAIT): in
// copy mode the kernel only transmits inside that call, TxSkbBudget descriptors per call
// (EAGAIN: more are left, call again), so the kick loops (bounded) until the TX ring is drained.
// No free TX frame even after reaping: the rest of the batch is counted TxQueueFull. Zero-copy
// drivers transmit on their own: one sendto only when the TX ring asks (need_wakeup).
//
// Measured 2026-12-01 (2 vCPU shared with other builds, veth, one forwarder thread RX one veth /
// TX another, no crypto; docs/io.md): 0.44 Mpps at 64 B and 0.58 Mpps (6.5 Gbit/s) at 1400 B
// forwarded flat out, 0.44-0.8 us of forwarder CPU per frame, about what AfPacketIo costs; the
// gain is on the receiving veth (XDP redirect instead of skb + tpacket_rcv). Indicative only.
//
// Fail-closed: the program hands every IPv4/IPv6 frame except IKE, ARP, ND and configured
// management ports to this socket, so the kernel never sees the cleartext or the ESP of the
// dataplane. While no socket is bound at the queue, bpf_redirect_map falls back to XDP_PASS.
// The program is attached through a BPF link that nobody else can replace; it detaches when the
// XdpProgram is disposed or the process exits.
//
// Statistics: XDP_STATISTICS (cumulative) via RefreshCounters: rx_ring_full + rx_dropped ->
// RxRingDrops, rx_fill_ring_empty_descs -> RxFillRingEmpty, rx_invalid_descs -> RxInvalidDescs,
// tx_invalid_descs -> TxInvalidDescs. The program's own verdict counters: XdpProgram.ReadVerdicts.

/// <summary>How to attach the XDP program.</summary>
public enum XdpAttachMode
{
    /// <summary>Native (driver) mode, else generic (skb) mode.</summary>
    Auto = 0,
    /// <summary>Native mode only.</summary>
    Native = 1,
    /// <summary>Generic (skb) mode only.</summary>
    Generic = 2,
}

/// <summary>Counters of the XDP program's verdicts, summed over CPUs.</summary>
public readonly record struct XdpVerdictCounts(long Redirected, long PassedIke, long PassedArp, long PassedNd, long PassedManagement, long PassedOther);

/// <summary>FastPath's XDP program attached to one interface (see the AfXdpIo file comment). Shared by
/// the AfXdpIo of every queue of that interface.</summary>
public sealed unsafe class XdpProgram : IDisposable
{
    private nint _handle;

    private XdpProgram(nint handle, int ifindex, string ifname)
    {
        _handle = handle;
        IfIndex = ifindex;
        Interface = ifname;
        Mode = XdpShim.Mode(handle) == XdpShim.ModeNative ? XdpAttachMode.Native : XdpAttachMode.Generic;
    }

    /// <summary>Loads the program from <paramref name="objectPath"/> (default: fastpath_xdp.bpf.o next to
    /// the shim) and attaches it to <paramref name="ifname"/> in the calling thread's network
    /// namespace. Throws IOException with the reason on failure.</summary>
    public static XdpProgram Attach(string ifname, XdpAttachMode mode = XdpAttachMode.Auto, string? objectPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(ifname);
        if (!XdpShim.TryLoad(out string? err)) throw new IOException(err);
        uint ifindex = Libc.if_nametoindex(ifname);
        if (ifindex == 0) throw Errno.Fail($"if_nametoindex(\"{ifname}\") (no such interface in this network namespace?)");
        string path = objectPath ?? XdpShim.DefaultObjectPath;
        if (!File.Exists(path)) throw new IOException($"BPF object {path} not found; build it with `make -C native-shims` or set FASTPATH_NATIVE_DIR");
        int rc = XdpShim.Attach(path, (int)ifindex, (int)mode, out nint h, out string reason);
        if (rc != 0) throw new IOException(reason, -rc);
        return new XdpProgram(h, (int)ifindex, ifname);
    }

    /// <summary>The interface the program is attached to.</summary>
    public string Interface { get; }
    public int IfIndex { get; }
    /// <summary>Native or Generic: how the program ended up attached.</summary>
    public XdpAttachMode Mode { get; }

    /// <summary>Frames with IP protocol TCP (6) or UDP (17) to <paramref name="port"/> go to the kernel
    /// (local management: SSH, a control API). Setup only.</summary>
    public void AddPassPort(int protocol, int port)
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        if (protocol is not (6 or 17)) throw new ArgumentOutOfRangeException(nameof(protocol), "TCP (6) or UDP (17)");
        if (port is < 0 or > 0xFFFF) throw new ArgumentOutOfRangeException(nameof(port));
        int rc = XdpShim.AddPassPort(_handle, (uint)protocol, (uint)port);
        if (rc != 0) throw new IOException($"pass_ports update ({Errno.Describe(-rc)})", -rc);
    }

    /// <summary>The program's verdict counters (a bpf(2) lookup per slot: diagnostics, not per packet).</summary>
    public XdpVerdictCounts ReadVerdicts()
    {
        if (_handle == 0) return default;
        ulong* v = stackalloc ulong[XdpShim.VerdictSlots];
        if (XdpShim.ReadVerdicts(_handle, v, XdpShim.VerdictSlots) != XdpShim.VerdictSlots) return default;
        return new XdpVerdictCounts((long)v[0], (long)v[1], (long)v[2], (long)v[3], (long)v[4], (long)v[5]);
    }

    internal void SetSocket(int queue, int fd)
    {
        int rc = XdpShim.SetXsk(_handle, (uint)queue, fd);
        if (rc != 0) throw new IOException($"xsks_map[{queue}] = AF_XDP socket ({Errno.Describe(-rc)})", -rc);
    }

    internal void ClearSocket(int queue)
    {
        if (_handle != 0) _ = XdpShim.ClearXsk(_handle, (uint)queue);
    }

    public void Dispose()
    {
        nint h = Interlocked.Exchange(ref _handle, 0);
        if (h != 0) XdpShim.Detach(h);
        GC.SuppressFinalize(this);
    }

    ~XdpProgram() => Dispose();
}

/// <summary>Options of an <see cref="AfXdpIo"/>.</summary>
public sealed class AfXdpOptions
{
    /// <summary>Interface name (in the network namespace of the creating thread).</summary>
    public required string Interface { get; init; }
    /// <summary>RX/TX queue the socket binds to (veth: 0 unless created with more queues).</summary>
    public int Queue { get; init; }
    /// <summary>UMEM chunk size: 2048 or 4096 (the kernel's frame limit is this minus 256).</summary>
    public int FrameSize { get; init; } = 2048;
    /// <summary>UMEM frames for RX = FILL and RX ring entries (a power of two).</summary>
    public int RxFrames { get; init; } = 2048;
    /// <summary>UMEM frames for TX = TX and COMPLETION ring entries (a power of two).</summary>
    public int TxFrames { get; init; } = 2048;
    /// <summary>XDP_MAX_TX_SKB_BUDGET: descriptors one kick transmits in copy mode (kernel default 32;
    /// 0 leaves the default). Ignored by kernels before 6.17.</summary>
    public int TxSkbBudget { get; init; } = 256;
    /// <summary>How to attach the program when <see cref="Program"/> is null.</summary>
    public XdpAttachMode Mode { get; init; } = XdpAttachMode.Auto;
    /// <summary>An already attached program (several queues of one interface share it); null: this
    /// endpoint attaches and owns one.</summary>
    public XdpProgram? Program { get; init; }
    /// <summary>BPF object path (default: fastpath_xdp.bpf.o in the native directory).</summary>
    public string? ObjectPath { get; init; }
    /// <summary>TCP ports of local management traffic passed to the kernel.</summary>
    public IReadOnlyList<int> ManagementTcpPorts { get; init; } = [];
    /// <summary>UDP ports of local management traffic passed to the kernel.</summary>
    public IReadOnlyList<int> ManagementUdpPorts { get; init; } = [];
    /// <summary>Flag every received frame ChecksumNotReady, so the pipeline recomputes TCP/UDP
    /// checksums before it encrypts or forwards. AF_XDP carries no CHECKSUM_PARTIAL metadata, and a
    /// veth peer (or any local sender with checksum offload) hands up unfinished checksums; on a
    /// protected-side port of such a link this is the only way to get them right. Cost: one pass over
    /// the L4 bytes per TCP/UDP packet.</summary>
    public bool AssumeChecksumNotReady { get; init; }
}

/// <summary>AF_XDP packet I/O bound to one queue of one interface (see the file comment).</summary>
[SkipLocalsInit]
public sealed unsafe class AfXdpIo : IPacketIo
{
    private const int MaxKicks = 64;

    private int _fd = -1;
    private byte* _umem;
    private nuint _umemSize;
    private readonly int _frameSize;
    private readonly ulong _chunkMask;
    private XskRing _rx, _tx, _fill, _comp;
    private ulong* _txFree;
    private int _txFreeCount;
    private XdpProgram? _program;
    private readonly PacketFlags _assumePartial;
    private readonly bool _ownsProgram;
    private readonly int _queue;
    private XdpStatistics _lastStats;

    public AfXdpIo(AfXdpOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.Interface)) throw new ArgumentException("no interface name", nameof(options));
        if (options.FrameSize is not (2048 or 4096)) throw new ArgumentOutOfRangeException(nameof(options), "FrameSize must be 2048 or 4096");
        if (!IsPow2(options.RxFrames) || !IsPow2(options.TxFrames) || options.RxFrames < 64 || options.TxFrames < 64 || options.RxFrames + options.TxFrames > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(options), "RxFrames and TxFrames must be powers of two, 64..2^19");
        if (options.Queue is < 0 or >= 64) throw new ArgumentOutOfRangeException(nameof(options), "Queue must be 0..63");
        if (options.TxSkbBudget < 0) throw new ArgumentOutOfRangeException(nameof(options), "TxSkbBudget must be >= 0");

        Interface = options.Interface;
        _frameSize = options.FrameSize;
        _assumePartial = options.AssumeChecksumNotReady ? PacketFlags.ChecksumNotReady : PacketFlags.None;
        _chunkMask = ~(ulong)(options.FrameSize - 1);
        _queue = options.Queue;

        uint ifindex = Libc.if_nametoindex(options.Interface);
        if (ifindex == 0) throw Errno.Fail($"if_nametoindex(\"{options.Interface}\") (no such interface in this network namespace?)");
        IfIndex = (int)ifindex;

        try
        {
            if (options.Program is { } shared)
            {
                if (shared.IfIndex != IfIndex) throw new ArgumentException($"the XdpProgram is attached to {shared.Interface}, not {options.Interface}", nameof(options));
                _program = shared;
            }
            else
            {
                _program = XdpProgram.Attach(options.Interface, options.Mode, options.ObjectPath);
                _ownsProgram = true;
                foreach (int port in options.ManagementTcpPorts) _program.AddPassPort(6, port);
                foreach (int port in options.ManagementUdpPorts) _program.AddPassPort(17, port);
            }

            _fd = Libc.socket(XskConst.AF_XDP, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
            if (_fd < 0) throw Errno.Fail("socket(AF_XDP, SOCK_RAW) (needs CAP_NET_RAW, CONFIG_XDP_SOCKETS)");

            int frames = options.RxFrames + options.TxFrames;
            _umemSize = (nuint)frames * (nuint)options.FrameSize;
            _umem = (byte*)NativeMemory.AlignedAlloc(_umemSize, 4096);
            NativeMemory.Clear(_umem, _umemSize);
            var reg = new XdpUmemReg { Addr = (ulong)_umem, Len = _umemSize, ChunkSize = (uint)options.FrameSize, Headroom = 0, Flags = 0, TxMetadataLen = 0 };
            if (Libc.setsockopt(_fd, XskConst.SOL_XDP, XskConst.XDP_UMEM_REG, &reg, (uint)sizeof(XdpUmemReg)) != 0)
                throw Errno.Fail($"setsockopt(XDP_UMEM_REG, {frames} x {options.FrameSize} B) (RLIMIT_MEMLOCK?)");

            SetInt(XskConst.XDP_UMEM_FILL_RING, options.RxFrames, "setsockopt(XDP_UMEM_FILL_RING)");
            SetInt(XskConst.XDP_UMEM_COMPLETION_RING, options.TxFrames, "setsockopt(XDP_UMEM_COMPLETION_RING)");
            SetInt(XskConst.XDP_RX_RING, options.RxFrames, "setsockopt(XDP_RX_RING)");
            SetInt(XskConst.XDP_TX_RING, options.TxFrames, "setsockopt(XDP_TX_RING)");

            XdpMmapOffsets off;
            uint len = (uint)sizeof(XdpMmapOffsets);
            if (Libc.getsockopt(_fd, XskConst.SOL_XDP, XskConst.XDP_MMAP_OFFSETS, &off, &len) != 0) throw Errno.Fail("getsockopt(XDP_MMAP_OFFSETS)");
            _fill = MapRing(off.Fr, (uint)options.RxFrames, sizeof(ulong), XskConst.XDP_UMEM_PGOFF_FILL_RING, "FILL");
            _comp = MapRing(off.Cr, (uint)options.TxFrames, sizeof(ulong), XskConst.XDP_UMEM_PGOFF_COMPLETION_RING, "COMPLETION");
            _rx = MapRing(off.Rx, (uint)options.RxFrames, sizeof(XdpDesc), XskConst.XDP_PGOFF_RX_RING, "RX");
            _tx = MapRing(off.Tx, (uint)options.TxFrames, sizeof(XdpDesc), XskConst.XDP_PGOFF_TX_RING, "TX");

            // Every RX frame into FILL before bind: the kernel can receive from the first frame on.
            ulong* fill = (ulong*)_fill.Ring;
            _fill.Cached = *_fill.Producer;
            for (int i = 0; i < options.RxFrames; i++) fill[(_fill.Cached++) & _fill.Mask] = (ulong)i * (ulong)options.FrameSize;
            Volatile.Write(ref *_fill.Producer, _fill.Cached);
            _rx.Cached = *_rx.Consumer;
            _tx.Cached = *_tx.Producer;
            _comp.Cached = *_comp.Consumer;

            _txFree = (ulong*)NativeMemory.Alloc((nuint)options.TxFrames, sizeof(ulong));
            for (int i = 0; i < options.TxFrames; i++) _txFree[i] = (ulong)(options.RxFrames + i) * (ulong)options.FrameSize;
            _txFreeCount = options.TxFrames;

            var sxdp = new SockaddrXdp { Family = XskConst.AF_XDP, Flags = XskConst.XDP_USE_NEED_WAKEUP, IfIndex = ifindex, QueueId = (uint)options.Queue };
            if (Libc.bind(_fd, &sxdp, (uint)sizeof(SockaddrXdp)) != 0) throw Errno.Fail($"bind(AF_XDP, {options.Interface} queue {options.Queue})");

            if (options.TxSkbBudget > 0)
            {
                int budget = Math.Min(options.TxSkbBudget, options.TxFrames);
                TxSkbBudget = Libc.setsockopt(_fd, XskConst.SOL_XDP, XskConst.XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(int)) == 0 ? budget : 0;
            }

            uint opts = 0;
            len = sizeof(uint);
            ZeroCopy = Libc.getsockopt(_fd, XskConst.SOL_XDP, XskConst.XDP_OPTIONS, &opts, &len) == 0 && (opts & XskConst.XDP_OPTIONS_ZEROCOPY) != 0;

            _program.SetSocket(options.Queue, _fd);
        }
        catch
        {
            Release();
            throw;
        }
    }

    private static bool IsPow2(int v) => v > 0 && (v & (v - 1)) == 0;

    private void SetInt(int name, int value, string what)
    {
        if (Libc.setsockopt(_fd, XskConst.SOL_XDP, name, &value, sizeof(int)) != 0) throw Errno.Fail(what);
    }

    private XskRing MapRing(in XdpRingOffset o, uint entries, int entrySize, long pgoff, string name)
    {
        nuint size = (nuint)o.Desc + (nuint)entries * (nuint)entrySize;
        nint map = Libc.mmap(null, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, _fd, (nint)pgoff);
        if (map == Libc.MAP_FAILED) throw Errno.Fail($"mmap of the {name} ring ({size} B)");
        byte* b = (byte*)map;
        return new XskRing
        {
            Map = b,
            MapSize = size,
            Producer = (uint*)(b + o.Producer),
            Consumer = (uint*)(b + o.Consumer),
            Flags = (uint*)(b + o.Flags),
            Ring = b + o.Desc,
            Size = entries,
            Mask = entries - 1,
        };
    }

    /// <summary>The interface name.</summary>
    public string Interface { get; }
    /// <summary>The interface index (in the socket's network namespace).</summary>
    public int IfIndex { get; }
    /// <summary>The queue the socket is bound to.</summary>
    public int Queue => _queue;
    /// <summary>How the XDP program is attached (Native or Generic).</summary>
    public XdpAttachMode Mode => _program?.Mode ?? XdpAttachMode.Auto;
    /// <summary>True if the kernel bound in zero-copy mode (never on veth).</summary>
    public bool ZeroCopy { get; }
    /// <summary>The XDP_MAX_TX_SKB_BUDGET in effect (0: the kernel default of 32, or refused).</summary>
    public int TxSkbBudget { get; }
    /// <summary>The XDP program steering this queue.</summary>
    public XdpProgram? Program => _program;
    /// <summary>errno of the last failed kick (0 if none): diagnostics only.</summary>
    public int LastTxErrno { get; private set; }

    /// <summary>"AF_XDP (native, copy)" and the like.</summary>
    public string Description => $"AF_XDP ({(Mode == XdpAttachMode.Native ? "native" : "generic")}, {(ZeroCopy ? "zero-copy" : "copy")}) {Interface} queue {_queue}";

    public IoCounters Counters { get; } = new();

    public int Receive(Span<Packet> packets, FrameSlab slab)
    {
        if (_fd < 0) return 0;
        uint cons = _rx.Cached;
        uint avail = Volatile.Read(ref *_rx.Producer) - cons;
        if (avail == 0)
        {
            WakeRxIfAsked();
            return 0;
        }
        uint want = Math.Min(avail, (uint)packets.Length);
        int room = slab.FrameSize - slab.Headroom;
        XdpDesc* ring = (XdpDesc*)_rx.Ring;
        ulong* fill = (ulong*)_fill.Ring;
        uint fillProd = _fill.Cached;
        IoCounters c = Counters;
        int n = 0;
        long bytes = 0;
        uint done = 0;
        for (; done < want; done++)
        {
            XdpDesc* d = &ring[(cons + done) & _rx.Mask];
            int len = (int)d->Len;
            if (len > room)
            {
                c._rxTooBig++;
            }
            else
            {
                if (!slab.TryRent(out Packet p)) break;   // this frame stays in RX; the next call resumes here
                Buffer.MemoryCopy(_umem + d->Addr, p.Frame + p.Offset, room, len);
                p.Length = len;
                p.Flags = _assumePartial;
                packets[n++] = p;
                bytes += len;
            }
            fill[(fillProd++) & _fill.Mask] = d->Addr & _chunkMask;
        }
        if (done != 0)
        {
            _rx.Cached = cons + done;
            Volatile.Write(ref *_rx.Consumer, _rx.Cached);     // release: our reads of the frames are done
            _fill.Cached = fillProd;
            Volatile.Write(ref *_fill.Producer, fillProd);      // release: the addresses are written
        }
        c._rxPackets += n;
        c._rxBytes += bytes;
        return n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WakeRxIfAsked()
    {
        // need_wakeup on FILL (drivers that stop polling when FILL ran dry): a non-blocking recvfrom
        // wakes them. Copy mode never sets it; cheap to check.
        if ((Volatile.Read(ref *_fill.Flags) & XskConst.XDP_RING_NEED_WAKEUP) != 0)
            _ = Libc.recvfrom(_fd, null, 0, Libc.MSG_DONTWAIT, null, null);
    }

    private bool RxPending => Volatile.Read(ref *_rx.Producer) != _rx.Cached;

    public bool WaitForReceive(int timeoutMs)
    {
        if (_fd < 0) return false;
        if (RxPending) return true;
        if (timeoutMs == 0) return false;
        PollFd pfd;
        pfd.Fd = _fd;
        pfd.Events = Libc.POLLIN;
        pfd.REvents = 0;
        int r = Libc.poll(&pfd, 1, timeoutMs);
        if (r < 0 && Marshal.GetLastPInvokeError() != Libc.EINTR) Counters._pollErrors++;
        return RxPending;
    }

    /// <summary>Moves completed TX frames back to the free stack.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReapCompletions()
    {
        uint cons = _comp.Cached;
        uint avail = Volatile.Read(ref *_comp.Producer) - cons;
        if (avail == 0) return;
        ulong* ring = (ulong*)_comp.Ring;
        for (uint i = 0; i < avail; i++) _txFree[_txFreeCount++] = ring[(cons + i) & _comp.Mask] & _chunkMask;
        _comp.Cached = cons + avail;
        Volatile.Write(ref *_comp.Consumer, _comp.Cached);
    }

    public int Transmit(ReadOnlySpan<Packet> packets)
    {
        if (_fd < 0) return 0;
        IoCounters c = Counters;
        ReapCompletions();
        if (_txFreeCount < packets.Length && packets.Length > 0)
        {
            // Not enough free frames: the kernel may still hold the last batch's; one kick and reap.
            Kick();
            ReapCompletions();
        }
        XdpDesc* ring = (XdpDesc*)_tx.Ring;
        uint prod = _tx.Cached;
        int sent = 0;
        long bytes = 0;
        for (int i = 0; i < packets.Length; i++)
        {
            ref readonly Packet p = ref packets[i];
            if (p.Length <= 0 || p.Length > _frameSize)
            {
                c._txErrors++;
                continue;
            }
            if (_txFreeCount == 0)
            {
                c._txQueueFull += packets.Length - i;
                break;
            }
            ulong addr = _txFree[--_txFreeCount];
            Buffer.MemoryCopy(p.Frame + p.Offset, _umem + addr, _frameSize, p.Length);
            XdpDesc* d = &ring[(prod++) & _tx.Mask];
            d->Addr = addr;
            d->Len = (uint)p.Length;
            d->Options = 0;
            sent++;
            bytes += p.Length;
        }
        if (sent != 0)
        {
            _tx.Cached = prod;
            Volatile.Write(ref *_tx.Producer, prod);   // release: descriptors and data are written
            Kick();
        }
        c._txPackets += sent;
        c._txBytes += bytes;
        return sent;
    }

    /// <summary>sendto kick until the kernel has consumed the TX ring (copy mode transmits only inside
    /// the call, TxSkbBudget per call, EAGAIN when more is left), bounded by MaxKicks.</summary>
    private void Kick()
    {
        if (ZeroCopy)
        {
            // Zero-copy drivers transmit on their own; they ask for a wakeup through the TX ring flag.
            if ((Volatile.Read(ref *_tx.Flags) & XskConst.XDP_RING_NEED_WAKEUP) != 0)
                _ = Libc.sendto(_fd, null, 0, Libc.MSG_DONTWAIT, null, 0);
            return;
        }
        for (int k = 0; k < MaxKicks; k++)
        {
            if (Volatile.Read(ref *_tx.Consumer) == _tx.Cached) return;   // all taken
            nint r = Libc.sendto(_fd, null, 0, Libc.MSG_DONTWAIT, null, 0);
            if (r >= 0) continue;
            int errno = Marshal.GetLastPInvokeError();
            if (errno is Libc.EAGAIN or XskConst.EBUSY or Libc.ENOBUFS or Libc.EINTR)
            {
                // more left (budget), the device queue is busy, or no skb: try again
                if (errno != Libc.EAGAIN) ReapCompletions();
                continue;
            }
            LastTxErrno = errno;   // ENETDOWN, ENXIO...: the descriptors stay; the next Transmit retries
            Counters._txErrors++;
            return;
        }
    }

    public void RefreshCounters()
    {
        if (_fd < 0) return;
        XdpStatistics st;
        uint len = (uint)sizeof(XdpStatistics);
        if (Libc.getsockopt(_fd, XskConst.SOL_XDP, XskConst.XDP_STATISTICS, &st, &len) != 0) return;
        IoCounters c = Counters;
        c._rxRingDrops += (long)(st.RxRingFull - _lastStats.RxRingFull + st.RxDropped - _lastStats.RxDropped);
        c._rxFillRingEmpty += (long)(st.RxFillRingEmptyDescs - _lastStats.RxFillRingEmptyDescs);
        c._rxInvalidDescs += (long)(st.RxInvalidDescs - _lastStats.RxInvalidDescs);
        c._txInvalidDescs += (long)(st.TxInvalidDescs - _lastStats.TxInvalidDescs);
        _lastStats = st;
    }

    private void Release()
    {
        if (_fd >= 0)
        {
            _program?.ClearSocket(_queue);
            _ = Libc.close(_fd);
            _fd = -1;
        }
        UnmapRing(ref _rx);
        UnmapRing(ref _tx);
        UnmapRing(ref _fill);
        UnmapRing(ref _comp);
        if (_umem != null)
        {
            NativeMemory.AlignedFree(_umem);
            _umem = null;
        }
        if (_txFree != null)
        {
            NativeMemory.Free(_txFree);
            _txFree = null;
        }
        if (_ownsProgram) _program?.Dispose();
        _program = null;
    }

    private static void UnmapRing(ref XskRing r)
    {
        if (r.Map != null)
        {
            _ = Libc.munmap(r.Map, r.MapSize);
            r = default;
        }
    }

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    ~AfXdpIo() => Release();
}
