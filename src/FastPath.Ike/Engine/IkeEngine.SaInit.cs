using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FastPath.Ike.Crypto;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using Cfg = FastPath.Ike.Proposals;
using TransformType = FastPath.Ike.Crypto.TransformType;

namespace FastPath.Ike.Engine;

// IKE_SA_INIT (RFC 7296 §1.2, §2.6, §2.7, §2.23; RFC 7383 §2.3; RFC 7427 §4).
//
// Initiator:  HDR, [N(COOKIE)], SA, KE, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
//             [N(IKEV2_FRAGMENTATION_SUPPORTED)], [N(SIGNATURE_HASH_ALGORITHMS)]  -->
//   <-- N(COOKIE)              resend the same request with the cookie first (§2.6)
//   <-- N(INVALID_KE_PAYLOAD)  new KE of the group asked for, if we offered it (§1.2), at most twice
//   <-- N(NO_PROPOSAL_CHOSEN)  failed keying try
//   <-- SA, KE, Nr, N(NAT_D*)  check the choice came from our offer, DH, keys (§2.14), NAT: float
//                              to NatTPort when either hash mismatches or encapsulation=yes (§2.23)
// Responder:  cookies above CookieThreshold half-open SAs (stateless answer), connection by
//             addresses, proposal choice preferring the group of the initiator's KE, otherwise
//             INVALID_KE_PAYLOAD naming our group; a new half-open SA with its response cached.
// encapsulation=yes fakes NAT_DETECTION_SOURCE_IP with random bytes, as strongSwan's
// forceencaps does, so that the peer also believes in a NAT and both sides float.
public sealed partial class IkeEngine
{
    private const int NonceLength = 32;

    private static IReadOnlyList<Cfg.Proposal> IkeOffer(IkeConnection c) => ProposalParser.Effective(c.IkeProposals, ProposalProtocol.Ike);

    private static IReadOnlyList<Cfg.Proposal> EspOffer(IkeConnection c) => ProposalParser.Effective(c.EspProposals, ProposalProtocol.Esp);

    private void InitiateCore(IkeConnection c, TrafficSelector? tsI, TrafficSelector? tsR, int keyingTry = 1)
    {
        if (c.RemoteAddress is null) return;
        var existing = _sas.Values.FirstOrDefault(s => s.Connection.Name == c.Name && s.Initiator && s.State is IkeSaState.Connecting or IkeSaState.Authenticating);
        if (existing is not null)
        {
            LogAlreadyConnecting(c.Name, existing.Serial);
            return;
        }
        // An IKE SA of this connection is up: a childless one (its child failed or was deleted) or an
        // ACQUIRE the existing children do not cover gets a CREATE_CHILD_SA over it (§1.3.1), not a second IKE SA.
        var up = _sas.Values.FirstOrDefault(s => s.Connection.Name == c.Name && s.State == IkeSaState.Established);
        if (up is not null)
        {
            if (up.Children.Count == 0 || tsI is not null) NewChild(up, tsI, tsR);
            else LogAlreadyUp(c.Name);
            return;
        }
        var remote = new IPEndPoint(c.RemoteAddress, c.RemotePort);
        var localAddress = c.LocalAddress ?? (remote.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);
        var sa = new IkeSa
        {
            Serial = NextSerial(),
            Connection = c,
            Initiator = true,
            Local = new IPEndPoint(localAddress, c.LocalPort),
            Remote = remote,
            Created = Now,
            KeyingTry = keyingTry,
            AcquireTsI = tsI,
            AcquireTsR = tsR,
        };
        sa.SpiI = NewSpi();
        sa.Ni = IkeRandom.GetBytes(NonceLength);
        var first = IkeOffer(c).SelectMany(p => p.Of(TransformType.KeyExchange)).FirstOrDefault();
        sa.DhGroup = (DhGroup)first.Id;
        if (!KeyExchange.IsSupported(sa.DhGroup))
        {
            LogConfigError(c.Name, $"no supported DH group in ike={string.Join(",", c.IkeProposals.Proposals)}");
            return;
        }
        _sas[sa.SpiI] = sa;
        LogInitiating(c.Name, sa.Serial, keyingTry);
        SendSaInitRequest(sa);
    }

