using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Io;

// AF_PACKET I/O on one interface: a TPACKET_V3 block RX ring and batched sendmmsg TX, pure
// [LibraryImport] interop (Interop/Libc.cs), no native shim.
//
// Setup (constructor; every failure throws IOException with the call and errno text):
//   if_nametoindex(name) in the calling thread's network namespace (see NetworkNamespace.Run)
//   socket(AF_PACKET, SOCK_RAW|SOCK_CLOEXEC, 0)      protocol 0: nothing is queued before bind
//   PACKET_VERSION = TPACKET_V3; PACKET_RX_RING (BlockCount x BlockSize, retire timeout); mmap
//   PACKET_QDISC_BYPASS (TX skips the qdisc: dev_direct_xmit), PACKET_IGNORE_OUTGOING (our own TX
//   is not looped back into our ring)
//   bind(sockaddr_ll{ ETH_P_ALL, ifindex })             only this interface, every EtherType
//   PACKET_FANOUT (group id | PACKET_FANOUT_HASH << 16) when a group is given: sockets of one group
//   (one per worker) share the interface's traffic by flow hash. Must come after bind.
// A transmit-only endpoint (Receive = false) has no ring and binds with protocol 0: it sees nothing.
//
// RX: the ring is BlockCount blocks; the kernel fills a block with frames back to back
// (tpacket3_hdr + sockaddr_ll + frame) and hands it over (block_status TP_STATUS_USER) when it is
// full or RetireTimeoutMs passed. Receive walks the frames of the current block, copies each
// (from tp_mac, snaplen bytes) into a FrameSlab frame at its headroom, and returns the block to the
// kernel (Volatile.Write TP_STATUS_KERNEL: a release store, after all reads of it) as soon as its
// last frame is copied; a batch can end inside a block and the next Receive resumes there. The copy
// is deliberate: ESP needs headroom and tailroom that ring frames do not have, and holding a block
// across processing would stall the ring (IPacketIo.cs). Per frame:
//   - Packet.Offset is at the Ethernet header; Length is the whole L2 frame;
//   - a VLAN tag the kernel stripped (TP_STATUS_VLAN_VALID) is put back as an 802.1Q/802.1ad header
//     so the worker sees the frame as on the wire (counted RxVlanReinserted);
//   - TP_STATUS_CSUMNOTREADY (CHECKSUM_PARTIAL, typical on veth) sets PacketFlags.ChecksumNotReady
//     and is counted: the L4 checksum must be completed before the packet leaves (IO.md pitfall 1);
//     TP_STATUS_CSUM_VALID sets PacketFlags.ChecksumValid;
//   - frames longer than a slab frame minus headroom (GRO super-frames: turn GRO off on the
//     gateway's interfaces) or truncated by the ring are dropped and counted RxTooBig.
// WaitForReceive checks the current block first and only calls poll(2) when it is still the
// kernel's. Ring drops (ring full) come from PACKET_STATISTICS via RefreshCounters.
//
// TX: sendmmsg(2) of up to MaxTxBatch frames per call from pre-allocated native mmsghdr/iovec
// arrays (msg_name NULL: the bound interface). IO.md measured batched sendmmsg faster than the
// TX ring on this machine (0.90 vs 0.79 Mpps at 64 B). The socket is blocking, so a full socket
// send buffer waits briefly instead of dropping; a message the kernel refuses (ENOBUFS, ENETDOWN,
// EMSGSIZE, ...) is counted TxErrors and skipped, so every iteration makes progress.
//
// Measured 2026-12-01 (this machine: 2 vCPU, kernel 6.18, veth pair between two namespaces, one
// process: one thread sends batches of 64 as fast as it can in ns a, another receives in ns b, 2 s,
// IoNetnsTests.MeasureReceivePps...): 64 B 0.61 Mpps received (= sent, 0 ring drops); 1400 B
// 0.54 Mpps (6.1 Gbit/s, 0 ring drops). The sender is the bottleneck: its sendmmsg runs the whole
// veth receive path (softirq) inline. One run; runs here vary by 15-25 % (IO.md).
// Ring capacity: with a light load every block is retired after RetireTimeoutMs, so a reader that
// stalls loses frames after about BlockCount x RetireTimeoutMs (64 ms by default), not only when the
// BlockCount x BlockSize bytes are full.

