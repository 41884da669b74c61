using System;
using System.Collections.Generic;
using System.Net;
using System.Numerics;

namespace FastPath.Dataplane.Policy;

// A "realistic" random eroute table and packet stream, shared by the property tests and the
// benchmarks so both exercise the same mix (docs/eroute.md lists it):
// - destinations (the remote side): IPv4 56% /32 hosts (a third of them from a 100.64.0.0/10
//   road-warrior pool, the rest anywhere), 28% /24, 8% /16-/23, 7% /25-/31, 0.95% /8-/15,
//   at most 16 /0-/7; IPv6 40% /128, 36% /64, 10% /48, 5% /56, 8% /32-/47, 0.95% /16-/31,
//   at most 16 /0-/15, under 2000::/3 (random addresses: the worst case for the caches).
// - sources (our side): one of 64 local subnets (/24 mostly, some /16, /32, /0), i.e. few sources
//   per destination, as gateways have;
// - 3% carry a protocol (TCP/UDP) and a destination port or range;
// - actions: 90% SA, 3% %trap, 2% %pass, 2% %drop, 1% %reject, 1% %hold, 1% %passthrough.
// Packets: 85% are addressed into a random eroute's selectors, 15% are uniformly random.
internal sealed class ErouteWorkload<TKey> where TKey : unmanaged, IBinaryInteger<TKey>, IUnsignedNumber<TKey>
{
    private readonly Random _rng;
    private readonly (TKey Prefix, int Len)[] _localSubnets;
    private static bool V4 => KeyBits<TKey>.Width == 32;

    public ErouteWorkload(int seed)
    {
        _rng = new Random(seed);
        _localSubnets = new (TKey, int)[64];
        for (int i = 0; i < _localSubnets.Length; i++)
        {
            int len = i switch { 0 => 0, < 8 => V4 ? 16 : 48, < 12 => KeyBits<TKey>.Width, _ => V4 ? 24 : 64 };
            _localSubnets[i] = (RandomKey() & KeyBits<TKey>.Mask(len), len);
        }
    }

    public TKey RandomKey()
    {
        Span<byte> b = stackalloc byte[16];
        _rng.NextBytes(b);
        TKey k = V4 ? TKey.CreateTruncating(BitConverter.ToUInt32(b)) : TKey.CreateTruncating(new UInt128(BitConverter.ToUInt64(b), BitConverter.ToUInt64(b[8..])));
        return k;
    }

    private int DstLen()
    {
        int p = _rng.Next(100);
        if (V4)
            return p switch { < 56 => 32, < 84 => 24, < 92 => _rng.Next(16, 24), < 99 => _rng.Next(25, 32), _ => Short(8, 16) };
        return p switch { < 40 => 128, < 76 => 64, < 86 => 48, < 91 => 56, < 99 => _rng.Next(32, 48), _ => Short(16, 32) };
    }

    // 1% of eroutes are wide (IPv4 /8-/15, IPv6 /16-/31); 1 in 20 of those wider still, down to
    // /0 (default shunts, "0.0.0.0/0 -> 0.0.0.0/0 %drop" style), at most 16 per table.
    private int Short(int lo, int hi) => _rng.Next(20) == 0 ? _rng.Next(0, lo) : _rng.Next(lo, hi);

    private TKey DstBase(int len)
    {
        TKey k = RandomKey();
        if (V4 && len == 32 && _rng.Next(3) == 0) k = (k >> 10) | TKey.CreateTruncating(0x64400000u); // 100.64.0.0/10
        if (!V4) k = (k >> 3) | (TKey.One << 125); // 2000::/3
        return k & KeyBits<TKey>.Mask(len);
    }

    public ErouteSpec<TKey> NextSpec()
    {
        int dl = DstLen();
        TKey dst = DstBase(dl);
        var (src, sl) = _localSubnets[_rng.Next(_localSubnets.Length)];
        byte proto = 0;
        ushort lo = 0, hi = ushort.MaxValue;
        if (_rng.Next(100) < 3)
        {
            proto = _rng.Next(2) == 0 ? (byte)6 : (byte)17;
            lo = (ushort)_rng.Next(1, 2000);
            hi = _rng.Next(2) == 0 ? lo : (ushort)(lo + _rng.Next(1, 100));
        }
        var sel = new ErouteSelector<TKey>(src, sl, dst, dl, proto, dstPortLo: lo, dstPortHi: hi);
        int a = _rng.Next(100);
        ErouteAction action = a switch
        {
            < 90 => ErouteAction.Sa((uint)_rng.Next(0x100, int.MaxValue)),
            < 93 => ErouteAction.Trap,
            < 95 => ErouteAction.Pass,
            < 97 => ErouteAction.Drop,
            < 98 => ErouteAction.Reject,
            < 99 => ErouteAction.Hold,
            _ => ErouteAction.Passthrough,
        };
        IPAddress? peer = action.Kind == ErouteActionKind.Sa ? new IPAddress(new byte[] { 203, 0, 113, (byte)_rng.Next(1, 255) }) : null;
        return new ErouteSpec<TKey>(sel, action, peer);
    }

    /// <summary><paramref name="count"/> eroutes with distinct selectors.</summary>
    public List<ErouteSpec<TKey>> Table(int count)
    {
        var seen = new HashSet<ErouteSelector<TKey>>();
        var list = new List<ErouteSpec<TKey>>(count);
        int veryShort = 0;
        while (list.Count < count)
        {
            ErouteSpec<TKey> s = NextSpec();
            if (s.Selector.DstLen < (V4 ? 8 : 16) && ++veryShort > 16) continue; // at most 16 such per table
            if (seen.Add(s.Selector)) list.Add(s);
        }
        return list;
    }

    private TKey Inside(TKey prefix, int len) => len == KeyBits<TKey>.Width ? prefix : prefix | (RandomKey() & ~KeyBits<TKey>.Mask(len));

    /// <summary>Packet keys: 85% inside a random eroute's selectors, 15% uniformly random.</summary>
    public FlowKey<TKey>[] Packets(IReadOnlyList<ErouteSpec<TKey>> table, int count)
    {
        var keys = new FlowKey<TKey>[count];
        for (int i = 0; i < count; i++)
        {
            byte proto = _rng.Next(3) switch { 0 => 6, 1 => 17, _ => 1 };
            ushort sport = (ushort)_rng.Next(1024, 65536), dport = (ushort)_rng.Next(1, 2100);
            if (table.Count == 0 || _rng.Next(100) < 15)
            {
                keys[i] = new FlowKey<TKey>(RandomKey(), RandomKey(), proto, sport, dport);
                continue;
            }
            ErouteSelector<TKey> s = table[_rng.Next(table.Count)].Selector;
            if (s.Protocol != 0 && _rng.Next(2) == 0)
            {
                proto = s.Protocol;
                dport = (ushort)_rng.Next(s.DstPortLo, s.DstPortHi + 1);
            }
            keys[i] = new FlowKey<TKey>(Inside(s.Src, s.SrcLen), Inside(s.Dst, s.DstLen), proto, sport, dport);
        }
        return keys;
    }
}
