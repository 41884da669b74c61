using System;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.L3;

// IPv4 fragmentation (RFC 791 §2.3 "Fragmentation", §3.2 "An Example Fragmentation Procedure";
// RFC 815 reassembly on the far side). Used twice by the pipeline:
//   - InnerFragmenter: the inner IPv4 packet (DF clear) is split BEFORE encryption so that each
//     piece encapsulates within the path MTU (what Linux xfrm does in tunnel mode: the peer gateway
//     decrypts whole ESP packets and forwards fragments; the inner destination host reassembles);
//   - outer fragmentation: an already encapsulated outer IPv4 packet is split (the peer gateway must
//     reassemble before ESP decap: Reassembler).
//
//   in:  [link header? (linkHeaderLength)][IPv4 hdr (ihl) | payload (total − ihl)]
//   out: n new slab frames, each [link header copy][IPv4 hdr'][payload chunk]
//        chunk = (mtu − hdr') & ~7 (offsets count 8-octet units), MF on all but the last (or as the
//        original when it was itself a fragment), offset = original offset + position / 8,
//        first fragment: all options; later ones: only options with the copied flag (0x80), padded
//        to 4; header checksum recomputed per fragment.
// DF set → DontFragment (the caller sends ICMP type 3 code 4, IcmpErrors). Nothing is written to
// the input packet; the caller keeps (and returns) its frame. Zero allocation, no exceptions: a
// result code per call. RFC 791: every host must accept 68 bytes unfragmented: a smaller MTU is
// refused (MtuTooSmall).

/// <summary>Outcome of a fragmentation call.</summary>
public enum FragmentResult : byte
{
    /// <summary>Fragments written to new frames (count &gt; 1).</summary>
    Fragmented,
    /// <summary>The packet fits the MTU: nothing to do.</summary>
    NotNeeded,
    /// <summary>DF set and too big: send ICMP "fragmentation needed" (DropReason.FragmentationNeeded).</summary>
    DontFragment,
    /// <summary>Not a well-formed IPv4 packet (DropReason.BadHeader).</summary>
    Malformed,
    /// <summary>MTU below the RFC 791 minimum of 68, or too small for the header plus 8 bytes.</summary>
    MtuTooSmall,
    /// <summary>The output span holds fewer descriptors than fragments needed.</summary>
    TooManyFragments,
    /// <summary>The slab ran out of frames (or a frame is too small for one fragment); nothing was kept.</summary>
    NoFrames,
    /// <summary>The packet is flagged ChecksumNotReady: run ChecksumCompletion first (the L4 checksum
    /// lives in the first fragment only and could not be fixed afterwards).</summary>
    ChecksumNotReady,
}

/// <summary>RFC 791 fragmentation of an IPv4 packet into new slab frames.</summary>
[SkipLocalsInit]
public static unsafe class Ipv4Fragmenter
{
    /// <summary>RFC 791 §3.1: "Every internet module must be able to forward a datagram of 68 octets without further fragmentation."</summary>
    public const int MinimumMtu = 68;

    /// <summary>Number of fragments an IPv4 packet of <paramref name="totalLength"/> with a header of
    /// <paramref name="headerLength"/> (and <paramref name="laterHeaderLength"/> on later fragments) needs.</summary>
    public static int FragmentCount(int totalLength, int headerLength, int laterHeaderLength, int mtu)
    {
        int payload = totalLength - headerLength;
        int first = (mtu - headerLength) & ~7;
        if (payload <= mtu - headerLength) return 1;
        int later = (mtu - laterHeaderLength) & ~7;
        if (first <= 0 || later <= 0) return int.MaxValue;
        int rest = payload - first;
        return 1 + (rest + later - 1) / later;
    }

