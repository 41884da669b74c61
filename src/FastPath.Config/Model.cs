// The typed configuration model: what ipsec.conf means once %default, also= and the dialect's
// defaults have been applied. FastPath.Gateway maps it to eroutes, SAs and IKE policies; this
// project references no other FastPath project. Proposal strings (ike=, esp=) are kept as text:
// turning "aes128gcm16-prfsha256-x25519" into IANA transform ids is the IKE engine's job.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;

namespace FastPath.Config;

/// <summary>Which program's ipsec.conf rules apply (keywords, values, defaults).</summary>
public enum ConfigDialect
{
    /// <summary>Detect from the keywords used (see docs/configuration.md, "Dialects").</summary>
    Auto,
    /// <summary>Linux FreeS/WAN 2.x (the `version 2` file of seeds 002:373-377), including manual keying.</summary>
    FreeSwan,
    /// <summary>Libreswan 4.x/5.x `ipsec.conf`.</summary>
    Libreswan,
    /// <summary>strongSwan 5.x starter `ipsec.conf` (`version 2.0`).</summary>
    StrongSwan,
}

/// <summary>auto=: what to do with a conn at startup.</summary>
public enum AutoAction
{
    /// <summary>Nothing (the default in every dialect).</summary>
    Ignore,
    /// <summary>Load it (`ipsec auto --add`).</summary>
    Add,
    /// <summary>Add and install the route/trap policy (`--route`; Libreswan `ondemand`).</summary>
    Route,
    /// <summary>Add and bring it up (`--up`; Libreswan `up`).</summary>
    Start,
    /// <summary>Libreswan `keep`: start, and keep it up when the peer deletes it.</summary>
    Keep,
}

/// <summary>type=: what the conn's eroute does.</summary>
public enum ConnectionType
{
    Tunnel,
    Transport,
    /// <summary>strongSwan `transport_proxy` (Mobile IPv6); parsed, not acted on.</summary>
    TransportProxy,
    /// <summary>No IPsec: clear traffic (`%pass` eroute).</summary>
    Passthrough,
    /// <summary>Discard silently (`%drop`).</summary>
    Drop,
    /// <summary>Discard with ICMP unreachable (`%reject`).</summary>
    Reject,
}

/// <summary>authby= as a set: FreeS/WAN allowed `secret|rsasig`, Libreswan `rsasig,ecdsa`.</summary>
[Flags]
public enum AuthMethods
{
    None = 0,
    /// <summary>Pre-shared key (`secret`, strongSwan `psk`).</summary>
    Secret = 1,
    /// <summary>RSA signatures (`rsasig`, Libreswan `rsa-sha1`/`rsa-sha2...`).</summary>
    RsaSig = 2,
    /// <summary>ECDSA signatures (`ecdsa`, strongSwan `ecdsasig`).</summary>
    Ecdsa = 4,
    /// <summary>strongSwan `pubkey`: RSA or ECDSA as the key says.</summary>
    PubKey = 8,
    /// <summary>`never`: no negotiation (shunt conns: passthrough, drop, reject).</summary>
    Never = 16,
    /// <summary>Libreswan `null` (RFC 7619 NULL auth).</summary>
    Null = 32,
    /// <summary>strongSwan xauthpsk / xauthrsasig (IKEv1 XAuth); parsed, not acted on.</summary>
    XAuth = 64,
}

/// <summary>keyexchange= / ikev2=: which IKE version to use.</summary>
public enum IkeVersion
{
    /// <summary>IKEv1 (FreeS/WAN's only protocol: Main Mode + Quick Mode).</summary>
    IkeV1,
    /// <summary>IKEv2 (RFC 7296).</summary>
    IkeV2,
    /// <summary>strongSwan `keyexchange=ike`: initiate IKEv2, accept both.</summary>
    Any,
}

public enum DpdAction { None, Clear, Hold, Restart }

/// <summary>UDP encapsulation of ESP (RFC 3948): Libreswan encapsulation=, strongSwan forceencaps=.</summary>
public enum Encapsulation
{
    /// <summary>Only when NAT is detected (RFC 7296 §2.23).</summary>
    Auto,
    /// <summary>Always (pretend NAT).</summary>
    Yes,
    /// <summary>Never (FreeS/WAN 2.x had no NAT-T: seed 002:1227).</summary>
    No,
}

/// <summary>uniqueids= (config setup).</summary>
public enum UniqueIdsPolicy { Yes, No, Never, Replace, Keep }

