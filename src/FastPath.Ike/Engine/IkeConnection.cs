using System;
using System.Collections.Generic;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using FastPath.Ike.Crypto;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;

namespace FastPath.Ike.Engine;

// What the engine needs to know about one connection ("conn" of ipsec.conf, a swanctl
// connection + child). The Gateway maps FastPath.Config's model to this (Config does not
// reference Ike, Ike does not reference Config); tests build it directly. Immutable: a reload
// replaces the whole object (IkeEngine.ReplaceConnection), SAs keep the version they were made with.

/// <summary>How one side proves its identity (ipsec.conf authby=, swanctl auth=).</summary>
public enum IkeAuthKind
{
    /// <summary>Pre-shared key (AUTH method 2; authby=secret|psk).</summary>
    Psk,
    /// <summary>A signature with a private key: RSA, ECDSA or Ed25519, as RFC 7427 digital signature
    /// (method 14) or the classic methods the peer asks for; certificate or raw public key (authby=rsasig|pubkey).</summary>
    PublicKey,
}

/// <summary>What the gateway does with a connection when it is loaded (ipsec.conf auto=).</summary>
public enum ConnectionStartAction
{
    /// <summary>auto=add: wait for the peer or an explicit `up`.</summary>
    None,
    /// <summary>auto=start|up: initiate at once (and keep it up as keyingtries says).</summary>
    Start,
    /// <summary>auto=route|ondemand: %trap eroutes; initiate on the first packet (ACQUIRE).</summary>
    Route,
}

/// <summary>dpdaction= (RFC 3706 style liveness over IKEv2 INFORMATIONAL, RFC 7296 §2.4).</summary>
public enum DpdAction { None, Clear, Hold, Restart }

/// <summary>encapsulation= : UDP encapsulation of ESP (RFC 3948) and the float to 4500.</summary>
public enum EncapsulationMode
{
    /// <summary>Float to 4500 and encapsulate only when NAT_DETECTION_* shows a NAT.</summary>
    Auto,
    /// <summary>encapsulation=yes: pretend a NAT (strongSwan's forceencaps; what kernel-libipsec peers need).</summary>
    Force,
    /// <summary>encapsulation=no: never (raw ESP, protocol 50).</summary>
    Never,
}

/// <summary>An IKE identity (IDi/IDr, RFC 7296 §3.5).</summary>
public sealed record IkeIdentity(IdType Type, byte[] Data)
{
    /// <summary>ipsec.conf / swanctl spelling: an address (ID_IPV4_ADDR / ID_IPV6_ADDR), "@fqdn" or a bare
    /// name with a dot (ID_FQDN), "user@host" (ID_RFC822_ADDR), "@#hex" (ID_KEY_ID), "C=.., O=.., CN=.." (ID_DER_ASN1_DN).</summary>
    public static IkeIdentity Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        text = text.Trim();
        if (IPAddress.TryParse(text, out var ip))
            return FromAddress(ip);
        if (text.StartsWith("@#", StringComparison.Ordinal))
            return new(IdType.KeyId, Convert.FromHexString(text[2..]));
        if (text.StartsWith('@'))
            return new(IdType.Fqdn, System.Text.Encoding.ASCII.GetBytes(text[1..]));
        if (text.Contains('=', StringComparison.Ordinal))
            return new(IdType.DerAsn1Dn, new X500DistinguishedName(text.Replace(", ", ",", StringComparison.Ordinal).Replace(",", ", ", StringComparison.Ordinal)).RawData);
        if (text.Contains('@', StringComparison.Ordinal))
            return new(IdType.Rfc822Addr, System.Text.Encoding.ASCII.GetBytes(text));
        return new(IdType.Fqdn, System.Text.Encoding.ASCII.GetBytes(text));
    }

    public static IkeIdentity FromAddress(IPAddress a) =>
        new(a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IdType.Ipv6Addr : IdType.Ipv4Addr, a.GetAddressBytes());

    public bool Matches(IkeIdentity other) => other is not null && other.Type == Type && other.Data.AsSpan().SequenceEqual(Data);

    public override string ToString() => Type switch
    {
        IdType.Ipv4Addr or IdType.Ipv6Addr => new IPAddress(Data).ToString(),
        IdType.Fqdn => "@" + System.Text.Encoding.ASCII.GetString(Data),
        IdType.Rfc822Addr => System.Text.Encoding.ASCII.GetString(Data),
        IdType.KeyId => "@#" + Convert.ToHexStringLower(Data),
        IdType.DerAsn1Dn => new X500DistinguishedName(Data).Name,
        _ => $"{Type}:{Convert.ToHexStringLower(Data)}",
    };
}

