using System;
using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Policy;

// What an eroute tells the dataplane to do with a packet it matches (FreeS/WAN names).
//
// - The action is packed into one 64-bit word (kind in the low byte, a stable policy group in bits
//   8-31, the SA-group handle in the high 32 bits) so it sits inside the trie's candidate entries: a
//   lookup returns it without a further memory access, and it is published with the rest of the
//   snapshot (never torn).
// - The policy group (IKE: one per CHILD_SA reqid, stable across rekeys) is what an inbound SA
//   installed with Dataplane.InstallInboundInGroup is checked against: during a make-before-break
//   rekey the eroutes switch from the old outbound SPI to the new one while packets still arrive on
//   both inbound SAs, and both must pass (a check keyed by the outbound SPI would fail one of them).
//   Group 0 = none (manual keying: the inbound check compares the outbound SPI, as before).
// - The SA group is an opaque handle: the outbound SPI of the group (printed `tun0x1002@peer`)
//   that the ESP engine uses as the key of its outbound SA table. The peer address is control-plane
//   data (needed only for the listing) and lives in the table's per-eroute record.

/// <summary>FreeS/WAN eroute actions. <see cref="None"/> means "no eroute matched".</summary>
public enum ErouteActionKind : byte
{
    /// <summary>No eroute matched (a lookup miss): the dataplane drops with <see cref="DropReason.NoPolicy"/>.</summary>
    None = 0,
    /// <summary>Encrypt with the SA group (`tun0x1002@203.0.113.2`).</summary>
    Sa,
    /// <summary>`%pass`: forward in clear.</summary>
    Pass,
    /// <summary>`%drop`: discard silently.</summary>
    Drop,
    /// <summary>`%reject`: discard and send an ICMP destination unreachable (rate-limited).</summary>
    Reject,
    /// <summary>`%trap`: hold the packet and ask the control plane (ACQUIRE) to negotiate an SA.</summary>
    Trap,
    /// <summary>`%hold`: negotiation in progress; discard (counted as <see cref="DropReason.ShuntHold"/>).</summary>
    Hold,
    /// <summary>`%passthrough`: forward in clear (manual-keying name, same dataplane effect as %pass).</summary>
    Passthrough,
}

/// <summary>An eroute action packed in one word: kind plus, for <see cref="ErouteActionKind.Sa"/>, the SA-group handle.</summary>
public readonly record struct ErouteAction
{
    /// <summary>The packed value (kind in bits 0-7, policy group in bits 8-31, handle in bits 32-63).</summary>
    public readonly ulong Bits;

    /// <summary>Wraps a packed value.</summary>
    public ErouteAction(ulong bits) => Bits = bits;

    /// <summary>The action kind.</summary>
    public ErouteActionKind Kind
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (ErouteActionKind)(byte)Bits;
    }

    /// <summary>SA-group handle (outbound SPI of the group) for <see cref="ErouteActionKind.Sa"/>, else 0.</summary>
    public uint SaHandle
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (uint)(Bits >> 32);
    }

    /// <summary>The largest policy group an SA action can carry (24 bits).</summary>
    public const uint MaxGroup = 0xFF_FFFF;

    /// <summary>Stable policy group of an <see cref="ErouteActionKind.Sa"/> action (0 = none).</summary>
    public uint Group
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (uint)(Bits >> 8) & MaxGroup;
    }

    /// <summary>True for the actions that mean "this traffic must be encrypted" (an SA, or one being negotiated).</summary>
    public bool IsProtected => Kind is ErouteActionKind.Sa or ErouteActionKind.Trap or ErouteActionKind.Hold;

    /// <summary>Encrypt with the SA group whose outbound SPI is <paramref name="spi"/>.</summary>
    public static ErouteAction Sa(uint spi) => new(((ulong)spi << 32) | (byte)ErouteActionKind.Sa);

    /// <summary>Encrypt with outbound SPI <paramref name="spi"/>; inbound SAs of policy group
    /// <paramref name="group"/> (1..<see cref="MaxGroup"/>) accept what this eroute covers.</summary>
    public static ErouteAction Sa(uint spi, uint group)
    {
        if (group > MaxGroup) throw new ArgumentOutOfRangeException(nameof(group), $"policy group {group} > {MaxGroup}");
        return new(((ulong)spi << 32) | ((ulong)group << 8) | (byte)ErouteActionKind.Sa);
    }

    /// <summary>`%pass`.</summary>
    public static ErouteAction Pass => new((byte)ErouteActionKind.Pass);
    /// <summary>`%drop`.</summary>
    public static ErouteAction Drop => new((byte)ErouteActionKind.Drop);
    /// <summary>`%reject`.</summary>
    public static ErouteAction Reject => new((byte)ErouteActionKind.Reject);
    /// <summary>`%trap`.</summary>
    public static ErouteAction Trap => new((byte)ErouteActionKind.Trap);
    /// <summary>`%hold`.</summary>
    public static ErouteAction Hold => new((byte)ErouteActionKind.Hold);
    /// <summary>`%passthrough`.</summary>
    public static ErouteAction Passthrough => new((byte)ErouteActionKind.Passthrough);

    /// <summary>The shunt name as FreeS/WAN prints it (`%pass`, ...), or null for an SA / none.</summary>
    public string? ShuntName => Kind switch
    {
        ErouteActionKind.Pass => "%pass",
        ErouteActionKind.Drop => "%drop",
        ErouteActionKind.Reject => "%reject",
        ErouteActionKind.Trap => "%trap",
        ErouteActionKind.Hold => "%hold",
        ErouteActionKind.Passthrough => "%passthrough",
        _ => null,
    };

    /// <inheritdoc/>
    public override string ToString() => ShuntName ?? (Kind == ErouteActionKind.Sa ? $"tun0x{SaHandle:x}" : "none");
}

/// <summary>
/// A lookup result: the matching eroute's id (index of its hit counter and record; -1 on a miss)
/// and its action.
/// </summary>
public readonly record struct ErouteMatch(int Id, ErouteAction Action)
{
    /// <summary>The miss result.</summary>
    public static ErouteMatch None => new(-1, default);

    /// <summary>True when an eroute matched.</summary>
    public bool Found => Id >= 0;
}
