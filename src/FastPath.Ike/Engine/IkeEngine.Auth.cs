using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using FastPath.Ike.Crypto;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using Cfg = FastPath.Ike.Proposals;

using AuthMethod = FastPath.Ike.Messages.AuthMethod;
using CryptoAuthMethod = FastPath.Ike.Crypto.AuthMethod;

namespace FastPath.Ike.Engine;

// IKE_AUTH (RFC 7296 §1.2, §2.15, §2.9, §2.21.2; RFC 7427) and the first CHILD_SA.
//
// Initiator: SK{ IDi, [CERT+], [N(INITIAL_CONTACT)], [CERTREQ], [IDr], AUTH, [N(USE_TRANSPORT_MODE)],
//               SA(ESP, our inbound SPI, no KE), TSi, TSr }  -->
//   <-- N(AUTHENTICATION_FAILED) or other error without AUTH: the keying try failed
//   <-- IDr, [CERT], AUTH, [child]  verify IDr is whom we expect and AUTH over the responder's
//       IKE_SA_INIT | Ni | prf(SK_pr, IDr); bad → AUTHENTICATION_FAILED in an INFORMATIONAL, the SA
//       is deleted (§2.21.2). IKE SA established. Child part: an error notify (NO_PROPOSAL_CHOSEN,
//       TS_UNACCEPTABLE, ...) keeps the IKE SA without a child (§2.21.2); otherwise the answer must
//       be one of our proposals and TSi/TSr within ours (the responder may only narrow, §2.9).
// Responder: verify AUTH over the initiator's IKE_SA_INIT | Nr | prf(SK_pi, IDi) → bad:
//       N(AUTHENTICATION_FAILED), SA gone. Otherwise answer IDr, AUTH and the child: proposal choice
//       without KE, TS narrowed with TrafficSelectors.Narrow (empty → TS_UNACCEPTABLE), transport
//       mode when both want it. The CHILD_SA is installed (inbound, then outbound) before the
//       response leaves, so the initiator's first packet finds it.
// CHILD_SA keys: KEYMAT = prf+(SK_d, Ni | Nr) (§2.17, no PFS in IKE_AUTH); i→r keys protect the
// IKE_AUTH initiator's traffic.
public sealed partial class IkeEngine
{
    /// <summary>True when the TSi/TSr of an IKE_AUTH request narrow to something non-empty under <paramref name="c"/>.</summary>
    private static bool ChildTsFit(IkeConnection c, IReadOnlyList<IkePayload> request, IkeSa sa)
    {
        TsPayload? tsi = null, tsr = null;
        foreach (var x in request)
            if (x is TsPayload t) { if (t.IsInitiator) tsi ??= t; else tsr ??= t; }
        if (tsi is null || tsr is null) return false;
        return TrafficSelectors.Narrow(tsi.Selectors, RemoteTsOf(c, sa.Remote)).Count > 0
            && TrafficSelectors.Narrow(tsr.Selectors, LocalTsOf(c, sa.Local)).Count > 0;
    }

    private static IReadOnlyList<TrafficSelector> LocalTsOf(IkeConnection c, IPEndPoint local) =>
        c.LocalTs.Count > 0 ? c.LocalTs : [TrafficSelectors.FromAddress(local.Address)];

    private static IReadOnlyList<TrafficSelector> RemoteTsOf(IkeConnection c, IPEndPoint remote) =>
        c.RemoteTs.Count > 0 ? c.RemoteTs : [TrafficSelectors.FromAddress(remote.Address)];

    private static IkeIdentity LocalIdOf(IkeConnection c, IPEndPoint local) => c.LocalId ?? IkeIdentity.FromAddress(local.Address);

    /// <summary>Whom we accept: rightid=, else the peer's address when right= is given, else anyone.</summary>
    private static IkeIdentity? ExpectedPeerId(IkeConnection c) => c.RemoteId ?? (c.RemoteAddress is null ? null : IkeIdentity.FromAddress(c.RemoteAddress));

