using System;
using FastPath.Ike.Engine;

namespace FastPath.Ike.Exchanges;

// When to rekey (FreeS/WAN ipsec.conf rekeymargin= / rekeyfuzz=, strongSwan's same-named options).
//
//   rekey time  = lifetime − margin − r,   r uniform in [0, margin × fuzz / 100]   (whole milliseconds, inclusive)
//   hard expiry = lifetime
//
// i.e. the margin is increased by a random part of up to fuzz% of it, so that two peers with the
// same configuration do not rekey at the same moment (the collisions of §2.8.1 become rare, not
// impossible). rekeyfuzz may exceed 100 (FreeS/WAN allowed it); margin × (1 + fuzz/100) must stay
// below the lifetime, which Validate checks (a rekey at or before 0 would loop).
//
// IKEv2 negotiates no lifetimes (RFC 7296 §2.8: "each endpoint MUST ... rekey when its own policy
// says so"): the responder schedules from its own configuration exactly as the initiator does.
// Whichever side has the shorter lifetime therefore rekeys first; if both fire together, the
// collision rules resolve it (RekeyCollision). The responder does not wait for the initiator.
//
// Volume limits (lifebytes / lifepackets) for ChildSaInstall: the hard limit is the configured one;
// the soft limit (rekey trigger) applies the same margin and fuzz as a fraction of the lifetime:
//   m = hard × margin / lifetime,  soft = hard − m − r,  r uniform in [0, m × fuzz / 100]
// (at least 1, so a tiny limit still rekeys before it dies).

/// <summary>Rekey schedule of one SA.</summary>
/// <param name="RekeyAfter">From installation until this side starts a rekey (zero when rekey=no: never, see <see cref="Rekey"/>).</param>
/// <param name="ExpireAfter">Hard lifetime: delete the SA.</param>
public readonly record struct RekeySchedule(TimeSpan RekeyAfter, TimeSpan ExpireAfter, bool Rekey);

/// <summary>Soft/hard volume limits (0 = none).</summary>
public readonly record struct VolumeLimits(long SoftBytes, long HardBytes, long SoftPackets, long HardPackets);

/// <summary>The lifetime formulas.</summary>
public static class Lifetimes
{
    /// <summary>lifetime − margin − uniform[0, margin × fuzz%] in whole milliseconds.</summary>
    public static TimeSpan RekeyTime(TimeSpan lifetime, TimeSpan margin, int fuzzPercent, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        string? err = Validate(lifetime, margin, fuzzPercent);
        if (err is not null) throw new ArgumentException(err);
        long marginMs = (long)margin.TotalMilliseconds;
        long maxFuzzMs = marginMs * fuzzPercent / 100;
        long r = random.NextInt64(0, maxFuzzMs + 1);
        return TimeSpan.FromMilliseconds((long)lifetime.TotalMilliseconds - marginMs - r);
    }

    /// <summary>Null when the values are usable, else why not (for the config checker and the engine's log).</summary>
    public static string? Validate(TimeSpan lifetime, TimeSpan margin, int fuzzPercent)
    {
        if (lifetime <= TimeSpan.Zero) return $"lifetime {lifetime} must be positive";
        if (margin < TimeSpan.Zero) return $"rekeymargin {margin} must not be negative";
        if (fuzzPercent < 0) return $"rekeyfuzz {fuzzPercent}% must not be negative";
        double worst = margin.TotalMilliseconds * (1 + fuzzPercent / 100.0);
        if (worst >= lifetime.TotalMilliseconds)
            return $"rekeymargin {margin} + {fuzzPercent}% fuzz reaches the lifetime {lifetime}: the SA would rekey at once";
        return null;
    }

    /// <summary>The CHILD_SA schedule of a connection (keylife=, rekeymargin=, rekeyfuzz=, rekey=).</summary>
    public static RekeySchedule ChildSchedule(IkeConnection connection, Random random)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return Schedule(connection.ChildLifetime, connection, random);
    }

    /// <summary>The IKE SA schedule of a connection (ikelifetime=, same margin and fuzz).</summary>
    public static RekeySchedule IkeSchedule(IkeConnection connection, Random random)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return Schedule(connection.IkeLifetime, connection, random);
    }

    private static RekeySchedule Schedule(TimeSpan lifetime, IkeConnection c, Random random) => c.Rekey
        ? new RekeySchedule(RekeyTime(lifetime, c.RekeyMargin, c.RekeyFuzzPercent, random), lifetime, true)
        : new RekeySchedule(TimeSpan.Zero, lifetime, false);

    /// <summary>Soft limit for a hard volume limit: hard − m − uniform[0, m × fuzz%], m = hard × margin / lifetime; at least 1.</summary>
    public static long SoftLimit(long hard, TimeSpan lifetime, TimeSpan margin, int fuzzPercent, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (hard <= 0) return 0;
        if (lifetime <= TimeSpan.Zero) throw new ArgumentException("lifetime must be positive", nameof(lifetime));
        long m = (long)(hard * Math.Clamp(margin.TotalMilliseconds / lifetime.TotalMilliseconds, 0, 1));
        long maxFuzz = (long)Math.Min((double)m * Math.Max(0, fuzzPercent) / 100, hard);
        long r = random.NextInt64(0, maxFuzz + 1);
        return Math.Max(1, hard - m - r);
    }

    /// <summary>Volume limits of a connection's CHILD_SAs (lifebytes=, lifepackets=).</summary>
    public static VolumeLimits ChildVolume(IkeConnection connection, Random random)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var c = connection;
        return new VolumeLimits(
            SoftLimit(c.ChildLifeBytes, c.ChildLifetime, c.RekeyMargin, c.RekeyFuzzPercent, random), Math.Max(0, c.ChildLifeBytes),
            SoftLimit(c.ChildLifePackets, c.ChildLifetime, c.RekeyMargin, c.RekeyFuzzPercent, random), Math.Max(0, c.ChildLifePackets));
    }
}
