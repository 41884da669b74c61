// swanctl.conf importer (strongSwan's vici configuration): connections { NAME { ... children {
// CHILD { ... } } } } and secrets { ike-X { id = ..., secret = ... } } become the same model as
// ipsec.conf: one Connection per CHILD_SA (named after the child; Also = [the connection]).
// Syntax (strongSwan settings): `name { ... }` sections, `key = value` one per line, `#`
// comments, "quoted" values, `include FILE` (glob, relative). Defaults are swanctl.conf(5)'s:
// version 0 (either IKE version), IKE rekey_time 4h, child rekey_time 1h, dpd off, keyingtries 1,
// start_action none (= loaded only), mode tunnel, encap no, mobike yes, replay_window 32.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;

namespace FastPath.Config;

public static class SwanctlImporter
{
    private sealed class Node
    {
        public required string Name { get; init; }
        public required SourceLocation Location { get; init; }
        public Dictionary<string, ConfigValue> Values { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, SourceLocation> KeyLocations { get; } = new(StringComparer.Ordinal);
        public List<Node> Children { get; } = new();
    }

    /// <summary>Imports swanctl.conf (connections and their children) as an <see cref="IpsecConfig"/> in the strongSwan dialect.</summary>
    public static IpsecConfig Load(string path) => Run(path, null);
    public static IpsecConfig Parse(string text, string path = "swanctl.conf") => Run(path, text ?? throw new ArgumentNullException(nameof(text)));

    private static IpsecConfig Run(string path, string? text)
    {
        var diag = new DiagnosticBag();
        string full = Path.GetFullPath(path);
        string baseDir = Path.GetDirectoryName(full) ?? "/";
        var root = new Node { Name = "", Location = new SourceLocation(Path.GetFileName(full), 0, 0) };
        var files = new List<string>();
        IpsecConfig? cfg = null;
        try
        {
            ReadFile(full, text, root, diag, baseDir, files, new Stack<string>(), root.Location);
            cfg = Build(root, diag, full, files);
        }
        catch (Exception e) when (e is not ConfigException && e is not OutOfMemoryException)
        {
            diag.Error(root.Location, $"internal error while reading swanctl.conf: {e.GetType().Name}: {e.Message}");
        }
        if (diag.HasErrors || cfg == null) throw new ConfigException(diag.Sorted());
        cfg.Warnings = diag.Warnings;
        return cfg;
    }

    private static void ReadFile(string full, string? text, Node root, DiagnosticBag diag, string baseDir, List<string> files, Stack<string> stack, SourceLocation from)
    {
        string display = ConfReader.Display(baseDir, full);
        if (stack.Contains(full)) { diag.Error(from, $"include cycle: {string.Join(" -> ", stack.Reverse().Select(f => ConfReader.Display(baseDir, f)).Append(display))}"); return; }
        if (stack.Count > ConfReader.MaxIncludeDepth) { diag.Error(from, $"includes nested more than {ConfReader.MaxIncludeDepth} deep"); return; }
        text ??= ConfReader.ReadText(full, from, diag, stack.Count == 0 ? "config file" : "include file", display);
        if (text == null) return;
        files.Add(full);
        stack.Push(full);
        var path = new Stack<Node>();
        path.Push(root);
        int n = 0;
        foreach (string raw in text.Split('\n'))
        {
            n++;
            string line = raw.TrimEnd('\r');
            int bad = line.IndexOfAny(Enumerable.Range(0, 32).Where(c => c != '\t').Select(c => (char)c).Append('\uFFFD').ToArray());
            if (bad >= 0) { diag.Error(new SourceLocation(display, n, bad + 1), "invalid character"); continue; }
            int col = 0;
            while (col < line.Length && line[col] is ' ' or '\t') col++;
            string content = StripComment(line[col..]).Trim();
            var at = new SourceLocation(display, n, col + 1);
            if (content.Length == 0) continue;
            if (content == "}")
            {
                if (path.Count == 1) diag.Error(at, "unexpected '}': no section is open");
                else path.Pop();
                continue;
            }
            if (content.StartsWith("include ", StringComparison.Ordinal))
            {
                string pat = content[8..].Trim().Trim('"');
                string p = Path.IsPathRooted(pat) ? pat : Path.Combine(Path.GetDirectoryName(full) ?? "/", pat);
                IReadOnlyList<string> matches;
                try { matches = Glob.HasWildcards(p) ? Glob.Expand(p) : new[] { p }; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { diag.Error(at, $"cannot expand include pattern \"{pat}\": {e.Message}"); continue; }
                // Included settings land in the section that is open at the include line.
                var sub = new Node { Name = "", Location = at };
                foreach (string m in matches) ReadFile(Path.GetFullPath(m), null, sub, diag, baseDir, files, stack, at);
                Merge(path.Peek(), sub, diag);
                continue;
            }
            if (content.EndsWith('{'))
            {
                string name = content[..^1].Trim();
                if (name.Length == 0 || name.Any(ch => ch is ' ' or '\t' or '=' or '"')) { diag.Error(at, $"invalid section name \"{name}\""); path.Push(new Node { Name = "?", Location = at }); continue; }
                var node = path.Peek().Children.FirstOrDefault(c => c.Name == name);
                if (node == null) { node = new Node { Name = name, Location = at }; path.Peek().Children.Add(node); }
                path.Push(node);
                continue;
            }
            int eq = content.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) { diag.Error(at, $"expected \"key = value\" or \"name {{\", found \"{content}\""); continue; }
            string key = content[..eq].Trim();
            string value = content[(eq + 1)..].Trim();
            if (value.StartsWith('"')) value = value.Length >= 2 && value.EndsWith('"') ? value[1..^1] : value;
            if (key.Contains(' ', StringComparison.Ordinal)) { diag.Error(at, $"invalid key \"{key}\""); continue; }
            path.Peek().KeyLocations[key] = at;
            path.Peek().Values[key] = new ConfigValue(key, value, new SourceLocation(display, n, col + eq + 2 + (content[(eq + 1)..].Length - content[(eq + 1)..].TrimStart().Length)));
        }
        if (path.Count > 1) diag.Error(path.Peek().Location, $"section \"{path.Peek().Name}\" is not closed with '}}'");
        stack.Pop();
    }

