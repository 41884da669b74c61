using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using FastPath.Crypto;
using FastPath.Crypto.Esp;

namespace FastPath.Gateway.Manual;

// Manual keying, FreeS/WAN style: before Pluto negotiated anything, an operator keyed KLIPS by hand
// with `ipsec spi` (one SA) and `ipsec eroute` (one policy). A manual-key script is those commands,
// one per line, with the same option names:
//
//   spi --edst 203.0.113.2 --spi 0x1002 --proto esp --src 203.0.113.1 --esp aes128gcm16 \
//       --enckey 0x<key||salt> [--authkey 0x<key>] [--encap udp[:SPORT:DPORT]] [--replay_window N] \
//       [--esn] [--mode tunnel|transport] [--inner-src CIDR --inner-dst CIDR]
//   eroute --add --src 192.0.2.0/25 --dst 192.0.2.128/25 --said esp0x1002@203.0.113.2
//   eroute --add --src 0.0.0.0/0 --dst 198.51.100.0/24 --said %pass      (%drop %reject %trap %hold %passthrough)
//
// `#` starts a comment; a trailing `\` continues a line. `--said esp0x...@dst` (or tun0x...) names an
// outbound SA by SPI and destination, as in KLIPS. Whether an SA is inbound or outbound follows from
// its destination: an SA whose --edst is one of the gateway's own addresses is inbound (KLIPS looked
// SAs up by (dst, SPI, proto) the same way). For AES-GCM, --enckey is key||4-byte salt (RFC 4106 §8.1
// KEYMAT order); for CBC suites --enckey and --authkey are the two keys.
// FastPath extensions: --encap for RFC 3948 UDP encapsulation (FreeS/WAN 2.x had --natt), and the
// inner selectors of an inbound SA (checked after decryption, DESIGN.md §2); when they are missing
// they are derived from the eroutes that point at the SA's source (swapped), so the usual script needs
// none. Errors name the line and say what is allowed.

/// <summary>One `spi` line.</summary>
public sealed record ManualSa(
    int Line, IPAddress Destination, uint Spi, IPAddress Source, EspSuite Suite, byte[] KeyMaterial,
    bool UdpEncapsulation, ushort SourcePort, ushort DestinationPort, int ReplayWindow, bool Esn, bool Transport,
    string? InnerSource, string? InnerDestination)
{
    /// <summary>The KLIPS SA name `esp0x1002@203.0.113.2`.</summary>
    public string Said => $"esp0x{Spi:x}@{Destination}";

    /// <summary>Key material is never printed.</summary>
    public override string ToString() => $"{Said} {Suite} from {Source}" + (UdpEncapsulation ? $" udp {SourcePort}->{DestinationPort}" : "");
}

/// <summary>What an eroute line does: an SA (by SPI and peer) or a shunt.</summary>
public enum ManualErouteKind { Sa, Pass, Drop, Reject, Trap, Hold, Passthrough }

/// <summary>One `eroute` line.</summary>
public sealed record ManualEroute(int Line, string Operation, string Source, string Destination, ManualErouteKind Kind, uint Spi, IPAddress? Peer, byte Protocol)
{
    public bool IsIpv6 => Source.Contains(':', StringComparison.Ordinal);
}

/// <summary>A parsed manual-keying script.</summary>
public sealed class ManualKeyScript
{
    public IReadOnlyList<ManualSa> Sas { get; }
    public IReadOnlyList<ManualEroute> Eroutes { get; }
    public string FileName { get; }

    private ManualKeyScript(string fileName, List<ManualSa> sas, List<ManualEroute> eroutes)
    {
        FileName = fileName;
        Sas = sas;
        Eroutes = eroutes;
    }

