// Value syntaxes shared by ipsec.conf, ipsec.secrets and policy files: identities, addresses,
// subnets, times, ttodata keys (0x hex / 0s base64 / 0t text, FreeS/WAN ipsec_ttodata(3)).
// Parsers return false with a reason instead of throwing: the callers turn the reason into a
// diagnostic with file:line:column.
using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace FastPath.Config;

public enum IdentityKind
{
    /// <summary>%any (or 0.0.0.0 / %any6): matches any peer.</summary>
    Any,
    /// <summary>ID_IPV4_ADDR / ID_IPV6_ADDR.</summary>
    Address,
    /// <summary>@name: ID_FQDN, literal, never resolved (seed 002:1677).</summary>
    Fqdn,
    /// <summary>user@name: ID_USER_FQDN (RFC822 address).</summary>
    UserFqdn,
    /// <summary>An X.500 distinguished name ("C=CH, O=Example, CN=west").</summary>
    Dn,
    /// <summary>@#hex: ID_KEY_ID.</summary>
    KeyId,
    /// <summary>%fromcert: the subject of leftcert.</summary>
    FromCert,
    /// <summary>%myid: config setup myid= (FreeS/WAN OE conns).</summary>
    MyId,
    /// <summary>%null (Libreswan, RFC 7619).</summary>
    Null,
}

/// <summary>An IKE identity as written in leftid= or an ipsec.secrets index.</summary>
public sealed record Identity(IdentityKind Kind, string Value, IPAddress? Address = null)
{
    public static readonly Identity AnyId = new(IdentityKind.Any, "%any");

    public static bool TryParse(string text, out Identity id, out string? error)
    {
        error = null;
        id = AnyId;
        string t = text.Trim();
        if (t.Length == 0) { error = "empty identity"; return false; }
        switch (t)
        {
            case "%any": case "%any6": case "0.0.0.0": case "::": case "0::0":
                id = new Identity(IdentityKind.Any, t); return true;
            case "%fromcert": id = new Identity(IdentityKind.FromCert, t); return true;
            case "%myid": id = new Identity(IdentityKind.MyId, t); return true;
            case "%null": id = new Identity(IdentityKind.Null, t); return true;
        }
        if (t[0] == '%') { error = $"unknown identity \"{t}\"; allowed: an address, @fqdn, user@fqdn, a DN, @#hex, %any, %fromcert, %myid, %null"; return false; }
        if (t.StartsWith("@#", StringComparison.Ordinal))
        {
            if (!Values.TryHex(t.AsSpan(2), out _)) { error = $"invalid key id \"{t}\": expected @# followed by hex digits"; return false; }
            id = new Identity(IdentityKind.KeyId, t[2..].ToLowerInvariant()); return true;
        }
        if (t[0] == '@')
        {
            string name = t[1..];
            // strongSwan's @@user@host is a USER_FQDN written explicitly.
            if (name.StartsWith('@')) { id = new Identity(IdentityKind.UserFqdn, name[1..]); return name.Length > 1 || Fail("empty user@fqdn", out error); }
            if (name.Length == 0) { error = "empty @fqdn identity"; return false; }
            if (name.IndexOfAny(new[] { ' ', '\t', '"' }) >= 0) { error = $"invalid FQDN identity \"{t}\": no white space or quotes allowed"; return false; }
            id = new Identity(IdentityKind.Fqdn, name.ToLowerInvariant()); return true;
        }
        if (Values.TryStrictAddress(t, out IPAddress? a)) { id = new Identity(IdentityKind.Address, a!.ToString(), a); return true; }
        if (t.Contains('=', StringComparison.Ordinal))
        {
            // A DN: RDNs separated by ',' or '/', each attr=value.
            foreach (string rdn in t.TrimStart('/').Split(new[] { ',', '/' }, StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = rdn.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || eq == rdn.Trim().Length - 1 && rdn.Trim().EndsWith('=')) { error = $"invalid distinguished name \"{t}\": \"{rdn.Trim()}\" is not attribute=value"; return false; }
            }
            id = new Identity(IdentityKind.Dn, NormalizeDn(t)); return true;
        }
        int at = t.IndexOf('@', StringComparison.Ordinal);
        if (at > 0 && at < t.Length - 1) { id = new Identity(IdentityKind.UserFqdn, t.ToLowerInvariant()); return true; }
        if (Values.IsHostname(t)) { id = new Identity(IdentityKind.Fqdn, t.ToLowerInvariant()); return true; }
        error = $"invalid identity \"{t}\"; allowed: an address, @fqdn, user@fqdn, a DN, @#hex, %any, %fromcert, %myid, %null";
        return false;
    }

    private static bool Fail(string message, out string? error) { error = message; return false; }

