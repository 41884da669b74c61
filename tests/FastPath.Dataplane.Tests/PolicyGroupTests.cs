using System;
using FastPath.Dataplane.Policy;
using Xunit;

namespace FastPath.Dataplane.Tests;

/// <summary>The stable policy group of SA actions (IKE reqids): packing and the inbound check by group.</summary>
public class PolicyGroupTests
{
    private static uint A(string s) => KeyBits<uint>.ParseAddress(s);
    private static readonly ErouteSelector<uint> WestEast = ErouteSelector<uint>.Parse("192.0.2.0/25", "192.0.2.128/25");
    // A decrypted packet sunrise → sunset (reversed it selects west's eroute).
    private static readonly FlowKey<uint> FromSunrise = new(A("192.0.2.138"), A("192.0.2.10"), 1);

    [Fact]
    public void Group_and_spi_pack_into_one_word_without_disturbing_each_other()
    {
        ErouteAction a = ErouteAction.Sa(0xFFFF_FFFF, ErouteAction.MaxGroup);
        Assert.Equal(ErouteActionKind.Sa, a.Kind);
        Assert.Equal(0xFFFF_FFFFu, a.SaHandle);
        Assert.Equal(ErouteAction.MaxGroup, a.Group);
        Assert.Equal(0u, ErouteAction.Sa(0x1002).Group);
        Assert.Equal("tun0x1002", ErouteAction.Sa(0x1002, 7).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => ErouteAction.Sa(0x1002, ErouteAction.MaxGroup + 1));
    }

    [Fact]
    public void Check_by_group_passes_whatever_spi_the_eroute_names_now_and_refuses_other_groups()
    {
        var t = new ErouteTable<uint>();
        t.Add(WestEast, ErouteAction.Sa(0xa001, 5));
        Assert.True(t.Current.CheckDecryptedInGroup(FromSunrise, 5).Accept);
        t.Replace(WestEast, ErouteAction.Sa(0xa002, 5)); // rekey: the SPI moves, the group stays
        Assert.True(t.Current.CheckDecryptedInGroup(FromSunrise, 5).Accept);
        // The SPI-keyed check (manual keying) would refuse the old inbound SA's group now.
        Assert.False(t.Current.CheckDecrypted(FromSunrise, 0xa001).Accept);
        PolicyVerdict other = t.Current.CheckDecryptedInGroup(FromSunrise, 6);
        Assert.False(other.Accept);
        Assert.Equal(DropReason.PolicyMismatch, other.Reason);
        t.Replace(WestEast, ErouteAction.Trap);
        Assert.Equal(DropReason.PolicyMismatch, t.Current.CheckDecryptedInGroup(FromSunrise, 5).Reason);
        Assert.Equal(DropReason.PolicyMismatch, t.Current.CheckDecryptedInGroup(new FlowKey<uint>(A("198.51.100.1"), A("192.0.2.10"), 1), 5).Reason);
    }
}