    public static ManualKeyScript Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ManualKeyException($"{path}: cannot read: {e.Message}");
        }
        return Parse(text, path);
    }

    public static ManualKeyScript Parse(string text, string fileName = "<manual>")
    {
        ArgumentNullException.ThrowIfNull(text);
        var sas = new List<ManualSa>();
        var eroutes = new List<ManualEroute>();
        var errors = new List<string>();
        string[] raw = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int i = 0; i < raw.Length; i++)
        {
            int lineNo = i + 1;
            string line = StripComment(raw[i]);
            while (line.EndsWith('\\') && i + 1 < raw.Length)
            {
                line = line[..^1] + " " + StripComment(raw[++i]);
            }
            string[] words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            try
            {
                // "ipsec spi ..." is accepted as well as "spi ...".
                int first = words[0] == "ipsec" ? 1 : 0;
                if (first >= words.Length) throw new ManualKeyException("expected 'spi' or 'eroute' after 'ipsec'");
                var opts = Options(words.AsSpan(first + 1));
                switch (words[first])
                {
                    case "spi": sas.Add(ParseSa(lineNo, opts)); break;
                    case "eroute": eroutes.Add(ParseEroute(lineNo, opts)); break;
                    default: throw new ManualKeyException($"unknown command '{words[first]}' (expected spi or eroute)");
                }
            }
            catch (ManualKeyException e)
            {
                errors.Add($"{fileName}:{lineNo}: {e.Message}");
            }
        }
        if (errors.Count == 0) Validate(sas, eroutes, fileName, errors);
        if (errors.Count > 0) throw new ManualKeyException(string.Join(Environment.NewLine, errors));
        return new ManualKeyScript(fileName, sas, eroutes);
    }

    private static string StripComment(string line)
    {
        int hash = line.IndexOf('#', StringComparison.Ordinal);
        return (hash >= 0 ? line[..hash] : line).TrimEnd();
    }

    private static Dictionary<string, string?> Options(ReadOnlySpan<string> words)
    {
        var d = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int i = 0; i < words.Length; i++)
        {
            string w = words[i];
            if (!w.StartsWith("--", StringComparison.Ordinal)) throw new ManualKeyException($"unexpected '{w}' (options start with --)");
            string name = w[2..].Replace('-', '_');
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            else if (i + 1 < words.Length && !words[i + 1].StartsWith("--", StringComparison.Ordinal)) value = words[++i];
            if (!d.TryAdd(name, value)) throw new ManualKeyException($"--{name} given twice");
        }
        return d;
    }

    private static readonly string[] SaOptions = ["af", "edst", "spi", "proto", "src", "esp", "enckey", "authkey", "encap", "replay_window", "esn", "mode", "inner_src", "inner_dst", "said"];
    private static readonly string[] ErouteOptions = ["add", "replace", "del", "eraf", "src", "dst", "said", "transport_proto"];

    private static void CheckKnown(Dictionary<string, string?> o, string[] known, string command)
    {
        foreach (string k in o.Keys)
        {
            if (Array.IndexOf(known, k) >= 0) continue;
            string? near = known.OrderBy(n => Levenshtein(n, k)).First();
            string hint = Levenshtein(near, k) <= 2
                ? $"; did you mean --{near.Replace('_', '-')}?"
                : $" (allowed: {string.Join(' ', known.Select(n => "--" + n.Replace('_', '-')))})";
            throw new ManualKeyException($"{command}: unknown option --{k.Replace('_', '-')}{hint}");
        }
    }

    private static string Required(Dictionary<string, string?> o, string name, string command) =>
        o.TryGetValue(name, out string? v) && !string.IsNullOrEmpty(v) ? v : throw new ManualKeyException($"{command}: --{name.Replace('_', '-')} is required");

    private static ManualSa ParseSa(int line, Dictionary<string, string?> o)
    {
        CheckKnown(o, SaOptions, "spi");
        IPAddress edst;
        uint spi;
        if (o.TryGetValue("said", out string? said) && said is not null)
        {
            (spi, edst) = ParseSaid(said);
        }
        else
        {
            edst = Address(Required(o, "edst", "spi"), "--edst");
            spi = Spi(Required(o, "spi", "spi"));
        }
        string proto = o.TryGetValue("proto", out string? p) && p is not null ? p : "esp";
        if (proto != "esp") throw new ManualKeyException($"spi: --proto {proto} is not supported (only esp; AH and IPIP are not carried)");
        IPAddress src = Address(Required(o, "src", "spi"), "--src");
        if (src.AddressFamily != edst.AddressFamily) throw new ManualKeyException("spi: --src and --edst are of different address families");
        if (o.TryGetValue("af", out string? af) && af is not null && af != (edst.AddressFamily == AddressFamily.InterNetwork ? "inet" : "inet6"))
            throw new ManualKeyException($"spi: --af {af} does not match --edst {edst}");
        EspSuite suite;
        try { suite = EspSuite.Parse(Required(o, "esp", "spi")); }
        catch (Exception e) when (e is FormatException or ArgumentException) { throw new ManualKeyException("spi: --esp: " + e.Message); }
        byte[] enc = Hex(Required(o, "enckey", "spi"), "--enckey");
        byte[] auth = o.TryGetValue("authkey", out string? ak) && ak is not null ? Hex(ak, "--authkey") : [];
        int saltBytes = suite.Encryption is EncryptionAlgorithm.AesGcm or EncryptionAlgorithm.AesGmac ? 4 : 0;
        int wantEnc = suite.KeyBits / 8 + saltBytes;
        if (suite.Encryption == EncryptionAlgorithm.ChaCha20Poly1305) wantEnc = 36;
        if (enc.Length != wantEnc)
            throw new ManualKeyException($"spi: --enckey is {enc.Length} bytes; {suite} needs {wantEnc}" + (saltBytes > 0 ? $" ({suite.KeyBits / 8}-byte key followed by the 4-byte salt, RFC 4106)" : ""));
        if (suite.Integrity == IntegrityAlgorithm.None)
        {
            if (auth.Length != 0) throw new ManualKeyException($"spi: --authkey given but {suite} has no separate integrity key");
        }
        else
        {
            int wantAuth = suite.Integrity switch
            {
                IntegrityAlgorithm.HmacMd5_96 => 16,
                IntegrityAlgorithm.HmacSha1_96 => 20,
                IntegrityAlgorithm.HmacSha256_128 => 32,
                IntegrityAlgorithm.HmacSha384_192 => 48,
                _ => 64,
            };
            if (auth.Length != wantAuth) throw new ManualKeyException($"spi: --authkey is {auth.Length} bytes; {suite} needs {wantAuth}");
        }
        bool udp = false;
        ushort sport = 4500, dport = 4500;
        if (o.TryGetValue("encap", out string? encap))
        {
            string[] parts = (encap ?? "udp").Split(':');
            if (parts[0] != "udp" || parts.Length is not (1 or 3))
                throw new ManualKeyException($"spi: --encap {encap}: expected udp or udp:SPORT:DPORT (RFC 3948)");
            udp = true;
            if (parts.Length == 3) { sport = Port(parts[1]); dport = Port(parts[2]); }
        }
        int window = 64;
        if (o.TryGetValue("replay_window", out string? rw))
        {
            if (!int.TryParse(rw, NumberStyles.None, CultureInfo.InvariantCulture, out window) || window > 4096)
                throw new ManualKeyException($"spi: --replay-window '{rw}': expected 0..4096 packets (0 disables replay protection)");
        }
        bool transport = false;
        if (o.TryGetValue("mode", out string? mode))
        {
            transport = mode switch
            {
                "tunnel" => false,
                "transport" => true,
                _ => throw new ManualKeyException($"spi: --mode '{mode}': expected tunnel or transport"),
            };
        }
        o.TryGetValue("inner_src", out string? isrc);
        o.TryGetValue("inner_dst", out string? idst);
        if ((isrc is null) != (idst is null)) throw new ManualKeyException("spi: give both --inner-src and --inner-dst, or neither");
        if (isrc is not null) { Prefix(isrc, "--inner-src"); Prefix(idst!, "--inner-dst"); }
        return new ManualSa(line, edst, spi, src, suite, [.. enc, .. auth], udp, sport, dport, window, o.ContainsKey("esn"), transport, isrc, idst);
    }

    private static ManualEroute ParseEroute(int line, Dictionary<string, string?> o)
    {
        CheckKnown(o, ErouteOptions, "eroute");
        string[] ops = ["add", "replace", "del"];
        string[] given = ops.Where(o.ContainsKey).ToArray();
        if (given.Length != 1) throw new ManualKeyException("eroute: exactly one of --add, --replace, --del");
        string src = Required(o, "src", "eroute"), dst = Required(o, "dst", "eroute");
        bool v6s = Prefix(src, "--src"), v6d = Prefix(dst, "--dst");
        if (v6s != v6d) throw new ManualKeyException("eroute: --src and --dst are of different address families");
        byte proto = 0;
        if (o.TryGetValue("transport_proto", out string? tp))
        {
            proto = tp switch
            {
                "tcp" => 6,
                "udp" => 17,
                "icmp" => 1,
                _ when byte.TryParse(tp, NumberStyles.None, CultureInfo.InvariantCulture, out byte b) => b,
                _ => throw new ManualKeyException($"eroute: --transport-proto '{tp}': expected tcp, udp, icmp or a number"),
            };
        }
        if (given[0] == "del") return new ManualEroute(line, "del", src, dst, ManualErouteKind.Drop, 0, null, proto);
        string said = Required(o, "said", "eroute");
        ManualErouteKind kind;
        uint spi = 0;
        IPAddress? peer = null;
        switch (said)
        {
            case "%pass": kind = ManualErouteKind.Pass; break;
            case "%drop": kind = ManualErouteKind.Drop; break;
            case "%reject": kind = ManualErouteKind.Reject; break;
            case "%trap": kind = ManualErouteKind.Trap; break;
            case "%hold": kind = ManualErouteKind.Hold; break;
            case "%passthrough": kind = ManualErouteKind.Passthrough; break;
            default:
                if (said.StartsWith('%')) throw new ManualKeyException($"eroute: --said {said}: unknown shunt (allowed: %pass %drop %reject %trap %hold %passthrough)");
                (spi, peer) = ParseSaid(said);
                kind = ManualErouteKind.Sa;
                break;
        }
        return new ManualEroute(line, given[0], src, dst, kind, spi, peer, proto);
    }

    private static void Validate(List<ManualSa> sas, List<ManualEroute> eroutes, string file, List<string> errors)
    {
        var seen = new Dictionary<(uint, IPAddress), int>();
        foreach (var sa in sas)
        {
            if (!seen.TryAdd((sa.Spi, sa.Destination), sa.Line))
                errors.Add($"{file}:{sa.Line}: spi: {sa.Said} already defined on line {seen[(sa.Spi, sa.Destination)]}");
            if (sa.Spi < 256) errors.Add($"{file}:{sa.Line}: spi: SPI 0x{sa.Spi:x} is reserved (RFC 4303 §2.1: 1-255 are reserved by IANA, 0 is never sent)");
        }
        foreach (var e in eroutes.Where(e => e.Kind == ManualErouteKind.Sa && e.Operation != "del"))
        {
            if (!sas.Any(s => s.Spi == e.Spi && s.Destination.Equals(e.Peer)))
                errors.Add($"{file}:{e.Line}: eroute: --said esp0x{e.Spi:x}@{e.Peer} names no SA of this script (add a 'spi --edst {e.Peer} --spi 0x{e.Spi:x} ...' line)");
        }
    }

    internal static (uint Spi, IPAddress Dst) ParseSaid(string said)
    {
        // esp0x1002@203.0.113.2 or tun0x1002@203.0.113.2 (KLIPS SA ids; tun = IPIP+ESP group).
        int at = said.IndexOf('@', StringComparison.Ordinal);
        if (at < 0 || !(said.StartsWith("esp0x", StringComparison.Ordinal) || said.StartsWith("tun0x", StringComparison.Ordinal)))
            throw new ManualKeyException($"'{said}': expected an SA id like esp0x1002@203.0.113.2 (or a shunt: %pass %drop %reject %trap %hold %passthrough)");
        return (Spi(said[3..at]), Address(said[(at + 1)..], "SA id"));
    }

    private static uint Spi(string text)
    {
        string t = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        NumberStyles style = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? NumberStyles.AllowHexSpecifier : NumberStyles.None;
        if (!uint.TryParse(t, style, CultureInfo.InvariantCulture, out uint spi) || spi == 0)
            throw new ManualKeyException($"SPI '{text}': expected a non-zero 32-bit number (0x1002 or 4098)");
        return spi;
    }

    private static IPAddress Address(string text, string what) =>
        IPAddress.TryParse(text, out var a) && a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6
            ? a : throw new ManualKeyException($"{what} '{text}': not an IPv4 or IPv6 address");

    /// <summary>Validates a CIDR; returns true for IPv6.</summary>
    private static bool Prefix(string text, string what)
    {
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(text[..slash], out var a) ||
            !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int len) ||
            len > (a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
            throw new ManualKeyException($"{what} '{text}': expected a prefix like 192.0.2.0/25 or 2001:db8:1::/64");
        return a.AddressFamily == AddressFamily.InterNetworkV6;
    }

    private static ushort Port(string text) =>
        ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ushort p) && p != 0
            ? p : throw new ManualKeyException($"port '{text}': expected 1..65535");

    private static byte[] Hex(string text, string what)
    {
        string t = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        t = t.Replace("_", "", StringComparison.Ordinal);
        try { return Convert.FromHexString(t); }
        catch (FormatException) { throw new ManualKeyException($"{what}: expected hex digits (0x0123..., '_' allowed as separator)"); }
    }

    internal static int Levenshtein(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}

/// <summary>A manual-keying script error; the message names file:line and what is allowed.</summary>
public sealed class ManualKeyException : Exception
{
    public ManualKeyException(string message) : base(message) { }
    public ManualKeyException() { }
    public ManualKeyException(string message, Exception inner) : base(message, inner) { }
}
