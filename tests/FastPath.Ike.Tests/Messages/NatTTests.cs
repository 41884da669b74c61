using System;
using System.Net;
using System.Security.Cryptography;
using FastPath.Ike.Messages;
using Xunit;

namespace FastPath.Ike.Tests.Messages;

public class NatTTests
{
    [Fact]
    public void Port_4500_classification()
    {
        var ike = Captures.Messages[2].Bytes; // a real port-4500 IKE_AUTH
        var framed = NatT.AddNonEspMarker(ike);
        Assert.Equal(new byte[4], framed[..4]);
        Assert.Equal(Port4500Kind.Ike, NatT.Classify4500(framed));
        Assert.Equal(ike, NatT.StripNonEspMarker(framed).ToArray());
        Assert.True(IkeMessage.Parse(NatT.StripNonEspMarker(framed)).Ok);
        Assert.Equal(Port4500Kind.Keepalive, NatT.Classify4500(NatT.Keepalive()));
        Assert.Equal(Port4500Kind.Esp, NatT.Classify4500(new byte[] { 0, 0, 0x10, 0x01, 0, 0, 0, 1, 9, 9 }));
        Assert.Equal(Port4500Kind.Invalid, NatT.Classify4500(new byte[] { 0, 0, 0, 0, 1 })); // marker, no IKE header
        Assert.Equal(Port4500Kind.Invalid, NatT.Classify4500(new byte[] { 1, 2, 3 }));
        Assert.Equal(Port4500Kind.Invalid, NatT.Classify4500(new byte[] { 0xfe }));
        Assert.True(NatT.StripNonEspMarker(new byte[] { 0, 0, 0x10, 0x01, 0, 0, 0, 1 }).IsEmpty);
    }

    [Fact]
    public void NAT_detection_hash_layout()
    {
        var expect4 = SHA1.HashData(Convert.FromHexString("0102030405060708" + "1112131415161718" + "C0000201" + "01F4"));
        Assert.Equal(expect4, NatT.NatDetectionHash(0x0102030405060708, 0x1112131415161718, IPAddress.Parse("192.0.2.1"), 500));
        var expect6 = SHA1.HashData(Convert.FromHexString("0102030405060708" + "0000000000000000" + "20010DB8000000000000000000000001" + "1194"));
        Assert.Equal(expect6, NatT.NatDetectionHash(0x0102030405060708, 0, IPAddress.Parse("2001:db8::1"), 4500));
        var n = NatT.NatDetectionNotify(false, 1, 2, IPAddress.Parse("203.0.113.5"), 4500);
        Assert.Equal(NotifyType.NatDetectionDestinationIp, n.NotifyType);
        Assert.Equal(20, n.Data.Length);
    }
}
