using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.L3;

// Where a worker sends a packet once ESP is done: for a destination address (the outer peer address
// of an SA, or the inner destination of a decapsulated packet) the egress interface, the Ethernet
// addresses to write and the MTU of that path. The kernel keeps routes and ARP/ND (DESIGN.md §2);
// the control plane resolves a destination (route lookup, then the neighbor of the gateway or of the
// destination itself) and publishes the answer here. Workers only read.
//
// Publication is RCU-style like the eroute table: each change builds a new immutable snapshot and
// swaps one reference; a reader sees the old or the new table, never a half-built one. Dictionary
// lookups on a dictionary that is never written after publication are thread-safe and allocation-free.
// A miss is a counted drop (NoRoute / NoNeighbor) plus a resolve request to the control plane.

/// <summary>A resolved next hop: egress interface, L2 addresses and path MTU (L3 bytes).</summary>
public readonly record struct NextHop(int InterfaceIndex, ulong DestinationMac, ulong SourceMac, ushort Mtu)
{
    /// <summary>Writes the 12 address bytes of an Ethernet header (destination, then source) at <paramref name="frame"/>.</summary>
    public unsafe void WriteEthernetAddresses(byte* frame)
    {
        WriteMac(frame, DestinationMac);
        WriteMac(frame + 6, SourceMac);
    }

    /// <summary>A MAC as the low 48 bits of a ulong, first octet most significant (aa:bb:... = 0xaabb...).</summary>
    public static ulong ParseMac(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(':');
        if (parts.Length != 6) throw new FormatException($"'{text}' is not a MAC address (six hex octets separated by ':')");
        ulong v = 0;
        foreach (string p in parts) v = (v << 8) | byte.Parse(p, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        return v;
    }

    public static unsafe ulong ReadMac(byte* p) =>
        ((ulong)p[0] << 40) | ((ulong)p[1] << 32) | ((ulong)p[2] << 24) | ((ulong)p[3] << 16) | ((ulong)p[4] << 8) | p[5];

    public static unsafe void WriteMac(byte* p, ulong mac)
    {
        p[0] = (byte)(mac >> 40); p[1] = (byte)(mac >> 32); p[2] = (byte)(mac >> 24);
        p[3] = (byte)(mac >> 16); p[4] = (byte)(mac >> 8); p[5] = (byte)mac;
    }

    public static string FormatMac(ulong mac) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{(byte)(mac >> 40):x2}:{(byte)(mac >> 32):x2}:{(byte)(mac >> 24):x2}:{(byte)(mac >> 16):x2}:{(byte)(mac >> 8):x2}:{(byte)mac:x2}");
}

/// <summary>Destination → <see cref="NextHop"/>, read lock-free by workers, written by the control plane.</summary>
public sealed class NextHopTable
{
    private sealed class Snapshot
    {
        public readonly Dictionary<uint, NextHop> V4;
        public readonly Dictionary<IpAddress16, NextHop> V6;
        public Snapshot(Dictionary<uint, NextHop> v4, Dictionary<IpAddress16, NextHop> v6) { V4 = v4; V6 = v6; }
    }

    private Snapshot _current = new(new Dictionary<uint, NextHop>(), new Dictionary<IpAddress16, NextHop>());
    private readonly Lock _writer = new();
    private long _version;

    /// <summary>Incremented by every publication (lets a worker cache the last answer per batch).</summary>
    public long Version => Volatile.Read(ref _version);

    public int Count { get { var s = Volatile.Read(ref _current); return s.V4.Count + s.V6.Count; } }

    /// <summary>IPv4 lookup by the address as it sits in the header (network byte order, read as a native uint).</summary>
    public bool TryGetV4(uint destinationRaw, out NextHop hop) => Volatile.Read(ref _current).V4.TryGetValue(destinationRaw, out hop);

    public bool TryGetV6(in IpAddress16 destination, out NextHop hop) => Volatile.Read(ref _current).V6.TryGetValue(destination, out hop);

    public bool TryGet(IPAddress destination, out NextHop hop)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return destination.AddressFamily == AddressFamily.InterNetwork
            ? TryGetV4(RawV4(destination), out hop)
            : TryGetV6(IpAddress16.From(destination), out hop);
    }

    /// <summary>Adds or replaces the next hop of <paramref name="destination"/> (one publication).</summary>
    public void Set(IPAddress destination, NextHop hop) => Update(destination, hop, remove: false);

    /// <summary>Removes the entry of <paramref name="destination"/>; true when there was one.</summary>
    public bool Remove(IPAddress destination) => Update(destination, default, remove: true);

    /// <summary>Every entry (control plane: listing, refresh).</summary>
    public IReadOnlyList<KeyValuePair<IPAddress, NextHop>> List()
    {
        var s = Volatile.Read(ref _current);
        var list = new List<KeyValuePair<IPAddress, NextHop>>(s.V4.Count + s.V6.Count);
        foreach (var kv in s.V4) list.Add(new(new IPAddress(kv.Key), kv.Value));
        foreach (var kv in s.V6) list.Add(new(kv.Key.ToIPAddress(), kv.Value));
        return list;
    }

    private bool Update(IPAddress destination, NextHop hop, bool remove)
    {
        ArgumentNullException.ThrowIfNull(destination);
        lock (_writer)
        {
            var s = _current;
            bool had;
            Snapshot next;
            if (destination.AddressFamily == AddressFamily.InterNetwork)
            {
                var v4 = new Dictionary<uint, NextHop>(s.V4);
                uint key = RawV4(destination);
                had = remove ? v4.Remove(key) : v4.ContainsKey(key);
                if (!remove) v4[key] = hop;
                next = new Snapshot(v4, s.V6);
            }
            else
            {
                var v6 = new Dictionary<IpAddress16, NextHop>(s.V6);
                var key = IpAddress16.From(destination);
                had = remove ? v6.Remove(key) : v6.ContainsKey(key);
                if (!remove) v6[key] = hop;
                next = new Snapshot(s.V4, v6);
            }
            Volatile.Write(ref _current, next);
            Interlocked.Increment(ref _version);
            return had;
        }
    }

    private static uint RawV4(IPAddress a)
    {
        Span<byte> b = stackalloc byte[4];
        a.TryWriteBytes(b, out _);
        return System.Runtime.InteropServices.MemoryMarshal.Read<uint>(b);
    }
}
