using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

// rtnetlink (NETLINK_ROUTE, rtnetlink(7)) over a raw AF_NETLINK socket: the control plane's view of
// the kernel's routes, links and neighbor (ARP/ND) tables. Control plane only: allocations are fine,
// errors are returned as negative errno (never thrown for "not found"), setup failures throw.
//
// Messages are built by hand in a byte buffer: struct nlmsghdr (16 bytes) + the family header
// (rtmsg 12, ifinfomsg 16, ndmsg 12) + rtattrs, each padded to 4 bytes (NLMSG_ALIGN/RTA_ALIGN). The
// layouts are the kernel UAPI (linux/netlink.h, linux/rtnetlink.h, linux/neighbour.h,
// linux/if_link.h). A request carries NLM_F_REQUEST|NLM_F_ACK and a sequence number; the answer is
// either the object (RTM_NEWROUTE/NEWLINK/NEWNEIGH) or an NLMSG_ERROR whose error field is 0 (ack)
// or -errno. Replies with another sequence number (late answers to a timed-out request) are skipped.

/// <summary>One route lookup answer (RTM_GETROUTE for a host address, like `ip route get`).</summary>
internal sealed record NetlinkRoute(byte Type, int OutputInterface, IPAddress? Gateway, IPAddress? PreferredSource, int Mtu, byte Table);

/// <summary>One link (RTM_GETLINK by index).</summary>
internal sealed record NetlinkLink(int Index, string Name, byte[] Address, int Mtu, uint Flags);

/// <summary>One neighbor entry (RTM_GETNEIGH / RTM_NEWNEIGH): NUD state and link-layer address.</summary>
internal sealed record NetlinkNeighbor(int InterfaceIndex, IPAddress Address, ushort State, byte Flags, byte[]? LinkAddress);

/// <summary>A multicast notification (RTNLGRP_NEIGH / RTNLGRP_IPV4_ROUTE / RTNLGRP_IPV6_ROUTE / RTNLGRP_LINK).</summary>
internal readonly record struct NetlinkEvent(ushort MessageType, NetlinkNeighbor? Neighbor);

internal sealed unsafe partial class RouteNetlink : IDisposable
{
    public const int AF_NETLINK = 16;
    public const int NETLINK_ROUTE = 0;

    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLM_F_REQUEST = 0x01;
    public const ushort NLM_F_ACK = 0x04;
    public const ushort NLM_F_REPLACE = 0x100;
    public const ushort NLM_F_CREATE = 0x400;

    public const ushort RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18;
    public const ushort RTM_NEWROUTE = 24, RTM_DELROUTE = 25, RTM_GETROUTE = 26;
    public const ushort RTM_NEWNEIGH = 28, RTM_DELNEIGH = 29, RTM_GETNEIGH = 30;

    // Route attributes (enum rtattr_type_t) and metrics (RTAX_*).
    private const ushort RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_PREFSRC = 7, RTA_METRICS = 8, RTA_TABLE = 15;
    private const ushort RTAX_MTU = 2;
    public const byte RTN_UNICAST = 1, RTN_LOCAL = 2;
    // Link attributes.
    private const ushort IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MTU = 4;
    // Neighbor attributes, NUD states (linux/neighbour.h), flags.
    private const ushort NDA_DST = 1, NDA_LLADDR = 2;
    public const ushort NUD_INCOMPLETE = 0x01, NUD_REACHABLE = 0x02, NUD_STALE = 0x04, NUD_DELAY = 0x08,
        NUD_PROBE = 0x10, NUD_FAILED = 0x20, NUD_NOARP = 0x40, NUD_PERMANENT = 0x80, NUD_NONE = 0;
    public const byte NTF_USE = 0x01;

    // Multicast groups for bind(2): bit (RTNLGRP_x - 1).
    public const uint RTMGRP_LINK = 0x1, RTMGRP_NEIGH = 0x4, RTMGRP_IPV4_ROUTE = 0x40, RTMGRP_IPV6_ROUTE = 0x400;

    private const int ENOENT = 2, ETIMEDOUT = 110;

    private int _fd;
    private uint _seq;
    private readonly byte[] _rx = new byte[64 * 1024];
    private readonly byte[] _tx = new byte[512];

