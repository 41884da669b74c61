using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using FastPath.Ike.Crypto;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;

namespace FastPath.Ike.Engine;

// CREATE_CHILD_SA in the engine (RFC 7296 §1.3, §2.8, §2.18, §2.25) on top of the payload-level
// functions of Exchanges/CreateChildSa*.cs (docs/ike-rekey.md). The engine supplies message IDs,
// retransmission, SK, SPIs, timers and the dataplane calls.
//
// Make-before-break, as strongSwan 5.9 does it, so that no packet is lost:
//   rekey initiator   response → InstallInbound(new) → InstallOutbound(new, ReplacesOutboundSpi =
//                     old out; the eroutes switch atomically, the old outbound goes) → D(old) to the
//                     peer → on its answer DeleteInbound(old) (the peer's last packets on the old SA
//                     were accepted until then)
//   rekey responder   request → InstallInbound(new) → response; the outbound stays on the old SA
//                     until the initiator's D(old) arrives (it only sends on the new SA once it has
//                     the response, and our new inbound already exists) → InstallOutbound(new,
//                     replaces old) → DeleteInbound(old); a 10 s fallback switches anyway if no
//                     delete comes
//   IKE rekey         the new IKE SA takes the children (no dataplane change); the rekey initiator
//                     deletes the old IKE SA, the responder waits for that delete (§2.18)
// Schedules: each CHILD_SA rekeys after Lifetimes.ChildSchedule (both ends, §2.8: whoever is first)
// and expires at the hard lifetime; IChildSaSink soft volume limits call RekeyChild too; the IKE SA
// rekeys after Lifetimes.IkeSchedule. Simultaneous rekeys of the same child (§2.8.1): both finish,
// RekeyCollision.Resolve names the redundant SA, and its creator deletes it.
public sealed partial class IkeEngine
{
    private static readonly TimeSpan ReplaceFallback = TimeSpan.FromSeconds(10);
    /// <summary>Timers of old inbound SAs that linger after their rekey (RekeyedInboundLinger).</summary>
    private readonly Dictionary<ITimer, Action> _lingering = [];

    /// <summary>Shutdown: the lingering old inbound SAs go now.</summary>
    private void DeleteLingeringInbound()
    {
        foreach (var (t, delete) in _lingering.ToList())
        {
            t.Dispose();
            delete();
        }
        _lingering.Clear();
    }
    /// <summary>§2.25: after TEMPORARY_FAILURE retry later, never at once; 2 s plus a random part of up to 3 s, so two ends
    /// whose exchanges refused each other (a child rekey crossing an IKE rekey) do not collide again in lockstep.</summary>
    private TimeSpan TemporaryFailureRetry => TimeSpan.FromMilliseconds(2000 + _random.Next(3001));
    /// <summary>A rekey that must wait for another exchange of the same IKE SA (a child rekey during an IKE rekey and back) tries again after this.</summary>
    private static readonly TimeSpan RekeyDeferral = TimeSpan.FromMilliseconds(500);
    /// <summary>How long the loser of a simultaneous IKE rekey, or a rekey responder, waits for the peer's delete of an old / redundant IKE SA.</summary>
    private static readonly TimeSpan RekeyedIkeSaFallback = TimeSpan.FromSeconds(60);

    private CreateChildSaContext ContextOf(IkeSa sa) => new()
    {
        IkeKeys = sa.Keys!,
        Connection = sa.Connection,
        LocalAddress = sa.Local.Address,
        RemoteAddress = sa.Remote.Address,
        AllocateChildSpi = NewChildSpi,
        AllocateIkeSpi = NewSpi,
        NonceLength = NonceLength,
    };

    private static ExistingChildSa Existing(ChildSa ch) =>
        new(ch.InboundSpi, ch.OutboundSpi, ch.Install.Suite, ch.Install.LocalTs, ch.Install.RemoteTs, ch.Install.Transport, ch.Install.ReqId);

    private ChildSaInstall InstallRecord(IkeSa sa, ChildSaCreated created, CreateChildSaContext ctx) =>
        CreateChildSaExchange.ToInstall(created, ctx, sa.Serial, NextSerial(), ReqIdOf(sa.Connection), _random, sa.UdpEncapsulation,
            sa.UdpEncapsulation ? sa.Local.Port : 4500, sa.UdpEncapsulation ? sa.Remote.Port : 4500);