    private void SendSaInitRequest(IkeSa sa)
    {
        var c = sa.Connection;
        // §2.6: a COOKIE retry is the same request (same KE) with the cookie first — a fresh KE here breaks
        // the keys when a second COOKIE answer (to a retransmission) makes us send twice; only INVALID_KE changes it.
        if (sa.Dh is null || sa.Dh.Group != sa.DhGroup) { sa.Dh?.Dispose(); sa.Dh = _options.InitiatorKeyExchange?.Invoke(sa.DhGroup) ?? KeyExchange.Create(sa.DhGroup); }
        var payloads = new List<IkePayload>();
        if (sa.Cookie is not null) payloads.Add(new NotifyPayload(NotifyType.Cookie, sa.Cookie)); // §2.6: COOKIE first
        payloads.Add(ProposalWire.ToSaPayload(IkeOffer(c), []));
        payloads.Add(new KePayload((ushort)sa.DhGroup, sa.Dh.PublicValue));
        payloads.Add(new NoncePayload(sa.Ni));
        payloads.AddRange(NatDetection(sa, sa.SpiI, 0));
        if (c.Fragmentation) payloads.Add(new NotifyPayload(NotifyType.Ikev2FragmentationSupported, []));
        if (c.LocalAuth == IkeAuthKind.PublicKey || c.RemoteAuth == IkeAuthKind.PublicKey) payloads.Add(AuthPayloads.SignatureHashAlgorithms());
        var header = IkeHeader.Create(sa.SpiI, 0, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0);
        byte[] bytes = IkeMessageBuilder.Build(header, payloads);
        sa.InitRequest = bytes;
        sa.NextRequestId = 1;
        var req = new PendingRequest
        {
            MessageId = 0,
            Exchange = ExchangeType.IkeSaInit,
            Datagrams = [bytes],
            OnResponse = static (_, _) => { },
            OnTimeout = () => KeyingFailed(sa, "IKE_SA_INIT timed out (no response)"),
            FirstSent = Now,
        };
        sa.Outstanding?.Timer?.Dispose();
        StartRequest(sa, req);
    }

    /// <summary>NAT_DETECTION_SOURCE_IP (ours, faked when encapsulation=yes) and _DESTINATION_IP (the peer's) for a message we send.</summary>
    private IEnumerable<IkePayload> NatDetection(IkeSa sa, ulong spiI, ulong spiR)
    {
        if (sa.Connection.Encapsulation == EncapsulationMode.Force)
            yield return new NotifyPayload(NotifyType.NatDetectionSourceIp, IkeRandom.GetBytes(NatT.NatDetectionHashLength));
        else
            yield return NatT.NatDetectionNotify(true, spiI, spiR, sa.Local.Address, (ushort)sa.Local.Port);
        yield return NatT.NatDetectionNotify(false, spiI, spiR, sa.Remote.Address, (ushort)sa.Remote.Port);
    }

    /// <summary>Evaluates the peer's NAT_DETECTION_* (§2.23): source hashes name the peer's endpoint as we see it, the destination hash ours.</summary>
    private static void CheckNat(IkeSa sa, IReadOnlyList<IkePayload> payloads, ulong spiI, ulong spiR, IPEndPoint local, IPEndPoint remote)
    {
        var src = payloads.OfType<NotifyPayload>().Where(n => n.NotifyType == NotifyType.NatDetectionSourceIp).ToList();
        var dst = payloads.OfType<NotifyPayload>().Where(n => n.NotifyType == NotifyType.NatDetectionDestinationIp).ToList();
        if (src.Count > 0)
        {
            byte[] expect = NatT.NatDetectionHash(spiI, spiR, remote.Address, (ushort)remote.Port);
            sa.NatRemote = !src.Any(n => CryptographicOperations.FixedTimeEquals(n.Data, expect));
        }
        if (dst.Count > 0)
        {
            byte[] expect = NatT.NatDetectionHash(spiI, spiR, local.Address, (ushort)local.Port);
            sa.NatLocal = !dst.Any(n => CryptographicOperations.FixedTimeEquals(n.Data, expect));
        }
    }

