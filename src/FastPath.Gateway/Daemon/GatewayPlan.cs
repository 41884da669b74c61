using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FastPath.Config;
using FastPath.Dataplane.Policy;
using FastPath.Gateway.Manual;
using FastPath.Ike.Crypto;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;

using CfgDpd = FastPath.Config.DpdAction;
using CfgEncap = FastPath.Config.Encapsulation;
using CfgManualSa = FastPath.Config.ManualSa;
using IkeDpd = FastPath.Ike.Engine.DpdAction;

namespace FastPath.Gateway.Daemon;

// What a loaded ipsec.conf (+ ipsec.secrets, + policy-group files) means for this gateway, computed
// without touching the dataplane (so it is unit-tested without root):
//
//   conn type=passthrough|drop|reject            ─► shunt eroutes  left-subnets × right-subnets  %pass|%drop|%reject
//   policy group clear / block                   ─► %pass / %reject  source → every policy-file entry
//   policy group private / private-or-clear /    ─► %trap (opportunistic); an ACQUIRE on it applies the
//     clear-or-private (OE)                           group's failureshunt for that host pair (no OE yet)
//   conn with FreeS/WAN manual keys (spi=, esp=) ─► a ManualKeyScript (the same spi/eroute lines as
//                                                    `fastpath manual`), installed as ManualGateway does
//   every other tunnel/transport conn            ─► an IkeConnection for the IKE engine
//
// "Local" end: the end whose host is an address of this gateway; else left when it is %defaultroute
// (FreeS/WAN's rule: left is local unless right's address is ours). %defaultroute resolves to the first
// address of the outside interface of the same family (a namespace has no default route, by rule).

/// <summary>What a conn becomes.</summary>
public enum PlannedKind { Shunt, PolicyGroup, Manual, Ike }

/// <summary>One eroute a conn owns.</summary>
public sealed record PlannedEroute(string Source, string Destination, ErouteAction Action, IPAddress? Peer = null, byte Protocol = 0)
{
    public bool IsIpv6 => Source.Contains(':', StringComparison.Ordinal);
    public override string ToString() => $"{Source} -> {Destination} => {(Action.Kind == ErouteActionKind.Sa ? $"tun0x{Action.SaHandle:x}@{Peer}" : Action.ShuntName)}";
}

/// <summary>One conn as the gateway runs it.</summary>
public sealed class PlannedConnection
{
    public required string Name { get; init; }
    public required PlannedKind Kind { get; init; }
    public required Connection Config { get; init; }
    /// <summary>Eroutes installed when the conn is routed (shunts, groups) or up (manual).</summary>
    public IReadOnlyList<PlannedEroute> Eroutes { get; init; } = [];
    public ManualKeyScript? Manual { get; init; }
    public IkeConnection? Ike { get; init; }
    /// <summary>For opportunistic groups: what an ACQUIRE on their %trap installs (FreeS/WAN failureshunt).</summary>
    public ErouteAction? FailureShunt { get; init; }
    public IPAddress? LocalHost { get; init; }
    public IPAddress? RemoteHost { get; init; }
    public bool LeftIsLocal { get; init; } = true;
    /// <summary>A fingerprint of the definition: equal = the conn is unchanged by a reload.</summary>
    public required string Fingerprint { get; init; }
    public ConnectionEnd LocalEnd => LeftIsLocal ? Config.Left : Config.Right;
    public ConnectionEnd RemoteEnd => LeftIsLocal ? Config.Right : Config.Left;
    public override string ToString() => $"\"{Name}\" {Kind}";
}

/// <summary>A conn that cannot be run here, with the reason (file:line:col of the conn).</summary>
public sealed record PlanError(string Connection, SourceLocation Location, string Message)
{
    public override string ToString() => $"{Location}: conn \"{Connection}\": {Message}";
}