    private static void Merge(Node into, Node from, DiagnosticBag diag)
    {
        foreach (var (k, v) in from.Values) into.Values[k] = v;
        foreach (var (k, v) in from.KeyLocations) into.KeyLocations[k] = v;
        foreach (Node c in from.Children)
        {
            Node? existing = into.Children.FirstOrDefault(x => x.Name == c.Name);
            if (existing == null) into.Children.Add(c);
            else Merge(existing, c, diag);
        }
    }

    private static string StripComment(string s)
    {
        bool quoted = false;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '"') quoted = !quoted;
            if (s[i] == '#' && !quoted) return s[..i];
        }
        return s;
    }

    private static readonly string[] ConnKeys = { "version", "local_addrs", "remote_addrs", "local_port", "remote_port", "proposals", "vips", "aggressive", "pull", "dscp", "encap", "mobike", "dpd_delay", "dpd_timeout", "fragmentation", "childless", "send_certreq", "send_cert", "ppk_id", "ppk_required", "keyingtries", "unique", "reauth_time", "rekey_time", "over_time", "rand_time", "pools", "if_id_in", "if_id_out", "mediation", "mediated_by", "mediation_peer" };
    private static readonly string[] AuthKeys = { "round", "certs", "cert", "pubkeys", "auth", "id", "eap_id", "aaa_id", "xauth_id", "revocation", "groups", "cert_policy", "cacerts", "ca_id" };
    private static readonly string[] ChildKeys = { "ah_proposals", "esp_proposals", "sha256_96", "local_ts", "remote_ts", "rekey_time", "life_time", "rand_time", "rekey_bytes", "life_bytes", "rand_bytes", "rekey_packets", "life_packets", "rand_packets", "updown", "hostaccess", "mode", "policies", "policies_fwd_out", "dpd_action", "ipcomp", "inactivity", "reqid", "priority", "interface", "mark_in", "mark_in_sa", "mark_out", "set_mark_in", "set_mark_out", "if_id_in", "if_id_out", "label", "label_mode", "tfc_padding", "replay_window", "hw_offload", "copy_df", "copy_ecn", "copy_dscp", "start_action", "close_action" };

    private static IpsecConfig Build(Node root, DiagnosticBag diag, string full, List<string> files)
    {
        var conns = new List<Connection>();
        foreach (Node top in root.Children.Where(c => c.Name is not ("connections" or "secrets" or "pools" or "authorities")))
            diag.Warning(top.Location, $"section \"{top.Name}\" is not imported (FastPath reads connections and secrets)");
        Node? connections = root.Children.FirstOrDefault(c => c.Name == "connections");
        foreach (Node conn in connections?.Children ?? new List<Node>())
        {
            Check(conn, ConnKeys, new[] { "local", "remote", "children" }, diag, "connection");
            Node? local = conn.Children.FirstOrDefault(c => c.Name.StartsWith("local", StringComparison.Ordinal));
            Node? remote = conn.Children.FirstOrDefault(c => c.Name.StartsWith("remote", StringComparison.Ordinal));
            foreach (Node a in conn.Children.Where(c => c.Name.StartsWith("local", StringComparison.Ordinal) || c.Name.StartsWith("remote", StringComparison.Ordinal))) Check(a, AuthKeys, Array.Empty<string>(), diag, "auth round");
            Node? children = conn.Children.FirstOrDefault(c => c.Name == "children");
            if (children == null || children.Children.Count == 0) { diag.Error(conn.Location, $"connection \"{conn.Name}\" has no children {{ }}: nothing to protect"); continue; }
            foreach (Node child in children.Children)
            {
                Check(child, ChildKeys, Array.Empty<string>(), diag, "child");
                var c = new Connection { Name = child.Name, Location = child.Location, Also = new[] { conn.Name } };
                var eff = new Dictionary<string, ConfigValue>(StringComparer.Ordinal);
                foreach (var (k, v) in conn.Values) eff["connections." + conn.Name + "." + k] = v;
                foreach (var (k, v) in child.Values) eff[k] = v;
                string? V(Node? n, string k) => n != null && n.Values.TryGetValue(k, out ConfigValue? x) ? x.Value : null;
                SourceLocation L(Node n, string k) => n.Values.TryGetValue(k, out ConfigValue? x) ? x.Location : n.Location;
                c.KeyExchange = V(conn, "version") switch { "1" => IkeVersion.IkeV1, "2" => IkeVersion.IkeV2, null or "0" => IkeVersion.Any, string s => Bad<IkeVersion>(diag, L(conn, "version"), $"invalid version \"{s}\"; allowed: 0 (any), 1, 2", IkeVersion.Any) };
                c.Left.Host = Host(V(conn, "local_addrs"), diag, L(conn, "local_addrs"));
                c.Right.Host = Host(V(conn, "remote_addrs"), diag, L(conn, "remote_addrs"));
                c.IkeProposals = Split(V(conn, "proposals"));
                c.EspProposals = Split(V(child, "esp_proposals"));
                c.IkeLifetime = Time(V(conn, "rekey_time"), TimeSpan.FromHours(4), diag, L(conn, "rekey_time"));
                c.KeyLife = Time(V(child, "rekey_time"), TimeSpan.FromHours(1), diag, L(child, "rekey_time"));
                c.RekeyMargin = TimeSpan.Zero;
                c.Rekey = true;
                c.KeyingTries = int.TryParse(V(conn, "keyingtries") ?? "1", out int kt) && kt >= 0 ? kt : Bad(diag, L(conn, "keyingtries"), "keyingtries must be a whole number (0 = forever)", 1);
                TimeSpan dpd = Time(V(conn, "dpd_delay"), TimeSpan.Zero, diag, L(conn, "dpd_delay"));
                c.DpdDelay = dpd == TimeSpan.Zero ? null : dpd;
                c.DpdTimeout = V(conn, "dpd_timeout") is string dt ? Time(dt, TimeSpan.Zero, diag, L(conn, "dpd_timeout")) : null;
                c.DpdAction = V(child, "dpd_action") switch { null or "clear" => c.DpdDelay == null ? DpdAction.None : DpdAction.Clear, "trap" => DpdAction.Hold, "restart" or "start" => DpdAction.Restart, "none" => DpdAction.None, string s => Bad(diag, L(child, "dpd_action"), $"invalid dpd_action \"{s}\"; allowed: clear|trap|restart|none", DpdAction.None) };
                c.Encapsulation = YesNo(V(conn, "encap"), false, diag, L(conn, "encap")) ? Encapsulation.Yes : Encapsulation.Auto;
                c.Mobike = YesNo(V(conn, "mobike"), true, diag, L(conn, "mobike"));
                c.Type = V(child, "mode") switch { null or "tunnel" => ConnectionType.Tunnel, "transport" => ConnectionType.Transport, "pass" => ConnectionType.Passthrough, "drop" => ConnectionType.Drop, "beet" or "transport_proxy" => ConnectionType.TransportProxy, string s => Bad(diag, L(child, "mode"), $"invalid mode \"{s}\"; allowed: tunnel|transport|pass|drop|beet|transport_proxy", ConnectionType.Tunnel) };
                c.Auto = (V(child, "start_action") ?? "none").Split('|').Aggregate(AutoAction.Add, (acc, s) => s switch { "none" => acc, "trap" => acc == AutoAction.Start ? acc : AutoAction.Route, "start" => AutoAction.Start, _ => Bad(diag, L(child, "start_action"), $"invalid start_action \"{s}\"; allowed: none|trap|start", acc) });
                c.ReplayWindow = V(child, "replay_window") is string rw ? (int.TryParse(rw, out int w) && w >= 0 ? w : Bad(diag, L(child, "replay_window"), "replay_window must be a whole number", 32)) : 32;
                c.Pfs = c.EspProposals.Any(p => p.Contains("modp", StringComparison.Ordinal) || p.Contains("ecp", StringComparison.Ordinal) || p.Contains("curve", StringComparison.Ordinal) || p.Contains("x25519", StringComparison.Ordinal) || p.Contains("x448", StringComparison.Ordinal));
                c.Left.Subnets = Nets(V(child, "local_ts"), diag, L(child, "local_ts"));
                c.Right.Subnets = Nets(V(child, "remote_ts"), diag, L(child, "remote_ts"));
                c.Left.UpDown = V(child, "updown");
                foreach (var (end, node) in new[] { (c.Left, local), (c.Right, remote) })
                {
                    if (node == null) continue;
                    if (V(node, "id") is string id)
                    {
                        if (Identity.TryParse(id, out Identity ident, out string? err)) end.Id = ident;
                        else diag.Error(L(node, "id"), $"id: {err}");
                    }
                    end.Auth = V(node, "auth");
                    end.Cert = V(node, "certs") ?? V(node, "cert");
                }
                if (c.Left.Id == null && c.Left.Host.Kind == HostKind.Address) c.Left.Id = new Identity(IdentityKind.Address, c.Left.Host.Address!.ToString(), c.Left.Host.Address);
                if (c.Right.Id == null && c.Right.Host.Kind == HostKind.Address) c.Right.Id = new Identity(IdentityKind.Address, c.Right.Host.Address!.ToString(), c.Right.Host.Address);
                string auth = V(local, "auth") ?? "pubkey";
                c.AuthBy = auth switch { "psk" => AuthMethods.Secret, "pubkey" => AuthMethods.PubKey, _ when auth.StartsWith("rsa", StringComparison.Ordinal) => AuthMethods.RsaSig, _ when auth.StartsWith("ecdsa", StringComparison.Ordinal) => AuthMethods.Ecdsa, "null" => AuthMethods.Null, _ => AuthMethods.PubKey };
                c.Settings = eff;
                conns.Add(c);
            }
        }
        var dup = conns.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) diag.Error(dup.Last().Location, $"child \"{dup.Key}\" is defined in two connections; FastPath names conns after their child");
        return new IpsecConfig { Path = full, Dialect = ConfigDialect.StrongSwan, DialectReason = "swanctl.conf", Connections = conns, Files = files };
    }

    private static void Check(Node n, string[] keys, string[] sections, DiagnosticBag diag, string what)
    {
        foreach (ConfigValue v in n.Values.Values)
            if (!keys.Contains(v.Keyword)) diag.Error(n.KeyLocations.GetValueOrDefault(v.Keyword, v.Location), $"unknown {what} setting \"{v.Keyword}\"{Suggest.DidYouMean(v.Keyword, keys)}");
        foreach (Node c in n.Children)
            if (!sections.Any(s => c.Name == s || (s is "local" or "remote" && c.Name.StartsWith(s + "-", StringComparison.Ordinal))))
                diag.Error(c.Location, $"unknown {what} section \"{c.Name}\"" + (sections.Length > 0 ? $"; allowed: {string.Join(", ", sections)}" : ""));
    }

    private static T Bad<T>(DiagnosticBag diag, SourceLocation at, string message, T fallback) { diag.Error(at, message); return fallback; }

    private static IReadOnlyList<string> Split(string? s) => s == null ? Array.Empty<string>() : s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(p => p != "default").ToList();

    private static HostAddress Host(string? s, DiagnosticBag diag, SourceLocation at)
    {
        if (s == null) return new HostAddress(HostKind.Any, null, "%any");
        string first = s.Split(',', StringSplitOptions.TrimEntries)[0];
        if (first is "%any" or "%any4" or "%any6" or "0.0.0.0/0" or "::/0") return new HostAddress(HostKind.Any, null, first);
        if (Values.TryStrictAddress(first, out IPAddress? a)) return new HostAddress(HostKind.Address, a);
        if (Values.IsHostname(first)) return new HostAddress(HostKind.Hostname, null, first.ToLowerInvariant());
        diag.Error(at, $"invalid address \"{first}\"; allowed: an IPv4/IPv6 address, a host name, %any");
        return HostAddress.Unset;
    }

    private static IReadOnlyList<IPNetwork> Nets(string? s, DiagnosticBag diag, SourceLocation at)
    {
        if (s == null || s == "dynamic") return Array.Empty<IPNetwork>();
        var list = new List<IPNetwork>();
        foreach (string p in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (p == "dynamic") continue;
            if (Values.TrySubnet(p, out IPNetwork n, out string? err)) list.Add(n);
            else diag.Error(at, err!);
        }
        return list;
    }

    private static TimeSpan Time(string? s, TimeSpan dflt, DiagnosticBag diag, SourceLocation at)
    {
        if (s == null) return dflt;
        if (Values.TryTime(s, out TimeSpan t, out string? err)) return t;
        diag.Error(at, err!);
        return dflt;
    }

    private static bool YesNo(string? s, bool dflt, DiagnosticBag diag, SourceLocation at) => s switch
    {
        null => dflt,
        "yes" or "true" => true,
        "no" or "false" => false,
        _ => Bad(diag, at, $"invalid value \"{s}\"; allowed: yes|no", dflt),
    };

    /// <summary>The secrets { ike-X { id[-N] = ..., secret = ... } } section as PSK entries.</summary>
    public static IpsecSecrets LoadSecrets(string path) => SecretsFrom(path, null);
    public static IpsecSecrets ParseSecrets(string text, string path = "swanctl.conf") => SecretsFrom(path, text);

    private static IpsecSecrets SecretsFrom(string path, string? text)
    {
        var diag = new DiagnosticBag();
        string full = Path.GetFullPath(path);
        var root = new Node { Name = "", Location = new SourceLocation(Path.GetFileName(full), 0, 0) };
        ReadFile(full, text, root, diag, Path.GetDirectoryName(full) ?? "/", new List<string>(), new Stack<string>(), root.Location);
        var entries = new List<SecretEntry>();
        foreach (Node s in root.Children.FirstOrDefault(c => c.Name == "secrets")?.Children ?? new List<Node>())
        {
            if (!s.Name.StartsWith("ike", StringComparison.Ordinal)) continue; // eap/xauth/private keys: not imported
            var ids = new List<Identity>();
            foreach (ConfigValue v in s.Values.Values.Where(v => v.Keyword.StartsWith("id", StringComparison.Ordinal)))
            {
                if (Identity.TryParse(v.Value, out Identity id, out string? err)) ids.Add(id);
                else diag.Error(v.Location, $"{v.Keyword}: {err}");
            }
            if (!s.Values.TryGetValue("secret", out ConfigValue? secret)) { diag.Error(s.Location, $"secrets section \"{s.Name}\" has no secret"); continue; }
            byte[] bytes;
            if (secret.Value.StartsWith("0x", StringComparison.Ordinal) || secret.Value.StartsWith("0s", StringComparison.Ordinal))
            {
                if (!Values.TryTtoData(secret.Value, out bytes, out string? err)) { diag.Error(secret.Location, $"secret: {err}"); continue; }
            }
            else bytes = Encoding.UTF8.GetBytes(secret.Value);
            entries.Add(new SecretEntry { Ids = ids, Kind = SecretKind.Psk, Secret = new SecretBytes(bytes), Location = s.Location });
        }
        if (diag.HasErrors) throw new ConfigException(diag.Sorted());
        return IpsecSecrets.FromEntries(entries, diag.Warnings);
    }
}