    private void CollectCapabilities(IkeSa sa, IReadOnlyList<IkePayload> payloads)
    {
        sa.PeerFragmentation = IkeMessage.FindNotify(payloads, NotifyType.Ikev2FragmentationSupported) is not null;
        var sh = IkeMessage.FindNotify(payloads, NotifyType.SignatureHashAlgorithms);
        sa.PeerSignatureHashes.Clear();
        if (sh is not null) sa.PeerSignatureHashes.AddRange(AuthPayloads.ParseHashAlgorithms(sh.Data));
        sa.PeerCertReq = payloads.OfType<CertReqPayload>().Any();
    }

    private void HandleSaInitResponse(IkeSa sa, IkeMessage msg, byte[] bytes, IPEndPoint local, IPEndPoint remote)
    {
        var p = msg.Payloads;
        var c = sa.Connection;
        var cookie = IkeMessage.FindNotify(p, NotifyType.Cookie);
        if (cookie is not null)
        {
            if (++sa.CookieRetries > 3) { KeyingFailed(sa, "responder keeps asking for a COOKIE"); return; }
            LogCookieReceived(c.Name, sa.Serial);
            sa.Cookie = cookie.Data;
            sa.Outstanding!.Timer?.Dispose();
            sa.Outstanding = null;
            SendSaInitRequest(sa);
            return;
        }
        var invalidKe = IkeMessage.FindNotify(p, NotifyType.InvalidKePayload);
        if (invalidKe is not null)
        {
            var group = invalidKe.Data.Length == 2 ? (DhGroup)BinaryPrimitives.ReadUInt16BigEndian(invalidKe.Data) : DhGroup.None;
            bool offered = IkeOffer(c).Any(pr => pr.Of(TransformType.KeyExchange).Any(t => t.Id == (ushort)group));
            if (!offered || group == sa.DhGroup || !KeyExchange.IsSupported(group) || ++sa.InvalidKeRetries > 2)
            {
                KeyingFailed(sa, $"peer asks for DH group {IkeIana.Name(group)} which we did not offer");
                return;
            }
            LogInvalidKe(c.Name, sa.Serial, IkeIana.Name(sa.DhGroup), IkeIana.Name(group));
            sa.DhGroup = group;
            sa.Outstanding!.Timer?.Dispose();
            sa.Outstanding = null;
            SendSaInitRequest(sa);
            return;
        }
        var error = p.OfType<NotifyPayload>().FirstOrDefault(n => n.IsError);
        if (error is not null)
        {
            KeyingFailed(sa, $"IKE_SA_INIT refused: {error.NotifyType}");
            return;
        }
        var saP = IkeMessage.Find<SaPayload>(p);
        var ke = IkeMessage.Find<KePayload>(p);
        var nonce = IkeMessage.Find<NoncePayload>(p);
        if (saP is null || ke is null || nonce is null || saP.Proposals.Count != 1 || msg.Header.ResponderSpi == 0)
        {
            _invalid++;
            LogProtocolError(c.Name, sa.Serial, "IKE_SA_INIT response lacks SA/KE/Nr, has several proposals or no responder SPI");
            return; // could be forged; the real response may still come (retransmission keeps running)
        }
        var chosen = ProposalWire.FromWire(saP.Proposals[0]);
        IkeSuite suite;
        try { suite = ProposalSelector.ToIkeSuite(chosen); }
        catch (FormatException e) { KeyingFailed(sa, "responder's proposal: " + e.Message); return; }
        if (!ProposalWire.IsChosenFromOffer(chosen, IkeOffer(c)) || suite.Dh != sa.DhGroup || ke.DhGroup != (ushort)sa.DhGroup)
        {
            KeyingFailed(sa, $"responder chose {chosen} / KE {ke.DhGroup}, which is not what we offered");
            return;
        }
        if (!sa.Dh!.TryComputeSharedSecret(ke.KeyData, out byte[] shared, out string dhError))
        {
            KeyingFailed(sa, "responder's KE: " + dhError);
            return;
        }
        sa.SpiR = msg.Header.ResponderSpi;
        sa.Nr = nonce.Nonce;
        sa.Suite = suite;
        try { sa.Keys = SaKeyFactory.CreateIkeSa(suite, shared, sa.Ni, sa.Nr, sa.SpiI, sa.SpiR); }
        finally { CryptographicOperations.ZeroMemory(shared); }
        sa.Dh.Dispose();
        sa.Dh = null;
        sa.InitResponse = bytes;
        LogSensitiveKeys(sa);
        CollectCapabilities(sa, p);
        CheckNat(sa, p, sa.SpiI, sa.SpiR, local, remote);
        sa.Outstanding!.Timer?.Dispose();
        sa.Outstanding = null;
        sa.Local = local;
        sa.Remote = remote;
        sa.LastInbound = Now;
        bool nat = sa.NatLocal || sa.NatRemote;
        if (c.Encapsulation != EncapsulationMode.Never && (nat || c.Encapsulation == EncapsulationMode.Force))
        {
            sa.UdpEncapsulation = true;
            sa.Local = new IPEndPoint(local.Address, _options.NatTPort);
            sa.Remote = new IPEndPoint(remote.Address, _options.NatTPort);
            LogFloat(c.Name, sa.Serial, sa.NatLocal, sa.NatRemote, sa.Remote.ToString());
        }
        sa.State = IkeSaState.Authenticating;
        SendAuthRequest(sa);
    }