    // ---- schedules -------------------------------------------------------------------------

    private void ScheduleChildLifetime(IkeSa sa, ChildSa ch)
    {
        var c = sa.Connection;
        if (Lifetimes.Validate(c.ChildLifetime, c.RekeyMargin, c.RekeyFuzzPercent) is { } err && c.Rekey)
        {
            LogConfigError(c.Name, err);
            return;
        }
        var s = Lifetimes.ChildSchedule(c, _random);
        // The timers look the child's IKE SA up when they fire: an IKE SA rekey moves the child to the new SA.
        if (s.Rekey) ch.RekeyTimer = Schedule(s.RekeyAfter, () => { if (OwnerOf(ch) is { } o) RekeyChild(o, ch); });
        ch.ExpireTimer = Schedule(s.ExpireAfter, () =>
        {
            if (OwnerOf(ch) is not { } o) return;
            LogChildExpired(c.Name, ch.Serial, "hard lifetime reached");
            DeleteChild(o, ch, notifyPeer: true, "hard lifetime");
        });
    }

    /// <summary>The IKE SA that holds the child now (children move on an IKE SA rekey, §2.18); null once it is gone.</summary>
    private IkeSa? OwnerOf(ChildSa ch)
    {
        foreach (var s in _sas.Values)
            if (s.State != IkeSaState.Dead && s.Children.Contains(ch)) return s;
        return null;
    }

    private void ScheduleIkeRekey(IkeSa sa)
    {
        var c = sa.Connection;
        if (!c.Rekey || Lifetimes.Validate(c.IkeLifetime, c.RekeyMargin, c.RekeyFuzzPercent) is not null) return;
        var s = Lifetimes.IkeSchedule(c, _random);
        sa.RekeyTimer?.Dispose();
        sa.RekeyTimer = Schedule(s.RekeyAfter, () => RekeyIke(sa));
    }

    // ---- responder ---------------------------------------------------------------------------