/// <summary>What kind of address a left=/right= value is.</summary>
public enum HostKind
{
    /// <summary>Not given.</summary>
    Unset,
    /// <summary>A literal IPv4/IPv6 address.</summary>
    Address,
    /// <summary>A DNS name (resolved by the gateway, not here; seeds 002:1656-1673 warn about DNS delays).</summary>
    Hostname,
    /// <summary>%defaultroute: the address of the interface the default route uses.</summary>
    DefaultRoute,
    /// <summary>%any / %any6: filled in during negotiation (road warriors).</summary>
    Any,
    /// <summary>%opportunistic: from DNS for the client (packetdefault).</summary>
    Opportunistic,
    /// <summary>%opportunisticgroup: a policy group reached opportunistically.</summary>
    OpportunisticGroup,
    /// <summary>%group: a policy group with a fixed shunt (clear, block).</summary>
    Group,
}

/// <summary>An endpoint host value (left=, right=).</summary>
public sealed record HostAddress(HostKind Kind, IPAddress? Address = null, string? Name = null)
{
    public static readonly HostAddress Unset = new(HostKind.Unset);
    public override string ToString() => Kind switch
    {
        HostKind.Address => Address!.ToString(),
        HostKind.Hostname => Name!,
        HostKind.DefaultRoute => "%defaultroute",
        HostKind.Any => Name ?? "%any",
        HostKind.Opportunistic => "%opportunistic",
        HostKind.OpportunisticGroup => "%opportunisticgroup",
        HostKind.Group => "%group",
        _ => "",
    };
}

/// <summary>leftnexthop= value.</summary>
public enum NextHopKind { Unset, Address, DefaultRoute, Direct }

public sealed record NextHop(NextHopKind Kind, IPAddress? Address = null)
{
    public static readonly NextHop Unset = new(NextHopKind.Unset);
    public override string ToString() => Kind switch
    {
        NextHopKind.Address => Address!.ToString(),
        NextHopKind.DefaultRoute => "%defaultroute",
        NextHopKind.Direct => "%direct",
        _ => "",
    };
}

/// <summary>Where an end's public key comes from (leftrsasigkey=).</summary>
public enum PublicKeySource { Unset, Literal, Dns, DnsOnDemand, DnsOnLoad, Cert, None }

public sealed record PublicKeySpec(PublicKeySource Source, string? Value = null, byte[]? KeyBytes = null)
{
    public static readonly PublicKeySpec Unset = new(PublicKeySource.Unset);
    public override string ToString() => Source switch
    {
        PublicKeySource.Literal => Value!.Length > 16 ? Value[..16] + "..." : Value,
        PublicKeySource.Dns => "%dns",
        PublicKeySource.DnsOnDemand => "%dnsondemand",
        PublicKeySource.DnsOnLoad => "%dnsonload",
        PublicKeySource.Cert => "%cert",
        PublicKeySource.None => "%none",
        _ => "",
    };
}

/// <summary>One side (left or right) of a conn, resolved.</summary>
public sealed class ConnectionEnd
{
    public HostAddress Host { get; internal set; } = HostAddress.Unset;
    /// <summary>Protected client subnets; empty means the host itself (FreeS/WAN: "left/32").</summary>
    public IReadOnlyList<IPNetwork> Subnets { get; internal set; } = Array.Empty<IPNetwork>();
    /// <summary>The traffic selectors actually protected: <see cref="Subnets"/>, or the host /32 (/128) if that is empty and the host is a literal address.</summary>
    public IReadOnlyList<IPNetwork> EffectiveSubnets =>
        Subnets.Count > 0 ? Subnets
        : Host.Kind == HostKind.Address ? new[] { new IPNetwork(Host.Address!, Host.Address!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128) }
        : Array.Empty<IPNetwork>();
    /// <summary>rightsubnetwithin= (FreeS/WAN X.509/NAT-T patch).</summary>
    public IPNetwork? SubnetWithin { get; internal set; }
    public NextHop NextHop { get; internal set; } = NextHop.Unset;
    /// <summary>leftid=; defaults to the host address (FreeS/WAN ipsec.conf(5)).</summary>
    public Identity? Id { get; internal set; }
    public PublicKeySpec RsaSigKey { get; internal set; } = PublicKeySpec.Unset;
    public string? Cert { get; internal set; }
    public string? Ca { get; internal set; }
    public string? Auth { get; internal set; }
    public string? SourceIp { get; internal set; }
    public string? ProtoPort { get; internal set; }
    public string? UpDown { get; internal set; }
    public bool Firewall { get; internal set; }
    public int? IkePort { get; internal set; }
    /// <summary>True when this end is the "left" of the conn.</summary>
    public bool IsLeft { get; internal set; }
    public override string ToString() =>
        (Subnets.Count > 0 ? string.Join(",", Subnets) + "===" : "") + Host + (Id != null && Id.Kind != IdentityKind.Address ? $"[{Id}]" : "");
}

