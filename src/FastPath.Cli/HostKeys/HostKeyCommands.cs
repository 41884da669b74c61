// `fastpath newhostkey` / `fastpath showhostkey`, after FreeS/WAN's `ipsec newhostkey` /
// `ipsec showhostkey` (ipsec_newhostkey(8), ipsec_showhostkey(8)):
//
//   newhostkey: generate (RSA 3072 default | ECDSA P-256 | Ed25519)
//     ─► existing host key in --output? refuse (exit 1) unless --force, which replaces that entry
//     ─► RSA:   FreeS/WAN raw ": RSA { ... }" block appended to ipsec.secrets
//        other: PKCS#8 PEM in <dir>/ipsec.d/private/ + ": ECDSA file" / ": PKCS8 file" (strongSwan)
//     ─► written to a temporary file created 0600, then renamed over the original (never a
//        moment where the secrets are world-readable or half written)
//     ─► loaded back with FastPath.Config's IpsecSecrets: what was written must parse to the same key
//   showhostkey: IpsecSecrets.Load ─► the host key entry ─► leftrsasigkey=0s... | rightrsasigkey=
//     | PEM public key | --json
// Exit codes: 0 ok, 1 refused / no key / unreadable, 2 bad arguments.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using FastPath.Config;

namespace FastPath.Cli.HostKeys;

public sealed class NewHostKeyOptions
{
    /// <summary>rsa (default, 3072 bits) | ecdsa (P-256) | ed25519.</summary>
    public string Type { get; init; } = "rsa";
    public int Bits { get; init; } = 3072;
    /// <summary>ipsec.secrets to append to (default /etc/ipsec.secrets).</summary>
    public string Output { get; init; } = "/etc/ipsec.secrets";
    /// <summary>Replace a host key already in <see cref="Output"/> (and an existing PEM file).</summary>
    public bool Force { get; init; }
    /// <summary>Host name for the comment line (FreeS/WAN's --hostname; default the machine's name).</summary>
    public string? Hostname { get; init; }
    /// <summary>Optional index of the entry (e.g. @west.example.com); FreeS/WAN wrote none.</summary>
    public string? Id { get; init; }
    /// <summary>Where the PEM of an ECDSA/Ed25519 key goes (default &lt;dir of Output&gt;/ipsec.d/private/hostkey-TYPE.pem).</summary>
    public string? KeyFile { get; init; }
}

public sealed class ShowHostKeyOptions
{
    public string Secrets { get; init; } = "/etc/ipsec.secrets";
    /// <summary>Print as leftrsasigkey= (left), rightrsasigkey= (right), or the bare key.</summary>
    public string? Side { get; init; }
    public bool Json { get; init; }
    /// <summary>Pick the host key entry with this index (default: the one without an index, else the first).</summary>
    public string? Id { get; init; }
}

