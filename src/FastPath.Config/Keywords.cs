// The keyword table: every ipsec.conf parameter FastPath knows, the section it belongs to, the
// dialects that accept it and its value syntax. One table drives validation, typo suggestions,
// dialect detection and docs/configuration.md (a test checks the doc lists every keyword).
// Sources: FreeS/WAN ipsec.conf(5) (2.x, incl. manual keying), the seeds (REPORT §1.6),
// Libreswan ipsec.conf(5) 4.x/5.x, strongSwan ipsec.conf(5) 5.9.
using System;
using System.Collections.Generic;
using System.Linq;

namespace FastPath.Config;

[Flags]
internal enum Dia
{
    F = 1, // FreeS/WAN 2.x
    L = 2, // Libreswan
    S = 4, // strongSwan
    FL = F | L,
    LS = L | S,
    FS = F | S,
    All = F | L | S,
}

internal enum Sec { Setup, Conn }

internal enum Kind
{
    Also, Host, Subnet, SubnetList, SubnetWithin, NextHop, Id, RsaKey, Str, Bool, Enum, Time, Percent, Int,
    KeyingTries, AuthBy, Proposal, Spi, SpiBase, Key, ReplayWindow, Interfaces,
}

/// <summary>One keyword. Values of an enum may be limited to dialects with "value@FLS".</summary>
internal sealed record Keyword(string Name, Sec Section, Dia Dialects, Kind Kind, string[]? Values = null,
    string? AliasOf = null, string? Obsolete = null, Dia ObsoleteIn = 0, string? Doc = null)
{
    public IEnumerable<(string Value, Dia Dialects)> EnumValues()
    {
        foreach (string v in Values ?? Array.Empty<string>())
        {
            int at = v.IndexOf('@', StringComparison.Ordinal);
            if (at < 0) { yield return (v, Dia.All); continue; }
            Dia d = 0;
            foreach (char c in v[(at + 1)..]) d |= c switch { 'F' => Dia.F, 'L' => Dia.L, 'S' => Dia.S, _ => 0 };
            yield return (v[..at], d);
        }
    }
    /// <summary>The name whose typed field this sets (aliases such as lifetime → keylife).</summary>
    public string Canonical => AliasOf ?? Name;
}

internal static class Keywords
{
    public static readonly IReadOnlyDictionary<string, Keyword> Conn;
    public static readonly IReadOnlyDictionary<string, Keyword> Setup;

