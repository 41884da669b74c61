using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.L3;

// Reassembly of inbound fragmented ESP (outer IPv4 fragments, RFC 791 §3.2 / RFC 815; IPv6
// Fragment header, RFC 8200 §4.5), per worker, before ESP decapsulation:
//
//   fragment (Data = IP header) ─► key (src, dst, id, proto | src, dst, id32) ─► slot (linear scan)
//     payload bytes copied to slot buffer [offset ..), 8-octet units marked in the slot's bitmap,
//     the offset-0 fragment's header (IPv4 ihl / IPv6 unfragmentable part) kept aside;
//     all units present and the last fragment (MF=0) seen ─► one new slab frame:
//       [header: IPv4 total length + checksum fixed, MF/offset cleared |
//        IPv6 payload length fixed, Fragment header removed, next header patched][payload]
//
// Bounded memory, allocated once: Slots (default 64) × (MaxDatagramLength payload buffer +
// a 1 KiB bitmap + 256 B header area): 64 × 64 KiB ≈ 4.1 MiB per worker by default. No locks:
// one worker owns it. Timeouts (RFC 791: 15 s lower bound suggested, Linux ipfrag_time 30 s;
// RFC 8200 §4.5: 60 s) from the first fragment; expired datagrams are freed on Expire() (call it
// between batches) and when their slot is looked at, one ReassemblyTimeout each.
//
// Drops (each a DropReason on the fragment, counted here):
//   ReassemblyNoMemory — no free slot; or the datagram would exceed MaxDatagramLength or the slab
//     frame (FrameSlab frames are fixed-size: 2 KiB by default, so a 9 KB jumbo ESP needs a slab
//     of 9216+ byte frames).
//   ReassemblyFailed   — overlap (RFC 5722 for IPv6, and the RFC 1858 overlap attacks for IPv4:
//     the whole datagram is discarded), a non-last fragment whose length is not a multiple of 8,
//     a fragment past the end given by the last fragment, two different ends, > 65535 bytes,
//     an empty fragment, a bad header. An exact duplicate (every byte already received and equal)
//     drops only itself (counted in Duplicates too): links do duplicate packets.
//   ReassemblyTimeout  — counted per datagram that expired incomplete.
// Zero allocation and no exceptions per packet.

/// <summary>What <see cref="Reassembler.Add"/> did with a packet.</summary>
public enum ReassemblyResult : byte
{
    /// <summary>Not a fragment: process the packet as it is.</summary>
    NotFragment,
    /// <summary>Copied into a slot; the datagram is not complete yet. The caller returns the frame.</summary>
    Held,
    /// <summary>This fragment completed the datagram: it is in <c>datagram</c> (a new frame). The caller returns the fragment's frame.</summary>
    Complete,
    /// <summary>Dropped: <see cref="Packet.Drop"/> says why (counted). The caller returns the frame.</summary>
    Dropped,
}

