using System;
using System.Collections.Generic;
using System.Linq;
using FastPath.Ike.Messages;

namespace FastPath.Ike.Engine;

// INFORMATIONAL (RFC 7296 §1.4, §1.5, §2.4) and liveness.
//   peer request  D(IKE) → empty response, SA gone (children uninstalled); D(ESP, SPIs) → our
//                 response deletes the paired SAs (our inbound SPIs, §1.4.1), both uninstalled;
//                 empty → empty response (a liveness check); N(AUTHENTICATION_FAILED) from the
//                 initiator after our AUTH (§2.21.2) → SA gone.
//   our requests  delete IKE SA (DeleteIkeSa; SA gone on the response or the timeout), delete one
//                 child, and DPD: every DpdDelay, when neither an IKE message nor ESP (inbound
//                 IChildSaSink.Usage) arrived since the last check, an empty INFORMATIONAL; its
//                 retransmissions are bounded by DpdTimeout; exhaustion (or any request of an
//                 established SA timing out) = dead peer → DpdAction: clear (SAs gone; eroutes fall
//                 back to the connection's routed state), hold (the same: DeleteOutbound leaves the
//                 %trap of a routed connection, whose next packet ACQUIREs), restart (initiate again).
//   NAT keepalive one 0xFF byte every NatKeepalive from 4500 while we are behind a NAT (RFC 3948 §2.3).
// CREATE_CHILD_SA requests are answered NO_ADDITIONAL_SAS (§1.3) until the CREATE_CHILD_SA work is
// wired in; the peer keeps its SAs until their hard lifetime.
public sealed partial class IkeEngine
{
    private void HandleInformationalRequest(IkeSa sa, IkeMessage msg, IReadOnlyList<IkePayload> p)
    {
        uint id = msg.Header.MessageId;
        bool deleteIke = false;
        var ourSpis = new List<uint>();
        foreach (var d in p.OfType<DeletePayload>())
        {
            if (d.Protocol == ProtocolId.Ike) { deleteIke = true; continue; }
            if (d.Protocol != ProtocolId.Esp) continue;
            foreach (var spiBytes in d.Spis)
            {
                uint spi = SpiOf(spiBytes);
                var ch = sa.Children.FirstOrDefault(x => x.OutboundSpi == spi);
                if (ch is null) continue; // already gone (both sides deleting at once, §1.4.1)
                ourSpis.Add(ch.InboundSpi);
                sa.Children.Remove(ch);
                if (ch.OutboundPending && ch.Install.ReplacesOutboundSpi != 0
                    && sa.Children.Any(x => x.OutboundSpi == ch.Install.ReplacesOutboundSpi && x.Rekeying))
                    LogCollision(sa.Connection.Name, ch.Serial, "the peer's rekey lost, it deleted its redundant SA; ours replaces the old one");
                if (ch.PendingReplacement is { } next)
                {
                    // Rekey responder: the initiator deleted the old SA, so it sends on the new one
                    // now; switch our outbound (replacing the old one) and drop the old inbound.
                    CompleteReplacement(sa, ch, next);
                    continue;
                }
                UninstallChild(sa, ch, "deleted by peer", rekey: false);
            }
        }
        if (!sa.Initiator && IkeMessage.FindNotify(p, NotifyType.AuthenticationFailed) is not null)
        {
            _authFailures++;
            LogAuthFailedByPeer(sa.Connection.Name, sa.Serial);
            deleteIke = true;
        }
        if (deleteIke && sa.CollidingRekey is { } theirs && theirs.NewSa.State != IkeSaState.Dead)
        {
            // §2.8.2: the peer deletes the old IKE SA only when its rekey won; our response is still on its way (or
            // lost). The children go to the peer's new SA instead of being torn down.
            sa.CollidingRekey = null;
            sa.IkeRekeying = false;
            LogIkeCollision(sa.Connection.Name, sa.Serial, $"the peer deleted the old SA: its #{theirs.NewSa.Serial} survives");
            theirs.NewSa.Children.AddRange(sa.Children);
            sa.Children.Clear();
        }
        if (deleteIke)
        {
            LogPeerDeletedIke(sa.Connection.Name, sa.Serial);
            SendResponse(sa, ExchangeType.Informational, id, []);
            Destroy(sa, "deleted by peer", restart: false);
            return;
        }
        var resp = new List<IkePayload>();
        if (ourSpis.Count > 0) resp.Add(DeletePayload.ChildSas(ProtocolId.Esp, ourSpis.ToArray()));
        SendResponse(sa, ExchangeType.Informational, id, resp);
    }

