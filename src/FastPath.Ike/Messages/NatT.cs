using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace FastPath.Ike.Messages;

// NAT traversal framing (RFC 3948, RFC 7296 §2.23):
// - port 4500 carries IKE and ESP: IKE is prefixed by the 4-byte zero non-ESP marker (an SPI of 0
//   is never valid, RFC 3948 §2.2); anything else of >= 8 bytes is ESP (SPI first);
// - a single 0xFF byte is a NAT keepalive (RFC 3948 §2.3), to be dropped;
// - NAT_DETECTION_SOURCE_IP / _DESTINATION_IP carry SHA-1(SPIi | SPIr | IP | port) (§2.23), the
//   responder SPI zero in IKE_SA_INIT requests.

/// <summary>What a datagram on UDP port 4500 is.</summary>
public enum Port4500Kind
{
    Invalid,
    Keepalive,
    Ike,
    Esp,
}

/// <summary>NAT-T framing helpers.</summary>
public static class NatT
{
    public const int NonEspMarkerLength = 4;
    public const byte KeepaliveByte = 0xFF;
    public const int NatDetectionHashLength = 20;

    /// <summary>Classifies a UDP payload received on port 4500 (RFC 3948 §2.2, §2.3).</summary>
    public static Port4500Kind Classify4500(ReadOnlySpan<byte> udpPayload)
    {
        if (udpPayload.Length == 1 && udpPayload[0] == KeepaliveByte) return Port4500Kind.Keepalive;
        if (udpPayload.Length >= NonEspMarkerLength && BinaryPrimitives.ReadUInt32BigEndian(udpPayload) == 0)
            return udpPayload.Length >= NonEspMarkerLength + IkeHeader.Size ? Port4500Kind.Ike : Port4500Kind.Invalid;
        // ESP needs SPI + sequence number at least (RFC 4303 §2).
        return udpPayload.Length >= 8 ? Port4500Kind.Esp : Port4500Kind.Invalid;
    }

    /// <summary>The IKE message inside a port-4500 datagram (after the marker); empty when it is not IKE.</summary>
    public static ReadOnlySpan<byte> StripNonEspMarker(ReadOnlySpan<byte> udpPayload) =>
        Classify4500(udpPayload) == Port4500Kind.Ike ? udpPayload[NonEspMarkerLength..] : default;

    /// <summary>The datagram to send on port 4500 for <paramref name="ikeMessage"/>: marker + message.</summary>
    public static byte[] AddNonEspMarker(ReadOnlySpan<byte> ikeMessage)
    {
        var b = new byte[NonEspMarkerLength + ikeMessage.Length];
        ikeMessage.CopyTo(b.AsSpan(NonEspMarkerLength));
        return b;
    }

    /// <summary>The 1-byte NAT keepalive.</summary>
    public static byte[] Keepalive() => [KeepaliveByte];

    /// <summary>NAT detection hash SHA-1(SPIi | SPIr | IP | port) of RFC 7296 §2.23 (IPv4: 4 bytes, IPv6: 16).</summary>
    public static byte[] NatDetectionHash(ulong spiI, ulong spiR, IPAddress address, ushort port)
    {
        ArgumentNullException.ThrowIfNull(address);
        int alen = address.AddressFamily == AddressFamily.InterNetworkV6 ? 16 : 4;
        Span<byte> input = stackalloc byte[8 + 8 + 16 + 2];
        BinaryPrimitives.WriteUInt64BigEndian(input, spiI);
        BinaryPrimitives.WriteUInt64BigEndian(input[8..], spiR);
        if (!address.TryWriteBytes(input.Slice(16, alen), out _)) throw new ArgumentException("address", nameof(address));
        BinaryPrimitives.WriteUInt16BigEndian(input[(16 + alen)..], port);
        return SHA1.HashData(input[..(18 + alen)]);
    }

    /// <summary>A NAT_DETECTION_SOURCE_IP or _DESTINATION_IP notify for the given endpoint.</summary>
    public static NotifyPayload NatDetectionNotify(bool source, ulong spiI, ulong spiR, IPAddress address, ushort port) =>
        new(source ? NotifyType.NatDetectionSourceIp : NotifyType.NatDetectionDestinationIp, NatDetectionHash(spiI, spiR, address, port));
}
