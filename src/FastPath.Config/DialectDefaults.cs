// Each dialect's defaults for the values a conn does not set. Sources: FreeS/WAN 2.x
// ipsec.conf(5) and the seeds (002:396-407: interfaces=%defaultroute, uniqueids=yes,
// authby=rsasig, leftrsasigkey=%dnsondemand), Libreswan ipsec.conf(5) 4.x/5.x, strongSwan
// ipsec.conf(5) 5.9. docs/configuration.md carries the same table; a test compares them.
using System;

namespace FastPath.Config;

/// <summary>Defaults applied per dialect. Lifetimes are also bounded per dialect.</summary>
public sealed record DialectDefaults(
    ConfigDialect Dialect,
    TimeSpan IkeLifetime,
    TimeSpan KeyLife,
    TimeSpan RekeyMargin,
    int RekeyFuzzPercent,
    int KeyingTries,
    TimeSpan? DpdDelay,
    TimeSpan? DpdTimeout,
    DpdAction DpdAction,
    AutoAction Auto,
    AuthMethods AuthBy,
    bool Pfs,
    ConnectionType Type,
    IkeVersion KeyExchange,
    int? ReplayWindow,
    Encapsulation Encapsulation,
    UniqueIdsPolicy UniqueIds,
    bool Compress,
    bool Rekey,
    bool Mobike,
    PublicKeySource RsaSigKey,
    string? Interfaces,
    /// <summary>Largest ikelifetime accepted (null = no limit).</summary>
    TimeSpan? MaxIkeLifetime,
    /// <summary>Largest keylife accepted (null = no limit).</summary>
    TimeSpan? MaxKeyLife)
{
    public static readonly DialectDefaults FreeSwan = new(
        ConfigDialect.FreeSwan,
        IkeLifetime: TimeSpan.FromHours(1), KeyLife: TimeSpan.FromHours(8), RekeyMargin: TimeSpan.FromMinutes(9),
        RekeyFuzzPercent: 100, KeyingTries: Connection.KeyingTriesForever,
        DpdDelay: null, DpdTimeout: null, DpdAction: DpdAction.None,
        Auto: AutoAction.Ignore, AuthBy: AuthMethods.RsaSig, Pfs: true, Type: ConnectionType.Tunnel,
        KeyExchange: IkeVersion.IkeV1, ReplayWindow: 64, Encapsulation: Encapsulation.No,
        UniqueIds: UniqueIdsPolicy.Yes, Compress: false, Rekey: true, Mobike: false,
        RsaSigKey: PublicKeySource.DnsOnDemand, Interfaces: "%defaultroute",
        MaxIkeLifetime: TimeSpan.FromHours(8), MaxKeyLife: TimeSpan.FromHours(24));

    public static readonly DialectDefaults Libreswan = new(
        ConfigDialect.Libreswan,
        IkeLifetime: TimeSpan.FromHours(8), KeyLife: TimeSpan.FromHours(8), RekeyMargin: TimeSpan.FromMinutes(9),
        RekeyFuzzPercent: 100, KeyingTries: Connection.KeyingTriesForever,
        DpdDelay: null, DpdTimeout: TimeSpan.FromSeconds(120), DpdAction: DpdAction.Hold,
        Auto: AutoAction.Ignore, AuthBy: AuthMethods.RsaSig | AuthMethods.Ecdsa, Pfs: true, Type: ConnectionType.Tunnel,
        KeyExchange: IkeVersion.IkeV2, ReplayWindow: 128, Encapsulation: Encapsulation.Auto,
        UniqueIds: UniqueIdsPolicy.Yes, Compress: false, Rekey: true, Mobike: false,
        RsaSigKey: PublicKeySource.Unset, Interfaces: "%defaultroute",
        MaxIkeLifetime: TimeSpan.FromHours(24), MaxKeyLife: TimeSpan.FromHours(24));

    public static readonly DialectDefaults StrongSwan = new(
        ConfigDialect.StrongSwan,
        IkeLifetime: TimeSpan.FromHours(3), KeyLife: TimeSpan.FromHours(1), RekeyMargin: TimeSpan.FromMinutes(9),
        RekeyFuzzPercent: 100, KeyingTries: 3,
        DpdDelay: TimeSpan.FromSeconds(30), DpdTimeout: TimeSpan.FromSeconds(150), DpdAction: DpdAction.None,
        Auto: AutoAction.Ignore, AuthBy: AuthMethods.PubKey, Pfs: true, Type: ConnectionType.Tunnel,
        KeyExchange: IkeVersion.Any, ReplayWindow: 32, Encapsulation: Encapsulation.Auto,
        UniqueIds: UniqueIdsPolicy.Yes, Compress: false, Rekey: true, Mobike: true,
        RsaSigKey: PublicKeySource.Unset, Interfaces: null,
        MaxIkeLifetime: null, MaxKeyLife: null);

    public static DialectDefaults For(ConfigDialect d) => d switch
    {
        ConfigDialect.Libreswan => Libreswan,
        ConfigDialect.StrongSwan => StrongSwan,
        _ => FreeSwan,
    };
}