    private void HandleCreateChildSaRequest(IkeSa sa, IkeMessage msg, IReadOnlyList<IkePayload> p)
    {
        uint id = msg.Header.MessageId;
        if (sa.State is not (IkeSaState.Established or IkeSaState.Deleting))
        {
            SendResponse(sa, ExchangeType.CreateChildSa, id, [new NotifyPayload(NotifyType.NoAdditionalSas, [])]);
            return;
        }
        var ctx = ContextOf(sa);
        var outstanding = sa.Outstanding;
        var state = new CreateChildSaResponderState
        {
            FindChildByOutboundSpi = spi => sa.Children.FirstOrDefault(c => c.OutboundSpi == spi && c.State == ChildSaState.Installed) is { } ch ? Existing(ch) : null,
            IkeRekeyInProgress = sa.IkeRekeying,
            IkeDeleteInProgress = sa.State == IkeSaState.Deleting,
            ChildExchangeInProgress = outstanding is not null && !outstanding.IsLiveness && !sa.IkeRekeying,
            IsChildClosing = spi => sa.Children.Any(c => c.OutboundSpi == spi && c.State == ChildSaState.Deleting),
        };
        var r = CreateChildSaExchange.ProcessRequest(ctx, p, state);
        switch (r.Outcome)
        {
            case ChildSaCreated created when created.Kind == CreateChildSaKind.NewChild:
                {
                    var install = InstallRecord(sa, created, ctx);
                    if (!InstallPair(sa, install, rekey: false, out _))
                    {
                        SendResponse(sa, ExchangeType.CreateChildSa, id, [new NotifyPayload(NotifyType.TemporaryFailure, [])]);
                        return;
                    }
                    break;
                }
            case ChildSaCreated created:
                {
                    var old = sa.Children.FirstOrDefault(c => c.OutboundSpi == created.Rekeyed!.OutboundSpi);
                    var install = InstallRecord(sa, created, ctx);
                    try { _sink.InstallInbound(install); SinkTouched(sa); }
#pragma warning disable CA1031 // the dataplane refusing: answer TEMPORARY_FAILURE, keep the old SA
                    catch (Exception e)
                    {
                        LogInstallFailed(sa.Connection.Name, install.ChildSerial, e.Message);
                        _inboundSpis.Remove(install.InboundSpi);
                        SendResponse(sa, ExchangeType.CreateChildSa, id, [new NotifyPayload(NotifyType.TemporaryFailure, [])]);
                        return;
                    }
#pragma warning restore CA1031
                    var next = new ChildSa { Serial = install.ChildSerial, Install = install, Installed = Now, OutboundPending = true };
                    _responderNonces[install.InboundSpi] = (created.Ni, created.Nr);
                    sa.Children.Add(next);
                    _childRekeys++;
                    LogChildRekeyed(sa.Connection.Name, old?.Serial ?? 0, next.Serial, install.InboundSpi, install.OutboundSpi, "responder, outbound after the old SA's delete");
                    if (old is not null)
                    {
                        old.PendingReplacement = next;
                        old.RekeyTimer?.Dispose();
                        old.ReplaceTimer = Schedule(ReplaceFallback, () =>
                        {
                            if (OwnerOf(old) is { } o && old.PendingReplacement == next)
                            {
                                o.Children.Remove(old);
                                CompleteReplacement(o, old, next);
                            }
                        });
                    }
                    else
                    {
                        InstallOutboundOf(sa, next);
                    }
                    ScheduleChildLifetime(sa, next);
                    break;
                }
            case IkeSaRekeyed rekeyed:
                SendResponse(sa, ExchangeType.CreateChildSa, id, r.Payloads);
                if (sa.IkeRekeying && sa.CollidingRekey is null)
                {
                    // §2.8.2: both ends rekey the IKE SA. Their new SA exists from now on (it can receive the peer's
                    // delete), the children stay until our own exchange's response tells which SA survives.
                    var theirs = NewRekeyedIkeSa(sa, rekeyed, weInitiated: false);
                    sa.CollidingRekey = new CollidingIkeRekey(theirs, rekeyed.Ni, rekeyed.Nr);
                    LogIkeCollision(sa.Connection.Name, sa.Serial, $"answered the peer's rekey (#{theirs.Serial}) while ours is outstanding");
                    return;
                }
                AdoptRekeyedIkeSa(sa, rekeyed, weInitiated: false);
                return;
            case CreateChildSaFailed f:
                LogCreateChildFailed(sa.Connection.Name, sa.Serial, "peer's request", f.ToString());
                break;
        }
        SendResponse(sa, ExchangeType.CreateChildSa, id, r.Payloads);
    }

    /// <summary>Rekey responder, the old SA is gone at the peer: new outbound replaces the old, old inbound deleted.</summary>
    private void CompleteReplacement(IkeSa sa, ChildSa old, ChildSa next)
    {
        old.CancelTimers();
        old.PendingReplacement = null;
        _responderNonces.Remove(next.InboundSpi);
        if (sa.Children.Contains(next) && next.OutboundPending) InstallOutboundOf(sa, next);
        DeleteRekeyedInbound(sa, old);
    }

    /// <summary>The last step of either side of a child rekey: the old SA's inbound half goes from the dataplane.</summary>
    private void DeleteRekeyedInbound(IkeSa sa, ChildSa old)
    {
        // The peer's last packets on the old SA may still be queued behind the delete exchange: ESP reaches the
        // dataplane through its own rings and workers, the IKE message through the engine's socket, so the
        // delete (or its response) can overtake ESP the peer sent before it. The inbound half stays for
        // RekeyedInboundLinger more (it only accepts the peer's old keys, and no eroute names it); then it goes.
        uint spi = old.InboundSpi;
        void Delete()
        {
            try { _sink.DeleteInbound(spi); }
#pragma warning disable CA1031
            catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
            _inboundSpis.Remove(spi);
        }
        if (_options.RekeyedInboundLinger > TimeSpan.Zero)
        {
            // The timer is referenced until it fired (an unreferenced timer may be collected before it fires).
            ITimer? t = null;
            t = Schedule(_options.RekeyedInboundLinger, () =>
            {
                if (t is not null) _lingering.Remove(t);
                t?.Dispose();
                Delete();
            });
            _lingering[t] = Delete;
        }
        else Delete();
        LogChildDeleted(sa.Connection.Name, old.Serial, old.InboundSpi, old.OutboundSpi, "rekeyed");
        try { _observer?.ChildSaDown(sa.Connection, old.Install, rekey: true, "rekeyed"); }
#pragma warning disable CA1031
        catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
    }

