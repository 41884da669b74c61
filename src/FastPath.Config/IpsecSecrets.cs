// ipsec.secrets (FreeS/WAN ipsec.secrets(5), strongSwan/Libreswan extensions):
//   [index ...] : PSK "text" | 0x<hex> | 0s<base64>
//   [index ...] : RSA { Modulus: 0s... PublicExponent: ... Coefficient: 0s... }   (FreeS/WAN raw key)
//   [index ...] : RSA file.pem ["passphrase"]   /   : ECDSA file.pem               (strongSwan)
//   [index ...] : PKCS8 file.pem   (strongSwan: a PKCS#8 key of any type, e.g. Ed25519)
//   include FILE-PATTERN
// An entry starts at column 1; continuation lines are indented. The colon separator must be
// followed by white space (so IPv6 indices work: "2001:db8::1 : PSK ..."). Selection follows
// Pluto's get_secret: the entry that most specifically matches (local id, peer id) wins; no
// index = any pair; one index = local id, any peer; several = local and peer each listed; for
// asymmetric keys a local-only match among several indices also counts; equal best matches
// with different secrets are reported. %any (0.0.0.0) stands for any IP peer if nothing equal
// matched (road warriors). Secrets never appear in ToString, diagnostics or logs.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace FastPath.Config;

public enum SecretKind { Psk, Rsa, Ecdsa, Eap, Xauth, Pkcs8 }

/// <summary>FreeS/WAN's raw RSA private key (the eight fields, in their fixed order).</summary>
public sealed class RsaRawKey
{
    public static readonly string[] FieldNames = { "Modulus", "PublicExponent", "PrivateExponent", "Prime1", "Prime2", "Exponent1", "Exponent2", "Coefficient" };
    internal SecretBytes[] Fields { get; } = new SecretBytes[8];
    public ReadOnlySpan<byte> Modulus => Fields[0].Span;
    public ReadOnlySpan<byte> PublicExponent => Fields[1].Span;
    public ReadOnlySpan<byte> PrivateExponent => Fields[2].Span;
    public ReadOnlySpan<byte> Prime1 => Fields[3].Span;
    public ReadOnlySpan<byte> Prime2 => Fields[4].Span;
    public ReadOnlySpan<byte> Exponent1 => Fields[5].Span;
    public ReadOnlySpan<byte> Exponent2 => Fields[6].Span;
    public ReadOnlySpan<byte> Coefficient => Fields[7].Span;
    /// <summary>Modulus size in bits (leading zero bytes ignored).</summary>
    public int Bits
    {
        get
        {
            ReadOnlySpan<byte> m = Modulus;
            int i = 0;
            while (i < m.Length && m[i] == 0) i++;
            if (i == m.Length) return 0;
            return (m.Length - i - 1) * 8 + (32 - System.Numerics.BitOperations.LeadingZeroCount(m[i]));
        }
    }
    public override string ToString() => $"RSA {{ {Bits} bits, masked }}";
}

/// <summary>One entry of ipsec.secrets.</summary>
public sealed class SecretEntry
{
    public IReadOnlyList<Identity> Ids { get; init; } = Array.Empty<Identity>();
    public SecretKind Kind { get; init; }
    /// <summary>PSK/EAP/XAUTH bytes.</summary>
    public SecretBytes? Secret { get; init; }
    public RsaRawKey? RsaKey { get; init; }
    /// <summary>A key file (strongSwan `: RSA file.pem`), resolved against the private key directory.</summary>
    public string? KeyFile { get; init; }
    public SecretBytes? Passphrase { get; init; }
    public SourceLocation Location { get; init; }

    internal bool SameSecret(SecretEntry o)
    {
        if (Kind != o.Kind) return false;
        if (Secret != null || o.Secret != null) return Secret != null && Secret.Equals(o.Secret);
        if (KeyFile != null || o.KeyFile != null) return KeyFile == o.KeyFile;
        return RsaKey != null && o.RsaKey != null && RsaKey.Fields.Zip(o.RsaKey.Fields).All(p => p.First.Equals(p.Second));
    }

