using System;
using System.Buffers.Binary;

namespace FastPath.Ike.Messages;

// IKE header, RFC 7296 §3.1 (28 bytes):
//   0  IKE SA Initiator's SPI (8)    8  IKE SA Responder's SPI (8)
//  16  Next Payload (1)  17 MjVer|MnVer (4|4 bits)  18 Exchange Type (1)  19 Flags (1)
//  20  Message ID (4)   24 Length (4, whole message including the header)
// Flags keep all 8 bits as received so a parsed message re-serializes byte-identically; the
// reserved bits are ignored on receipt (§3.1 "MUST be ignored on receipt").

/// <summary>The fixed IKE header (RFC 7296 §3.1).</summary>
public readonly record struct IkeHeader(
    ulong InitiatorSpi,
    ulong ResponderSpi,
    PayloadType NextPayload,
    byte Version,
    ExchangeType Exchange,
    IkeFlags Flags,
    uint MessageId,
    uint Length)
{
    public const int Size = 28;
    /// <summary>Version byte of IKEv2.0: major 2 in the high nibble, minor 0.</summary>
    public const byte Version20 = 0x20;

    public int MajorVersion => Version >> 4;
    public int MinorVersion => Version & 0x0f;
    public bool IsInitiator => (Flags & IkeFlags.Initiator) != 0;
    public bool IsResponse => (Flags & IkeFlags.Response) != 0;

    /// <summary>A header for a new message (version 2.0; next payload and length are filled in by the builder).</summary>
    public static IkeHeader Create(ulong spiI, ulong spiR, ExchangeType exchange, IkeFlags flags, uint messageId) =>
        new(spiI, spiR, PayloadType.None, Version20, exchange, flags, messageId, 0);

    /// <summary>Reads the 28-byte header. Checks only what needs no context: size and the major version
    /// (RFC 7296 §2.5). The length field is checked against the datagram by <see cref="IkeMessage.Parse"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> src, out IkeHeader header, out ParseError error)
    {
        header = default;
        if (src.Length < Size)
        {
            error = new ParseError(ParseErrorCode.Truncated, 0, $"{src.Length} bytes, IKE header needs {Size}");
            return false;
        }
        header = new IkeHeader(
            BinaryPrimitives.ReadUInt64BigEndian(src),
            BinaryPrimitives.ReadUInt64BigEndian(src[8..]),
            (PayloadType)src[16],
            src[17],
            (ExchangeType)src[18],
            (IkeFlags)src[19],
            BinaryPrimitives.ReadUInt32BigEndian(src[20..]),
            BinaryPrimitives.ReadUInt32BigEndian(src[24..]));
        if (header.MajorVersion != 2)
        {
            error = new ParseError(ParseErrorCode.InvalidMajorVersion, 17, $"major version {header.MajorVersion}, only 2 is supported");
            return false;
        }
        error = default;
        return true;
    }

    public void Write(Span<byte> dst)
    {
        BinaryPrimitives.WriteUInt64BigEndian(dst, InitiatorSpi);
        BinaryPrimitives.WriteUInt64BigEndian(dst[8..], ResponderSpi);
        dst[16] = (byte)NextPayload;
        dst[17] = Version;
        dst[18] = (byte)Exchange;
        dst[19] = (byte)Flags;
        BinaryPrimitives.WriteUInt32BigEndian(dst[20..], MessageId);
        BinaryPrimitives.WriteUInt32BigEndian(dst[24..], Length);
    }
}