    private void InstallOutboundOf(IkeSa sa, ChildSa ch)
    {
        ch.OutboundPending = false;
        try { _sink.InstallOutbound(ch.Install); SinkTouched(sa); }
#pragma warning disable CA1031
        catch (Exception e) { LogInstallFailed(sa.Connection.Name, ch.Serial, e.Message); return; }
#pragma warning restore CA1031
        LogChildEstablished(sa.Connection.Name, ch.Serial, ch.Install.Transport ? "transport" : "tunnel", sa.UdpEncapsulation ? "ESP/NAT" : "ESP",
            ch.OutboundSpi, ch.InboundSpi, SuiteName(ch.Install.Suite), TrafficSelectors.Format(ch.Install.LocalTs), TrafficSelectors.Format(ch.Install.RemoteTs));
        try { _observer?.ChildSaUp(sa.Connection, ch.Install, rekey: ch.Install.ReplacesOutboundSpi != 0); }
#pragma warning disable CA1031
        catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
    }

    /// <summary>Inbound, then outbound; the child joins the SA with its schedules.</summary>
    private bool InstallPair(IkeSa sa, ChildSaInstall install, bool rekey, out ChildSa? child)
    {
        child = null;
        try
        {
            _sink.InstallInbound(install);
            _sink.InstallOutbound(install);
        }
#pragma warning disable CA1031
        catch (Exception e)
        {
            LogInstallFailed(sa.Connection.Name, install.ChildSerial, e.Message);
            // Roll back the half-installed pair; a second failure is logged, not thrown (the engine thread must survive).
            try { _sink.DeleteInbound(install.InboundSpi); }
#pragma warning disable CA1031
            catch (Exception rollback) { LogInternalError(rollback); }
#pragma warning restore CA1031
            _inboundSpis.Remove(install.InboundSpi);
            return false;
        }
#pragma warning restore CA1031
        finally { SinkTouched(sa); }
        child = new ChildSa { Serial = install.ChildSerial, Install = install, Installed = Now };
        sa.Children.Add(child);
        if (rekey) _childRekeys++;
        else _childUp++;
        LogChildEstablished(sa.Connection.Name, install.ChildSerial, install.Transport ? "transport" : "tunnel", sa.UdpEncapsulation ? "ESP/NAT" : "ESP",
            install.OutboundSpi, install.InboundSpi, SuiteName(install.Suite), TrafficSelectors.Format(install.LocalTs), TrafficSelectors.Format(install.RemoteTs));
        try { _observer?.ChildSaUp(sa.Connection, install, rekey); }
#pragma warning disable CA1031
        catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
        ScheduleChildLifetime(sa, child);
        return true;
    }

    // ---- initiator: new child --------------------------------------------------------------

    private void NewChild(IkeSa sa, TrafficSelector? tsI, TrafficSelector? tsR, DhGroup group = DhGroup.None)
    {
        var ctx = ContextOf(sa);
        IReadOnlyList<TrafficSelector>? i = null, r = null;
        if (tsI is not null && tsR is not null)
        {
            i = [tsI, .. ctx.Connection.LocalTs.Count > 0 ? ctx.Connection.LocalTs : [TrafficSelectors.FromAddress(sa.Local.Address)]];
            r = [tsR, .. ctx.Connection.RemoteTs.Count > 0 ? ctx.Connection.RemoteTs : [TrafficSelectors.FromAddress(sa.Remote.Address)]];
        }
        CreateChildSaRequest req;
        try { req = CreateChildSaExchange.BuildNewChild(ctx, i, r, group); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            LogCreateChildFailed(sa.Connection.Name, sa.Serial, "new child", e.Message);
            return;
        }
        SendRequest(sa, ExchangeType.CreateChildSa, () => [.. req.Payloads], (_, p) =>
        {
            var outcome = CreateChildSaExchange.ProcessResponse(ctx, req.Pending, p);
            req.Pending.Dispose();
            switch (outcome)
            {
                case ChildSaCreated created:
                    InstallPair(sa, InstallRecord(sa, created, ctx), rekey: false, out ChildSa? _);
                    break;
                case CreateChildSaFailed f when f.RetryWithGroup != DhGroup.None:
                    _inboundSpis.Remove(req.Pending.ChildSpi);
                    NewChild(sa, tsI, tsR, f.RetryWithGroup);
                    break;
                case CreateChildSaFailed f:
                    _inboundSpis.Remove(req.Pending.ChildSpi);
                    LogCreateChildFailed(sa.Connection.Name, sa.Serial, "new child", f.ToString());
                    if (f.DeletePeerChildSpi != 0)
                        SendRequest(sa, ExchangeType.Informational, () => [DeletePayload.ChildSas(ProtocolId.Esp, req.Pending.ChildSpi)], (_, _) => { }, () => DeadPeer(sa, "INFORMATIONAL timed out"));
                    break;
            }
        }, () =>
        {
            req.Pending.Dispose();
            DeadPeer(sa, "CREATE_CHILD_SA timed out");
        });
    }