    /// <summary>Splits <paramref name="packet"/> (IPv4 at <c>Data + linkHeaderLength</c>) into fragments of at most
    /// <paramref name="mtu"/> L3 bytes written to frames rented from <paramref name="slab"/>; <paramref name="count"/> of
    /// <paramref name="fragments"/> are filled (each with the link header copied in front, Verdict Forward).</summary>
    public static FragmentResult Fragment(in Packet packet, int linkHeaderLength, int mtu, FrameSlab slab, Span<Packet> fragments, out int count)
    {
        count = 0;
        if (slab is null || linkHeaderLength < 0 || packet.Length < linkHeaderLength + Ipv4Header.MinLength) return FragmentResult.Malformed;
        byte* l2 = packet.Data;
        byte* ip = l2 + linkHeaderLength;
        ref Ipv4Header h = ref Ipv4Header.At(ip);
        int ihl = h.HeaderLength;
        int total = h.TotalLength;
        if (h.Version != 4 || ihl < Ipv4Header.MinLength || total < ihl || total > packet.Length - linkHeaderLength) return FragmentResult.Malformed;
        if (total <= mtu) return FragmentResult.NotNeeded;
        ushort ff = h.FlagsFragment;
        if ((ff & Ipv4Header.DontFragment) != 0) return FragmentResult.DontFragment;
        if ((packet.Flags & PacketFlags.ChecksumNotReady) != 0) return FragmentResult.ChecksumNotReady;
        if (mtu < MinimumMtu) return FragmentResult.MtuTooSmall;

        // Options copied into later fragments (RFC 791 §3.1: copied flag = bit 0 of the type octet).
        byte* copied = stackalloc byte[40];
        int copiedLength = CopiedOptions(ip + Ipv4Header.MinLength, ihl - Ipv4Header.MinLength, copied);
        if (copiedLength < 0) return FragmentResult.Malformed;
        int laterIhl = Ipv4Header.MinLength + ((copiedLength + 3) & ~3);

        int payload = total - ihl;
        int firstChunk = (mtu - ihl) & ~7;
        int laterChunk = (mtu - laterIhl) & ~7;
        if (firstChunk < 8 || laterChunk < 8) return FragmentResult.MtuTooSmall;
        int needed = FragmentCount(total, ihl, laterIhl, mtu);
        if (needed > fragments.Length) return FragmentResult.TooManyFragments;

        int baseOffset = ff & Ipv4Header.FragmentOffsetMask;   // in 8-octet units (re-fragmenting a fragment)
        bool lastHadMf = (ff & Ipv4Header.MoreFragments) != 0;
        byte* data = ip + ihl;
        int position = 0;
        for (int i = 0; i < needed; i++)
        {
            if (!slab.TryRent(out Packet f) || f.Tailroom < linkHeaderLength + (i == 0 ? ihl : laterIhl) + Math.Min(i == 0 ? firstChunk : laterChunk, payload - position))
            {
                if (f.Frame != null) slab.Return(f);
                for (int j = 0; j < i; j++) slab.Return(fragments[j]);
                return FragmentResult.NoFrames;
            }
            int hl = i == 0 ? ihl : laterIhl;
            int chunk = Math.Min(i == 0 ? firstChunk : laterChunk, payload - position);
            bool last = position + chunk == payload;
            byte* o = f.Data;
            if (linkHeaderLength > 0) Buffer.MemoryCopy(l2, o, linkHeaderLength, linkHeaderLength);
            byte* oip = o + linkHeaderLength;
            if (i == 0)
            {
                Buffer.MemoryCopy(ip, oip, ihl, ihl);
            }
            else
            {
                Buffer.MemoryCopy(ip, oip, Ipv4Header.MinLength, Ipv4Header.MinLength);
                Buffer.MemoryCopy(copied, oip + Ipv4Header.MinLength, copiedLength, copiedLength);
                for (int k = Ipv4Header.MinLength + copiedLength; k < laterIhl; k++) oip[k] = 0;   // EOL padding
                oip[0] = (byte)(0x40 | (laterIhl >> 2));
            }
            Buffer.MemoryCopy(data + position, oip + hl, chunk, chunk);
            ref Ipv4Header fh = ref Ipv4Header.At(oip);
            fh.TotalLength = (ushort)(hl + chunk);
            int flags = (ff & 0x8000) | (!last || lastHadMf ? Ipv4Header.MoreFragments : 0);   // keep the reserved bit as received
            fh.FlagsFragment = (ushort)(flags | ((baseOffset + (position >> 3)) & Ipv4Header.FragmentOffsetMask));
            fh.UpdateChecksum();
            f.Length = linkHeaderLength + hl + chunk;
            f.Flags = packet.Flags;
            f.Verdict = PacketVerdict.Forward;
            fragments[i] = f;
            position += chunk;
        }
        count = needed;
        return FragmentResult.Fragmented;
    }

    /// <summary>Copies the options whose copied flag is set; -1 when the option list is malformed.</summary>
    private static int CopiedOptions(byte* options, int length, byte* into)
    {
        int at = 0, n = 0;
        while (at < length)
        {
            byte type = options[at];
            if (type == 0) break;                 // end of option list
            if (type == 1) { at++; continue; }    // no-operation (not copied)
            if (at + 1 >= length) return -1;
            int len = options[at + 1];
            if (len < 2 || at + len > length) return -1;
            if ((type & 0x80) != 0)
            {
                Buffer.MemoryCopy(options + at, into + n, len, len);
                n += len;
            }
            at += len;
        }
        return n;
    }
}