/// <summary>Options of an <see cref="AfPacketIo"/>.</summary>
public sealed class AfPacketOptions
{
    /// <summary>Interface name (in the network namespace of the creating thread).</summary>
    public required string Interface { get; init; }
    /// <summary>Open the RX ring (false: a transmit-only socket that receives nothing).</summary>
    public bool Receive { get; init; } = true;
    /// <summary>RX ring block size in bytes (a multiple of the page size).</summary>
    public int BlockSize { get; init; } = 1 << 20;
    /// <summary>Number of RX ring blocks (BlockSize x BlockCount of locked-in kernel memory; IO.md:
    /// 16 MiB was too small for bursts of 1400 B frames).</summary>
    public int BlockCount { get; init; } = 32;
    /// <summary>tp_frame_size (V3 packs frames by their real size; this only bounds frame_nr).</summary>
    public int FrameSize { get; init; } = 2048;
    /// <summary>A partly filled block is handed to userspace after this many milliseconds.</summary>
    public int RetireTimeoutMs { get; init; } = 2;
    /// <summary>PACKET_QDISC_BYPASS on transmit.</summary>
    public bool QdiscBypass { get; init; } = true;
    /// <summary>PACKET_IGNORE_OUTGOING: do not receive our own transmitted frames.</summary>
    public bool IgnoreOutgoing { get; init; } = true;
    /// <summary>PACKET_FANOUT group id (0-65535) with PACKET_FANOUT_HASH, or null for none.</summary>
    public int? FanoutGroup { get; init; }
    /// <summary>Frames per sendmmsg call.</summary>
    public int MaxTxBatch { get; init; } = 256;
    /// <summary>Put a VLAN tag the kernel stripped back into the frame.</summary>
    public bool ReinsertVlan { get; init; } = true;
}

/// <summary>AF_PACKET packet I/O bound to one interface (see the file comment).</summary>
[SkipLocalsInit]
public sealed unsafe class AfPacketIo : IPacketIo
{
    private int _fd = -1;
    private byte* _ring;
    private nuint _ringSize;
    private readonly int _blockSize;
    private readonly int _blockCount;
    private readonly bool _reinsertVlan;

    // RX walk state.
    private int _block;
    private uint _pktLeft;
    private byte* _pkt;

    // TX scratch (native, allocated once).
    private MMsgHdr* _msgs;
    private IoVec* _iovs;
    private readonly int _maxTx;