    private static string NormalizeDn(string dn)
    {
        var sb = new StringBuilder();
        foreach (string rdn in dn.TrimStart('/').Split(new[] { ',', '/' }, StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = rdn.IndexOf('=', StringComparison.Ordinal);
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(rdn[..eq].Trim().ToUpperInvariant()).Append('=').Append(rdn[(eq + 1)..].Trim());
        }
        return sb.ToString();
    }

    /// <summary>Equality as Pluto's same_id: same kind and value (FQDNs case-insensitive, trailing dot ignored).</summary>
    public bool SameAs(Identity other)
    {
        if (Kind != other.Kind) return false;
        if (Kind == IdentityKind.Address) return Address!.Equals(other.Address);
        if (Kind == IdentityKind.Fqdn) return string.Equals(Value.TrimEnd('.'), other.Value.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);
        return string.Equals(Value, other.Value, Kind == IdentityKind.Dn ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }

    public override string ToString() => Kind switch
    {
        IdentityKind.Fqdn => "@" + Value,
        IdentityKind.KeyId => "@#" + Value,
        IdentityKind.Dn => "\"" + Value + "\"",
        _ => Value,
    };
}

/// <summary>Secret bytes (PSKs, manual keys). ToString never shows them.</summary>
public sealed class SecretBytes : IEquatable<SecretBytes>
{
    private readonly byte[] _bytes;
    public SecretBytes(byte[] bytes) { _bytes = bytes; }
    public int Length => _bytes.Length;
    public ReadOnlySpan<byte> Span => _bytes;
    public byte[] ToArray() => (byte[])_bytes.Clone();
    public bool Equals(SecretBytes? other) => other != null && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);
    public override bool Equals(object? obj) => obj is SecretBytes s && Equals(s);
    public override int GetHashCode() => _bytes.Length;
    public override string ToString() => $"<{_bytes.Length} bytes, masked>";
}

internal static class Values
{
    /// <summary>A strict literal address: dotted quad with 4 parts (IPAddress.TryParse accepts "1" as 0.0.0.1), or IPv6.</summary>
    public static bool TryStrictAddress(string s, out IPAddress? address)
    {
        address = null;
        if (s.Length == 0 || s.Length > 45) return false;
        if (s.Contains(':', StringComparison.Ordinal))
        {
            if (s.Contains('%', StringComparison.Ordinal) || s.Contains('/', StringComparison.Ordinal)) return false;
            if (IPAddress.TryParse(s, out IPAddress? a6) && a6.AddressFamily == AddressFamily.InterNetworkV6) { address = a6; return true; }
            return false;
        }
        string[] parts = s.Split('.');
        if (parts.Length != 4) return false;
        foreach (string p in parts)
        {
            // inet_pton rules: no leading zeros (IPAddress.Parse would read "010" as octal and throw on "089").
            if (p.Length == 0 || p.Length > 3 || (p.Length > 1 && p[0] == '0')) return false;
            foreach (char c in p) if (c < '0' || c > '9') return false;
            if (int.Parse(p, CultureInfo.InvariantCulture) > 255) return false;
        }
        address = IPAddress.Parse(s);
        return true;
    }

    /// <summary>RFC 1123 host name: labels of letters, digits, hyphens, 1..63 chars, separated by dots.</summary>
    public static bool IsHostname(string s)
    {
        if (s.Length == 0 || s.Length > 253) return false;
        foreach (string label in s.TrimEnd('.').Split('.'))
        {
            if (label.Length == 0 || label.Length > 63 || label[0] == '-' || label[^1] == '-') return false;
            foreach (char c in label)
                if (!(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '_')) return false;
        }
        // All-numeric "names" are malformed addresses, not names.
        bool allDigitsAndDots = true;
        foreach (char c in s) if (!(c is >= '0' and <= '9' or '.')) { allDigitsAndDots = false; break; }
        return !allDigitsAndDots;
    }

    /// <summary>A CIDR prefix. A bare address is a host prefix (/32, /128). Host bits set is an error (ipsec_ttosubnet's "improper subnet").</summary>
    public static bool TrySubnet(string s, out IPNetwork network, out string? error)
    {
        network = default;
        error = null;
        string t = s.Trim();
        int slash = t.IndexOf('/', StringComparison.Ordinal);
        string addrPart = slash < 0 ? t : t[..slash];
        if (!TryStrictAddress(addrPart, out IPAddress? addr))
        {
            error = $"invalid subnet \"{t}\": \"{addrPart}\" is not an IPv4 or IPv6 address";
            return false;
        }
        int max = addr!.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        int len = max;
        if (slash >= 0)
        {
            string lenPart = t[(slash + 1)..];
            if (TryStrictAddress(lenPart, out IPAddress? mask) && mask!.AddressFamily == AddressFamily.InterNetwork && max == 32)
            {
                // Dotted netmask (FreeS/WAN accepted 255.255.255.0): must be contiguous.
                uint m = BitConverterBigEndian(mask.GetAddressBytes());
                int bits = 0;
                while (bits < 32 && (m & (0x80000000u >> bits)) != 0) bits++;
                if (bits < 32 && (m << bits) != 0) { error = $"invalid subnet \"{t}\": netmask {lenPart} is not contiguous"; return false; }
                len = bits;
            }
            else if (lenPart.Length == 0 || lenPart.Length > 3 || !int.TryParse(lenPart, NumberStyles.None, CultureInfo.InvariantCulture, out len) || len > max)
            {
                error = $"invalid subnet \"{t}\": prefix length must be 0..{max}";
                return false;
            }
        }
        var net = new IPNetwork(Mask(addr, len), len);
        if (!net.BaseAddress.Equals(addr))
        {
            error = $"invalid subnet \"{t}\": host bits are set; did you mean \"{net}\"?";
            return false;
        }
        network = net;
        return true;
    }