    // ---- initiator: child rekey ------------------------------------------------------------

    private void RekeyChild(IkeSa sa, ChildSa ch, DhGroup group = DhGroup.None)
    {
        if (sa.State != IkeSaState.Established || !sa.Children.Contains(ch) || ch.State != ChildSaState.Installed || (ch.Rekeying && group == DhGroup.None)) return;
        if (ch.PendingReplacement is not null || ch.OutboundPending) return; // the peer is rekeying it right now
        if (sa.IkeRekeying || sa.CollidingRekey is not null)
        {
            // §2.8.2: no new exchange on an IKE SA that is being rekeyed; the child moves to the new SA, retry there.
            ch.RekeyTimer?.Dispose();
            ch.RekeyTimer = Schedule(RekeyDeferral, () => { if (OwnerOf(ch) is { } o) RekeyChild(o, ch); });
            return;
        }
        ch.Rekeying = true;
        var ctx = ContextOf(sa);
        CreateChildSaRequest req;
        try { req = CreateChildSaExchange.BuildChildRekey(ctx, Existing(ch), group); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            ch.Rekeying = false;
            LogCreateChildFailed(sa.Connection.Name, ch.Serial, "rekey", e.Message);
            return;
        }
        LogRekeying(sa.Connection.Name, ch.Serial, ch.InboundSpi);
        SendRequest(sa, ExchangeType.CreateChildSa, () => [.. req.Payloads], (_, p) =>
        {
            var outcome = CreateChildSaExchange.ProcessResponse(ctx, req.Pending, p);
            req.Pending.Dispose();
            ch.Rekeying = false;
            OnChildRekeyOutcome(sa, ch, outcome, req.Pending);
        }, () =>
        {
            req.Pending.Dispose();
            ch.Rekeying = false;
            DeadPeer(sa, "CREATE_CHILD_SA timed out");
        });
    }

