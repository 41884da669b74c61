using System;
using System.Runtime.CompilerServices;
using FastPath.Crypto;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Sad;

// SA runtime state, split by direction as VPP does (ipsec_sa_t's inbound and outbound halves):
// an outbound SA is what encapsulation needs (SPI, sequence counter, transform, IV generator,
// outer header fields, NAT-T ports), an inbound SA what decapsulation needs (SPI, replay window,
// transform, expected inner selectors). Both are built once by the control plane at install
// (allocation allowed: keying, window bitmap, counters) and then owned by one worker: the sequence
// counter and the replay window are plain fields, no lock or atomic per packet (DESIGN.md "SA
// ownership"). The crypto engine is chosen here, per SA, not per packet.
//
// Counters are per SA and are added once per batch (the engine coalesces them); lifetimes
// (RFC 4301 §4.4.2.1: soft and hard, bytes and packets) are checked after each batch and raise one
// event each into the SaEventQueue.

public enum IpsecMode : byte
{
    /// <summary>RFC 4303 §3.1.2: the whole inner IP packet is protected, a new outer header added.</summary>
    Tunnel,
    /// <summary>RFC 4303 §3.1.1: ESP between the IP header and its payload (host-to-host).</summary>
    Transport,
}

/// <summary>How the outer IPv4 DF bit is set (KLIPS/Libreswan: copy, clear or set).</summary>
public enum DfBitMode : byte { Copy, Clear, Set }

/// <summary>Lifetime limits (0 = none). RFC 4301 §4.4.2.1.</summary>
public readonly record struct SaLifetime(ulong SoftBytes, ulong HardBytes, ulong SoftPackets, ulong HardPackets)
{
    public static SaLifetime Unlimited => default;
}

/// <summary>Everything the control plane says about one SA direction when it installs it.</summary>
public sealed class SaParameters
{
    public required uint Spi { get; init; }
    public required EspSuite Suite { get; init; }
    /// <summary>KEYMAT slice for this direction (encryption key [+ salt], then integrity key).</summary>
    public required byte[] KeyMaterial { get; init; }
    public CryptoEngine Engine { get; init; } = CryptoEngine.Default;
    public bool Esn { get; init; }
    public IpsecMode Mode { get; init; } = IpsecMode.Tunnel;
    /// <summary>Our address (outer source outbound; the expected outer destination inbound).</summary>
    public IpAddress16 LocalAddress { get; init; }
    /// <summary>The peer's address (outer destination outbound).</summary>
    public IpAddress16 RemoteAddress { get; init; }
    /// <summary>RFC 3948 UDP encapsulation (NAT-T).</summary>
    public bool UdpEncapsulation { get; init; }
    public ushort NatSourcePort { get; init; } = 4500;
    public ushort NatDestinationPort { get; init; } = 4500;
    /// <summary>Outer TTL / hop limit.</summary>
    public byte Ttl { get; init; } = 64;
    public DfBitMode DfBit { get; init; } = DfBitMode.Copy;
    /// <summary>FreeS/WAN `hidetos` (default yes): the outer DSCP is zero instead of the inner one.
    /// ECN is handled per RFC 6040 either way.</summary>
    public bool HideTos { get; init; } = true;
    public SaLifetime Lifetime { get; init; }
    /// <summary>Anti-replay window in packets (inbound; RFC 4303 §3.4.3 default 32, here 64).</summary>
    public int ReplayWindow { get; init; } = 64;
    /// <summary>Inbound tunnel mode: the decrypted packet's source must lie in this prefix (null = any).</summary>
    public IpPrefix? InnerSource { get; init; }
    /// <summary>Inbound tunnel mode: the decrypted packet's destination must lie in this prefix (null = any).</summary>
    public IpPrefix? InnerDestination { get; init; }
    /// <summary>Where SA events go (null = nowhere).</summary>
    public SaEventQueue? Events { get; init; }
}