/// <summary>One side's credentials. For <see cref="IkeAuthKind.Psk"/> only <see cref="Psk"/>; for
/// <see cref="IkeAuthKind.PublicKey"/> the local side has a private key (and usually a certificate to send),
/// the remote side a raw public key or trusted CAs to validate the certificate the peer sends.</summary>
public sealed class IkeCredentials
{
    public byte[]? Psk { get; init; }
    public IkePrivateKey? PrivateKey { get; init; }
    public X509Certificate2? Certificate { get; init; }
    public X509Certificate2Collection? Intermediates { get; init; }
    public IkePublicKey? PublicKey { get; init; }
    public X509Certificate2Collection? TrustedCas { get; init; }
}

/// <summary>A connection as the IKE engine runs it.</summary>
public sealed class IkeConnection
{
    public required string Name { get; init; }

    /// <summary>Local address to use (left=); null = any address of this host (%defaultroute, responder %any).</summary>
    public IPAddress? LocalAddress { get; init; }
    /// <summary>The peer (right=); null = %any (this side can only respond).</summary>
    public IPAddress? RemoteAddress { get; init; }
    public int LocalPort { get; init; } = 500;
    public int RemotePort { get; init; } = 500;

    /// <summary>leftid=; null = the local address.</summary>
    public IkeIdentity? LocalId { get; init; }
    /// <summary>rightid=; null = the peer's address (any identity when the peer is %any).</summary>
    public IkeIdentity? RemoteId { get; init; }

    public IkeAuthKind LocalAuth { get; init; } = IkeAuthKind.Psk;
    public IkeAuthKind RemoteAuth { get; init; } = IkeAuthKind.Psk;
    public IkeCredentials LocalCredentials { get; init; } = new();
    public IkeCredentials RemoteCredentials { get; init; } = new();

    /// <summary>ike= (ProposalParser.Parse(..., ProposalProtocol.Ike)).</summary>
    public required ProposalList IkeProposals { get; init; }
    /// <summary>esp= / phase2alg= (ProposalProtocol.Esp); a DH transform in it means PFS on CREATE_CHILD_SA.</summary>
    public required ProposalList EspProposals { get; init; }

    /// <summary>leftsubnet(s)= as traffic selectors (TrafficSelectors.FromPrefix); empty = the local address /32 (/128).</summary>
    public IReadOnlyList<TrafficSelector> LocalTs { get; init; } = [];
    /// <summary>rightsubnet(s)=; empty = the peer's address.</summary>
    public IReadOnlyList<TrafficSelector> RemoteTs { get; init; } = [];

    /// <summary>type=transport (USE_TRANSPORT_MODE); default tunnel.</summary>
    public bool Transport { get; init; }

    /// <summary>ikelifetime= (default 3 h as FreeS/WAN / strongSwan).</summary>
    public TimeSpan IkeLifetime { get; init; } = TimeSpan.FromHours(3);
    /// <summary>keylife= / lifetime= (default 1 h).</summary>
    public TimeSpan ChildLifetime { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Soft/hard volume limits of a CHILD_SA (lifebytes/lifepackets); 0 = none.</summary>
    public long ChildLifeBytes { get; init; }
    public long ChildLifePackets { get; init; }
    /// <summary>rekeymargin= (default 9 min): rekey this long before the lifetime ends.</summary>
    public TimeSpan RekeyMargin { get; init; } = TimeSpan.FromMinutes(9);
    /// <summary>rekeyfuzz= in percent of the margin (default 100): the margin is randomly increased by up to this.</summary>
    public int RekeyFuzzPercent { get; init; } = 100;
    /// <summary>rekey=no: let SAs expire instead of rekeying.</summary>
    public bool Rekey { get; init; } = true;

    /// <summary>keyingtries= (default 3; 0 = %forever).</summary>
    public int KeyingTries { get; init; } = 3;

    /// <summary>dpddelay= (zero = no DPD), dpdtimeout=, dpdaction=.</summary>
    public TimeSpan DpdDelay { get; init; }
    public TimeSpan DpdTimeout { get; init; } = TimeSpan.FromSeconds(150);
    public DpdAction DpdAction { get; init; } = DpdAction.None;

    public ConnectionStartAction StartAction { get; init; } = ConnectionStartAction.None;
    public EncapsulationMode Encapsulation { get; init; } = EncapsulationMode.Auto;

    /// <summary>replay-window= (default 32, as strongSwan).</summary>
    public int ReplayWindow { get; init; } = 32;
    /// <summary>hidetos=: the outer header does not copy the inner TOS.</summary>
    public bool HideTos { get; init; }

    /// <summary>RFC 7383 fragmentation offered and used above <see cref="IkeEngineOptions.FragmentSize"/>.</summary>
    public bool Fragmentation { get; init; } = true;

    /// <summary>Opaque to the engine; the gateway keeps per-connection data here (updown script, eroute ids).</summary>
    public object? Tag { get; init; }

    public override string ToString() => $"\"{Name}\"";
}