    private void OnChildRekeyOutcome(IkeSa sa, ChildSa old, CreateChildSaOutcome outcome, CreateChildSaPending pending)
    {
        var c = sa.Connection;
        switch (outcome)
        {
            case ChildSaCreated created:
                {
                    if (!sa.Children.Contains(old) && sa.Children.Any(x => x.Install.ReplacesOutboundSpi == old.OutboundSpi))
                    {
                        // §2.8.1: the peer rekeyed the same child at the same time, its SA won (lower nonce on ours) and it
                        // deleted the old SA before our response arrived: ours is redundant, and we created it, so we delete it.
                        LogCollision(c.Name, old.Serial, "the peer's rekey won and already replaced the old SA; deleting ours");
                        _inboundSpis.Remove(created.InboundSpi);
                        SendRequest(sa, ExchangeType.Informational, () => [DeletePayload.ChildSas(ProtocolId.Esp, created.InboundSpi)], (_, _) => { }, () => DeadPeer(sa, "INFORMATIONAL timed out"));
                        return;
                    }
                    if (!sa.Children.Contains(old))
                    {
                        // The old SA vanished meanwhile (the peer deleted it): keep the new one as a fresh child.
                        var fresh = InstallRecord(sa, created, ContextOf(sa)) with { ReplacesOutboundSpi = 0 };
                        InstallPair(sa, fresh, rekey: true, out _);
                        return;
                    }
                    // §2.8.1: did the peer rekey the same child at the same time? Its new SA replaces `old` too.
                    var theirs = sa.Children.FirstOrDefault(x => x != old && x.Install.ReplacesOutboundSpi == old.OutboundSpi && x.OutboundPending);
                    var install = InstallRecord(sa, created, ContextOf(sa));
                    if (theirs is not null && theirs.Install is { } ti)
                    {
                        var res = RekeyCollision.Resolve(pending.Nonce, created.Nr, PeerNonceOf(theirs), OurNonceOf(theirs));
                        if (!res.OursSurvives)
                        {
                            // Ours is redundant: install nothing lasting, delete it at the peer; theirs completes on the old SA's delete.
                            LogCollision(c.Name, old.Serial, "ours loses, deleting it");
                            _inboundSpis.Remove(install.InboundSpi);
                            SendRequest(sa, ExchangeType.Informational, () => [DeletePayload.ChildSas(ProtocolId.Esp, install.InboundSpi)], (_, _) => { }, () => DeadPeer(sa, "INFORMATIONAL timed out"));
                            return;
                        }
                        LogCollision(c.Name, old.Serial, "ours survives; the peer deletes its redundant SA");
                        _ = ti;
                        old.PendingReplacement = null; // theirs must never take over the outbound
                        old.ReplaceTimer?.Dispose();
                    }
                    if (!InstallPair(sa, install, rekey: true, out var next)) return;
                    LogChildRekeyed(c.Name, old.Serial, next!.Serial, install.InboundSpi, install.OutboundSpi, "initiator");
                    // The old outbound is gone (replaced); its inbound stays until the peer confirmed the delete.
                    old.State = ChildSaState.Deleting;
                    old.CancelTimers();
                    SendRequest(sa, ExchangeType.Informational, () => [DeletePayload.ChildSas(ProtocolId.Esp, old.InboundSpi)], (_, _) => RetireOld(sa, old), () =>
                    {
                        RetireOld(sa, old);
                        DeadPeer(sa, "no response to the delete of a rekeyed CHILD_SA");
                    });
                    break;
                }
            case CreateChildSaFailed f when f.RetryWithGroup != DhGroup.None:
                LogCreateChildFailed(c.Name, old.Serial, "rekey", f.ToString());
                RekeyChild(sa, old, f.RetryWithGroup);
                break;
            case CreateChildSaFailed f when f.Notify == NotifyType.TemporaryFailure:
                LogCreateChildFailed(c.Name, old.Serial, "rekey", f.ToString());
                old.RekeyTimer?.Dispose();
                old.RekeyTimer = Schedule(TemporaryFailureRetry, () => { if (OwnerOf(old) is { } o) RekeyChild(o, old); });
                break;
            case CreateChildSaFailed f:
                LogCreateChildFailed(c.Name, old.Serial, "rekey", f.ToString());
                if (f.DeletePeerChildSpi != 0)
                    SendRequest(sa, ExchangeType.Informational, () => [DeletePayload.ChildSas(ProtocolId.Esp, pending.ChildSpi)], (_, _) => { }, () => DeadPeer(sa, "INFORMATIONAL timed out"));
                _inboundSpis.Remove(pending.ChildSpi);
                if (f.ChildSaNotFoundSpi != 0 && sa.Children.Remove(old)) UninstallChild(sa, old, "peer has no such CHILD_SA", rekey: false);
                break;
        }
    }

    // The responder-side child keeps no nonces; a collision resolves on the payloads we kept in its install's keys.
    // We store them here when responding (see RememberNonces).
    private readonly Dictionary<uint, (byte[] PeerNi, byte[] OurNr)> _responderNonces = [];

    private byte[] PeerNonceOf(ChildSa ch) => _responderNonces.TryGetValue(ch.InboundSpi, out var n) ? n.PeerNi : [];

    private byte[] OurNonceOf(ChildSa ch) => _responderNonces.TryGetValue(ch.InboundSpi, out var n) ? n.OurNr : [];

    /// <summary>Rekey initiator: the peer confirmed the old SA's delete; its inbound goes (the outbound was replaced already).</summary>
    private void RetireOld(IkeSa sa, ChildSa old)
    {
        if (OwnerOf(old) is { } o) sa = o;
        if (!sa.Children.Remove(old)) return;
        old.CancelTimers();
        DeleteRekeyedInbound(sa, old);
    }