public sealed class ReassemblerOptions
{
    public int Slots { get; init; } = 64;
    /// <summary>Largest reassembled payload (bytes after the IP header / unfragmentable part), ≤ 65535.</summary>
    public int MaxDatagramLength { get; init; } = 65535;
    public TimeSpan TimeoutV4 { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan TimeoutV6 { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>Per-worker IPv4/IPv6 fragment reassembly with fixed memory (not thread-safe).</summary>
[SkipLocalsInit]
public sealed unsafe class Reassembler : IDisposable
{
    private const int HeaderCapacity = 256;
    private const byte IpProtoFragment = 44;

    private struct Slot
    {
        public bool Used;
        public bool V6;
        public byte Protocol;
        public byte FragmentNextHeader;   // IPv6: next header from the Fragment header
        public IpAddress16 Source;
        public IpAddress16 Destination;
        public uint Id;
        public long Deadline;
        public int Total;                 // payload length, -1 until the last fragment arrived
        public int Received;              // payload bytes received
        public int HeaderLength;          // 0 until the offset-0 fragment arrived
        public int NextHeaderOffset;      // IPv6: where in the header the "44" to patch sits
    }

    private readonly Slot[] _slots;
    private readonly int _maxPayload;
    private readonly int _bitmapWords;
    private readonly long _timeoutV4, _timeoutV6;
    private byte* _payload;
    private byte* _headers;
    private ulong* _bitmaps;
    private int _active;
    private readonly long[] _drops = new long[(int)DropReason.Count];

    public Reassembler(ReassemblerOptions? options = null)
    {
        var o = options ?? new ReassemblerOptions();
        if (o.Slots is < 1 or > 65536) throw new ArgumentOutOfRangeException(nameof(options), "Slots must be 1..65536");
        if (o.MaxDatagramLength is < 68 or > 65535) throw new ArgumentOutOfRangeException(nameof(options), "MaxDatagramLength must be 68..65535");
        if (o.TimeoutV4 <= TimeSpan.Zero || o.TimeoutV6 <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "timeouts must be positive");
        _slots = new Slot[o.Slots];
        _maxPayload = o.MaxDatagramLength;
        _bitmapWords = ((_maxPayload + 7) / 8 + 63) / 64;
        _timeoutV4 = (long)(o.TimeoutV4.TotalSeconds * Stopwatch.Frequency);
        _timeoutV6 = (long)(o.TimeoutV6.TotalSeconds * Stopwatch.Frequency);
        _payload = (byte*)NativeMemory.AlignedAlloc((nuint)o.Slots * (nuint)_maxPayload, 64);
        _headers = (byte*)NativeMemory.AlignedAlloc((nuint)o.Slots * HeaderCapacity, 64);
        _bitmaps = (ulong*)NativeMemory.AlignedAlloc((nuint)o.Slots * (nuint)_bitmapWords * 8, 64);
        NativeMemory.Clear(_bitmaps, (nuint)o.Slots * (nuint)_bitmapWords * 8);
    }

    public int SlotCount => _slots.Length;
    /// <summary>Datagrams being reassembled now.</summary>
    public int ActiveSlots => _active;
    public long Completed { get; private set; }
    public long Duplicates { get; private set; }
    /// <summary>Drops counted for <paramref name="reason"/> (ReassemblyFailed / Timeout / NoMemory / BadHeader).</summary>
    public long Drops(DropReason reason) => _drops[(int)reason];

    /// <summary>Offers one packet (Data = IPv4/IPv6 header) at time <paramref name="now"/> (Stopwatch ticks).</summary>
    public ReassemblyResult Add(ref Packet packet, FrameSlab slab, long now, out Packet datagram)
    {
        datagram = default;
        byte* ip = packet.Data;
        int length = packet.Length;
        if (length < 1) return ReassemblyResult.NotFragment;
        int version = ip[0] >> 4;
        if (version == 4) return AddV4(ref packet, ip, length, slab, now, out datagram);
        if (version == 6) return AddV6(ref packet, ip, length, slab, now, out datagram);
        return ReassemblyResult.NotFragment;
    }

    private ReassemblyResult AddV4(ref Packet packet, byte* ip, int length, FrameSlab slab, long now, out Packet datagram)
    {
        datagram = default;
        if (length < Ipv4Header.MinLength) return ReassemblyResult.NotFragment;
        ref Ipv4Header h = ref Ipv4Header.At(ip);
        if (!h.IsFragment) return ReassemblyResult.NotFragment;
        int ihl = h.HeaderLength;
        int total = h.TotalLength;
        if (ihl < Ipv4Header.MinLength || total < ihl || total > length || !Checksum.Ipv4HeaderValid(ip, ihl))
            return Drop(ref packet, DropReason.BadHeader);
        ushort ff = h.FlagsFragment;
        int offset = (ff & Ipv4Header.FragmentOffsetMask) * 8;
        bool more = (ff & Ipv4Header.MoreFragments) != 0;
        var src = IpAddress16.FromIpv4Raw(h.SourceRaw);
        var dst = IpAddress16.FromIpv4Raw(h.DestinationRaw);
        return Insert(ref packet, false, src, dst, h.Identification, h.Protocol, 0, ip, ihl, -1, ip + ihl, total - ihl, offset, more, 65535 - ihl, slab, now, out datagram);
    }

    private ReassemblyResult AddV6(ref Packet packet, byte* ip, int length, FrameSlab slab, long now, out Packet datagram)
    {
        datagram = default;
        if (length < Ipv6Header.Length) return ReassemblyResult.NotFragment;
        ref Ipv6Header h = ref Ipv6Header.At(ip);
        int total = Ipv6Header.Length + h.PayloadLength;
        if (total > length) return Drop(ref packet, DropReason.BadHeader);
        // Walk the unfragmentable part: hop-by-hop (0), routing (43), destination options (60) up to the Fragment header.
        byte nh = h.NextHeader;
        int nhOffset = 6;
        int at = Ipv6Header.Length;
        while (nh is 0 or 43 or 60)
        {
            if (at + 8 > total) return ReassemblyResult.NotFragment;
            int extLength = (ip[at + 1] + 1) * 8;
            nhOffset = at;
            nh = ip[at];
            at += extLength;
        }
        if (nh != IpProtoFragment) return ReassemblyResult.NotFragment;
        if (at + 8 > total || at > HeaderCapacity) return Drop(ref packet, DropReason.ReassemblyFailed);
        byte* frag = ip + at;
        ushort ofm = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(frag + 2, 2));
        uint id = BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(frag + 4, 4));
        int offset = ofm & 0xFFF8;
        bool more = (ofm & 1) != 0;
        // Payload length field max 65535 counts the unfragmentable extension headers too (RFC 8200 §4.5).
        return Insert(ref packet, true, h.Source, h.Destination, id, 0, frag[0], ip, at, nhOffset, frag + 8, total - at - 8, offset, more, 65535 - (at - Ipv6Header.Length), slab, now, out datagram);
    }

    private ReassemblyResult Insert(ref Packet packet, bool v6, in IpAddress16 src, in IpAddress16 dst, uint id, byte proto, byte fragNext,
        byte* header, int headerLength, int nhOffset, byte* data, int len, int offset, bool more, int protocolMax, FrameSlab slab, long now, out Packet datagram)
    {
        datagram = default;
        int end = offset + len;
        if (len <= 0 || (more && (len & 7) != 0) || end > protocolMax) return Drop(ref packet, DropReason.ReassemblyFailed);

        int free = -1, index = -1;
        for (int i = 0; i < _slots.Length; i++)
        {
            ref Slot s = ref _slots[i];
            if (!s.Used) { if (free < 0) free = i; continue; }
            if (s.Deadline - now < 0)
            {
                Release(i, DropReason.ReassemblyTimeout);
                if (free < 0) free = i;
                continue;
            }
            if (s.Id == id && s.V6 == v6 && s.Protocol == proto && s.Source == src && s.Destination == dst) { index = i; break; }
        }
        if (end > _maxPayload)
        {
            if (index >= 0) Release(index, null);
            return Drop(ref packet, DropReason.ReassemblyNoMemory);
        }
        if (index < 0)
        {
            if (free < 0) return Drop(ref packet, DropReason.ReassemblyNoMemory);
            index = free;
            ref Slot n = ref _slots[index];
            n = default;
            n.Used = true;
            n.V6 = v6;
            n.Protocol = proto;
            n.Source = src;
            n.Destination = dst;
            n.Id = id;
            n.Total = -1;
            n.Deadline = now + (v6 ? _timeoutV6 : _timeoutV4);
            NativeMemory.Clear(Bitmap(index), (nuint)_bitmapWords * 8);
            _active++;
        }
        ref Slot slot = ref _slots[index];
        ulong* bits = Bitmap(index);
        byte* buffer = _payload + (nint)index * _maxPayload;
        int firstUnit = offset >> 3, endUnit = (end + 7) >> 3;

        // Consistency with the end the last fragment announced.
        if (!more)
        {
            if (slot.Total >= 0 && slot.Total != end) return Fail(ref packet, index);
            if (slot.Total < 0 && AnySet(bits, endUnit, _bitmapWords * 64)) return Fail(ref packet, index);   // data beyond the end
        }
        else if (slot.Total >= 0 && end > slot.Total) return Fail(ref packet, index);

        if (AnySet(bits, firstUnit, endUnit))
        {
            // An exact duplicate (all of it already here, the same bytes) drops alone; any other overlap kills the datagram.
            if (AllSet(bits, firstUnit, endUnit) && new ReadOnlySpan<byte>(buffer + offset, len).SequenceEqual(new ReadOnlySpan<byte>(data, len))
                && (more || slot.Total == end))
            {
                Duplicates++;
                return Drop(ref packet, DropReason.ReassemblyFailed);
            }
            return Fail(ref packet, index);
        }

        Buffer.MemoryCopy(data, buffer + offset, len, len);
        SetRange(bits, firstUnit, endUnit);
        slot.Received += len;
        if (!more) slot.Total = end;
        if (offset == 0)
        {
            Buffer.MemoryCopy(header, _headers + (nint)index * HeaderCapacity, headerLength, headerLength);
            slot.HeaderLength = headerLength;
            slot.NextHeaderOffset = nhOffset;
            slot.FragmentNextHeader = fragNext;
        }
        if (slot.Total < 0 || slot.Received != slot.Total || slot.HeaderLength == 0) return ReassemblyResult.Held;

        // Complete: one frame with header + payload.
        int hl = slot.HeaderLength;
        int size = hl + slot.Total;
        if (!slab.TryRent(out Packet d)) return DropSlot(ref packet, index, DropReason.ReassemblyNoMemory);
        if (d.Tailroom < size)
        {
            slab.Return(d);
            return DropSlot(ref packet, index, DropReason.ReassemblyNoMemory);
        }
        byte* o = d.Data;
        Buffer.MemoryCopy(_headers + (nint)index * HeaderCapacity, o, hl, hl);
        Buffer.MemoryCopy(buffer, o + hl, slot.Total, slot.Total);
        if (!slot.V6)
        {
            ref Ipv4Header oh = ref Ipv4Header.At(o);
            oh.TotalLength = (ushort)size;
            oh.FlagsFragment = (ushort)(oh.FlagsFragment & (Ipv4Header.DontFragment | 0x8000));
            oh.UpdateChecksum();
        }
        else
        {
            Ipv6Header.At(o).PayloadLength = (ushort)(size - Ipv6Header.Length);
            o[slot.NextHeaderOffset] = slot.FragmentNextHeader;
        }
        d.Length = size;
        d.Verdict = PacketVerdict.Forward;
        datagram = d;
        Completed++;
        Release(index, null);
        return ReassemblyResult.Complete;
    }

    /// <summary>Frees every slot whose timeout passed (one ReassemblyTimeout each); returns how many.</summary>
    public int Expire(long now)
    {
        int n = 0;
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_slots[i].Used && _slots[i].Deadline - now < 0)
            {
                Release(i, DropReason.ReassemblyTimeout);
                n++;
            }
        }
        return n;
    }

    private ReassemblyResult Fail(ref Packet packet, int index) => DropSlot(ref packet, index, DropReason.ReassemblyFailed);

    private ReassemblyResult DropSlot(ref Packet packet, int index, DropReason reason)
    {
        Release(index, null);
        return Drop(ref packet, reason);
    }

    private ReassemblyResult Drop(ref Packet packet, DropReason reason)
    {
        _drops[(int)reason]++;
        packet.SetDrop(reason);
        return ReassemblyResult.Dropped;
    }

    private void Release(int index, DropReason? count)
    {
        if (!_slots[index].Used) return;
        _slots[index].Used = false;
        _active--;
        if (count is DropReason r) _drops[(int)r]++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong* Bitmap(int index) => _bitmaps + (nint)index * _bitmapWords;

    // Bit ranges [from, to) over 64-bit words.
    private static ulong Mask(int from, int to) =>   // bits from..to-1 within one word, 0 ≤ from < to ≤ 64
        (to == 64 ? ulong.MaxValue : (1UL << to) - 1) & ~((1UL << from) - 1);

    private static bool AnySet(ulong* bits, int from, int to)
    {
        for (int w = from >> 6; from < to; w++)
        {
            int lo = from & 63, hi = Math.Min(64, to - (w << 6));
            if ((bits[w] & Mask(lo, hi)) != 0) return true;
            from = (w + 1) << 6;
        }
        return false;
    }

    private static bool AllSet(ulong* bits, int from, int to)
    {
        for (int w = from >> 6; from < to; w++)
        {
            int lo = from & 63, hi = Math.Min(64, to - (w << 6));
            ulong m = Mask(lo, hi);
            if ((bits[w] & m) != m) return false;
            from = (w + 1) << 6;
        }
        return true;
    }

    private static void SetRange(ulong* bits, int from, int to)
    {
        for (int w = from >> 6; from < to; w++)
        {
            int lo = from & 63, hi = Math.Min(64, to - (w << 6));
            bits[w] |= Mask(lo, hi);
            from = (w + 1) << 6;
        }
    }

    public void Dispose()
    {
        if (_payload != null)
        {
            NativeMemory.AlignedFree(_payload);
            NativeMemory.AlignedFree(_headers);
            NativeMemory.AlignedFree(_bitmaps);
            _payload = null;
            _headers = null;
            _bitmaps = null;
        }
        GC.SuppressFinalize(this);
    }

    ~Reassembler()
    {
        if (_payload != null)
        {
            NativeMemory.AlignedFree(_payload);
            NativeMemory.AlignedFree(_headers);
            NativeMemory.AlignedFree(_bitmaps);
        }
    }
}