    private void SendAuthRequest(IkeSa sa)
    {
        var c = sa.Connection;
        var keys = sa.Keys!;
        sa.LocalId = LocalIdOf(c, sa.Local);
        var idi = new IdPayload(true, sa.LocalId.Type, sa.LocalId.Data);
        var tsI = new List<TrafficSelector>();
        var tsR = new List<TrafficSelector>();
        if (sa.AcquireTsI is not null && sa.AcquireTsR is not null)
        {
            tsI.Add(sa.AcquireTsI);
            tsR.Add(sa.AcquireTsR);
        }
        tsI.AddRange(LocalTsOf(c, sa.Local));
        tsR.AddRange(RemoteTsOf(c, sa.Remote));
        uint spi = NewChildSpi();
        var espOffer = ProposalWire.WithoutKe(EspOffer(c));
        sa.FirstChild = new ChildRequest { InboundSpi = spi, Proposals = espOffer, TsI = tsI, TsR = tsR };

        byte[] octets = IkeAuth.SignedOctets(keys.Prf, sa.InitRequest, sa.Nr, keys.SkPi, AuthPayloads.IdBody(idi));
        AuthPayload auth;
        try { auth = AuthPayloads.Sign(c, keys, sa.PeerSignatureHashes, octets); }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.Security.Cryptography.CryptographicException)
        {
            LogConfigError(c.Name, e.Message);
            Destroy(sa, "cannot sign AUTH: " + e.Message, restart: false);
            return;
        }
        sa.LocalAuthMethod = auth.Method;
        var inner = new List<IkePayload> { idi };
        inner.AddRange(AuthPayloads.Certs(c));
        // RFC 7296 §2.4: INITIAL_CONTACT asserts this is the only IKE SA with the peer. Several conns to one
        // peer (e.g. an IPv4 and an IPv6 subnet pair) start together: any other live SA to it, established
        // or still being set up, means this one must not send it (else the peer deletes its sibling).
        bool otherUp = _sas.Values.Any(s => s != sa && s.State != IkeSaState.Deleting && s.Remote.Address.Equals(sa.Remote.Address));
        if (!otherUp) inner.Add(new NotifyPayload(NotifyType.InitialContact, []));
        if (AuthPayloads.CertReq(c) is { } cr) inner.Add(cr);
        if (c.RemoteId is not null) inner.Add(new IdPayload(false, c.RemoteId.Type, c.RemoteId.Data));
        inner.Add(auth);
        if (c.Transport) inner.Add(new NotifyPayload(NotifyType.UseTransportMode, []));
        inner.Add(ProposalWire.ToSaPayload(espOffer, SpiBytes(spi)));
        inner.Add(new TsPayload(true, tsI));
        inner.Add(new TsPayload(false, tsR));
        LogAuthenticating(c.Name, sa.Serial, sa.LocalId.ToString(), IkeIana.Name((CryptoAuthMethod)(byte)auth.Method));
        SendRequest(sa, ExchangeType.IkeAuth, () => inner, (m, p) => HandleAuthResponse(sa, p), () =>
        {
            _inboundSpis.Remove(spi);
            KeyingFailed(sa, "IKE_AUTH timed out (no response)");
        });
    }

    private static byte[] SpiBytes(uint spi) => [(byte)(spi >> 24), (byte)(spi >> 16), (byte)(spi >> 8), (byte)spi];

    private static uint SpiOf(byte[] b) => b.Length == 4 ? (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]) : 0;

    private void HandleAuthResponse(IkeSa sa, IReadOnlyList<IkePayload> p)
    {
        var c = sa.Connection;
        var keys = sa.Keys!;
        var idr = p.OfType<IdPayload>().FirstOrDefault(i => !i.IsInitiator);
        var auth = IkeMessage.Find<AuthPayload>(p);
        if (idr is null || auth is null)
        {
            var err = p.OfType<NotifyPayload>().FirstOrDefault(n => n.IsError);
            if (err?.NotifyType == NotifyType.AuthenticationFailed)
            {
                _authFailures++;
                LogAuthFailedByPeer(c.Name, sa.Serial);
                FreeFirstChildSpi(sa);
                Destroy(sa, "peer sent AUTHENTICATION_FAILED", restart: false);
                return;
            }
            FreeFirstChildSpi(sa);
            KeyingFailed(sa, err is null ? "IKE_AUTH response without IDr/AUTH" : $"IKE_AUTH refused: {err.NotifyType}");
            return;
        }
        var peerId = new IkeIdentity(idr.IdType, idr.Data);
        var expected = ExpectedPeerId(c);
        byte[] octets = IkeAuth.SignedOctets(keys.Prf, sa.InitResponse, sa.Ni, keys.SkPr, AuthPayloads.IdBody(idr));
        string why;
        bool ok;
        if (expected is not null && !expected.Matches(peerId))
        {
            ok = false;
            why = $"peer identity {peerId} is not the expected {expected}";
        }
        else
        {
            ok = AuthPayloads.Verify(c, keys, auth, peerId, p, octets, Now.UtcDateTime, out why);
        }
        if (!ok)
        {
            // §2.21.2: the initiator tells the responder in an INFORMATIONAL and deletes the IKE SA.
            _authFailures++;
            LogAuthFailed(c.Name, sa.Serial, peerId.ToString(), why);
            uint id = sa.NextRequestId++;
            Transmit(sa, BuildProtected(sa, ExchangeType.Informational, false, id, [new NotifyPayload(NotifyType.AuthenticationFailed, [])]));
            FreeFirstChildSpi(sa);
            Destroy(sa, "AUTHENTICATION_FAILED: " + why, restart: false);
            return;
        }
        sa.PeerId = peerId;
        sa.PeerAuthMethod = auth.Method;
        Established(sa);

        var child = sa.FirstChild!;
        sa.FirstChild = null;
        var childError = p.OfType<NotifyPayload>().FirstOrDefault(n => n.IsError);
        var saP = IkeMessage.Find<SaPayload>(p);
        var tsi = p.OfType<TsPayload>().FirstOrDefault(t => t.IsInitiator);
        var tsr = p.OfType<TsPayload>().FirstOrDefault(t => !t.IsInitiator);
        if (childError is not null || saP is null || tsi is null || tsr is null)
        {
            _inboundSpis.Remove(child.InboundSpi);
            LogChildFailed(c.Name, sa.Serial, childError?.NotifyType.ToString() ?? "no SA/TS in the response");
            return;
        }
        string? problem = null;
        ChildSuite? suite = null;
        uint peerSpi = 0;
        if (saP.Proposals.Count != 1 || saP.Proposals[0].Protocol != ProtocolId.Esp || (peerSpi = SpiOf(saP.Proposals[0].Spi)) == 0)
            problem = "responder's SA is not one ESP proposal with a 4-byte SPI";
        else
        {
            var chosen = ProposalWire.FromWire(saP.Proposals[0]);
            try { suite = ProposalSelector.ToChildSuite(chosen); }
            catch (FormatException e) { problem = e.Message; }
            if (problem is null && !ProposalWire.IsChosenFromOffer(chosen, child.Proposals)) problem = $"responder chose {chosen}, not offered";
        }
        bool transport = IkeMessage.FindNotify(p, NotifyType.UseTransportMode) is not null;
        if (problem is null && !TrafficSelectors.AllWithin(tsi.Selectors, child.TsI)) problem = $"TSi {TrafficSelectors.Format(tsi.Selectors)} not within ours";
        if (problem is null && !TrafficSelectors.AllWithin(tsr.Selectors, child.TsR)) problem = $"TSr {TrafficSelectors.Format(tsr.Selectors)} not within ours";
        if (problem is null && transport != c.Transport) problem = transport ? "responder wants transport mode" : "responder refused transport mode";
        if (problem is not null)
        {
            // The responder installed its side: tell it to delete that SA (§1.4.1), keep the IKE SA.
            LogChildFailed(c.Name, sa.Serial, problem);
            _inboundSpis.Remove(child.InboundSpi);
            if (peerSpi != 0)
                SendRequest(sa, ExchangeType.Informational, () => [DeletePayload.ChildSas(ProtocolId.Esp, child.InboundSpi)], (_, _) => { }, () => DeadPeer(sa, "INFORMATIONAL timed out"));
            return;
        }
        var childKeys = SaKeyFactory.CreateChildSa(keys, suite!, default, sa.Ni, sa.Nr);
        InstallChild(sa, child.InboundSpi, peerSpi, suite!, childKeys, initiatorOfChild: true, tsi.Selectors, tsr.Selectors, transport);
    }

    private void FreeFirstChildSpi(IkeSa sa)
    {
        if (sa.FirstChild is { } fc) _inboundSpis.Remove(fc.InboundSpi);
        sa.FirstChild = null;
    }

    private void HandleAuthRequest(IkeSa sa, IkeMessage msg, IReadOnlyList<IkePayload> p)
    {
        uint id = msg.Header.MessageId;
        if (sa.Initiator || sa.State != IkeSaState.Connecting)
        {
            // IKE_AUTH on an established SA (or as the original initiator) is a protocol error (§1.2).
            _invalid++;
            SendResponse(sa, ExchangeType.IkeAuth, id, [new NotifyPayload(NotifyType.InvalidSyntax, [])]);
            return;
        }
        var keys = sa.Keys!;
        var idi = p.OfType<IdPayload>().FirstOrDefault(i => i.IsInitiator);
        var idrReq = p.OfType<IdPayload>().FirstOrDefault(i => !i.IsInitiator);
        var auth = IkeMessage.Find<AuthPayload>(p);
        if (idi is null || auth is null)
        {
            _invalid++;
            SendResponse(sa, ExchangeType.IkeAuth, id, [new NotifyPayload(NotifyType.AuthenticationFailed, [])]);
            Destroy(sa, "IKE_AUTH request without IDi/AUTH", restart: false);
            return;
        }
        var peerId = new IkeIdentity(idi.IdType, idi.Data);
        // Connection by identity (several may share addresses): same address match, the peer's id and,
        // when the initiator named us (IDr), ours; the negotiated IKE suite must be acceptable to it.
        var conn = Candidates(sa.Local, sa.Remote)
            .Where(c => ExpectedPeerId(c) is not { } e || e.Matches(peerId))
            .Where(c => idrReq is null || LocalIdOf(c, sa.Local).Matches(new IkeIdentity(idrReq.IdType, idrReq.Data)))
            // Several conns may share peer and identities (one per subnet pair): the one whose selectors fit
            // the proposed CHILD_SA wins (strongSwan's "switching to peer config"), then the IKE_SA_INIT choice.
            .OrderBy(c => ChildTsFit(c, p, sa) ? 0 : 1)
            .ThenBy(c => c == sa.Connection ? 0 : 1)
            .FirstOrDefault(c => c == sa.Connection || ProposalSelector.TrySelectIke(IkeOffer(c), [SuiteProposal(sa.Suite!)], out _, out _, out _));
        string why = "";
        bool ok = conn is not null;
        if (!ok) why = $"no connection for peer identity {peerId}" + (idrReq is null ? "" : $" asking for {new IkeIdentity(idrReq.IdType, idrReq.Data)}");
        byte[] octets = IkeAuth.SignedOctets(keys.Prf, sa.InitRequest, sa.Nr, keys.SkPi, AuthPayloads.IdBody(idi));
        if (ok) ok = AuthPayloads.Verify(conn!, keys, auth, peerId, p, octets, Now.UtcDateTime, out why);
        if (!ok)
        {
            _authFailures++;
            LogAuthFailed(sa.Connection.Name, sa.Serial, peerId.ToString(), why);
            SendResponse(sa, ExchangeType.IkeAuth, id, [new NotifyPayload(NotifyType.AuthenticationFailed, [])]);
            Destroy(sa, "AUTHENTICATION_FAILED: " + why, restart: false);
            return;
        }
        var c = conn!;
        sa.Connection = c;
        sa.PeerId = peerId;
        sa.PeerAuthMethod = auth.Method;
        sa.LocalId = LocalIdOf(c, sa.Local);
        var idr = new IdPayload(false, sa.LocalId.Type, sa.LocalId.Data);
        byte[] ourOctets = IkeAuth.SignedOctets(keys.Prf, sa.InitResponse, sa.Ni, keys.SkPr, AuthPayloads.IdBody(idr));
        AuthPayload ourAuth;
        try { ourAuth = AuthPayloads.Sign(c, keys, sa.PeerSignatureHashes, ourOctets); }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.Security.Cryptography.CryptographicException)
        {
            LogConfigError(c.Name, e.Message);
            SendResponse(sa, ExchangeType.IkeAuth, id, [new NotifyPayload(NotifyType.AuthenticationFailed, [])]);
            Destroy(sa, "cannot sign AUTH: " + e.Message, restart: false);
            return;
        }
        sa.LocalAuthMethod = ourAuth.Method;
        var resp = new List<IkePayload> { idr };
        resp.AddRange(AuthPayloads.Certs(c));
        resp.Add(ourAuth);

        bool initialContact = IkeMessage.FindNotify(p, NotifyType.InitialContact) is not null;
        Established(sa, initialContact);

        // The first CHILD_SA (childless IKE SA when the request carries none, RFC 6023).
        var saP = IkeMessage.Find<SaPayload>(p);
        var tsi = p.OfType<TsPayload>().FirstOrDefault(t => t.IsInitiator);
        var tsr = p.OfType<TsPayload>().FirstOrDefault(t => !t.IsInitiator);
        if (saP is not null && tsi is not null && tsr is not null)
            resp.AddRange(RespondChild(sa, saP, tsi, tsr, IkeMessage.FindNotify(p, NotifyType.UseTransportMode) is not null, default, ikeAuth: true));
        SendResponse(sa, ExchangeType.IkeAuth, id, resp);
    }

    private static Cfg.Proposal SuiteProposal(IkeSuite s)
    {
        var t = new List<Cfg.Transform> { Cfg.Transform.Encr(s.Encr, IkeIana.HasKeyLengthAttribute(s.Encr) ? s.EncrKeyBits : 0), Cfg.Transform.PrfOf(s.Prf), Cfg.Transform.Dh(s.Dh) };
        if (!IkeIana.IsAead(s.Encr)) t.Add(Cfg.Transform.Integ(s.Integ));
        return new Cfg.Proposal(ProposalProtocol.Ike, t);
    }

    /// <summary>Responder side of a child: choose, narrow, install; returns the payloads of the answer (SA, TSi, TSr, mode) or the error notify.</summary>
    private List<IkePayload> RespondChild(IkeSa sa, SaPayload saP, TsPayload tsi, TsPayload tsr, bool wantsTransport, ReadOnlySpan<byte> pfsShared, bool ikeAuth)
    {
        var c = sa.Connection;
        var offered = saP.Proposals.Select(ProposalWire.FromWire).ToList();
        var mine = EspOffer(c);
        if (ikeAuth)
        {
            // No KE in IKE_AUTH (§1.2): a PFS group in either list does not apply here.
            offered = ProposalWire.WithoutKe(offered);
            mine = ProposalWire.WithoutKe(mine);
        }
        if (!ProposalSelector.TrySelectChild(mine, offered, out var suite, out var chosen, out int index))
        {
            LogChildRefused(c.Name, sa.Serial, "NO_PROPOSAL_CHOSEN", string.Join(", ", offered));
            return [new NotifyPayload(NotifyType.NoProposalChosen, [])];
        }
        uint peerSpi = SpiOf(saP.Proposals[index].Spi);
        if (peerSpi == 0)
        {
            LogChildRefused(c.Name, sa.Serial, "INVALID_SYNTAX", "ESP proposal without a 4-byte SPI");
            return [new NotifyPayload(NotifyType.InvalidSyntax, [])];
        }
        var nTsI = TrafficSelectors.Narrow(tsi.Selectors, RemoteTsOf(c, sa.Remote));
        var nTsR = TrafficSelectors.Narrow(tsr.Selectors, LocalTsOf(c, sa.Local));
        if (nTsI.Count == 0 || nTsR.Count == 0)
        {
            LogChildRefused(c.Name, sa.Serial, "TS_UNACCEPTABLE", $"{TrafficSelectors.Format(tsi.Selectors)} === {TrafficSelectors.Format(tsr.Selectors)}");
            return [new NotifyPayload(NotifyType.TsUnacceptable, [])];
        }
        bool transport = wantsTransport && c.Transport;
        uint ourSpi = NewChildSpi();
        var keys = SaKeyFactory.CreateChildSa(sa.Keys!, suite!, pfsShared, sa.Ni, sa.Nr);
        if (!InstallChild(sa, ourSpi, peerSpi, suite!, keys, initiatorOfChild: false, nTsR, nTsI, transport))
            return [new NotifyPayload(NotifyType.TemporaryFailure, [])];
        var r = new List<IkePayload>();
        if (transport) r.Add(new NotifyPayload(NotifyType.UseTransportMode, []));
        r.Add(ProposalWire.Answer(chosen!, saP.Proposals[index].Number, SpiBytes(ourSpi)));
        r.Add(new TsPayload(true, nTsI));
        r.Add(new TsPayload(false, nTsR));
        return r;
    }

    /// <summary>Marks the IKE SA established: counters, log line, observer, uniqueids, DPD and keepalive timers.</summary>
    private void Established(IkeSa sa, bool initialContact = false)
    {
        var c = sa.Connection;
        sa.State = IkeSaState.Established;
        sa.Established = Now;
        sa.HalfOpenTimer?.Dispose();
        sa.HalfOpenTimer = null;
        _ikeUp++;
        _keyingTries[c.Name] = 0;
        var s = sa.Suite!;
        LogIkeEstablished(c.Name, sa.Serial, AuthName(sa.LocalAuthMethod), IkeIana.Name(s.Encr, s.EncrKeyBits),
            IkeIana.IsAead(s.Encr) ? "n/a" : IkeIana.Name(s.Integ), IkeIana.Name(s.Prf).Replace("PRF_", "", StringComparison.Ordinal),
            IkeIana.Name(s.Dh).Replace("_", "", StringComparison.Ordinal), sa.PeerId?.ToString() ?? "", sa.Remote.ToString());
        try { _observer?.IkeSaUp(c, sa.Serial, sa.Local, sa.Remote, sa.PeerId!); }
#pragma warning disable CA1031 // an observer must not break the engine
        catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
        // RFC 7296 §2.4: INITIAL_CONTACT — the peer has no other SA with us: drop ours silently.
        // uniqueids=yes: an older SA with the same peer identity on this connection is replaced.
        // Neither applies (uniqueids=no, no INITIAL_CONTACT): no scan of the SA table (O(SAs) per establishment).
        if (initialContact || _options.UniqueIds)
        foreach (var old in _sas.Values.Where(o => o != sa && o.State is IkeSaState.Established or IkeSaState.Deleting && o.PeerId is not null && o.PeerId.Matches(sa.PeerId!)).ToList())
        {
            if (initialContact)
            {
                LogReplaced(old.Connection.Name, old.Serial, sa.Serial, "INITIAL_CONTACT");
                Destroy(old, $"replaced by #{sa.Serial} (INITIAL_CONTACT)", restart: false);
            }
            else if (_options.UniqueIds && old.Connection.Name == c.Name)
            {
                LogReplaced(old.Connection.Name, old.Serial, sa.Serial, "uniqueids");
                DeleteIkeSa(old, $"replaced by #{sa.Serial} (uniqueids)");
            }
        }
        ScheduleDpd(sa);
        ScheduleKeepalive(sa);
        ScheduleIkeRekey(sa);
    }

    private static string AuthName(AuthMethod m) => m switch
    {
        AuthMethod.SharedKeyMic => "PSK",
        AuthMethod.DigitalSignature => "DIGITAL_SIGNATURE",
        AuthMethod.RsaDigitalSignature => "RSA_SIG",
        AuthMethod.EcdsaSha256P256 or AuthMethod.EcdsaSha384P384 or AuthMethod.EcdsaSha512P521 => "ECDSA",
        _ => IkeIana.Name((CryptoAuthMethod)(byte)m),
    };

    /// <summary>Derives the ChildSaInstall and installs it (inbound, then outbound); false when the dataplane refused.</summary>
    private bool InstallChild(IkeSa sa, uint inboundSpi, uint outboundSpi, ChildSuite suite, ChildSaKeys keys, bool initiatorOfChild,
        IReadOnlyList<TrafficSelector> localTs, IReadOnlyList<TrafficSelector> remoteTs, bool transport, uint replacesOutbound = 0)
    {
        var c = sa.Connection;
        var inK = initiatorOfChild ? keys.ResponderToInitiator : keys.InitiatorToResponder;
        var outK = initiatorOfChild ? keys.InitiatorToResponder : keys.ResponderToInitiator;
        var install = new ChildSaInstall
        {
            Connection = c.Name,
            IkeSerial = sa.Serial,
            ChildSerial = NextSerial(),
            ReqId = ReqIdOf(c),
            InboundSpi = inboundSpi,
            OutboundSpi = outboundSpi,
            Suite = suite,
            InboundEncryptionKey = inK.EncryptionKey,
            InboundIntegrityKey = inK.IntegrityKey,
            OutboundEncryptionKey = outK.EncryptionKey,
            OutboundIntegrityKey = outK.IntegrityKey,
            Transport = transport,
            LocalAddress = sa.Local.Address,
            RemoteAddress = sa.Remote.Address,
            UdpEncapsulation = sa.UdpEncapsulation,
            LocalPort = sa.UdpEncapsulation ? sa.Local.Port : 4500,
            RemotePort = sa.UdpEncapsulation ? sa.Remote.Port : 4500,
            LocalTs = localTs,
            RemoteTs = remoteTs,
            ReplayWindow = c.ReplayWindow,
            HideTos = c.HideTos,
            HardLifeBytes = c.ChildLifeBytes,
            SoftLifeBytes = c.ChildLifeBytes - c.ChildLifeBytes / 10,
            HardLifePackets = c.ChildLifePackets,
            SoftLifePackets = c.ChildLifePackets - c.ChildLifePackets / 10,
            ReplacesOutboundSpi = replacesOutbound,
        };
        try
        {
            _sink.InstallInbound(install);
            _sink.InstallOutbound(install);
        }
#pragma warning disable CA1031 // the dataplane refusing an SA: the child fails, the engine continues
        catch (Exception e)
        {
            LogInstallFailed(c.Name, install.ChildSerial, e.Message);
            // Roll back the half-installed pair; a second failure is logged, not thrown (the engine thread must survive).
            try { _sink.DeleteInbound(inboundSpi); }
#pragma warning disable CA1031
            catch (Exception rollback) { LogInternalError(rollback); }
#pragma warning restore CA1031
            _inboundSpis.Remove(inboundSpi);
            return false;
        }
#pragma warning restore CA1031
        finally { SinkTouched(sa); }
        var child = new ChildSa { Serial = install.ChildSerial, Install = install, Installed = Now };
        sa.Children.Add(child);
        _childUp++;
        LogChildEstablished(c.Name, install.ChildSerial, transport ? "transport" : "tunnel", sa.UdpEncapsulation ? "ESP/NAT" : "ESP",
            outboundSpi, inboundSpi, SuiteName(suite), TrafficSelectors.Format(localTs), TrafficSelectors.Format(remoteTs));
        if (_options.LogSensitive)
            LogChildKeys(c.Name, install.ChildSerial, Convert.ToHexStringLower(install.InboundEncryptionKey), Convert.ToHexStringLower(install.InboundIntegrityKey),
                Convert.ToHexStringLower(install.OutboundEncryptionKey), Convert.ToHexStringLower(install.OutboundIntegrityKey));
        try { _observer?.ChildSaUp(c, install, rekey: replacesOutbound != 0); }
#pragma warning disable CA1031
        catch (Exception e) { LogInternalError(e); }
#pragma warning restore CA1031
        ScheduleChildLifetime(sa, child);
        return true;
    }

    private static string SuiteName(ChildSuite s) =>
        IkeIana.IsAead(s.Encr) ? IkeIana.Name(s.Encr, s.EncrKeyBits) : IkeIana.Name(s.Encr, s.EncrKeyBits) + "-" + IkeIana.Name(s.Integ);
}