    /// <summary>INFORMATIONAL with D(IKE); the SA goes away on the response or the timeout.</summary>
    private void DeleteIkeSa(IkeSa sa, string reason)
    {
        if (sa.State is IkeSaState.Dead or IkeSaState.Deleting) return;
        sa.State = IkeSaState.Deleting;
        LogDeletingIke(sa.Connection.Name, sa.Serial, reason);
        SendRequest(sa, ExchangeType.Informational, () => [DeletePayload.IkeSa()],
            (_, _) => Destroy(sa, reason, restart: false),
            () => Destroy(sa, reason + " (no response to the delete)", restart: false));
    }

    /// <summary>One D(IKE) without waiting (shutdown).</summary>
    private void SendDeleteNoWait(IkeSa sa)
    {
        uint id = sa.Outstanding is null ? sa.NextRequestId++ : sa.NextRequestId;
        Transmit(sa, BuildProtected(sa, ExchangeType.Informational, false, id, [DeletePayload.IkeSa()]));
    }

    /// <summary>Deletes one CHILD_SA: tells the peer (it answers with its own SPI), uninstalls on the answer or the timeout.</summary>
    private void DeleteChild(IkeSa sa, ChildSa ch, bool notifyPeer, string reason)
    {
        if (ch.State == ChildSaState.Deleting) return;
        ch.State = ChildSaState.Deleting;
        void Remove()
        {
            if (!sa.Children.Remove(ch)) return;
            UninstallChild(sa, ch, reason, rekey: false);
        }
        if (!notifyPeer || sa.State != IkeSaState.Established)
        {
            Remove();
            return;
        }
        SendRequest(sa, ExchangeType.Informational, () => [DeletePayload.ChildSas(ProtocolId.Esp, ch.InboundSpi)], (_, _) => Remove(), () =>
        {
            Remove();
            DeadPeer(sa, "no response to a CHILD_SA delete");
        });
    }

    private void ScheduleDpd(IkeSa sa)
    {
        var delay = sa.Connection.DpdDelay;
        if (delay <= TimeSpan.Zero || sa.State != IkeSaState.Established) return;
        sa.DpdTimer?.Dispose();
        sa.DpdTimer = Schedule(delay, () => DpdCheck(sa));
    }

    private void DpdCheck(IkeSa sa)
    {
        if (sa.State != IkeSaState.Established) return;
        var c = sa.Connection;
        bool activity = Now - sa.LastInbound < c.DpdDelay;
        foreach (var ch in sa.Children)
        {
            var u = SafeUsage(ch.InboundSpi, inbound: true);
            if (u.Exists && u.Packets != ch.LastInboundPackets)
            {
                ch.LastInboundPackets = u.Packets;
                activity = true;
            }
        }
        if (!activity && sa.Outstanding is null && sa.Waiting.Count == 0)
        {
            LogDpdProbe(c.Name, sa.Serial);
            SendRequest(sa, ExchangeType.Informational, () => [], (_, _) => { }, () => DeadPeer(sa, "DPD: no response"), liveness: true,
                deadline: c.DpdTimeout > TimeSpan.Zero ? c.DpdTimeout : null);
        }
        ScheduleDpd(sa);
    }

    /// <summary>The peer stopped answering: DpdAction decides (RFC 7296 §2.4; ipsec.conf dpdaction=).</summary>
    private void DeadPeer(IkeSa sa, string reason)
    {
        if (sa.State == IkeSaState.Dead) return;
        if (sa.State != IkeSaState.Established && sa.State != IkeSaState.Deleting)
        {
            KeyingFailed(sa, reason);
            return;
        }
        _dpdTimeouts++;
        var action = sa.Connection.DpdAction;
        LogDeadPeer(sa.Connection.Name, sa.Serial, reason, action.ToString().ToLowerInvariant());
        Destroy(sa, $"{reason}; dpdaction={action.ToString().ToLowerInvariant()}", restart: action == DpdAction.Restart && sa.State != IkeSaState.Deleting);
    }

    private void ScheduleKeepalive(IkeSa sa)
    {
        if (!sa.NatLocal || _options.NatKeepalive <= TimeSpan.Zero || _transport is not Transport.UdpIkeTransport udp) return;
        sa.KeepaliveTimer?.Dispose();
        sa.KeepaliveTimer = Schedule(_options.NatKeepalive, () =>
        {
            if (sa.State != IkeSaState.Established) return;
            try { udp.SendKeepalive(sa.Local, sa.Remote); }
#pragma warning disable CA1031 // a lost keepalive is harmless
            catch (Exception e) { LogSendFailed(sa.Remote.ToString(), e.Message); }
#pragma warning restore CA1031
            ScheduleKeepalive(sa);
        });
    }
}