    static Keywords()
    {
        var conn = new List<Keyword>();
        void C(string n, Dia d, Kind k, string[]? v = null, string? alias = null, string? obsolete = null, Dia obsIn = 0) =>
            conn.Add(new Keyword(n, Sec.Conn, d, k, v, alias, obsolete, obsIn));
        // Per-side keywords exist as left* and right*.
        void Side(string suffix, Dia d, Kind k, string[]? v = null)
        {
            conn.Add(new Keyword("left" + suffix, Sec.Conn, d, k, v));
            conn.Add(new Keyword("right" + suffix, Sec.Conn, d, k, v));
        }
        string[] yesno = { "yes", "no" };

        C("also", Dia.All, Kind.Also);
        Side("", Dia.All, Kind.Host);
        Side("subnet", Dia.All, Kind.Subnet);
        Side("subnets", Dia.L, Kind.SubnetList);
        Side("subnetwithin", Dia.F, Kind.SubnetWithin);
        Side("nexthop", Dia.FL, Kind.NextHop);
        Side("id", Dia.All, Kind.Id);
        Side("rsasigkey", Dia.All, Kind.RsaKey);
        Side("cert", Dia.All, Kind.Str);
        Side("ca", Dia.LS, Kind.Str);
        Side("sourceip", Dia.LS, Kind.Str);
        Side("protoport", Dia.All, Kind.Str);
        Side("updown", Dia.All, Kind.Str);
        Side("firewall", Dia.All, Kind.Bool, yesno);
        Side("auth", Dia.LS, Kind.Str);
        Side("sendcert", Dia.LS, Kind.Str);
        Side("ikeport", Dia.LS, Kind.Int);
        Side("allowany", Dia.S, Kind.Bool, yesno);
        Side("groups", Dia.S, Kind.Str);
        Side("hostaccess", Dia.LS, Kind.Bool, yesno);
        // FreeS/WAN manual keying, per direction ("left..." = the SA whose destination is left).
        Side("espenckey", Dia.F, Kind.Key);
        Side("espauthkey", Dia.F, Kind.Key);
        Side("espspi", Dia.F, Kind.Spi);
        Side("ahkey", Dia.F, Kind.Key);
        Side("ahspi", Dia.F, Kind.Spi);

        C("type", Dia.All, Kind.Enum, new[] { "tunnel", "transport", "passthrough", "drop", "reject@FL", "transport_proxy@S" });
        C("auto", Dia.All, Kind.Enum, new[] { "add", "start", "route", "ondemand@L", "up@L", "keep@L", "ignore" });
        C("authby", Dia.All, Kind.AuthBy);
        C("keyexchange", Dia.All, Kind.Enum, new[] { "ike", "ikev1@LS", "ikev2@LS" });
        C("ikev2", Dia.L, Kind.Enum, new[] { "yes", "no", "insist", "permit", "propose", "never" });
        C("ike", Dia.All, Kind.Proposal);
        C("esp", Dia.All, Kind.Proposal);
        C("phase2alg", Dia.L, Kind.Proposal, alias: "esp");
        C("phase2", Dia.L, Kind.Enum, new[] { "esp", "ah" });
        C("auth", Dia.F, Kind.Enum, new[] { "esp", "ah" });
        C("pfs", Dia.All, Kind.Bool, yesno, obsolete: "ignored by strongSwan: add a DH group to esp= (e.g. aes128gcm16-modp3072) for PFS", obsIn: Dia.S);
        C("ikelifetime", Dia.All, Kind.Time);
        C("keylife", Dia.All, Kind.Time);
        C("lifetime", Dia.All, Kind.Time, alias: "keylife", obsolete: "obsolete since FreeS/WAN 2.0 (seed 002:390); use keylife", obsIn: Dia.F);
        C("salifetime", Dia.FL, Kind.Time, alias: "keylife");
        C("rekeymargin", Dia.All, Kind.Time);
        C("margintime", Dia.S, Kind.Time, alias: "rekeymargin");
        C("rekeyfuzz", Dia.All, Kind.Percent);
        C("rekey", Dia.All, Kind.Bool, yesno);
        C("keyingtries", Dia.All, Kind.KeyingTries);
        C("dpddelay", Dia.LS, Kind.Time);
        C("dpdtimeout", Dia.LS, Kind.Time);
        C("dpdaction", Dia.LS, Kind.Enum, new[] { "none@S", "clear", "hold", "restart" });
        C("replay-window", Dia.L, Kind.ReplayWindow);
        C("replay_window", Dia.S, Kind.ReplayWindow, alias: "replay-window");
        C("encapsulation", Dia.L, Kind.Enum, new[] { "yes", "no", "auto" });
        C("forceencaps", Dia.S, Kind.Bool, yesno);
        C("compress", Dia.All, Kind.Bool, yesno);
        C("mobike", Dia.LS, Kind.Bool, yesno);
        C("reauth", Dia.S, Kind.Bool, yesno);
        C("fragmentation", Dia.LS, Kind.Enum, new[] { "yes", "no", "force", "accept@S" });
        C("aggressive", Dia.S, Kind.Bool, yesno);
        C("aggrmode", Dia.L, Kind.Bool, yesno);
        C("closeaction", Dia.S, Kind.Enum, new[] { "none", "clear", "hold", "restart" });
        C("inactivity", Dia.S, Kind.Time);
        C("installpolicy", Dia.S, Kind.Bool, yesno);
        C("mark", Dia.S, Kind.Str);
        C("reqid", Dia.S, Kind.Int);
        C("lifebytes", Dia.S, Kind.Int);
        C("lifepackets", Dia.S, Kind.Int);
        C("marginbytes", Dia.S, Kind.Int);
        C("marginpackets", Dia.S, Kind.Int);
        C("esn", Dia.L, Kind.Enum, new[] { "yes", "no", "either" });
        C("narrowing", Dia.L, Kind.Bool, yesno);
        C("failureshunt", Dia.FL, Kind.Enum, new[] { "none", "passthrough", "drop", "reject", "hold@L" });
        C("negotiationshunt", Dia.L, Kind.Enum, new[] { "passthrough", "drop", "hold" });
        C("disablearrivalcheck", Dia.F, Kind.Bool, yesno);
        // FreeS/WAN manual keying, both directions.
        C("spi", Dia.F, Kind.Spi);
        C("spibase", Dia.F, Kind.SpiBase);
        C("espenckey", Dia.F, Kind.Key);
        C("espauthkey", Dia.F, Kind.Key);
        C("espreplay_window", Dia.F, Kind.Int);
        C("ah", Dia.F, Kind.Str);
        C("ahkey", Dia.F, Kind.Key);
        C("ahreplay_window", Dia.F, Kind.Int);

        var setup = new List<Keyword>();
        void S(string n, Dia d, Kind k, string[]? v = null, string? obsolete = null, Dia obsIn = 0) =>
            setup.Add(new Keyword(n, Sec.Setup, d, k, v, null, obsolete, obsIn));
        S("interfaces", Dia.FL, Kind.Interfaces);
        S("uniqueids", Dia.All, Kind.Enum, new[] { "yes", "no", "never@S", "replace@S", "keep@S" });
        S("hidetos", Dia.F, Kind.Bool, yesno);
        S("myid", Dia.F, Kind.Id);
        S("plutodebug", Dia.FL, Kind.Str);
        S("klipsdebug", Dia.FL, Kind.Str);
        S("charondebug", Dia.S, Kind.Str);
        S("plutoload", Dia.F, Kind.Str);
        S("plutostart", Dia.F, Kind.Str);
        S("manualstart", Dia.F, Kind.Str);
        S("plutowait", Dia.F, Kind.Bool, yesno);
        S("pluto", Dia.F, Kind.Bool, yesno);
        S("prepluto", Dia.F, Kind.Str);
        S("postpluto", Dia.F, Kind.Str);
        S("dumpdir", Dia.FL, Kind.Str);
        S("forwardcontrol", Dia.F, Kind.Bool, yesno);
        S("syslog", Dia.F, Kind.Str);
        S("fragicmp", Dia.F, Kind.Bool, yesno);
        S("packetdefault", Dia.F, Kind.Enum, new[] { "drop", "reject", "pass" });
        S("overridemtu", Dia.F, Kind.Int);
        S("nat_traversal", Dia.FL, Kind.Bool, yesno);
        S("virtual_private", Dia.FL, Kind.Str);
        S("protostack", Dia.L, Kind.Str);
        S("logfile", Dia.L, Kind.Str);
        S("logtime", Dia.L, Kind.Bool, yesno);
        S("logappend", Dia.L, Kind.Bool, yesno);
        S("plutostderrlog", Dia.FL, Kind.Str);
        S("listen", Dia.L, Kind.Str);
        S("keep_alive", Dia.FL, Kind.Int);
        S("nhelpers", Dia.L, Kind.Int);
        S("secretsfile", Dia.L, Kind.Str);
        S("ipsecdir", Dia.L, Kind.Str);
        S("strictcrlpolicy", Dia.LS, Kind.Str);
        S("cachecrls", Dia.S, Kind.Bool, yesno);
        S("charonstart", Dia.S, Kind.Bool, yesno);
        foreach (string o in new[] { "dump", "plutobackgroundload", "no_eroute_pass", "rekeystart", "rekeytries" })
            S(o, Dia.F, Kind.Str, obsolete: "obsolete since FreeS/WAN 2.0 (seed 002:385-392); remove it", obsIn: Dia.F);

        Conn = conn.ToDictionary(k => k.Name, StringComparer.Ordinal);
        Setup = setup.ToDictionary(k => k.Name, StringComparer.Ordinal);
    }

    public static IReadOnlyDictionary<string, Keyword> For(Sec s) => s == Sec.Setup ? Setup : Conn;

    public static Dia Of(ConfigDialect d) => d switch
    {
        ConfigDialect.FreeSwan => Dia.F,
        ConfigDialect.Libreswan => Dia.L,
        ConfigDialect.StrongSwan => Dia.S,
        _ => Dia.All,
    };

    public static string Name(ConfigDialect d) => d switch
    {
        ConfigDialect.FreeSwan => "FreeS/WAN 2.x",
        ConfigDialect.Libreswan => "Libreswan",
        ConfigDialect.StrongSwan => "strongSwan",
        _ => "auto",
    };

    public static string Names(Dia d)
    {
        var parts = new List<string>();
        if ((d & Dia.F) != 0) parts.Add("FreeS/WAN 2.x");
        if ((d & Dia.L) != 0) parts.Add("Libreswan");
        if ((d & Dia.S) != 0) parts.Add("strongSwan");
        return string.Join(", ", parts);
    }
}
