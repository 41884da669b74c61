using System.Linq;
using System.Net;
using FastPath.Ike.Exchanges;
using Xunit;

namespace FastPath.Ike.Tests.Exchanges;

public class TrafficSelectorsTests
{
    [Theory]
    [InlineData("192.0.2.0/25", "192.0.2.0/25")]
    [InlineData("192.0.2.7", "192.0.2.7/32")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("::/0", "::/0")]
    [InlineData("2001:db8:1::/64", "2001:db8:1::/64")]
    [InlineData("2001:db8::1", "2001:db8::1/128")]
    public void Prefix_round_trips(string prefix, string formatted) =>
        Assert.Equal(formatted, TrafficSelectors.Format(TrafficSelectors.FromPrefix(prefix)));

    [Fact]
    public void Range_splits_into_minimal_prefixes()
    {
        var ts = new FastPath.Ike.Messages.TrafficSelector(FastPath.Ike.Messages.TsType.Ipv4AddrRange, 0, 0, 65535,
            IPAddress.Parse("192.0.2.1").GetAddressBytes(), IPAddress.Parse("192.0.2.8").GetAddressBytes());
        var p = TrafficSelectors.ToPrefixes(ts).Select(x => $"{x.Address}/{x.PrefixLength}").ToArray();
        Assert.Equal(new[] { "192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/30", "192.0.2.8/32" }, p);
        Assert.Equal("192.0.2.1..192.0.2.8", TrafficSelectors.Format(ts));
    }

    [Fact]
    public void Narrowing_keeps_the_intersection_in_proposal_order()
    {
        var proposed = new[] { TrafficSelectors.FromPrefix("192.0.2.10", 6, 80, 80), TrafficSelectors.FromPrefix("192.0.2.0/24") };
        var configured = new[] { TrafficSelectors.FromPrefix("192.0.2.0/25") };
        var n = TrafficSelectors.Narrow(proposed, configured);
        // The packet selector lies inside the /25 that the second proposal narrows to: one selector remains.
        Assert.Equal(new[] { "192.0.2.0/25" }, n.Select(TrafficSelectors.Format).ToArray());
        Assert.True(TrafficSelectors.AllWithin(n, proposed));
        Assert.Empty(TrafficSelectors.Narrow(proposed, new[] { TrafficSelectors.FromPrefix("198.51.100.0/24") }));
        Assert.Empty(TrafficSelectors.Narrow(proposed, new[] { TrafficSelectors.FromPrefix("2001:db8::/32") }));
    }

    [Fact]
    public void Protocol_and_ports_intersect()
    {
        var a = TrafficSelectors.FromPrefix("192.0.2.0/24", 17, 500, 600);
        var b = TrafficSelectors.FromPrefix("192.0.2.128/25", 0, 550, 65535);
        Assert.Equal("192.0.2.128/25[udp/550-600]", TrafficSelectors.Format(TrafficSelectors.Intersect(a, b)!));
        Assert.Null(TrafficSelectors.Intersect(a, TrafficSelectors.FromPrefix("192.0.2.0/24", 6)));
        Assert.False(TrafficSelectors.AllWithin(new[] { TrafficSelectors.FromPrefix("192.0.2.0/23") }, new[] { a }));
    }
}