public static class HostKeyCommands
{
    private static readonly UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static int NewHostKey(NewHostKeyOptions options, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        HostKeyType type;
        switch (options.Type.ToLowerInvariant())
        {
            case "rsa": type = HostKeyType.Rsa; break;
            case "ecdsa": case "ecdsa-p256": case "p256": type = HostKeyType.Ecdsa; break;
            case "ed25519": type = HostKeyType.Ed25519; break;
            default: stderr.WriteLine($"fastpath newhostkey: unknown key type '{options.Type}' (rsa, ecdsa, ed25519)"); return 2;
        }
        // RFC 8247 §2.4 / NIST SP 800-57: RSA below 2048 bits is not acceptable for new keys;
        // .NET generates in steps of 8 bits; 16384 bounds the generation time.
        if (type == HostKeyType.Rsa && (options.Bits is < 2048 or > 16384 || options.Bits % 8 != 0))
        {
            stderr.WriteLine($"fastpath newhostkey: --bits {options.Bits}: RSA keys are 2048..16384 bits, a multiple of 8 (default 3072)");
            return 2;
        }
        if (options.Id is { } id && !Identity.TryParse(id, out _, out string? idError))
        {
            stderr.WriteLine($"fastpath newhostkey: --id '{id}': {idError}");
            return 2;
        }
        string output = Path.GetFullPath(options.Output);
        string? dir = Path.GetDirectoryName(output);
        if (dir is null || !Directory.Exists(dir))
        {
            stderr.WriteLine($"fastpath newhostkey: directory of {output} does not exist");
            return 1;
        }

        // What is there already: a host key entry in the file itself is replaced only with --force.
        string existing = "";
        List<(int First, int Last)> replace = [];
        if (File.Exists(output))
        {
            IpsecSecrets current;
            try
            {
                existing = File.ReadAllText(output);
                current = IpsecSecrets.Load(output, new SecretsOptions { CheckPermissions = false });
            }
            catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"fastpath newhostkey: {output} cannot be read as ipsec.secrets, nothing written:\n{e.Message}");
                return 1;
            }
            var keys = current.Entries.Where(IsHostKey).ToList();
            if (keys.Count > 0 && !options.Force)
            {
                stderr.WriteLine($"fastpath newhostkey: {output} already holds a host key ({string.Join(", ", keys.Select(k => $"{k.Location.File}:{k.Location.Line} {k}"))}); " +
                    "not overwritten — use --force to replace it, or --output another file");
                return 1;
            }
            foreach (SecretEntry k in keys)
            {
                if (!SameFile(current, k, output))
                {
                    stderr.WriteLine($"fastpath newhostkey: the host key at {k.Location.File}:{k.Location.Line} is in an included file; remove it there (--force only replaces entries of {output})");
                    return 1;
                }
                replace.Add(EntryLines(existing, k.Location.Line));
            }
        }

        string host = options.Hostname ?? Environment.MachineName;
        string comment = $"{host}   {DateTime.UtcNow.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture)} UTC";
        using HostKey key = HostKey.Generate(type, options.Bits);
        string entry;
        string? pemFile = null;
        if (type == HostKeyType.Rsa)
        {
            entry = key.RawRsaBlock(options.Id, comment);
        }
        else
        {
            string privateDir = Path.Combine(dir, "ipsec.d", "private");
            pemFile = options.KeyFile is { } kf ? Path.GetFullPath(kf) : Path.Combine(privateDir, $"hostkey-{(type == HostKeyType.Ecdsa ? "ecdsa" : "ed25519")}.pem");
            if (File.Exists(pemFile) && !options.Force)
            {
                stderr.WriteLine($"fastpath newhostkey: {pemFile} exists; not overwritten — use --force to replace it, or --keyfile another file");
                return 1;
            }
            // Relative names resolve against ipsec.d/private (strongSwan's rule, and IpsecSecrets').
            string name = Path.GetDirectoryName(pemFile) == privateDir ? Path.GetFileName(pemFile) : pemFile;
            string keyword = type == HostKeyType.Ecdsa ? "ECDSA" : "PKCS8";
            entry = $"# {(type == HostKeyType.Ecdsa ? "ECDSA P-256" : "Ed25519")} host key   {comment}\n" +
                    $"#pubkey={Convert.ToBase64String(key.SubjectPublicKeyInfo())}\n" +
                    $"{(options.Id is null ? "" : options.Id + " ")}: {keyword} {name}\n";
        }

        string text = RemoveLines(existing, replace);
        if (text.Length > 0 && !text.EndsWith('\n')) text += "\n";
        text += entry;
        try
        {
            if (pemFile is not null)
            {
                Demo.DemoFiles.CreatePrivateDirectory(Path.GetDirectoryName(pemFile)!);
                WriteOwnerOnly(pemFile, key.Pkcs8Pem());
            }
            WriteOwnerOnly(output, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"fastpath newhostkey: cannot write: {e.Message}");
            return 1;
        }

        // Read back what was written: the file must load and hold this very key.
        try
        {
            var back = IpsecSecrets.Load(output);
            SecretEntry? written = back.Entries.LastOrDefault(IsHostKey);
            using HostKey? loaded = written is null ? null : HostKey.FromSecret(written);
            if (loaded is null || !loaded.SubjectPublicKeyInfo().AsSpan().SequenceEqual(key.SubjectPublicKeyInfo()))
            {
                stderr.WriteLine($"fastpath newhostkey: {output} was written but does not load back to the new key");
                return 1;
            }
        }
        catch (Exception e) when (e is ConfigException or IOException or InvalidDataException or System.Security.Cryptography.CryptographicException)
        {
            stderr.WriteLine($"fastpath newhostkey: {output} was written but does not load back: {e.Message}");
            return 1;
        }
        stderr.WriteLine($"fastpath newhostkey: {(type == HostKeyType.Rsa ? $"RSA {key.Bits}-bit" : type == HostKeyType.Ecdsa ? "ECDSA P-256" : "Ed25519")} key " +
            $"{(replace.Count > 0 ? "replaced the old one in" : "written to")} {output}{(pemFile is null ? "" : $" (private key {pemFile})")} (mode 0600)");
        return 0;
    }

    public static int ShowHostKey(ShowHostKeyOptions options, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (options.Side is not (null or "left" or "right"))
        {
            stderr.WriteLine($"fastpath showhostkey: side '{options.Side}': expected left or right");
            return 2;
        }
        Identity? want = null;
        if (options.Id is { } id)
        {
            if (!Identity.TryParse(id, out Identity parsed, out string? err)) { stderr.WriteLine($"fastpath showhostkey: --id '{id}': {err}"); return 2; }
            want = parsed;
        }
        IpsecSecrets secrets;
        try { secrets = IpsecSecrets.Load(options.Secrets); }
        catch (ConfigException e) { stderr.WriteLine($"fastpath showhostkey: {e.Message}"); return 1; }
        foreach (ConfigDiagnostic w in secrets.Warnings) stderr.WriteLine(w);
        var keys = secrets.Entries.Where(IsHostKey).ToList();
        SecretEntry? entry = want is { } wanted
            ? keys.FirstOrDefault(k => k.Ids.Any(i => i.SameAs(wanted)))
            : keys.FirstOrDefault(k => k.Ids.Count == 0) ?? keys.FirstOrDefault();
        if (entry is null)
        {
            stderr.WriteLine($"fastpath showhostkey: no host key{(want is null ? "" : $" for {options.Id}")} in {options.Secrets} (fastpath newhostkey --output {options.Secrets} makes one)");
            return 1;
        }
        HostKey key;
        try { key = HostKey.FromSecret(entry); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or System.Security.Cryptography.CryptographicException or FormatException)
        {
            stderr.WriteLine($"fastpath showhostkey: {entry.Location.File}:{entry.Location.Line}: cannot load the key: {e.Message}");
            return 1;
        }
        using (key)
        {
            string type = key.Type switch { HostKeyType.Rsa => "rsa", HostKeyType.Ecdsa => "ecdsa", _ => "ed25519" };
            if (options.Json)
            {
                var doc = new Dictionary<string, object?>
                {
                    ["type"] = type,
                    ["bits"] = key.Bits,
                    ["source"] = $"{entry.Location.File}:{entry.Location.Line}",
                    ["ids"] = entry.Ids.Select(i => i.ToString()).ToArray(),
                    ["rsasigkey"] = key.Type == HostKeyType.Rsa ? key.Rfc3110() : null,
                    ["spki_sha256"] = key.Fingerprint(),
                    ["public_key_pem"] = key.SpkiPem(),
                };
                stdout.WriteLine(JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            if (options.Side is { } side)
            {
                if (key.Type != HostKeyType.Rsa)
                {
                    stderr.WriteLine($"fastpath showhostkey: the host key is {type}; {side}rsasigkey= carries RSA keys only (RFC 3110). " +
                        "Print the public key as PEM (no --left/--right) for strongSwan's leftsigkey=FILE, or use --json");
                    return 1;
                }
                // ipsec_showhostkey(8): a comment line, then the parameter, both tab-indented for pasting into a conn.
                stdout.WriteLine($"\t# RSA {key.Bits} bits   {entry.Location.File}:{entry.Location.Line}");
                stdout.WriteLine($"\t{side}rsasigkey={key.Rfc3110()}");
                return 0;
            }
            stdout.Write(key.SpkiPem());
            stdout.WriteLine();
            return 0;
        }
    }

    private static bool IsHostKey(SecretEntry e) =>
        e.Kind is SecretKind.Rsa or SecretKind.Ecdsa or SecretKind.Pkcs8 && (e.RsaKey is not null || e.KeyFile is not null);

    // Locations name the top file by its bare name and includes relative to its directory.
    private static bool SameFile(IpsecSecrets s, SecretEntry e, string output) =>
        e.Location.File == Path.GetFileName(output) && s.Files.Count > 0 && s.Files[0] == output;

    /// <summary>The 1-based line range of the entry starting at <paramref name="first"/>: its
    /// continuation lines (indented, blank, comments, a closing brace) up to the next entry, and the
    /// comment lines newhostkey wrote right before it.</summary>
    private static (int First, int Last) EntryLines(string text, int first)
    {
        string[] lines = text.Split('\n');
        int last = first;
        for (int n = first; n < lines.Length; n++) // lines[n] is line n + 1
        {
            string l = lines[n].TrimEnd('\r');
            bool continues = l.Length == 0 || l[0] is ' ' or '\t' || l.StartsWith('}') || l.StartsWith("# do not change the indenting", StringComparison.Ordinal);
            if (!continues) break;
            if (l.Trim().Length > 0) last = n + 1;
        }
        int start = first;
        while (start > 1 && WrittenComment(lines[start - 2])) start--;
        return (start, last);
    }

    // The comment lines newhostkey itself writes above a PEM entry.
    private static bool WrittenComment(string line) =>
        line.StartsWith("#pubkey=", StringComparison.Ordinal) || (line.StartsWith('#') && line.Contains(" host key   ", StringComparison.Ordinal));

    private static string RemoveLines(string text, List<(int First, int Last)> ranges)
    {
        if (ranges.Count == 0) return text;
        string[] lines = text.Split('\n');
        var keep = new StringBuilder();
        for (int n = 0; n < lines.Length; n++)
        {
            int line = n + 1;
            if (ranges.Any(r => line >= r.First && line <= r.Last)) continue;
            keep.Append(lines[n]);
            if (n < lines.Length - 1) keep.Append('\n');
        }
        return keep.ToString();
    }

    /// <summary>Writes through a temporary file created with mode 0600 and renamed over <paramref name="path"/>.</summary>
    private static void WriteOwnerOnly(string path, string content)
    {
        string tmp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            var o = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) o.UnixCreateMode = OwnerOnly;
            using (var fs = new FileStream(tmp, o))
            using (var w = new StreamWriter(fs, new UTF8Encoding(false)))
            {
                w.Write(content);
                w.Flush();
                fs.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, OwnerOnly); // the umask cannot widen it, but be explicit
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