    /// <summary>Opens a NETLINK_ROUTE socket in the calling thread's network namespace, subscribed to <paramref name="groups"/> (0: requests only).</summary>
    public RouteNetlink(uint groups = 0)
    {
        _fd = Libc.socket(AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, NETLINK_ROUTE);
        if (_fd < 0) throw Errno.Fail("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)");
        var sa = new SockaddrNl { Family = AF_NETLINK, Groups = groups };
        if (Libc.bind(_fd, &sa, (uint)sizeof(SockaddrNl)) != 0)
        {
            var e = Errno.Fail("bind(AF_NETLINK)");
            _ = Libc.close(_fd);
            _fd = -1;
            throw e;
        }
        if (groups != 0)
        {
            int size = 1 << 20;   // a burst of neighbor events must not overflow (ENOBUFS) between two reads
            _ = Libc.setsockopt(_fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, &size, sizeof(int));
        }
        _seq = (uint)Environment.TickCount;
    }

    public int Fd => _fd;

    // ---- requests -----------------------------------------------------------------------------

    /// <summary>RTM_GETROUTE for <paramref name="destination"/> (a /32 or /128 lookup, as `ip route get`).
    /// Returns null with <paramref name="errno"/> set (ENETUNREACH, EHOSTUNREACH, ...) when there is no route.</summary>
    public NetlinkRoute? GetRoute(IPAddress destination, int timeoutMs, out int errno)
    {
        bool v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
        int addrLen = v6 ? 16 : 4;
        var b = Begin(RTM_GETROUTE, NLM_F_REQUEST, 12);
        _tx[16] = (byte)(v6 ? AF_INET6 : AF_INET);   // rtm_family
        _tx[17] = (byte)(addrLen * 8);                // rtm_dst_len
        b = PutAddress(b, RTA_DST, destination);
        NetlinkRoute? route = null;
        errno = Transact(b, timeoutMs, (type, msg) =>
        {
            if (type != RTM_NEWROUTE || msg.Length < 12) return false;
            byte rtType = msg[7];
            byte table = msg[4];
            int oif = 0, mtu = 0;
            IPAddress? gw = null, src = null;
            foreach (var (at, val) in Attributes(msg[12..]))
            {
                switch (at)
                {
                    case RTA_OIF when val.Length >= 4: oif = BinaryPrimitives.ReadInt32LittleEndian(val); break;
                    case RTA_GATEWAY when val.Length == addrLen: gw = new IPAddress(val); break;
                    case RTA_PREFSRC when val.Length == addrLen: src = new IPAddress(val); break;
                    case RTA_TABLE when val.Length >= 4: table = (byte)BinaryPrimitives.ReadUInt32LittleEndian(val); break;
                    case RTA_METRICS:
                        foreach (var (mt, mv) in Attributes(val))
                            if (mt == RTAX_MTU && mv.Length >= 4) mtu = (int)BinaryPrimitives.ReadUInt32LittleEndian(mv);
                        break;
                }
            }
            route = new NetlinkRoute(rtType, oif, gw, src, mtu, table);
            return true;
        });
        return errno == 0 ? route : null;
    }

    /// <summary>RTM_GETLINK for one interface index.</summary>
    public NetlinkLink? GetLink(int ifindex, int timeoutMs, out int errno)
    {
        var b = Begin(RTM_GETLINK, NLM_F_REQUEST, 16);
        BinaryPrimitives.WriteInt32LittleEndian(_tx.AsSpan(16 + 4), ifindex);   // ifi_index
        NetlinkLink? link = null;
        errno = Transact(b, timeoutMs, (type, msg) =>
        {
            if (type != RTM_NEWLINK || msg.Length < 16) return false;
            int index = BinaryPrimitives.ReadInt32LittleEndian(msg[4..]);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(msg[8..]);
            byte[] addr = [];
            string name = "";
            int mtu = 0;
            foreach (var (at, val) in Attributes(msg[16..]))
            {
                switch (at)
                {
                    case IFLA_ADDRESS: addr = val; break;
                    case IFLA_IFNAME: name = System.Text.Encoding.UTF8.GetString(val.AsSpan().TrimEnd((byte)0)); break;
                    case IFLA_MTU when val.Length >= 4: mtu = (int)BinaryPrimitives.ReadUInt32LittleEndian(val); break;
                }
            }
            link = new NetlinkLink(index, name, addr, mtu, flags);
            return true;
        });
        return errno == 0 ? link : null;
    }

