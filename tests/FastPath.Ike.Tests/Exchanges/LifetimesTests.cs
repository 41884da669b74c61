using System;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using Xunit;
using static FastPath.Ike.Tests.Exchanges.ExchangeHarness;

namespace FastPath.Ike.Tests.Exchanges;

public class LifetimesTests
{
    [Fact]
    public void Rekey_time_is_lifetime_minus_margin_minus_a_fuzz_of_the_margin()
    {
        var life = TimeSpan.FromHours(1);
        var margin = TimeSpan.FromMinutes(9);
        // The exact formula with the same draws: 3,600,000 − 540,000 − NextInt64(0, 540,000 × 100 / 100 + 1) ms.
        var a = new Random(42);
        var b = new Random(42);
        for (int i = 0; i < 100; i++)
        {
            var t = Lifetimes.RekeyTime(life, margin, 100, a);
            Assert.Equal(TimeSpan.FromMilliseconds(3_600_000 - 540_000 - b.NextInt64(0, 540_001)), t);
            Assert.InRange(t, TimeSpan.FromMinutes(42), TimeSpan.FromMinutes(51));
        }
        // fuzz 50 %: up to 4.5 min extra margin.
        var c = new Random(7);
        var d = new Random(7);
        Assert.Equal(TimeSpan.FromMilliseconds(3_600_000 - 540_000 - d.NextInt64(0, 270_001)), Lifetimes.RekeyTime(life, margin, 50, c));
        // fuzz 0: exactly lifetime − margin.
        Assert.Equal(TimeSpan.FromMinutes(51), Lifetimes.RekeyTime(life, margin, 0, new Random(1)));
    }

    [Fact]
    public void The_whole_fuzz_range_is_reached()
    {
        // Small numbers so the extremes occur: life 100 ms, margin 10 ms, fuzz 100 %: 80..90 ms.
        var rng = new Random(3);
        int min = int.MaxValue, max = 0;
        for (int i = 0; i < 2000; i++)
        {
            int ms = (int)Lifetimes.RekeyTime(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(10), 100, rng).TotalMilliseconds;
            min = Math.Min(min, ms);
            max = Math.Max(max, ms);
        }
        Assert.Equal(80, min);
        Assert.Equal(90, max);
    }

    [Fact]
    public void Unusable_values_are_refused()
    {
        Assert.NotNull(Lifetimes.Validate(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(9), 100)); // 18 min ≥ 10
        Assert.NotNull(Lifetimes.Validate(TimeSpan.Zero, TimeSpan.Zero, 0));
        Assert.NotNull(Lifetimes.Validate(TimeSpan.FromHours(1), TimeSpan.FromMinutes(-1), 0));
        Assert.NotNull(Lifetimes.Validate(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1), -5));
        Assert.Null(Lifetimes.Validate(TimeSpan.FromHours(1), TimeSpan.FromMinutes(9), 100));
        Assert.Throws<ArgumentException>(() => Lifetimes.RekeyTime(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(9), 100, new Random(1)));
    }

    [Fact]
    public void Soft_volume_limit_is_a_fuzzed_fraction_below_the_hard_one()
    {
        var life = TimeSpan.FromHours(1);
        var margin = TimeSpan.FromMinutes(9); // 15 %
        var a = new Random(5);
        var b = new Random(5);
        for (int i = 0; i < 100; i++)
        {
            long soft = Lifetimes.SoftLimit(1_000_000, life, margin, 100, a);
            Assert.Equal(1_000_000 - 150_000 - b.NextInt64(0, 150_001), soft);
            Assert.InRange(soft, 700_000, 850_000);
        }
        Assert.Equal(0, Lifetimes.SoftLimit(0, life, margin, 100, a));       // no limit
        Assert.Equal(1, Lifetimes.SoftLimit(1, life, margin, 100, a));       // tiny limits still leave a soft point
        Assert.Equal(850_000, Lifetimes.SoftLimit(1_000_000, life, margin, 0, a));
    }

    [Fact]
    public void Each_side_schedules_from_its_own_config_so_the_shorter_lifetime_rekeys_first()
    {
        // IKEv2 negotiates no lifetime (§2.8): the responder schedules like the initiator. With lifetimes
        // 1 h and 2 h and margin + fuzz ≤ 18 min, the 1 h side always rekeys first, whoever initiated.
        var shortSide = Conn("a", "aes128gcm16!", "192.0.2.0/25", "192.0.2.128/25");
        var longSide = new IkeConnection
        {
            Name = "b", IkeProposals = shortSide.IkeProposals, EspProposals = shortSide.EspProposals,
            ChildLifetime = TimeSpan.FromHours(2), IkeLifetime = TimeSpan.FromHours(6),
        };
        var rng = new Random(11);
        for (int i = 0; i < 1000; i++)
        {
            var s = Lifetimes.ChildSchedule(shortSide, rng);
            var l = Lifetimes.ChildSchedule(longSide, rng);
            Assert.True(s.RekeyAfter < l.RekeyAfter);
            Assert.True(s.Rekey);
            Assert.Equal(TimeSpan.FromHours(1), s.ExpireAfter);
            Assert.InRange(Lifetimes.IkeSchedule(shortSide, rng).RekeyAfter, TimeSpan.FromMinutes(162), TimeSpan.FromMinutes(171));
        }
        var noRekey = new IkeConnection { Name = "c", IkeProposals = shortSide.IkeProposals, EspProposals = shortSide.EspProposals, Rekey = false };
        Assert.False(Lifetimes.ChildSchedule(noRekey, rng).Rekey);
    }
}