    private static uint BitConverterBigEndian(byte[] b) => (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);

    internal static IPAddress Mask(IPAddress a, int len)
    {
        byte[] b = a.GetAddressBytes();
        for (int i = 0; i < b.Length; i++)
        {
            int keep = Math.Clamp(len - i * 8, 0, 8);
            b[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(b);
    }

    /// <summary>FreeS/WAN time: integer [s], or decimal followed by m/h/d. strongSwan/Libreswan: integer with s/m/h/d.</summary>
    public static bool TryTime(string s, out TimeSpan value, out string? error)
    {
        value = default;
        error = null;
        string t = s.Trim();
        if (t.Length == 0 || t.Length > 20) { error = $"invalid time \"{t}\"; expected a number with an optional unit s, m, h or d (e.g. 30m, 8h)"; return false; }
        char unit = t[^1];
        string num = char.IsAsciiLetter(unit) ? t[..^1] : t;
        if (!char.IsAsciiLetter(unit)) unit = 's';
        double mul = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, _ => -1 };
        if (mul < 0) { error = $"invalid time \"{t}\": unknown unit '{unit}'; allowed s, m, h, d"; return false; }
        if (num.Length == 0 || !double.TryParse(num, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n) || num.StartsWith('.') || num.EndsWith('.'))
        {
            error = $"invalid time \"{t}\"; expected a number with an optional unit s, m, h or d (e.g. 30m, 8h)";
            return false;
        }
        if (num.Contains('.', StringComparison.Ordinal) && unit == 's') { error = $"invalid time \"{t}\": seconds must be a whole number (a decimal needs m, h or d)"; return false; }
        double seconds = n * mul;
        if (seconds > 10 * 365 * 86400.0) { error = $"invalid time \"{t}\": more than 10 years"; return false; }
        value = TimeSpan.FromSeconds(Math.Round(seconds));
        return true;
    }

    public static string FormatTime(TimeSpan t)
    {
        long s = (long)t.TotalSeconds;
        if (s != 0 && s % 86400 == 0 && s > 2 * 86400) return $"{s / 86400}d";
        if (s != 0 && s % 3600 == 0) return $"{s / 3600}h";
        if (s != 0 && s % 60 == 0) return $"{s / 60}m";
        return $"{s}s";
    }

    public static bool TryHex(ReadOnlySpan<char> s, out byte[] bytes)
    {
        bytes = Array.Empty<byte>();
        var digits = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (c == '_') continue; // FreeS/WAN wrote long keys as 0x1234_5678_...
            if (!char.IsAsciiHexDigit(c)) return false;
            digits.Append(c);
        }
        if (digits.Length == 0 || digits.Length % 2 != 0) return false;
        bytes = Convert.FromHexString(digits.ToString());
        return true;
    }

    /// <summary>ipsec_ttodata(3): 0x hex, 0s base64, 0t text.</summary>
    public static bool TryTtoData(string s, out byte[] bytes, out string? error)
    {
        bytes = Array.Empty<byte>();
        error = null;
        if (s.Length >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        {
            if (TryHex(s.AsSpan(2), out bytes)) return true;
            error = $"invalid hex key \"{Mask(s)}\": expected 0x followed by an even number of hex digits";
            return false;
        }
        if (s.StartsWith("0s", StringComparison.Ordinal))
        {
            try { bytes = Convert.FromBase64String(s[2..]); if (bytes.Length > 0) return true; }
            catch (FormatException) { }
            error = $"invalid base64 key \"{Mask(s)}\": expected 0s followed by base64";
            return false;
        }
        if (s.StartsWith("0t", StringComparison.Ordinal) && s.Length > 2) { bytes = Encoding.UTF8.GetBytes(s[2..]); return true; }
        error = $"invalid key \"{Mask(s)}\": expected 0x<hex>, 0s<base64> or 0t<text>";
        return false;
    }

    /// <summary>Shows the shape of a secret, never the secret: first 2 characters and the length.</summary>
    public static string Mask(string s) => s.Length <= 2 ? "**" : s[..2] + $"...({s.Length} chars)";

    /// <summary>0x hex SPI, 32 bits.</summary>
    public static bool TrySpi(string s, out uint spi)
    {
        spi = 0;
        if (s.Length < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s.Length > 10) return false;
        return uint.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out spi);
    }
}