    // ---- IKE SA rekey ----------------------------------------------------------------------

    private void RekeyIke(IkeSa sa, DhGroup group = DhGroup.None)
    {
        if (sa.State != IkeSaState.Established || (sa.IkeRekeying && group == DhGroup.None) || sa.CollidingRekey is not null) return;
        if (group == DhGroup.None && ChildExchangeBusy(sa))
        {
            // strongSwan's order too: an IKE rekey waits until no CHILD_SA exchange of this SA is in flight
            // (a child rekey's delete still to come would otherwise land on the old IKE SA).
            sa.RekeyTimer?.Dispose();
            sa.RekeyTimer = Schedule(RekeyDeferral, () => RekeyIke(sa));
            return;
        }
        sa.IkeRekeying = true;
        var ctx = ContextOf(sa);
        CreateChildSaRequest req;
        try { req = CreateChildSaExchange.BuildIkeRekey(ctx, group); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            sa.IkeRekeying = false;
            LogCreateChildFailed(sa.Connection.Name, sa.Serial, "IKE rekey", e.Message);
            return;
        }
        LogRekeyingIke(sa.Connection.Name, sa.Serial);
        SendRequest(sa, ExchangeType.CreateChildSa, () => [.. req.Payloads], (_, p) =>
        {
            var outcome = CreateChildSaExchange.ProcessResponse(ctx, req.Pending, p);
            req.Pending.Dispose();
            sa.IkeRekeying = false;
            switch (outcome)
            {
                case IkeSaRekeyed r when sa.CollidingRekey is { } theirs:
                    sa.CollidingRekey = null;
                    ResolveIkeRekeyCollision(sa, r, theirs);
                    break;
                case IkeSaRekeyed r:
                    AdoptRekeyedIkeSa(sa, r, weInitiated: true);
                    break;
                case CreateChildSaFailed f when f.RetryWithGroup != DhGroup.None && sa.CollidingRekey is null:
                    RekeyIke(sa, f.RetryWithGroup);
                    break;
                case CreateChildSaFailed f when sa.CollidingRekey is { } theirs:
                    // Ours failed (e.g. the peer answered TEMPORARY_FAILURE), theirs completed: an ordinary rekey by the peer.
                    LogCreateChildFailed(sa.Connection.Name, sa.Serial, "IKE rekey", f.ToString());
                    sa.CollidingRekey = null;
                    HandOverToRekeyedIkeSa(sa, theirs.NewSa, weDeleteOld: false);
                    break;
                case CreateChildSaFailed f:
                    LogCreateChildFailed(sa.Connection.Name, sa.Serial, "IKE rekey", f.ToString());
                    sa.RekeyTimer?.Dispose();
                    sa.RekeyTimer = Schedule(TemporaryFailureRetry, () => RekeyIke(sa));
                    break;
            }
        }, () =>
        {
            req.Pending.Dispose();
            sa.IkeRekeying = false;
            DeadPeer(sa, "IKE SA rekey timed out");
        });
    }

    /// <summary>A CHILD_SA exchange of this IKE SA is in flight or queued, or a child rekey awaits its delete.</summary>
    private static bool ChildExchangeBusy(IkeSa sa) =>
        (sa.Outstanding is { IsLiveness: false }) || sa.Waiting.Count > 0
        || sa.Children.Any(c => c.Rekeying || c.State == ChildSaState.Deleting || c.PendingReplacement is not null || c.OutboundPending);