/// <summary>The gateway-side facts the plan depends on.</summary>
public sealed class PlanContext
{
    /// <summary>This gateway's addresses (a host equal to one of them is the local end).</summary>
    public IReadOnlyList<IPAddress> LocalAddresses { get; init; } = [];
    /// <summary>The outside interface's addresses (%defaultroute).</summary>
    public IReadOnlyList<IPAddress> OutsideAddresses { get; init; } = [];
    /// <summary>The IKE ports (500/4500; tests on loopback use others).</summary>
    public int IkePort { get; init; } = 500;
    public int NatTPort { get; init; } = 4500;
}

/// <summary>Config → eroutes, manual SAs and IKE connections.</summary>
public sealed class GatewayPlan
{
    public IReadOnlyList<PlannedConnection> Connections { get; }
    public IReadOnlyList<PlanError> Errors { get; }

    private GatewayPlan(List<PlannedConnection> conns, List<PlanError> errors)
    {
        Connections = conns;
        Errors = errors;
    }

    public PlannedConnection? Find(string name) => Connections.FirstOrDefault(c => c.Name == name);

    /// <summary>Maps every conn that is not a template and not auto=ignore... (auto=ignore conns are
    /// mapped too: `add NAME` may load them later).</summary>
    public static GatewayPlan Build(IpsecConfig config, IpsecSecrets? secrets, PlanContext context)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(context);
        var conns = new List<PlannedConnection>();
        var errors = new List<PlanError>();
        foreach (PolicyGroup g in config.PolicyGroups)
        {
            try { conns.Add(MapGroup(g, config, context)); }
            catch (PlanException e) { errors.Add(new PlanError(g.Name, g.Connection.Location, e.Message)); }
        }
        foreach (Connection c in config.Connections)
        {
            if (c.IsTemplate || c.IsPolicyGroup || c.IsImplicit) continue;
            try { conns.Add(Map(c, config, secrets, context)); }
            catch (PlanException e) { errors.Add(new PlanError(c.Name, c.Location, e.Message)); }
        }
        return new GatewayPlan(conns, errors);
    }

    private static PlannedConnection Map(Connection c, IpsecConfig config, IpsecSecrets? secrets, PlanContext ctx)
    {
        (bool leftLocal, IPAddress? local, IPAddress? remote) = Ends(c, ctx);
        string fp = Fingerprint(c);
        switch (c.Type)
        {
            case ConnectionType.Passthrough or ConnectionType.Drop or ConnectionType.Reject:
                ErouteAction action = ShuntAction(c.Type);
                var localEnd = leftLocal ? c.Left : c.Right;
                var remoteEnd = leftLocal ? c.Right : c.Left;
                if (local is null) throw new PlanException($"neither left={c.Left.Host} nor right={c.Right.Host} is this gateway ({string.Join(", ", ctx.LocalAddresses)}); a shunt needs its local end (or %defaultroute)");
                var srcs = Subnets(localEnd, local);
                var dsts = Subnets(remoteEnd, remote);
                if (dsts.Count == 0) throw new PlanException($"type={c.Type.ToString().ToLowerInvariant()} needs a remote subnet or address (rightsubnet= or right=ADDRESS)");
                return new PlannedConnection
                {
                    Name = c.Name, Kind = PlannedKind.Shunt, Config = c, Fingerprint = fp, LeftIsLocal = leftLocal,
                    LocalHost = local, RemoteHost = remote, Eroutes = Cross(srcs, dsts, action, null),
                };
            case ConnectionType.TransportProxy:
                throw new PlanException("type=transport_proxy (Mobile IPv6) is not supported");
        }
        if (local is null) throw new PlanException($"neither left={c.Left.Host} nor right={c.Right.Host} is an address of this gateway ({string.Join(", ", ctx.LocalAddresses)})");
        if (c.Manual is not null)
        {
            if (remote is null) throw new PlanException("manual keying needs a literal peer address");
            ManualKeyScript script = ManualScript(c, leftLocal, local, remote);
            return new PlannedConnection
            {
                Name = c.Name, Kind = PlannedKind.Manual, Config = c, Fingerprint = fp, LeftIsLocal = leftLocal,
                LocalHost = local, RemoteHost = remote, Manual = script,
                Eroutes = script.Eroutes.Where(e => e.Operation == "add").Select(e => new PlannedEroute(e.Source, e.Destination, ErouteAction.Sa(e.Spi), e.Peer, e.Protocol)).ToArray(),
            };
        }
        if (c.KeyExchange == IkeVersion.IkeV1)
            throw new PlanException("keyexchange=ikev1: FastPath speaks IKEv2 only so far (set keyexchange=ikev2)");
        return new PlannedConnection
        {
            Name = c.Name, Kind = PlannedKind.Ike, Config = c, Fingerprint = fp, LeftIsLocal = leftLocal,
            LocalHost = local, RemoteHost = remote, Ike = MapIke(c, config, secrets, ctx, leftLocal, local, remote),
        };
    }

    private static PlannedConnection MapGroup(PolicyGroup g, IpsecConfig config, PlanContext ctx)
    {
        Connection c = g.Connection;
        (bool leftLocal, IPAddress? local, _) = Ends(c, ctx);
        var srcs = Subnets(leftLocal ? c.Left : c.Right, local);
        if (srcs.Count == 0) throw new PlanException($"policy group source {c.Left.Host} has no address here (no address on the outside interface?)");
        var dsts = g.Entries.Where(e => e.Network is not null).Select(e => e.Network!.Value.ToString()).ToList();
        // clear-or-private sends in the clear (it only accepts OE from peers): %pass, no trap.
        bool opportunistic = c.Right.Host.Kind == HostKind.OpportunisticGroup && c.Type != ConnectionType.Passthrough;
        ErouteAction action = opportunistic ? ErouteAction.Trap : ShuntAction(c.Type);
        return new PlannedConnection
        {
            Name = g.Name, Kind = PlannedKind.PolicyGroup, Config = c, LeftIsLocal = leftLocal, LocalHost = local,
            Fingerprint = Fingerprint(c) + "|" + string.Join(",", dsts),
            Eroutes = Cross(srcs, dsts, action, null),
            FailureShunt = opportunistic ? ShuntAction(c.FailureShunt ?? ConnectionType.Drop) : null,
        };
    }

    private static ErouteAction ShuntAction(ConnectionType t) => t switch
    {
        ConnectionType.Passthrough => ErouteAction.Pass,
        ConnectionType.Reject => ErouteAction.Reject,
        ConnectionType.Drop => ErouteAction.Drop,
        _ => ErouteAction.Drop,
    };

    private static (bool LeftLocal, IPAddress? Local, IPAddress? Remote) Ends(Connection c, PlanContext ctx)
    {
        IPAddress? L(ConnectionEnd e, IPAddress? peerHint) => e.Host.Kind switch
        {
            HostKind.Address => e.Host.Address,
            HostKind.DefaultRoute => ctx.OutsideAddresses.FirstOrDefault(a => peerHint is null || a.AddressFamily == peerHint.AddressFamily)
                ?? ctx.LocalAddresses.FirstOrDefault(a => peerHint is null || a.AddressFamily == peerHint.AddressFamily),
            _ => null,
        };
        bool IsLocal(ConnectionEnd e) => e.Host.Kind == HostKind.Address && ctx.LocalAddresses.Contains(e.Host.Address!);
        IPAddress? rightAddr = c.Right.Host.Kind == HostKind.Address ? c.Right.Host.Address : null;
        IPAddress? leftAddr = c.Left.Host.Kind == HostKind.Address ? c.Left.Host.Address : null;
        if (IsLocal(c.Left) || (!IsLocal(c.Right) && c.Left.Host.Kind == HostKind.DefaultRoute))
            return (true, L(c.Left, rightAddr), rightAddr);
        if (IsLocal(c.Right) || c.Right.Host.Kind == HostKind.DefaultRoute)
            return (false, L(c.Right, leftAddr), leftAddr);
        // Neither end is ours: a shunt still applies (its subnets are what matter); keying does not.
        return (true, null, rightAddr);
    }

    private static List<string> Subnets(ConnectionEnd end, IPAddress? host)
    {
        if (end.Subnets.Count > 0) return end.Subnets.Select(n => n.ToString()).ToList();
        if (host is not null) return [new IPNetwork(host, host.AddressFamily == AddressFamily.InterNetwork ? 32 : 128).ToString()];
        return [];
    }

    private static PlannedEroute[] Cross(List<string> srcs, List<string> dsts, ErouteAction action, IPAddress? peer) =>
        srcs.SelectMany(s => dsts.Where(d => d.Contains(':', StringComparison.Ordinal) == s.Contains(':', StringComparison.Ordinal))
            .Select(d => new PlannedEroute(s, d, action, peer))).ToArray();

    /// <summary>The manual conn as `ipsec spi` / `ipsec eroute` lines (ipsec_manual(8) did exactly this),
    /// parsed by the same ManualKeyScript as `fastpath manual` (so its checks apply).</summary>
    private static ManualKeyScript ManualScript(Connection c, bool leftLocal, IPAddress local, IPAddress remote)
    {
        ManualKeying m = c.Manual!;
        if (m.EspAlgorithm is null) throw new PlanException("manual keying without esp= (AH is not carried)");
        string suite = ManualSuite(m.EspAlgorithm);
        CfgManualSa toRemote = leftLocal ? m.ToRight : m.ToLeft;
        CfgManualSa toLocal = leftLocal ? m.ToLeft : m.ToRight;
        uint spiOut = toRemote.EspSpi ?? m.Spi ?? throw new PlanException("no SPI for the SA toward the peer (spi= or spibase=)");
        uint spiIn = toLocal.EspSpi ?? m.Spi ?? throw new PlanException("no SPI for the SA toward this gateway (spi= or spibase=)");
        var sb = new StringBuilder();
        string mode = c.Type == ConnectionType.Transport ? " --mode transport" : "";
        // FreeS/WAN's espreplay_window=0 (its default) switched replay protection off; FastPath's
        // dataplane always checks (RFC 4303 §3.4.3), with at least 32 packets: 0 → 64, 1..31 → 32.
        int windowSize = m.EspReplayWindow == 0 ? 64 : Math.Max(32, m.EspReplayWindow);
        string window = string.Create(CultureInfo.InvariantCulture, $" --replay_window {windowSize}");
        string encap = c.Encapsulation == CfgEncap.Yes ? " --encap udp" : "";
        void Sa(IPAddress dst, uint spi, IPAddress src, CfgManualSa sa)
        {
            if (sa.EspEncKey is null) throw new PlanException($"no ESP encryption key for the SA toward {dst} (espenckey=)");
            sb.Append(CultureInfo.InvariantCulture, $"spi --edst {dst} --spi 0x{spi:x} --src {src} --esp {suite} --enckey 0x{Convert.ToHexString(sa.EspEncKey.Span)}");
            if (sa.EspAuthKey is not null) sb.Append(" --authkey 0x").Append(Convert.ToHexString(sa.EspAuthKey.Span));
            sb.Append(encap).Append(window).Append(mode).Append('\n');
        }
        Sa(remote, spiOut, local, toRemote);
        Sa(local, spiIn, remote, toLocal);
        var localEnd = leftLocal ? c.Left : c.Right;
        var remoteEnd = leftLocal ? c.Right : c.Left;
        foreach (PlannedEroute e in Cross(Subnets(localEnd, local), Subnets(remoteEnd, remote), default, null))
            sb.Append(CultureInfo.InvariantCulture, $"eroute --add --src {e.Source} --dst {e.Destination} --said esp0x{spiOut:x}@{remote}\n");
        try { return ManualKeyScript.Parse(sb.ToString(), $"{c.Location} conn \"{c.Name}\""); }
        catch (ManualKeyException e) { throw new PlanException(e.Message.Replace("\n", "; ", StringComparison.Ordinal)); }
    }

    /// <summary>`ipsec spi --esp` names (3des-md5-96, aes128-sha1-96) → the proposal names EspSuite parses.</summary>
    internal static string ManualSuite(string algorithm)
    {
        string a = algorithm.Trim().ToLowerInvariant();
        foreach (string suffix in new[] { "-96", "-128", "-192", "-256" })
            if (a.EndsWith(suffix, StringComparison.Ordinal) && a.Count(ch => ch == '-') >= 2) { a = a[..^suffix.Length]; break; }
        a = a.Replace("hmac-", "", StringComparison.Ordinal);
        try { FastPath.Crypto.Esp.EspSuite.Parse(a); }
        catch (Exception e) when (e is FormatException or ArgumentException) { throw new PlanException($"esp={algorithm}: {e.Message}"); }
        return a;
    }

    private static IkeConnection MapIke(Connection c, IpsecConfig config, IpsecSecrets? secrets, PlanContext ctx, bool leftLocal, IPAddress local, IPAddress? remote)
    {
        ConnectionEnd le = leftLocal ? c.Left : c.Right, re = leftLocal ? c.Right : c.Left;
        ProposalList ike, esp;
        try { ike = ProposalParser.Parse(c.IkeProposals.Count == 0 ? null : string.Join(",", c.IkeProposals), ProposalProtocol.Ike); }
        catch (FormatException e) { throw new PlanException($"ike={string.Join(",", c.IkeProposals)}: {e.Message}"); }
        string espText = c.EspProposals.Count == 0 ? "" : string.Join(",", c.EspProposals);
        try { esp = ProposalParser.Parse(espText.Length == 0 ? null : espText, ProposalProtocol.Esp); }
        catch (FormatException e) { throw new PlanException($"esp={espText}: {e.Message}"); }

        Identity localId = le.Id ?? new Identity(IdentityKind.Address, local.ToString(), local);
        Identity peerId = re.Id ?? (remote is null ? Identity.AnyId : new Identity(IdentityKind.Address, remote.ToString(), remote));
        IkeIdentity? ikeLocalId = IkeId(localId), ikeRemoteId = IkeId(peerId);

        bool psk = c.AuthBy.HasFlag(AuthMethods.Secret);
        bool pubkey = (c.AuthBy & (AuthMethods.RsaSig | AuthMethods.Ecdsa | AuthMethods.PubKey)) != 0;
        if (!psk && !pubkey) throw new PlanException($"authby={c.AuthBy}: FastPath's IKE authenticates with a pre-shared key or a public key (authby=secret|rsasig|ecdsa|pubkey)");
        IkeCredentials localCred, remoteCred;
        if (psk && (!pubkey || secrets?.FindPsk(localId, peerId) is not null))
        {
            SecretMatch m = secrets?.FindPsk(localId, peerId) ?? throw new PlanException($"authby=secret but ipsec.secrets has no PSK for {localId} {peerId}");
            if (m.Ambiguity is not null) throw new PlanException($"PSK for {localId} {peerId}: {m.Ambiguity}");
            byte[] key = m.Entry.Secret!.ToArray();
            localCred = new IkeCredentials { Psk = key };
            remoteCred = new IkeCredentials { Psk = key };
            pubkey = false;
        }
        else
        {
            localCred = new IkeCredentials { PrivateKey = PrivateKey(secrets, localId, le), Certificate = le.Cert is null ? null : Cert(le.Cert) };
            remoteCred = new IkeCredentials { PublicKey = PeerKey(re), TrustedCas = TrustedCas(re.Ca, config) };
        }
        var auth = pubkey ? IkeAuthKind.PublicKey : IkeAuthKind.Psk;
        int lp = le.IkePort ?? ctx.IkePort, rp = re.IkePort ?? ctx.IkePort;
        return new IkeConnection
        {
            Name = c.Name,
            LocalAddress = le.Host.Kind == HostKind.Address || le.Host.Kind == HostKind.DefaultRoute ? local : null,
            RemoteAddress = remote,
            LocalPort = lp,
            RemotePort = rp,
            LocalId = ikeLocalId,
            RemoteId = ikeRemoteId,
            LocalAuth = auth,
            RemoteAuth = auth,
            LocalCredentials = localCred,
            RemoteCredentials = remoteCred,
            IkeProposals = ike,
            EspProposals = esp,
            LocalTs = le.Subnets.Select(n => TrafficSelectors.FromPrefix(n.ToString())).ToArray(),
            RemoteTs = re.Subnets.Select(n => TrafficSelectors.FromPrefix(n.ToString())).ToArray(),
            Transport = c.Type == ConnectionType.Transport,
            IkeLifetime = c.IkeLifetime > TimeSpan.Zero ? c.IkeLifetime : TimeSpan.FromHours(3),
            ChildLifetime = c.KeyLife > TimeSpan.Zero ? c.KeyLife : TimeSpan.FromHours(1),
            RekeyMargin = c.RekeyMargin,
            RekeyFuzzPercent = c.RekeyFuzzPercent,
            Rekey = c.Rekey,
            KeyingTries = c.KeyingTries,
            DpdDelay = c.DpdDelay ?? TimeSpan.Zero,
            DpdTimeout = c.DpdTimeout ?? TimeSpan.FromSeconds(150),
            DpdAction = c.DpdAction switch
            {
                CfgDpd.Clear => IkeDpd.Clear,
                CfgDpd.Hold => IkeDpd.Hold,
                CfgDpd.Restart => IkeDpd.Restart,
                _ => IkeDpd.None,
            },
            StartAction = c.Auto switch
            {
                AutoAction.Start or AutoAction.Keep => ConnectionStartAction.Start,
                AutoAction.Route => ConnectionStartAction.Route,
                _ => ConnectionStartAction.None,
            },
            Encapsulation = c.Encapsulation switch
            {
                CfgEncap.Yes => EncapsulationMode.Force,
                CfgEncap.No => EncapsulationMode.Never,
                _ => EncapsulationMode.Auto,
            },
            ReplayWindow = c.ReplayWindow ?? 32,
            HideTos = config.Setup.HideTos,
            Tag = c.Name,
        };
    }

    private static IkeIdentity? IkeId(Identity id)
    {
        if (id.Kind == IdentityKind.Any) return null;
        try { return id.Address is not null ? IkeIdentity.FromAddress(id.Address) : IkeIdentity.Parse(id.Value); }
        catch (Exception e) when (e is FormatException or ArgumentException or CryptographicException) { throw new PlanException($"identity \"{id.Value}\": {e.Message}"); }
    }

    private static IkePrivateKey PrivateKey(IpsecSecrets? secrets, Identity localId, ConnectionEnd le)
    {
        SecretMatch? m = secrets?.FindPrivateKey(SecretKind.Rsa, localId) ?? secrets?.FindPrivateKey(SecretKind.Ecdsa, localId);
        if (m is null) throw new PlanException($"public-key authentication but ipsec.secrets has no RSA/ECDSA private key for {localId}");
        SecretEntry e = m.Entry;
        if (e.RsaKey is { } raw)
        {
            var rsa = RSA.Create();
            rsa.ImportParameters(new RSAParameters
            {
                Modulus = raw.Modulus.ToArray(), Exponent = raw.PublicExponent.ToArray(), D = raw.PrivateExponent.ToArray(),
                P = raw.Prime1.ToArray(), Q = raw.Prime2.ToArray(), DP = raw.Exponent1.ToArray(), DQ = raw.Exponent2.ToArray(), InverseQ = raw.Coefficient.ToArray(),
            });
            return IkePrivateKey.FromRsa(rsa);
        }
        if (e.KeyFile is { } file)
        {
            string pem;
            try { pem = System.IO.File.ReadAllText(file); }
            catch (Exception x) when (x is System.IO.IOException or UnauthorizedAccessException) { throw new PlanException($"{e.Location}: key file {file}: {x.Message}"); }
            if (e.Kind == SecretKind.Ecdsa)
            {
                var ec = ECDsa.Create();
                ec.ImportFromPem(pem);
                return IkePrivateKey.FromEcdsa(ec);
            }
            var r = RSA.Create();
            r.ImportFromPem(pem);
            return IkePrivateKey.FromRsa(r);
        }
        throw new PlanException($"{e.Location}: private key entry without key material");
    }

    private static IkePublicKey? PeerKey(ConnectionEnd re)
    {
        if (re.RsaSigKey.Source == PublicKeySource.Literal && re.RsaSigKey.KeyBytes is { Length: > 3 } k)
        {
            // RFC 3110 §2: exponent length (1 byte, or 0 + 2 bytes), exponent, modulus.
            int elen = k[0], off = 1;
            if (elen == 0) { elen = (k[1] << 8) | k[2]; off = 3; }
            using var rsa = RSA.Create();
            rsa.ImportParameters(new RSAParameters { Exponent = k[off..(off + elen)], Modulus = k[(off + elen)..] });
            return IkePublicKey.FromSubjectPublicKeyInfo(rsa.ExportSubjectPublicKeyInfo());
        }
        if (re.Cert is { } certFile)
        {
            using var cert = Cert(certFile);
            return IkePublicKey.FromSubjectPublicKeyInfo(cert.PublicKey.ExportSubjectPublicKeyInfo());
        }
        return null; // the peer sends a certificate, checked against the CAs
    }

    /// <summary>The CAs a peer's certificate must chain to. rightca= is, as in Libreswan and strongSwan, the CA's
    /// distinguished name (matched against the certificates in &lt;dir of ipsec.conf&gt;/ipsec.d/cacerts, as
    /// /etc/ipsec.d/cacerts for /etc/ipsec.conf), or a certificate file; without it (or %any/%same) every CA there is trusted.</summary>
    private static X509Certificate2Collection? TrustedCas(string? ca, IpsecConfig config)
    {
        if (ca is not null && !ca.StartsWith('%') && !ca.Contains('=', StringComparison.Ordinal))
            return new X509Certificate2Collection(Cert(ca));
        string dir = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(config.Path.Length > 0 ? config.Path : ".")) ?? "/etc", "ipsec.d", "cacerts");
        var all = new X509Certificate2Collection();
        if (System.IO.Directory.Exists(dir))
            foreach (string f in System.IO.Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
                all.Add(Cert(f));
        if (ca is null || ca.StartsWith('%')) return all.Count > 0 ? all : null;
        var wanted = new X500DistinguishedName(ca.Trim('"'));
        var match = new X509Certificate2Collection();
        foreach (var c in all)
            if (c.SubjectName.RawData.AsSpan().SequenceEqual(wanted.RawData) || string.Equals(Normalize(c.Subject), Normalize(wanted.Name), StringComparison.OrdinalIgnoreCase))
                match.Add(c);
        return match.Count > 0 ? match : throw new PlanException($"rightca=\"{ca}\": no CA certificate with that subject in {dir}");
    }

    private static string Normalize(string dn) => string.Join(",", dn.Split(',').Select(p => p.Trim()).Order(StringComparer.OrdinalIgnoreCase));

    private static X509Certificate2 Cert(string file)
    {
        try { return X509CertificateLoader.LoadCertificateFromFile(file); }
        catch (Exception e) when (e is CryptographicException or System.IO.IOException or UnauthorizedAccessException) { throw new PlanException($"certificate {file}: {e.Message}"); }
    }

    /// <summary>Every effective setting, sorted: two loads of an unchanged conn give the same text.</summary>
    private static string Fingerprint(Connection c) =>
        string.Join("\n", c.Settings.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value.Value));
}

/// <summary>A conn that the gateway cannot run (the message says why).</summary>
public sealed class PlanException : Exception
{
    public PlanException(string message) : base(message) { }
    public PlanException() { }
    public PlanException(string message, Exception inner) : base(message, inner) { }
}