    /// <summary>Masked: ids and kind, never the secret.</summary>
    public override string ToString()
    {
        string ids = string.Join(" ", Ids);
        string what = Kind switch
        {
            SecretKind.Rsa when RsaKey != null => RsaKey.ToString(),
            SecretKind.Rsa or SecretKind.Ecdsa or SecretKind.Pkcs8 when KeyFile != null => $"{Kind.ToString().ToUpperInvariant()} {KeyFile}",
            _ => $"{Kind.ToString().ToUpperInvariant()} \"********\"",
        };
        return (ids.Length > 0 ? ids + " " : "") + ": " + what;
    }
}

/// <summary>How well a secret matched (Pluto's match_default/match_him/match_me bits).</summary>
[Flags]
public enum SecretMatchQuality { None = 0, Default = 1, Peer = 2, Local = 4 }

public sealed record SecretMatch(SecretEntry Entry, SecretMatchQuality Quality, string? Ambiguity);

public sealed class SecretsOptions
{
    /// <summary>Where relative key files live; default &lt;dir of ipsec.secrets&gt;/ipsec.d/private (strongSwan's /etc/ipsec.d/private).</summary>
    public string? PrivateKeyDirectory { get; set; }
    /// <summary>Warn when the file is readable or writable by group/others (default true).</summary>
    public bool CheckPermissions { get; set; } = true;
}

/// <summary>A loaded ipsec.secrets.</summary>
public sealed class IpsecSecrets
{
    public IReadOnlyList<SecretEntry> Entries { get; private init; } = Array.Empty<SecretEntry>();
    public IReadOnlyList<ConfigDiagnostic> Warnings { get; private init; } = Array.Empty<ConfigDiagnostic>();
    public IReadOnlyList<string> Files { get; private init; } = Array.Empty<string>();

    public static IpsecSecrets Load(string path, SecretsOptions? options = null) => Run(path, null, options ?? new());

    internal static IpsecSecrets FromEntries(List<SecretEntry> entries, IReadOnlyList<ConfigDiagnostic> warnings) =>
        new() { Entries = entries, Warnings = warnings };
    public static IpsecSecrets Parse(string text, string path = "ipsec.secrets", SecretsOptions? options = null) =>
        Run(path, text ?? throw new ArgumentNullException(nameof(text)), options ?? new() { CheckPermissions = false });

    private static IpsecSecrets Run(string path, string? text, SecretsOptions o)
    {
        var diag = new DiagnosticBag();
        string full = Path.GetFullPath(path);
        var p = new SecretsParser(diag, Path.GetDirectoryName(full) ?? "/", o);
        try { p.ReadFile(full, text, new SourceLocation(Path.GetFileName(full), 0, 0), 0); }
        catch (Exception e) when (e is not ConfigException && e is not OutOfMemoryException)
        {
            diag.Error(new SourceLocation(Path.GetFileName(full), 0, 0), $"internal error while reading secrets: {e.GetType().Name}: {e.Message}");
        }
        if (diag.HasErrors) throw new ConfigException(diag.Sorted());
        return new IpsecSecrets { Entries = p.Entries, Warnings = diag.Warnings, Files = p.Files };
    }

    /// <summary>The PSK for (local, peer), by FreeS/WAN's best-match rule; null if none.</summary>
    public SecretMatch? FindPsk(Identity local, Identity peer) => Find(SecretKind.Psk, local, peer);

    /// <summary>The private key for local (RSA or ECDSA; peer may narrow it).</summary>
    public SecretMatch? FindPrivateKey(SecretKind kind, Identity local, Identity? peer = null) => Find(kind, local, peer ?? Identity.AnyId);