/// <summary>Per-SA counters (written by the owning worker once per batch; read by anyone).</summary>
public sealed class SaCounters
{
    public long Packets;
    public long Bytes;
    private readonly long[] _drops = new long[(int)DropReason.Count];

    public long this[DropReason reason] => System.Threading.Volatile.Read(ref _drops[(int)reason]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void AddDrop(DropReason reason) => _drops[(int)reason]++;

    public long TotalDrops
    {
        get
        {
            long s = 0;
            foreach (long d in _drops) s += d;
            return s;
        }
    }
}

/// <summary>Common SA state.</summary>
public abstract class SecurityAssociation : IDisposable
{
    private protected SecurityAssociation(SaParameters p, SaDirection direction)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (p.Spi == 0) throw new ArgumentException("SPI 0 is reserved (RFC 4303 §2.1)", nameof(p));
        Spi = p.Spi;
        Direction = direction;
        Mode = p.Mode;
        Esn = p.Esn;
        Transform = EspTransform.Create(p.Engine, p.Suite, p.KeyMaterial, p.Esn);
        LocalAddress = p.LocalAddress;
        RemoteAddress = p.RemoteAddress;
        UdpEncapsulation = p.UdpEncapsulation;
        Lifetime = p.Lifetime;
        Events = p.Events;
        IvLength = Transform.IvLength;
        IcvLength = Transform.IcvLength;
        Alignment = Transform.PayloadAlignment;
        Keys = Transform.KeyPrefetch;
    }

    public uint Spi { get; }
    public SaDirection Direction { get; }
    public IpsecMode Mode { get; }
    public bool Esn { get; }
    public EspTransform Transform { get; }
    public IpAddress16 LocalAddress { get; }
    public IpAddress16 RemoteAddress { get; }
    public bool UdpEncapsulation { get; }
    public SaLifetime Lifetime { get; }
    public SaEventQueue? Events { get; }
    public SaCounters Counters { get; } = new();

    internal readonly int IvLength;
    internal readonly int IcvLength;
    internal readonly int Alignment;
    /// <summary>The key lines a packet of this SA touches (native, never moves): a copy of the
    /// transform's, so prefetching them needs only this object's line, not the transform's.</summary>
    internal readonly KeyPrefetch Keys;

    /// <summary>Multi-SA batches (EspProcessor): once this object's lines are in cache, prefetch what
    /// ESP will read next for a packet of <paramref name="length"/> bytes: the transform object, the
    /// key schedule / GHASH powers and the counters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PrefetchHot(int length)
    {
        KeyPrefetch.PrefetchObject(Transform);
        KeyPrefetch.PrefetchObject(Counters);
        Keys.Prefetch(length);
    }

    private bool _softRaised;
    /// <summary>Hard lifetime reached (or, outbound, sequence exhausted): the SA carries nothing more.</summary>
    public bool Expired { get; private protected set; }

    /// <summary>Adds one batch worth of traffic and checks the lifetimes (RFC 4301 §4.4.2.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Account(int packets, long bytes)
    {
        if (packets == 0) return;
        long p = Counters.Packets += packets;
        long b = Counters.Bytes += bytes;
        SaLifetime l = Lifetime;
        if ((l.SoftBytes | l.HardBytes | l.SoftPackets | l.HardPackets) != 0) CheckLifetime((ulong)p, (ulong)b);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckLifetime(ulong packets, ulong bytes)
    {
        SaLifetime l = Lifetime;
        if (!Expired && ((l.HardBytes != 0 && bytes >= l.HardBytes) || (l.HardPackets != 0 && packets >= l.HardPackets)))
        {
            Expired = true;
            Events?.Raise(SaEventKind.HardLifetime, Direction, Spi, packets, bytes);
        }
        else if (!_softRaised && ((l.SoftBytes != 0 && bytes >= l.SoftBytes) || (l.SoftPackets != 0 && packets >= l.SoftPackets)))
        {
            _softRaised = true;
            Events?.Raise(SaEventKind.SoftLifetime, Direction, Spi, packets, bytes);
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) Transform.Dispose();
    }
}

/// <summary>Outbound half: sequence counter, IV source, outer header template.</summary>
public sealed class OutboundSa : SecurityAssociation
{
    private ulong _sequence; // last sequence number used (0 = none yet)
    private readonly ulong _lastSequence;
    internal ushort IpIdentification;
    internal readonly CbcIvGenerator? CbcIvs;