    // ---- responder ------------------------------------------------------------------------

    private List<IkeConnection> Candidates(IPEndPoint local, IPEndPoint remote) =>
        _connections.Values.Where(c =>
            (c.RemoteAddress is null || c.RemoteAddress.Equals(remote.Address)) &&
            (c.LocalAddress is null || c.LocalAddress.Equals(local.Address) || IPAddress.Any.Equals(local.Address) || IPAddress.IPv6Any.Equals(local.Address)))
        .OrderBy(c => c.RemoteAddress is null ? 1 : 0).ToList();

    private void SendStateless(IkeHeader request, IPEndPoint local, IPEndPoint remote, NotifyPayload notify)
    {
        var h = IkeHeader.Create(request.InitiatorSpi, 0, ExchangeType.IkeSaInit, IkeFlags.Response, 0);
        byte[] b = IkeMessageBuilder.Build(h, [notify]);
        _messagesOut++;
        try { _transport.Send(b, local, remote); }
#pragma warning disable CA1031 // lost datagram
        catch (Exception e) { LogSendFailed(remote.ToString(), e.Message); }
#pragma warning restore CA1031
    }

    private int HalfOpenCount() => _sas.Values.Count(s => !s.Initiator && s.State == IkeSaState.Connecting);

    private void RespondSaInit(IkeMessage msg, byte[] bytes, IPEndPoint local, IPEndPoint remote)
    {
        var p = msg.Payloads;
        var h = msg.Header;
        var saP = IkeMessage.Find<SaPayload>(p);
        var ke = IkeMessage.Find<KePayload>(p);
        var nonce = IkeMessage.Find<NoncePayload>(p);
        if (saP is null || ke is null || nonce is null)
        {
            _invalid++;
            SendStateless(h, local, remote, new NotifyPayload(NotifyType.InvalidSyntax, []));
            return;
        }
        var candidates = Candidates(local, remote);
        if (candidates.Count == 0)
        {
            LogNoConnection(remote.ToString(), local.ToString());
            SendStateless(h, local, remote, new NotifyPayload(NotifyType.NoProposalChosen, []));
            return;
        }
        // §2.6: above the threshold, state only for initiators that prove they receive at their address.
        // The half-open count is at most the SA table's size: below the threshold no O(SAs) scan is needed.
        if (_sas.Count >= _options.CookieThreshold && HalfOpenCount() >= _options.CookieThreshold)
        {
            var cookie = p.Count > 0 ? p[0] as NotifyPayload : null;
            if (cookie is null || cookie.NotifyType != NotifyType.Cookie || !_cookies.Verify(cookie.Data, nonce.Nonce, remote.Address, h.InitiatorSpi, Now))
            {
                _cookiesSent++;
                SendStateless(h, local, remote, new NotifyPayload(NotifyType.Cookie, _cookies.Create(nonce.Nonce, remote.Address, h.InitiatorSpi, Now)));
                return;
            }
        }
        var offered = saP.Proposals.Select(ProposalWire.FromWire).ToList();
        IkeConnection? conn = null;
        IkeSuite? suite = null;
        Cfg.Proposal? chosen = null;
        int index = -1;
        DhGroup askFor = DhGroup.None;
        foreach (var c in candidates)
        {
            var mine = IkeOffer(c);
            if (ProposalSelector.TrySelectIke(ProposalWire.OnlyGroup(mine, (DhGroup)ke.DhGroup), offered, out suite, out chosen, out index) && KeyExchange.IsSupported(suite!.Dh))
            {
                conn = c;
                break;
            }
            if (askFor == DhGroup.None && ProposalSelector.TrySelectIke(mine, offered, out var other, out _, out _) && KeyExchange.IsSupported(other!.Dh))
                askFor = other.Dh;
        }
        if (conn is null)
        {
            if (askFor != DhGroup.None)
            {
                LogAskInvalidKe(remote.ToString(), ke.DhGroup, IkeIana.Name(askFor));
                var d = new byte[2];
                BinaryPrimitives.WriteUInt16BigEndian(d, (ushort)askFor);
                SendStateless(h, local, remote, new NotifyPayload(NotifyType.InvalidKePayload, d));
            }
            else
            {
                LogNoProposal(remote.ToString(), string.Join(", ", offered));
                SendStateless(h, local, remote, new NotifyPayload(NotifyType.NoProposalChosen, []));
            }
            return;
        }
        var sa = new IkeSa
        {
            Serial = NextSerial(),
            Connection = conn,
            Initiator = false,
            Local = local,
            Remote = remote,
            Created = Now,
            SpiI = h.InitiatorSpi,
        };
        sa.SpiR = NewSpi();
        sa.Ni = nonce.Nonce;
        sa.Nr = IkeRandom.GetBytes(NonceLength);
        sa.DhGroup = suite!.Dh;
        sa.Suite = suite;
        using (var dh = KeyExchange.Create(suite.Dh))
        {
            if (!dh.TryComputeSharedSecret(ke.KeyData, out byte[] shared, out string dhError))
            {
                _invalid++;
                LogProtocolError(conn.Name, sa.Serial, "initiator's KE: " + dhError);
                SendStateless(h, local, remote, new NotifyPayload(NotifyType.InvalidSyntax, []));
                return;
            }
            try { sa.Keys = SaKeyFactory.CreateIkeSa(suite, shared, sa.Ni, sa.Nr, sa.SpiI, sa.SpiR); }
            finally { CryptographicOperations.ZeroMemory(shared); }
            CollectCapabilities(sa, p);
            CheckNat(sa, p, sa.SpiI, 0, local, remote);
            var resp = new List<IkePayload>
            {
                ProposalWire.Answer(chosen!, saP.Proposals[index].Number, []),
                new KePayload((ushort)suite.Dh, dh.PublicValue),
                new NoncePayload(sa.Nr),
            };
            resp.AddRange(NatDetection(sa, sa.SpiI, sa.SpiR));
            if (conn.Fragmentation && sa.PeerFragmentation) resp.Add(new NotifyPayload(NotifyType.Ikev2FragmentationSupported, []));
            if (conn.LocalAuth == IkeAuthKind.PublicKey || conn.RemoteAuth == IkeAuthKind.PublicKey) resp.Add(AuthPayloads.SignatureHashAlgorithms());
            if (AuthPayloads.CertReq(conn) is { } cr) resp.Add(cr);
            sa.InitRequest = bytes;
            sa.InitResponse = IkeMessageBuilder.Build(IkeHeader.Create(sa.SpiI, sa.SpiR, ExchangeType.IkeSaInit, IkeFlags.Response, 0), resp);
        }
        sa.UdpEncapsulation = conn.Encapsulation != EncapsulationMode.Never && (sa.NatLocal || sa.NatRemote || conn.Encapsulation == EncapsulationMode.Force);
        sa.ExpectedPeerRequestId = 1;
        sa.LastInbound = Now;
        _sas[sa.SpiR] = sa;
        sa.InitKey = (remote, sa.SpiI);
        _initIndex[(remote, sa.SpiI)] = sa;
        sa.HalfOpenTimer = Schedule(_options.HalfOpenTimeout, () =>
        {
            if (sa.State == IkeSaState.Connecting) Destroy(sa, "half-open timeout (no IKE_AUTH)", restart: false);
        });
        LogResponding(conn.Name, sa.Serial, remote.ToString(), suite.ToString());
        LogSensitiveKeys(sa);
        Transmit(sa, [sa.InitResponse]);
    }
}
