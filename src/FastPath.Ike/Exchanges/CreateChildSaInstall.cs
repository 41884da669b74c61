using System;
using FastPath.Ike.Engine;

namespace FastPath.Ike.Exchanges;

// From a ChildSaCreated outcome to what IChildSaSink.InstallInbound/InstallOutbound take. The KEYMAT
// halves are named after the exchange initiator (RFC 7296 §2.17: encr_i/integ_i protect traffic from
// the CREATE_CHILD_SA initiator), so which of them is inbound depends on the side:
//   we initiated the exchange  -> inbound = responder→initiator keys, outbound = initiator→responder
//   we responded               -> inbound = initiator→responder keys, outbound = responder→initiator
// InboundSpi is the SPI we allocated (the peer sends to it), OutboundSpi the peer's. On a rekey,
// ReplacesOutboundSpi names the old SA's outbound SPI so the eroutes switch atomically (make-before-break,
// docs/ike-rekey.md). Volume limits come from Lifetimes.ChildVolume (soft fuzzed below hard).

public static partial class CreateChildSaExchange
{
    /// <summary>The dataplane install record of <paramref name="created"/>.</summary>
    public static ChildSaInstall ToInstall(ChildSaCreated created, CreateChildSaContext context, int ikeSerial, int childSerial, uint reqId,
        Random random, bool udpEncapsulation = false, int localPort = 4500, int remotePort = 4500)
    {
        ArgumentNullException.ThrowIfNull(created);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(random);
        var c = context.Connection;
        var volume = Lifetimes.ChildVolume(c, random);
        var inbound = created.InboundKeys;
        var outbound = created.OutboundKeys;
        return new ChildSaInstall
        {
            Connection = c.Name,
            IkeSerial = ikeSerial,
            ChildSerial = childSerial,
            ReqId = reqId,
            InboundSpi = created.InboundSpi,
            OutboundSpi = created.OutboundSpi,
            Suite = created.Suite,
            InboundEncryptionKey = inbound.EncryptionKey,
            InboundIntegrityKey = inbound.IntegrityKey,
            OutboundEncryptionKey = outbound.EncryptionKey,
            OutboundIntegrityKey = outbound.IntegrityKey,
            Transport = created.Transport,
            LocalAddress = context.LocalAddress,
            RemoteAddress = context.RemoteAddress,
            UdpEncapsulation = udpEncapsulation,
            LocalPort = localPort,
            RemotePort = remotePort,
            LocalTs = created.LocalTs,
            RemoteTs = created.RemoteTs,
            ReplayWindow = c.ReplayWindow,
            HideTos = c.HideTos,
            SoftLifeBytes = volume.SoftBytes,
            HardLifeBytes = volume.HardBytes,
            SoftLifePackets = volume.SoftPackets,
            HardLifePackets = volume.HardPackets,
            ReplacesOutboundSpi = created.Rekeyed?.OutboundSpi ?? 0,
        };
    }
}