    public OutboundSa(SaParameters p) : base(p, SaDirection.Outbound)
    {
        Ttl = p.Ttl;
        DfBit = p.DfBit;
        HideTos = p.HideTos;
        NatSourcePort = p.NatSourcePort;
        NatDestinationPort = p.NatDestinationPort;
        OuterIsIpv6 = !p.RemoteAddress.IsIpv4;
        if (p.Mode == IpsecMode.Tunnel && p.LocalAddress.IsIpv4 != p.RemoteAddress.IsIpv4)
            throw new ArgumentException("tunnel endpoints must be of one address family", nameof(p));
        _lastSequence = p.Esn ? ulong.MaxValue : uint.MaxValue;
        if (p.Suite.Encryption is EncryptionAlgorithm.AesCbc or EncryptionAlgorithm.TripleDesCbc) CbcIvs = new CbcIvGenerator();
        IpIdentification = (ushort)System.Security.Cryptography.RandomNumberGenerator.GetInt32(65536);
    }

    public byte Ttl { get; }
    public DfBitMode DfBit { get; }
    public bool HideTos { get; }
    public ushort NatSourcePort { get; }
    public ushort NatDestinationPort { get; }
    public bool OuterIsIpv6 { get; }

    /// <summary>The last sequence number sent (64-bit with ESN).</summary>
    public ulong Sequence => _sequence;

    /// <summary>Takes the next sequence number; false when it would cycle (RFC 4303 §3.3.3: the
    /// counter must not wrap, the SA must be rekeyed). The first failure stops the SA and raises
    /// a <see cref="SaEventKind.SequenceExhausted"/> event.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryNextSequence(out ulong sequence)
    {
        if (_sequence == _lastSequence)
        {
            sequence = 0;
            if (!SequenceExhausted) StopOnExhaustion();
            return false;
        }
        sequence = ++_sequence;
        return true;
    }

    public bool SequenceExhausted { get; private set; }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void StopOnExhaustion()
    {
        SequenceExhausted = true;
        Expired = true;
        Events?.Raise(SaEventKind.SequenceExhausted, SaDirection.Outbound, Spi, (ulong)Counters.Packets, (ulong)Counters.Bytes);
    }

    /// <summary>For known-answer tests only: the explicit IV of the next packets is this value instead
    /// of the sequence number / CBC generator output (RFC vectors use arbitrary IVs). Null in service.</summary>
    internal byte[]? IvOverrideForTest;

    /// <summary>For tests: continue from a given sequence number (e.g. just below 2^32).</summary>
    public void SetSequenceForTest(ulong last) => _sequence = last;

    protected override void Dispose(bool disposing)
    {
        if (disposing) CbcIvs?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Inbound half: replay window, expected selectors.</summary>
public sealed class InboundSa : SecurityAssociation
{
    public InboundSa(SaParameters p) : base(p, SaDirection.Inbound)
    {
        Replay = new ReplayWindow(p.ReplayWindow, p.Esn);
        InnerSource = p.InnerSource;
        InnerDestination = p.InnerDestination;
        CheckDestination = p.LocalAddress != default;
    }

    public ReplayWindow Replay { get; }

    /// <summary>The inbound policy group as the owner worker keeps it (low 32 bits the group, bit 32
    /// set for a stable group; 0 = none): on the SA so the check after decryption needs no lookup.</summary>
    internal ulong PolicyGroupWord;

    public IpPrefix? InnerSource { get; }
    public IpPrefix? InnerDestination { get; }
    /// <summary>Whether the outer destination must equal <see cref="SecurityAssociation.LocalAddress"/>.</summary>
    internal bool CheckDestination { get; }
}