/// <summary>One manually keyed SA direction (FreeS/WAN ipsec_manual(8)).</summary>
public sealed class ManualSa
{
    /// <summary>IPIP (tun) SA SPI, for type=tunnel.</summary>
    public uint? TunnelSpi { get; internal set; }
    public uint? EspSpi { get; internal set; }
    public uint? AhSpi { get; internal set; }
    public SecretBytes? EspEncKey { get; internal set; }
    public SecretBytes? EspAuthKey { get; internal set; }
    public SecretBytes? AhKey { get; internal set; }
}

/// <summary>
/// FreeS/WAN's manual keying (spi=/spibase=, esp=, espenckey= ...), resolved exactly as
/// ipsec_manual did: with spibase=0x...0 the SAs toward right get 0x...0, 0x...2, 0x...4 (tun,
/// esp, ah) and those toward left 0x...1, 0x...3, 0x...5; with spi= every SA uses that SPI;
/// leftespspi=/rightespspi= override. "leftespenckey" is the key of the SA whose destination is left.
/// </summary>
public sealed class ManualKeying
{
    public uint? Spi { get; internal set; }
    public uint? SpiBase { get; internal set; }
    /// <summary>esp= algorithm as for `ipsec spi --esp` (e.g. 3des-md5-96, aes128-sha1-96); null = no ESP.</summary>
    public string? EspAlgorithm { get; internal set; }
    /// <summary>ah= algorithm (e.g. hmac-md5-96); null = no AH.</summary>
    public string? AhAlgorithm { get; internal set; }
    /// <summary>espreplay_window=, 0 (the ipsec_manual default) turns replay protection off.</summary>
    public int EspReplayWindow { get; internal set; }
    public int AhReplayWindow { get; internal set; }
    /// <summary>SAs whose destination is the left host.</summary>
    public ManualSa ToLeft { get; } = new();
    /// <summary>SAs whose destination is the right host.</summary>
    public ManualSa ToRight { get; } = new();
}

/// <summary>One effective parameter: its text and where it was written (or "built-in").</summary>
public sealed record ConfigValue(string Keyword, string Value, SourceLocation Location, string? FromSection = null)
{
    public override string ToString() => $"{Keyword}={Value} ({Location})";
}

/// <summary>A conn section after %default, also= and defaults.</summary>
public sealed class Connection
{
    public string Name { get; internal set; } = "";
    public SourceLocation Location { get; internal set; }
    /// <summary>A hidden conn FreeS/WAN defines by itself (private, clear, ..., packetdefault).</summary>
    public bool IsImplicit { get; internal set; }
    /// <summary>Named by another conn's also= and without auto=: a building block, not required to have left/right; the gateway should not add it by itself.</summary>
    public bool IsTemplate { get; internal set; }
    /// <summary>right=%group or %opportunisticgroup: the peers come from /etc/ipsec.d/policies/NAME.</summary>
    public bool IsPolicyGroup => Right.Host.Kind is HostKind.Group or HostKind.OpportunisticGroup;
    public ConnectionEnd Left { get; } = new() { IsLeft = true };
    public ConnectionEnd Right { get; } = new();
    public ConnectionType Type { get; internal set; }
    public AutoAction Auto { get; internal set; }
    public AuthMethods AuthBy { get; internal set; }
    public IkeVersion KeyExchange { get; internal set; }
    /// <summary>ike= proposals, comma separated, verbatim (a trailing "!" = strict, strongSwan).</summary>
    public IReadOnlyList<string> IkeProposals { get; internal set; } = Array.Empty<string>();
    /// <summary>esp=/phase2alg= proposals verbatim (for automatic keying).</summary>
    public IReadOnlyList<string> EspProposals { get; internal set; } = Array.Empty<string>();
    public bool Pfs { get; internal set; }
    public TimeSpan IkeLifetime { get; internal set; }
    public TimeSpan KeyLife { get; internal set; }
    public TimeSpan RekeyMargin { get; internal set; }
    public int RekeyFuzzPercent { get; internal set; }
    /// <summary>keyingtries=; <see cref="KeyingTriesForever"/> (0) means %forever.</summary>
    public int KeyingTries { get; internal set; }
    public const int KeyingTriesForever = 0;
    public bool Rekey { get; internal set; }
    /// <summary>dpddelay=; null = DPD off.</summary>
    public TimeSpan? DpdDelay { get; internal set; }
    public TimeSpan? DpdTimeout { get; internal set; }
    public DpdAction DpdAction { get; internal set; }
    /// <summary>Anti-replay window in packets (0 = off); null = not set (dataplane default).</summary>
    public int? ReplayWindow { get; internal set; }
    public Encapsulation Encapsulation { get; internal set; }
    public bool Compress { get; internal set; }
    public bool Mobike { get; internal set; }
    /// <summary>failureshunt= (FreeS/WAN/Libreswan): what to do when negotiation fails; null = none.</summary>
    public ConnectionType? FailureShunt { get; internal set; }
    /// <summary>FreeS/WAN manual keying; null for automatically keyed conns.</summary>
    public ManualKeying? Manual { get; internal set; }
    /// <summary>The also= sections merged into this one, in resolution order.</summary>
    public IReadOnlyList<string> Also { get; internal set; } = Array.Empty<string>();
    /// <summary>Every effective parameter (including defaults, marked built-in) by keyword.</summary>
    public IReadOnlyDictionary<string, ConfigValue> Settings { get; internal set; } = new Dictionary<string, ConfigValue>();

