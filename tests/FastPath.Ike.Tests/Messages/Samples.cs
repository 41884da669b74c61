using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using FastPath.Ike.Messages;

namespace FastPath.Ike.Tests.Messages;

/// <summary>Messages that use every payload type, for round-trip and negative tests.</summary>
internal static class Samples
{
    public static readonly IkeHeader Header = IkeHeader.Create(0x1122334455667788, 0x99aabbccddeeff00, ExchangeType.IkeAuth, IkeFlags.Initiator, 1);

    public static TestCbcHmacCipher Cipher() => new(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));

    public static List<IkePayload> AllPayloads() =>
    [
        new SaPayload([
            new Proposal(1, ProtocolId.Esp, [1, 2, 3, 4], [
                Transform.WithKeyLength(TransformType.Encryption, 20, 256),
                new Transform(TransformType.ExtendedSequenceNumbers, 0),
            ]),
            new Proposal(2, ProtocolId.Esp, [1, 2, 3, 5], [
                Transform.WithKeyLength(TransformType.Encryption, 12, 128),
                new Transform(TransformType.Integrity, 12),
                new Transform(TransformType.KeyExchange, 14, [new TransformAttribute(200, false, 0, [9, 9, 9])]),
                new Transform(TransformType.ExtendedSequenceNumbers, 0),
            ]),
        ]),
        new KePayload(31, new byte[32]),
        new IdPayload(true, IdType.Ipv4Addr, [192, 0, 2, 1]),
        new IdPayload(false, IdType.Fqdn, "moon.example"u8.ToArray()),
        new IdPayload(false, IdType.Ipv6Addr, new byte[16]),
        new IdPayload(false, IdType.Null, []),
        new CertPayload(CertEncoding.X509Signature, [0x30, 0x82, 0x01]),
        new CertReqPayload(CertEncoding.X509Signature, new byte[40]),
        new AuthPayload(AuthMethod.SharedKeyMic, new byte[32]),
        new NoncePayload(new byte[32]),
        new NotifyPayload(NotifyType.InitialContact, []),
        new NotifyPayload(ProtocolId.Esp, NotifyType.RekeySa, [0, 0, 0x10, 0x01], []),
        new NotifyPayload(NotifyType.SignatureHashAlgorithms, [0, 2, 0, 3, 0, 4]),
        DeletePayload.ChildSas(ProtocolId.Esp, 0x1001, 0x1002),
        DeletePayload.IkeSa(),
        new VendorIdPayload("strongSwan"u8.ToArray()),
        new TsPayload(true, [
            new TrafficSelector(TsType.Ipv4AddrRange, 0, 0, 65535, [198, 51, 100, 0], [198, 51, 100, 255]),
            new TrafficSelector(TsType.Ipv6AddrRange, 17, 500, 500, new byte[16], new byte[16]),
        ]),
        new TsPayload(false, [new TrafficSelector(TsType.Ipv4AddrRange, 6, 80, 443, [203, 0, 113, 1], [203, 0, 113, 1])]),
        new CpPayload(CfgType.Request, [new CfgAttribute(CfgAttributeType.InternalIp4Address, []), new CfgAttribute(CfgAttributeType.InternalIp4Dns, [])]),
        new CpPayload(CfgType.Reply, [new CfgAttribute(CfgAttributeType.InternalIp4Address, [198, 51, 100, 7]), new CfgAttribute(CfgAttributeType.InternalIp6Address, new byte[17])]),
        new EapPayload([2, 7, 0, 9, 1, 0x61, 0x62, 0x63, 0x64]),
        new RawPayload((PayloadType)200, [1, 2, 3]),
    ];
}