    /// <summary>§2.8.2: both IKE SA rekeys completed. The new SA of the exchange with the lowest of the four nonces is
    /// redundant and its creator deletes it; the children go to the other one, whose creator deletes the old SA.</summary>
    private void ResolveIkeRekeyCollision(IkeSa old, IkeSaRekeyed ours, CollidingIkeRekey theirs)
    {
        var mine = NewRekeyedIkeSa(old, ours, weInitiated: true);
        var res = RekeyCollision.Resolve(ours.Ni, ours.Nr, theirs.PeerNi, theirs.OurNr);
        if (theirs.NewSa.State == IkeSaState.Dead)
        {
            // The peer deleted its SA already (it lost and its delete overtook our response): ours is the only one.
            HandOverToRekeyedIkeSa(old, mine, weDeleteOld: true);
            return;
        }
        if (res.OursSurvives)
        {
            LogIkeCollision(old.Connection.Name, old.Serial, $"ours (#{mine.Serial}) survives, the peer deletes its #{theirs.NewSa.Serial}");
            var redundant = theirs.NewSa;
            redundant.LifetimeTimer?.Dispose();
            redundant.LifetimeTimer = Schedule(RekeyedIkeSaFallback, () => Destroy(redundant, "redundant (simultaneous rekey), the peer never deleted it", restart: false));
            HandOverToRekeyedIkeSa(old, mine, weDeleteOld: true);
        }
        else
        {
            LogIkeCollision(old.Connection.Name, old.Serial, $"the peer's (#{theirs.NewSa.Serial}) survives, deleting ours (#{mine.Serial})");
            HandOverToRekeyedIkeSa(old, theirs.NewSa, weDeleteOld: false);
            DeleteIkeSa(mine, "redundant (simultaneous IKE SA rekey, RFC 7296 §2.8.2)");
        }
    }

    /// <summary>§2.18: the new IKE SA takes over the children; the old one is deleted by the rekey initiator.</summary>
    private void AdoptRekeyedIkeSa(IkeSa old, IkeSaRekeyed r, bool weInitiated) =>
        HandOverToRekeyedIkeSa(old, NewRekeyedIkeSa(old, r, weInitiated), weDeleteOld: weInitiated);

    /// <summary>The children move to <paramref name="n"/>; the old SA is deleted by us (the surviving rekey's initiator) or
    /// waits for the peer's delete (bounded by a fallback).</summary>
    private void HandOverToRekeyedIkeSa(IkeSa old, IkeSa n, bool weDeleteOld)
    {
        n.Children.AddRange(old.Children);
        old.Children.Clear();
        old.RekeyTimer?.Dispose();
        old.DpdTimer?.Dispose();
        if (weDeleteOld)
        {
            old.State = IkeSaState.Established; // DeleteIkeSa moves it to Deleting
            DeleteIkeSa(old, $"rekeyed, replaced by #{n.Serial}");
        }
        else
        {
            old.State = IkeSaState.Deleting;
            // The initiator deletes the old SA; if it never does, it goes at its retransmission horizon.
            old.LifetimeTimer?.Dispose();
            old.LifetimeTimer = Schedule(RekeyedIkeSaFallback, () => Destroy(old, $"rekeyed, replaced by #{n.Serial}", restart: false));
        }
    }

    /// <summary>The IKE SA a rekey created (§2.18; its original initiator is the rekey initiator), registered and on its own
    /// timers, without children yet.</summary>
    private IkeSa NewRekeyedIkeSa(IkeSa old, IkeSaRekeyed r, bool weInitiated)
    {
        var n = new IkeSa
        {
            Serial = NextSerial(),
            Connection = old.Connection,
            Initiator = weInitiated,
            Local = old.Local,
            Remote = old.Remote,
            Created = Now,
            SpiI = r.InitiatorSpi,
            SpiR = r.ResponderSpi,
        };
        n.Suite = r.Suite;
        n.Keys = r.Keys;
        n.Ni = r.Ni;
        n.Nr = r.Nr;
        n.State = IkeSaState.Established;
        n.Established = Now;
        n.LastInbound = Now;
        n.PeerId = old.PeerId;
        n.LocalId = old.LocalId;
        n.PeerAuthMethod = old.PeerAuthMethod;
        n.LocalAuthMethod = old.LocalAuthMethod;
        n.PeerFragmentation = old.PeerFragmentation;
        n.NatLocal = old.NatLocal;
        n.NatRemote = old.NatRemote;
        n.UdpEncapsulation = old.UdpEncapsulation;
        n.AcquireTsI = old.AcquireTsI;
        n.AcquireTsR = old.AcquireTsR;
        n.PeerSignatureHashes.AddRange(old.PeerSignatureHashes);
        _sas[n.LocalSpi] = n;
        _ikeRekeys++;
        LogIkeRekeyed(old.Connection.Name, old.Serial, n.Serial, n.Suite.ToString());
        LogSensitiveKeys(n);
        ScheduleDpd(n);
        ScheduleKeepalive(n);
        ScheduleIkeRekey(n);
        return n;
    }
}