    public SecretMatch? Find(SecretKind kind, Identity local, Identity peer)
    {
        SecretMatch? m = FindOnce(kind, local, peer, anyPeer: false);
        // Road warrior: nothing listed the peer's address itself, so %any stands for it.
        if ((m == null || (m.Quality & SecretMatchQuality.Peer) == 0) && peer.Kind == IdentityKind.Address)
        {
            SecretMatch? any = FindOnce(kind, local, peer, anyPeer: true);
            if (any != null && (m == null || any.Quality > m.Quality)) m = any;
        }
        return m;
    }

    private SecretMatch? FindOnce(SecretKind kind, Identity local, Identity peer, bool anyPeer)
    {
        SecretEntry? best = null;
        SecretMatchQuality bestQ = SecretMatchQuality.None;
        string? ambiguity = null;
        bool asymmetric = kind is SecretKind.Rsa or SecretKind.Ecdsa or SecretKind.Pkcs8;
        foreach (SecretEntry e in Entries)
        {
            if (e.Kind != kind) continue;
            SecretMatchQuality q = SecretMatchQuality.None;
            if (e.Ids.Count == 0) q = SecretMatchQuality.Default;
            else
            {
                foreach (Identity id in e.Ids)
                {
                    if (id.SameAs(local)) q |= SecretMatchQuality.Local;
                    if (id.SameAs(peer) || (anyPeer && id.Kind == IdentityKind.Any && peer.Kind == IdentityKind.Address && AnyFamily(id, peer))) q |= SecretMatchQuality.Peer;
                }
                if (q == SecretMatchQuality.Local && e.Ids.Count == 1) q |= SecretMatchQuality.Default;
            }
            bool good = q switch
            {
                SecretMatchQuality.Local => asymmetric,
                SecretMatchQuality.Default or (SecretMatchQuality.Local | SecretMatchQuality.Default) or (SecretMatchQuality.Local | SecretMatchQuality.Peer) => true,
                _ => false,
            };
            if (!good) continue;
            if (q == bestQ && best != null)
            {
                if (!best.SameSecret(e)) ambiguity = $"entries at {best.Location} and {e.Location} match equally well but hold different secrets; the first is used";
            }
            else if (q > bestQ)
            {
                best = e;
                bestQ = q;
                ambiguity = null;
            }
        }
        return best == null ? null : new SecretMatch(best, bestQ, ambiguity);
    }

    private static bool AnyFamily(Identity any, Identity peer) =>
        any.Value switch
        {
            "%any6" or "::" or "0::0" => peer.Address!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6,
            "%any" or "0.0.0.0" => peer.Address!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork,
            _ => true,
        };

    /// <summary>The file as `barf` may show it: every entry with its secret masked.</summary>
    public string ToMaskedString() => string.Join(Environment.NewLine, Entries.Select(e => e.ToString()));
    public override string ToString() => $"ipsec.secrets: {Entries.Count} entries (secrets masked)";
}

internal sealed class SecretsParser
{
    private readonly DiagnosticBag _diag;
    private readonly string _baseDir;
    private readonly SecretsOptions _opt;
    private readonly Stack<string> _stack = new();
    public List<SecretEntry> Entries { get; } = new();
    public List<string> Files { get; } = new();

    public SecretsParser(DiagnosticBag diag, string baseDir, SecretsOptions opt)
    {
        _diag = diag;
        _baseDir = baseDir;
        _opt = opt;
    }

    private readonly record struct Tok(string Text, SourceLocation At, bool Quoted);