    /// <summary>Where keyword's effective value was written; null if it was neither written nor defaulted.</summary>
    public SourceLocation? LocationOf(string keyword) => Settings.TryGetValue(keyword, out var v) ? v.Location : null;

    /// <summary>FreeS/WAN topology notation: client===host...peer===client.</summary>
    public override string ToString() => $"\"{Name}\": {Left}...{Right}";
}

/// <summary>The config setup section.</summary>
public sealed class ConfigSetup
{
    /// <summary>interfaces= tokens ("%defaultroute", "ipsec0=eth0", "%none"); empty when unset.</summary>
    public IReadOnlyList<string> Interfaces { get; internal set; } = Array.Empty<string>();
    public UniqueIdsPolicy UniqueIds { get; internal set; }
    /// <summary>hidetos= (FreeS/WAN): zero the outer TOS (seed 002:1453-1457). Default yes.</summary>
    public bool HideTos { get; internal set; } = true;
    public Identity? MyId { get; internal set; }
    public string? PlutoDebug { get; internal set; }
    public string? KlipsDebug { get; internal set; }
    public string? CharonDebug { get; internal set; }
    /// <summary>packetdefault= (FreeS/WAN): eroute for packets matching no conn: drop (default), reject, pass.</summary>
    public ConnectionType PacketDefault { get; internal set; } = ConnectionType.Drop;
    public bool NatTraversal { get; internal set; }
    public IReadOnlyDictionary<string, ConfigValue> Settings { get; internal set; } = new Dictionary<string, ConfigValue>();
    public SourceLocation? LocationOf(string keyword) => Settings.TryGetValue(keyword, out var v) ? v.Location : null;
}

/// <summary>A parsed ipsec.conf (plus its includes and, optionally, the policy-group files).</summary>
public sealed class IpsecConfig
{
    public string Path { get; internal set; } = "";
    public ConfigDialect Dialect { get; internal set; }
    /// <summary>Why this dialect was chosen ("explicit", or the keyword that decided it).</summary>
    public string DialectReason { get; internal set; } = "";
    /// <summary>The `version` line's value, if any ("2", "2.0").</summary>
    public string? Version { get; internal set; }
    public ConfigSetup Setup { get; internal set; } = new();
    /// <summary>Every conn (explicit, and FreeS/WAN's implicit ones), in file order; implicit conns last.</summary>
    public IReadOnlyList<Connection> Connections { get; internal set; } = Array.Empty<Connection>();
    /// <summary>Policy groups with their members (empty when no policies directory was read).</summary>
    public IReadOnlyList<PolicyGroup> PolicyGroups { get; internal set; } = Array.Empty<PolicyGroup>();
    /// <summary>ca sections (strongSwan/Libreswan): raw parameters; parsed, not acted on.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, ConfigValue>> CaSections { get; internal set; } =
        new Dictionary<string, IReadOnlyDictionary<string, ConfigValue>>();
    public IReadOnlyList<ConfigDiagnostic> Warnings { get; internal set; } = Array.Empty<ConfigDiagnostic>();
    /// <summary>Every file read, top file first.</summary>
    public IReadOnlyList<string> Files { get; internal set; } = Array.Empty<string>();

    public Connection? Find(string name) => Connections.FirstOrDefault(c => c.Name == name);
    public Connection this[string name] => Find(name) ?? throw new KeyNotFoundException($"no conn \"{name}\"");
}