    /// <summary>RTM_GETNEIGH for one (interface, address) (kernel ≥ 4.20 neigh_get). ENOENT: no entry.</summary>
    public NetlinkNeighbor? GetNeighbor(int ifindex, IPAddress address, int timeoutMs, out int errno)
    {
        var b = Begin(RTM_GETNEIGH, NLM_F_REQUEST, 12);
        WriteNdmsg(address, ifindex, 0, 0);
        b = PutAddress(b, NDA_DST, address);
        NetlinkNeighbor? n = null;
        errno = Transact(b, timeoutMs, (type, msg) =>
        {
            if (type != RTM_NEWNEIGH) return false;
            n = ParseNeighbor(msg);
            return n != null;
        });
        return errno == 0 ? n : null;
    }

    /// <summary>RTM_NEWNEIGH with NTF_USE (`ip neigh replace ADDR dev IF use`): the kernel creates the
    /// entry if needed and runs neigh_event_send on it, exactly as if it had a packet to send: an
    /// INCOMPLETE/NONE/FAILED entry starts ARP/NS solicitation, a STALE one goes DELAY → PROBE
    /// (unicast re-confirmation). No packet of ours reaches the neighbor. Returns 0 or -errno.</summary>
    public int UseNeighbor(int ifindex, IPAddress address, int timeoutMs)
    {
        var b = Begin(RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE, 12);
        WriteNdmsg(address, ifindex, NUD_NONE, NTF_USE);
        b = PutAddress(b, NDA_DST, address);
        return Transact(b, timeoutMs, static (_, _) => false, expectObject: false);
    }

    // ---- multicast events ---------------------------------------------------------------------