    public void ReadFile(string full, string? text, SourceLocation from, int depth)
    {
        string display = ConfReader.Display(_baseDir, full);
        if (_stack.Contains(full))
        {
            _diag.Error(from, $"include cycle: {string.Join(" -> ", _stack.Reverse().Select(f => ConfReader.Display(_baseDir, f)).Append(display))}");
            return;
        }
        if (depth > ConfReader.MaxIncludeDepth) { _diag.Error(from, $"includes nested more than {ConfReader.MaxIncludeDepth} deep"); return; }
        if (text == null)
        {
            text = ConfReader.ReadText(full, from, _diag, depth == 0 ? "secrets file" : "include file", display);
            if (text == null) return;
            if (_opt.CheckPermissions && !OperatingSystem.IsWindows())
            {
                UnixFileMode mode = File.GetUnixFileMode(full);
                const UnixFileMode open = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.GroupWrite;
                if ((mode & open) != 0)
                    _diag.Warning(new SourceLocation(display, 0, 0), $"secrets file is accessible by others (mode {Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0')}); run: chmod 600 {full}");
            }
        }
        Files.Add(full);
        _stack.Push(full);
        try { Parse(text, display, full, depth); }
        finally { _stack.Pop(); }
    }

    private void Parse(string text, string display, string full, int depth)
    {
        // Split into entries: a line starting at column 1 starts one; indented lines continue it.
        var entry = new List<Tok>();
        SourceLocation entryAt = default;
        int braceDepth = 0;
        string[] lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].TrimEnd('\r');
            int bad = line.IndexOfAny(Controls);
            if (bad >= 0) { _diag.Error(new SourceLocation(display, n + 1, bad + 1), line[bad] == '\uFFFD' ? "invalid UTF-8 byte sequence" : $"invalid control character U+{(int)line[bad]:X4}"); continue; }
            List<Tok>? toks = Tokenize(line, display, n + 1);
            if (toks == null || toks.Count == 0) continue;
            bool indented = line[0] is ' ' or '\t';
            if (!indented && braceDepth == 0)
            {
                if (entry.Count > 0) Finish(entry, entryAt);
                entry = new List<Tok>();
                if (toks[0].Text == "include" && !toks[0].Quoted)
                {
                    if (toks.Count != 2) { _diag.Error(toks[0].At, "include takes exactly one file name"); continue; }
                    Include(toks[1], full, depth);
                    continue;
                }
                entryAt = toks[0].At;
            }
            else if (entry.Count == 0)
            {
                _diag.Error(toks[0].At, "indented line outside an entry; an entry starts at column 1 (ipsec.secrets(5))");
                continue;
            }
            else if (!indented && braceDepth > 0 && toks[0].Text != "}")
            {
                _diag.Error(toks[0].At, "lines inside an RSA { ... } block must be indented");
            }
            foreach (Tok t in toks)
            {
                if (t.Text == "{" && !t.Quoted) braceDepth++;
                if (t.Text == "}" && !t.Quoted) braceDepth = Math.Max(0, braceDepth - 1);
            }
            entry.AddRange(toks);
        }
        if (entry.Count > 0) Finish(entry, entryAt);
    }

    private static readonly char[] Controls = Enumerable.Range(0, 32).Where(c => c != '\t').Select(c => (char)c).Append('\x7f').Append('\uFFFD').ToArray();

    private List<Tok>? Tokenize(string line, string display, int lineNo)
    {
        var list = new List<Tok>();
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] is ' ' or '\t') i++;
            if (i >= line.Length || line[i] == '#') break;
            var at = new SourceLocation(display, lineNo, i + 1);
            if (line[i] == '"' || line[i] == '\'')
            {
                char q = line[i];
                int close = line.IndexOf(q, i + 1);
                if (close < 0) { _diag.Error(at, "unterminated quoted secret (a secret cannot contain a newline or its quote character)"); return null; }
                list.Add(new Tok(line[(i + 1)..close], at, true));
                i = close + 1;
                continue;
            }
            int start = i;
            while (i < line.Length && line[i] is not (' ' or '\t')) i++;
            string t = line[start..i];
            // "id1 id2: PSK" — a colon at the end of a token, followed by white space, separates.
            if (t.Length > 1 && t.EndsWith(':') && !t.EndsWith("::", StringComparison.Ordinal))
            {
                list.Add(new Tok(t[..^1], at, false));
                list.Add(new Tok(":", new SourceLocation(display, lineNo, i), false));
            }
            else list.Add(new Tok(t, at, false));
        }
        return list;
    }

    private void Include(Tok pattern, string includingFile, int depth)
    {
        string dir = Path.GetDirectoryName(includingFile) ?? "/";
        string full = Path.IsPathRooted(pattern.Text) ? pattern.Text : Path.Combine(dir, pattern.Text);
        if (!Glob.HasWildcards(full)) { ReadFile(Path.GetFullPath(full), null, pattern.At, depth + 1); return; }
        IReadOnlyList<string> m;
        try { m = Glob.Expand(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            _diag.Error(pattern.At, $"cannot expand include pattern \"{pattern.Text}\": {e.Message}");
            return;
        }
        if (m.Count == 0) _diag.Warning(pattern.At, $"include pattern \"{pattern.Text}\" matches no file");
        foreach (string f in m) ReadFile(Path.GetFullPath(f), null, pattern.At, depth + 1);
    }

    private void Finish(List<Tok> toks, SourceLocation at)
    {
        int colon = toks.FindIndex(t => t.Text == ":" && !t.Quoted);
        var ids = new List<Identity>();
        int keyStart;
        if (colon < 0)
        {
            // Compatibility form (ipsec.secrets(5)): ids followed by a quoted PSK, no colon.
            if (toks[^1].Quoted && toks.Take(toks.Count - 1).All(t => !t.Quoted))
            {
                colon = toks.Count - 1;
                keyStart = toks.Count - 1;
                if (!ParseIds(toks.Take(colon), ids)) return;
                Entries.Add(new SecretEntry { Ids = ids, Kind = SecretKind.Psk, Secret = new SecretBytes(Encoding.UTF8.GetBytes(toks[^1].Text)), Location = at });
                return;
            }
            _diag.Error(at, "expected \"[ids] : TYPE secret\" (a colon followed by white space separates the ids from the secret)");
            return;
        }
        keyStart = colon + 1;
        if (!ParseIds(toks.Take(colon), ids)) return;
        if (keyStart >= toks.Count) { _diag.Error(toks[colon].At, "missing secret after ':'"); return; }
        Tok type = toks[keyStart];
        string kind = type.Quoted ? "PSK" : type.Text.ToUpperInvariant();
        int valueIdx = type.Quoted ? keyStart : keyStart + 1;
        switch (kind)
        {
            case "PSK":
            case "EAP":
            case "XAUTH":
                {
                    if (valueIdx >= toks.Count) { _diag.Error(type.At, $"{kind} needs a secret: \"text\", 0x<hex> or 0s<base64>"); return; }
                    if (valueIdx + 1 < toks.Count) { _diag.Error(toks[valueIdx + 1].At, $"unexpected \"{Values.Mask(toks[valueIdx + 1].Text)}\" after the {kind} secret"); return; }
                    Tok v = toks[valueIdx];
                    byte[] bytes;
                    if (v.Quoted) bytes = Encoding.UTF8.GetBytes(v.Text);
                    else if (!Values.TryTtoData(v.Text, out bytes, out string? err)) { _diag.Error(v.At, $"{kind}: {err}; quote text secrets (\"...\")"); return; }
                    if (kind == "PSK" && bytes.Length == 0) { _diag.Error(v.At, "empty PSK"); return; }
                    Entries.Add(new SecretEntry
                    {
                        Ids = ids, Kind = kind == "PSK" ? SecretKind.Psk : kind == "EAP" ? SecretKind.Eap : SecretKind.Xauth,
                        Secret = new SecretBytes(bytes), Location = at,
                    });
                    return;
                }
            case "RSA":
            case "ECDSA":
            case "PKCS8":
                {
                    if (valueIdx >= toks.Count) { _diag.Error(type.At, $"{kind} needs a key: a file name{(kind == "RSA" ? " or a { ... } block" : "")}"); return; }
                    Tok v = toks[valueIdx];
                    if (v.Text == "{" && !v.Quoted)
                    {
                        if (kind != "RSA") { _diag.Error(v.At, "only RSA keys can be written inline as { ... }"); return; }
                        RsaRawKey? key = ParseRsaBlock(toks, valueIdx);
                        if (key != null) Entries.Add(new SecretEntry { Ids = ids, Kind = SecretKind.Rsa, RsaKey = key, Location = at });
                        return;
                    }
                    if (valueIdx + 2 < toks.Count) { _diag.Error(toks[valueIdx + 2].At, $"unexpected text after the {kind} key file and passphrase"); return; }
                    string dir = _opt.PrivateKeyDirectory ?? Path.Combine(_baseDir, "ipsec.d", "private");
                    string file = Path.IsPathRooted(v.Text) ? v.Text : Path.Combine(dir, v.Text);
                    SecretBytes? pass = null;
                    if (valueIdx + 1 < toks.Count)
                    {
                        Tok pw = toks[valueIdx + 1];
                        pass = new SecretBytes(Encoding.UTF8.GetBytes(pw.Text));
                    }
                    Entries.Add(new SecretEntry { Ids = ids, Kind = kind switch { "RSA" => SecretKind.Rsa, "ECDSA" => SecretKind.Ecdsa, _ => SecretKind.Pkcs8 }, KeyFile = file, Passphrase = pass, Location = at });
                    return;
                }
            default:
                _diag.Error(type.At, $"unknown secret type \"{type.Text}\"; allowed: PSK, RSA, ECDSA, PKCS8, EAP, XAUTH{Suggest.DidYouMean(kind, new[] { "PSK", "RSA", "ECDSA", "PKCS8", "EAP", "XAUTH" })}");
                return;
        }
    }

    private bool ParseIds(IEnumerable<Tok> toks, List<Identity> ids)
    {
        foreach (Tok t in toks)
        {
            if (!Identity.TryParse(t.Text, out Identity id, out string? err)) { _diag.Error(t.At, $"invalid index: {err}"); return false; }
            ids.Add(id);
        }
        return true;
    }

    private RsaRawKey? ParseRsaBlock(List<Tok> toks, int open)
    {
        var key = new RsaRawKey();
        int field = 0;
        int i = open + 1;
        for (; i < toks.Count && toks[i].Text != "}"; i++)
        {
            Tok name = toks[i];
            // The tokenizer splits "Modulus:" into "Modulus" and ":".
            if (name.Quoted || i + 1 >= toks.Count || toks[i + 1].Text != ":" || toks[i + 1].Quoted)
            {
                _diag.Error(name.At, $"expected \"Field: value\" in the RSA key; found \"{Values.Mask(name.Text)}\"");
                return null;
            }
            i++;
            string fname = name.Text;
            if (field >= 8) { _diag.Error(name.At, $"unexpected field \"{fname}\" after Coefficient; the RSA key has 8 fields"); return null; }
            if (fname != RsaRawKey.FieldNames[field])
            {
                _diag.Error(name.At, $"RSA key field \"{fname}\" out of order or unknown; expected \"{RsaRawKey.FieldNames[field]}\" (order: {string.Join(", ", RsaRawKey.FieldNames)})");
                return null;
            }
            if (++i >= toks.Count || toks[i].Text == "}") { _diag.Error(name.At, $"RSA key field {fname} has no value"); return null; }
            if (!Values.TryTtoData(toks[i].Text, out byte[] bytes, out string? err)) { _diag.Error(toks[i].At, $"RSA key field {fname}: {err}"); return null; }
            key.Fields[field++] = new SecretBytes(bytes);
        }
        if (i >= toks.Count) { _diag.Error(toks[open].At, "RSA key block is not closed with '}'"); return null; }
        if (field < 8) { _diag.Error(toks[i].At, $"RSA key is missing field \"{RsaRawKey.FieldNames[field]}\""); return null; }
        if (i + 1 < toks.Count) { _diag.Error(toks[i + 1].At, "unexpected text after the RSA key block"); return null; }
        return key;
    }
}