    public AfPacketIo(AfPacketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.Interface)) throw new ArgumentException("no interface name", nameof(options));
        if (options.MaxTxBatch <= 0 || options.MaxTxBatch > 1024) throw new ArgumentOutOfRangeException(nameof(options), "MaxTxBatch must be 1..1024");
        if (options.FanoutGroup is < 0 or > 0xFFFF) throw new ArgumentOutOfRangeException(nameof(options), "FanoutGroup must be 0..65535");
        if (options.Receive)
        {
            if (options.BlockSize < 4096 || options.BlockSize % 4096 != 0) throw new ArgumentOutOfRangeException(nameof(options), "BlockSize must be a multiple of 4096");
            if (options.BlockCount <= 0) throw new ArgumentOutOfRangeException(nameof(options), "BlockCount must be positive");
            if (options.FrameSize < 128 || options.FrameSize % 16 != 0 || options.FrameSize > options.BlockSize)
                throw new ArgumentOutOfRangeException(nameof(options), "FrameSize must be a multiple of 16, at least 128, at most BlockSize");
        }

        Interface = options.Interface;
        _blockSize = options.BlockSize;
        _blockCount = options.Receive ? options.BlockCount : 0;
        _reinsertVlan = options.ReinsertVlan;
        _maxTx = options.MaxTxBatch;

        uint ifindex = Libc.if_nametoindex(options.Interface);
        if (ifindex == 0) throw Errno.Fail($"if_nametoindex(\"{options.Interface}\") (no such interface in this network namespace?)");
        IfIndex = (int)ifindex;

        try
        {
            _fd = Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
            if (_fd < 0) throw Errno.Fail("socket(AF_PACKET, SOCK_RAW) (needs CAP_NET_RAW)");

            if (options.Receive)
            {
                SetInt(Libc.SOL_PACKET, Libc.PACKET_VERSION, Libc.TPACKET_V3, "setsockopt(PACKET_VERSION, TPACKET_V3)");
                var req = new TpacketReq3
                {
                    BlockSize = (uint)options.BlockSize,
                    BlockNr = (uint)options.BlockCount,
                    FrameSize = (uint)options.FrameSize,
                    FrameNr = (uint)(options.BlockSize / options.FrameSize * options.BlockCount),
                    RetireBlkTov = (uint)Math.Max(1, options.RetireTimeoutMs),
                    SizeofPriv = 0,
                    FeatureReqWord = 0,
                };
                if (Libc.setsockopt(_fd, Libc.SOL_PACKET, Libc.PACKET_RX_RING, &req, (uint)sizeof(TpacketReq3)) != 0)
                    throw Errno.Fail($"setsockopt(PACKET_RX_RING, {options.BlockCount} x {options.BlockSize} B)");
                _ringSize = (nuint)options.BlockSize * (nuint)options.BlockCount;
                nint map = Libc.mmap(null, _ringSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, _fd, 0);
                if (map == Libc.MAP_FAILED) throw Errno.Fail($"mmap of the RX ring ({_ringSize} B)");
                _ring = (byte*)map;
            }

            if (options.QdiscBypass) SetInt(Libc.SOL_PACKET, Libc.PACKET_QDISC_BYPASS, 1, "setsockopt(PACKET_QDISC_BYPASS)");
            if (options.IgnoreOutgoing) SetInt(Libc.SOL_PACKET, Libc.PACKET_IGNORE_OUTGOING, 1, "setsockopt(PACKET_IGNORE_OUTGOING)");

            var sll = new SockaddrLl
            {
                Family = Libc.AF_PACKET,
                Protocol = options.Receive ? Libc.Htons(Libc.ETH_P_ALL) : (ushort)0,
                IfIndex = IfIndex,
            };
            if (Libc.bind(_fd, &sll, (uint)sizeof(SockaddrLl)) != 0) throw Errno.Fail($"bind(AF_PACKET, {options.Interface} ifindex {IfIndex})");

            if (options.FanoutGroup is int group)
            {
                if (!options.Receive) throw new ArgumentException("PACKET_FANOUT needs Receive = true", nameof(options));
                SetInt(Libc.SOL_PACKET, Libc.PACKET_FANOUT, group | (Libc.PACKET_FANOUT_HASH << 16), $"setsockopt(PACKET_FANOUT, group {group}, hash)");
            }

            _msgs = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)_maxTx, (nuint)sizeof(MMsgHdr));
            _iovs = (IoVec*)NativeMemory.AllocZeroed((nuint)_maxTx, (nuint)sizeof(IoVec));
            for (int i = 0; i < _maxTx; i++)
            {
                _msgs[i].Iov = &_iovs[i];
                _msgs[i].IovLen = 1;
            }
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>The interface name.</summary>
    public string Interface { get; }
    /// <summary>The interface index (in the socket's network namespace).</summary>
    public int IfIndex { get; }
    /// <summary>errno of the last failed sendmmsg (0 if none): diagnostics only.</summary>
    public int LastTxErrno { get; private set; }

    public IoCounters Counters { get; } = new();

    private void SetInt(int level, int name, int value, string what)
    {
        if (Libc.setsockopt(_fd, level, name, &value, sizeof(int)) != 0) throw Errno.Fail(what);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TpacketBlockDesc* BlockAt(int index) => (TpacketBlockDesc*)(_ring + (nint)index * _blockSize);

    public int Receive(Span<Packet> packets, FrameSlab slab)
    {
        if (_ring == null) return 0;
        int n = 0;
        long bytes = 0;
        int room = slab.FrameSize - slab.Headroom;
        IoCounters c = Counters;
        while (n < packets.Length)
        {
            if (_pktLeft == 0)
            {
                TpacketBlockDesc* bd = BlockAt(_block);
                if ((Volatile.Read(ref bd->BlockStatus) & Libc.TP_STATUS_USER) == 0) break;
                _pktLeft = bd->NumPkts;
                _pkt = (byte*)bd + bd->OffsetToFirstPkt;
                if (_pktLeft == 0)
                {
                    ReleaseBlock();
                    continue;
                }
            }

            Tpacket3Hdr* h = (Tpacket3Hdr*)_pkt;
            uint status = h->Status;
            int snap = (int)h->SnapLen;
            bool vlan = _reinsertVlan && (status & Libc.TP_STATUS_VLAN_VALID) != 0 && snap >= 12;
            int total = snap + (vlan ? 4 : 0);
            if (total > room || h->Len != h->SnapLen)
            {
                c._rxTooBig++;
            }
            else
            {
                if (!slab.TryRent(out Packet p)) break;   // this frame stays; the next call resumes here
                byte* src = _pkt + h->Mac;
                byte* dst = p.Frame + p.Offset;
                if (vlan)
                {
                    Buffer.MemoryCopy(src, dst, room, 12);
                    ushort tpid = (status & Libc.TP_STATUS_VLAN_TPID_VALID) != 0 && h->VlanTpid != 0 ? h->VlanTpid : (ushort)0x8100;
                    BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(dst + 12, 2), tpid);
                    BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(dst + 14, 2), (ushort)h->VlanTci);
                    Buffer.MemoryCopy(src + 12, dst + 16, room - 16, snap - 12);
                    c._rxVlanReinserted++;
                }
                else
                {
                    Buffer.MemoryCopy(src, dst, room, snap);
                }
                p.Length = total;
                PacketFlags flags = PacketFlags.None;
                if ((status & Libc.TP_STATUS_CSUMNOTREADY) != 0)
                {
                    flags |= PacketFlags.ChecksumNotReady;
                    c._rxChecksumNotReady++;
                }
                if ((status & Libc.TP_STATUS_CSUM_VALID) != 0) flags |= PacketFlags.ChecksumValid;
                p.Flags = flags;
                packets[n++] = p;
                bytes += total;
            }

            _pkt += h->NextOffset;
            if (--_pktLeft == 0) ReleaseBlock();
        }
        c._rxPackets += n;
        c._rxBytes += bytes;
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReleaseBlock()
    {
        Volatile.Write(ref BlockAt(_block)->BlockStatus, Libc.TP_STATUS_KERNEL);
        _pktLeft = 0;
        _pkt = null;
        if (++_block == _blockCount) _block = 0;
    }

    private bool RxPending => _pktLeft != 0 || (Volatile.Read(ref BlockAt(_block)->BlockStatus) & Libc.TP_STATUS_USER) != 0;

    public bool WaitForReceive(int timeoutMs)
    {
        if (_ring == null) return false;
        if (RxPending) return true;
        if (timeoutMs == 0) return false;
        PollFd pfd;
        pfd.Fd = _fd;
        pfd.Events = Libc.POLLIN | Libc.POLLERR;
        pfd.REvents = 0;
        int r = Libc.poll(&pfd, 1, timeoutMs);
        if (r < 0 && Marshal.GetLastPInvokeError() != Libc.EINTR) Counters._pollErrors++;
        return RxPending;
    }

    public int Transmit(ReadOnlySpan<Packet> packets)
    {
        if (_fd < 0) return 0;
        int sent = 0;
        long bytes = 0;
        IoCounters c = Counters;
        for (int start = 0; start < packets.Length; start += _maxTx)
        {
            int chunk = Math.Min(_maxTx, packets.Length - start);
            for (int i = 0; i < chunk; i++)
            {
                ref readonly Packet p = ref packets[start + i];
                _iovs[i].Base = p.Frame + p.Offset;
                _iovs[i].Length = (nuint)p.Length;
                bytes += p.Length;
            }
            int off = 0;
            while (off < chunk)
            {
                int r = Libc.sendmmsg(_fd, _msgs + off, (uint)(chunk - off), 0);
                if (r > 0)
                {
                    off += r;
                    sent += r;
                    continue;
                }
                int errno = r < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (errno == Libc.EINTR) continue;
                // The message at `off` was refused: count it, skip it.
                LastTxErrno = errno;
                if (errno == Libc.EAGAIN) c._txQueueFull++;
                else c._txErrors++;
                bytes -= packets[start + off].Length;
                off++;
            }
        }
        c._txPackets += sent;
        c._txBytes += bytes;
        return sent;
    }

    public void RefreshCounters()
    {
        if (_fd < 0 || _ring == null) return;
        TpacketStatsV3 st;
        uint len = (uint)sizeof(TpacketStatsV3);
        if (Libc.getsockopt(_fd, Libc.SOL_PACKET, Libc.PACKET_STATISTICS, &st, &len) == 0)
        {
            Counters._rxRingDrops += st.Drops;
            Counters._rxRingFreezes += st.FreezeQCount;
        }
    }

    private void Release()
    {
        if (_ring != null)
        {
            _ = Libc.munmap(_ring, _ringSize);
            _ring = null;
        }
        if (_fd >= 0)
        {
            _ = Libc.close(_fd);
            _fd = -1;
        }
        if (_msgs != null)
        {
            NativeMemory.Free(_msgs);
            _msgs = null;
        }
        if (_iovs != null)
        {
            NativeMemory.Free(_iovs);
            _iovs = null;
        }
    }

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    ~AfPacketIo() => Release();
}