    /// <summary>Waits up to <paramref name="timeoutMs"/> for notifications and appends them (socket
    /// bound to groups). Returns false on ENOBUFS (events were lost: the caller must re-validate everything).</summary>
    public bool ReadEvents(List<NetlinkEvent> into, int timeoutMs)
    {
        var pfd = new PollFd { Fd = _fd, Events = Libc.POLLIN };
        if (Libc.poll(&pfd, 1, timeoutMs) <= 0) return true;
        bool ok = true;
        while (true)
        {
            nint n;
            fixed (byte* p = _rx) n = recv(_fd, p, (nuint)_rx.Length, Libc.MSG_DONTWAIT);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.ENOBUFS) { ok = false; continue; }
                return ok;
            }
            foreach (var (type, _, _, msg) in Messages(_rx.AsSpan(0, (int)n)))
            {
                if (type is RTM_NEWNEIGH or RTM_DELNEIGH) into.Add(new NetlinkEvent(type, ParseNeighbor(msg)));
                else if (type is RTM_NEWROUTE or RTM_DELROUTE or RTM_NEWLINK or RTM_DELLINK) into.Add(new NetlinkEvent(type, null));
            }
        }
    }

    // ---- message plumbing ---------------------------------------------------------------------

    private const int AF_INET = 2, AF_INET6 = 10;

    private int Begin(ushort type, ushort flags, int familyHeaderLength)
    {
        Array.Clear(_tx);
        BinaryPrimitives.WriteUInt16LittleEndian(_tx.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(_tx.AsSpan(6), (ushort)(flags | NLM_F_ACK));
        BinaryPrimitives.WriteUInt32LittleEndian(_tx.AsSpan(8), ++_seq);
        return 16 + familyHeaderLength;
    }

    private void WriteNdmsg(IPAddress address, int ifindex, ushort state, byte flags)
    {
        _tx[16] = (byte)(address.AddressFamily == AddressFamily.InterNetworkV6 ? AF_INET6 : AF_INET);
        BinaryPrimitives.WriteInt32LittleEndian(_tx.AsSpan(20), ifindex);
        BinaryPrimitives.WriteUInt16LittleEndian(_tx.AsSpan(24), state);
        _tx[26] = flags;
    }

    private int PutAddress(int at, ushort type, IPAddress address)
    {
        address.TryWriteBytes(_tx.AsSpan(at + 4), out int len);
        BinaryPrimitives.WriteUInt16LittleEndian(_tx.AsSpan(at), (ushort)(4 + len));
        BinaryPrimitives.WriteUInt16LittleEndian(_tx.AsSpan(at + 2), type);
        return at + ((4 + len + 3) & ~3);
    }

    private delegate bool Handler(ushort type, ReadOnlySpan<byte> payload);

    /// <summary>Sends the request in _tx[0..length) and reads until the ack/error of its sequence
    /// number. Returns 0 or a positive errno (ETIMEDOUT when nothing came in time).</summary>
    private int Transact(int length, int timeoutMs, Handler handler, bool expectObject = true)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_tx, (uint)length);
        uint seq = _seq;
        var kernel = new SockaddrNl { Family = AF_NETLINK };
        nint sent;
        fixed (byte* p = _tx) sent = Libc.sendto(_fd, p, (nuint)length, 0, &kernel, (uint)sizeof(SockaddrNl));
        if (sent < 0) return Marshal.GetLastPInvokeError();
        long deadline = Environment.TickCount64 + timeoutMs;
        bool got = false;
        while (true)
        {
            int left = (int)Math.Max(0, deadline - Environment.TickCount64);
            var pfd = new PollFd { Fd = _fd, Events = Libc.POLLIN };
            int r = Libc.poll(&pfd, 1, left);
            if (r == 0) return ETIMEDOUT;
            if (r < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                return Marshal.GetLastPInvokeError();
            }
            nint n;
            fixed (byte* p = _rx) n = recv(_fd, p, (nuint)_rx.Length, Libc.MSG_DONTWAIT);
            if (n < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                if (e is Libc.EAGAIN or Libc.EINTR) continue;
                return e;
            }
            foreach (var (type, mseq, _, msg) in Messages(_rx.AsSpan(0, (int)n)))
            {
                if (mseq != seq) continue;   // a late answer to an earlier request, or a notification
                if (type == NLMSG_ERROR)
                {
                    int err = msg.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(msg) : -5;
                    if (err == 0) return got || !expectObject ? 0 : ENOENT;
                    return -err;
                }
                if (type == NLMSG_DONE) return got ? 0 : ENOENT;
                if (handler(type, msg)) got = true;
            }
        }
    }

    private static NetlinkNeighbor? ParseNeighbor(ReadOnlySpan<byte> msg)
    {
        if (msg.Length < 12) return null;
        byte family = msg[0];
        int ifindex = BinaryPrimitives.ReadInt32LittleEndian(msg[4..]);
        ushort state = BinaryPrimitives.ReadUInt16LittleEndian(msg[8..]);
        byte flags = msg[10];
        IPAddress? dst = null;
        byte[]? ll = null;
        foreach (var (at, val) in Attributes(msg[12..]))
        {
            if (at == NDA_DST && val.Length == (family == AF_INET6 ? 16 : 4)) dst = new IPAddress(val);
            else if (at == NDA_LLADDR) ll = val;
        }
        return dst is null ? null : new NetlinkNeighbor(ifindex, dst, state, flags, ll);
    }

    /// <summary>(type, seq, flags, payload) of each nlmsghdr in a datagram.</summary>
    private static List<(ushort Type, uint Seq, ushort Flags, byte[] Payload)> Messages(ReadOnlySpan<byte> buf)
    {
        var list = new List<(ushort, uint, ushort, byte[])>();
        int at = 0;
        while (at + 16 <= buf.Length)
        {
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(buf[at..]);
            if (len < 16 || at + len > buf.Length) break;
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(buf[(at + 4)..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(buf[(at + 6)..]);
            uint seq = BinaryPrimitives.ReadUInt32LittleEndian(buf[(at + 8)..]);
            list.Add((type, seq, flags, buf.Slice(at + 16, len - 16).ToArray()));
            at += (len + 3) & ~3;
        }
        return list;
    }

    /// <summary>(type, value) of each rtattr in a buffer (nested flag bits masked off).</summary>
    private static List<(ushort Type, byte[] Value)> Attributes(ReadOnlySpan<byte> buf)
    {
        var list = new List<(ushort, byte[])>();
        int at = 0;
        while (at + 4 <= buf.Length)
        {
            int len = BinaryPrimitives.ReadUInt16LittleEndian(buf[at..]);
            if (len < 4 || at + len > buf.Length) break;
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(buf[(at + 2)..]) & 0x3FFF);
            list.Add((type, buf.Slice(at + 4, len - 4).ToArray()));
            at += (len + 3) & ~3;
        }
        return list;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint recv(int fd, void* buf, nuint len, int flags);

    public void Dispose()
    {
        if (_fd >= 0)
        {
            _ = Libc.close(_fd);
            _fd = -1;
        }
    }
}

/// <summary>struct sockaddr_nl (linux/netlink.h), 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SockaddrNl
{
    public ushort Family;
    public ushort Pad;
    public uint Pid;
    public uint Groups;
}
