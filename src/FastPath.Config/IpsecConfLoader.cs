// ipsec.conf → IpsecConfig. Order of work:
//   1. ConfReader: files and includes → raw sections (key, value, positions)
//   2. dialect: explicit, or detected from the keywords/values that only some dialects accept
//   3. per section: unknown / other-dialect / obsolete / duplicate parameters (typo suggestions)
//   4. per conn: own settings > also= sections (depth first, in order; cycles reported with the
//      chain) > FreeS/WAN's implicit definition of the same name > conn %default > dialect default
//   5. typed values (addresses, prefixes, ids, times, enums, manual keys) and cross checks
//   6. policy-group files for the conns whose right is %group / %opportunisticgroup
// Every problem is collected; Load throws one ConfigException with all of them.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace FastPath.Config;

/// <summary>Options for <see cref="IpsecConfLoader"/>.</summary>
public sealed class IpsecConfigOptions
{
    public ConfigDialect Dialect { get; set; } = ConfigDialect.Auto;
    /// <summary>Policy-group directory; default: &lt;dir of ipsec.conf&gt;/ipsec.d/policies (→ /etc/ipsec.d/policies).</summary>
    public string? PoliciesDirectory { get; set; }
    /// <summary>Read the policy-group files (default true).</summary>
    public bool LoadPolicyGroups { get; set; } = true;
    /// <summary>Add FreeS/WAN's hidden OE conns (private, ..., packetdefault) in the FreeS/WAN dialect (default true).</summary>
    public bool ImplicitConns { get; set; } = true;
}

/// <summary>The result of <see cref="IpsecConfLoader.TryLoad"/>: a config when there was no error, and every diagnostic.</summary>
public sealed record ConfigLoadResult(IpsecConfig? Config, IReadOnlyList<ConfigDiagnostic> Diagnostics)
{
    public bool Success => Config != null;
    public IEnumerable<ConfigDiagnostic> Errors => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);
}

public static class IpsecConfLoader
{
    /// <summary>Loads an ipsec.conf file (and its includes); throws <see cref="ConfigException"/> listing every error.</summary>
    public static IpsecConfig Load(string path, IpsecConfigOptions? options = null)
    {
        ConfigLoadResult r = TryLoad(path, options);
        return r.Config ?? throw new ConfigException(r.Diagnostics);
    }

    /// <summary>Parses text as if it were the file at <paramref name="path"/> (includes relative to its directory).</summary>
    public static IpsecConfig Parse(string text, string path = "ipsec.conf", IpsecConfigOptions? options = null)
    {
        ConfigLoadResult r = TryParse(text, path, options);
        return r.Config ?? throw new ConfigException(r.Diagnostics);
    }

    public static ConfigLoadResult TryLoad(string path, IpsecConfigOptions? options = null) => Run(path, null, options ?? new());

    public static ConfigLoadResult TryParse(string text, string path = "ipsec.conf", IpsecConfigOptions? options = null) =>
        Run(path, text ?? throw new ArgumentNullException(nameof(text)), options ?? new());

    private static ConfigLoadResult Run(string path, string? text, IpsecConfigOptions options)
    {
        var diag = new DiagnosticBag();
        IpsecConfig? cfg;
        try
        {
            RawConfig raw = ConfReader.Read(path, text, diag);
            cfg = new Builder(raw, options, diag, Path.GetFullPath(path)).Build();
        }
        catch (Exception e) when (e is not ConfigException && e is not OutOfMemoryException && e is not StackOverflowException)
        {
            // A bug of ours must still surface as a config error with context, never as a crash
            // of the daemon reading an operator's file.
            diag.Error(new SourceLocation(Path.GetFileName(path), 0, 0), $"internal error while reading the configuration: {e.GetType().Name}: {e.Message}");
            cfg = null;
        }
        IReadOnlyList<ConfigDiagnostic> all = diag.Sorted();
        if (diag.HasErrors || cfg == null) return new ConfigLoadResult(null, all);
        cfg.Warnings = diag.Warnings;
        return new ConfigLoadResult(cfg, all);
    }

    /// <summary>
    /// The text of an ipsec.conf with every manual key (espenckey=, leftespauthkey=, ahkey=, ...)
    /// replaced by "[masked]", for `barf`. ipsec.conf(5): the file "is not security-sensitive
    /// unless manual keying is being done"; public keys and everything else are kept.
    /// </summary>
    public static string MaskSecrets(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new System.Text.StringBuilder(text.Length);
        foreach (string line in text.Split('\n'))
        {
            if (sb.Length > 0) sb.Append('\n');
            int first = 0;
            while (first < line.Length && line[first] is ' ' or '\t') first++;
            int eq = line.IndexOf('=', first);
            if (first > 0 && eq > first && Keywords.Conn.TryGetValue(line[first..eq].Trim(), out Keyword? kw) && kw.Kind == Kind.Key)
            {
                sb.Append(line, 0, eq + 1).Append("[masked]");
                if (line.EndsWith('\r')) sb.Append('\r');
            }
            else sb.Append(line);
        }
        return sb.ToString();
    }

    /// <summary>FreeS/WAN 2.x's hidden conns (ipsec.conf(5) "IMPLICIT CONNS"; seeds 002:349-353, 927-963).</summary>
    internal static readonly (string Name, (string Key, string Value)[] Settings)[] ImplicitConns =
    {
        ("clear", new[] { ("type", "passthrough"), ("authby", "never"), ("left", "%defaultroute"), ("right", "%group"), ("auto", "route") }),
        ("clear-or-private", new[] { ("type", "passthrough"), ("left", "%defaultroute"), ("leftid", "%myid"), ("right", "%opportunisticgroup"),
            ("failureshunt", "passthrough"), ("keyingtries", "3"), ("ikelifetime", "1h"), ("keylife", "1h"), ("rekey", "no"), ("auto", "route") }),
        ("private-or-clear", new[] { ("type", "tunnel"), ("left", "%defaultroute"), ("leftid", "%myid"), ("right", "%opportunisticgroup"),
            ("failureshunt", "passthrough"), ("keyingtries", "3"), ("ikelifetime", "1h"), ("keylife", "1h"), ("rekey", "no"), ("auto", "route") }),
        ("private", new[] { ("type", "tunnel"), ("left", "%defaultroute"), ("leftid", "%myid"), ("right", "%opportunisticgroup"),
            ("failureshunt", "drop"), ("keyingtries", "3"), ("ikelifetime", "1h"), ("keylife", "1h"), ("rekey", "no"), ("auto", "route") }),
        ("block", new[] { ("type", "reject"), ("authby", "never"), ("left", "%defaultroute"), ("right", "%group"), ("auto", "route") }),
        ("packetdefault", new[] { ("type", "tunnel"), ("left", "%defaultroute"), ("leftid", "%myid"), ("leftsubnet", "0.0.0.0/0"), ("right", "%opportunistic"),
            ("failureshunt", "passthrough"), ("keyingtries", "3"), ("ikelifetime", "1h"), ("keylife", "1h"), ("rekey", "no"), ("auto", "route") }),
    };

    private sealed class Builder
    {
        private readonly RawConfig _raw;
        private readonly IpsecConfigOptions _opt;
        private readonly DiagnosticBag _diag;
        private readonly string _fullPath;
        private ConfigDialect _dialect;
        private Dia _d;
        private string _reason = "";
        private DialectDefaults _defaults = DialectDefaults.FreeSwan;
        private readonly Dictionary<string, RawSection> _conns = new(StringComparer.Ordinal);
        private readonly List<string> _connOrder = new();
        private readonly Dictionary<string, RawSetting> _default = new(StringComparer.Ordinal);
        private readonly Dictionary<string, RawSection> _implicit = new(StringComparer.Ordinal);
        private readonly HashSet<string> _alsoTargets = new(StringComparer.Ordinal);
        private readonly HashSet<string> _reportedCycles = new(StringComparer.Ordinal);
        private bool _alsoFailed;
        private const int MaxAlsoDepth = 32;

        public Builder(RawConfig raw, IpsecConfigOptions opt, DiagnosticBag diag, string fullPath)
        {
            _raw = raw;
            _opt = opt;
            _diag = diag;
            _fullPath = fullPath;
        }

        public IpsecConfig Build()
        {
            ChooseDialect();
            var cfg = new IpsecConfig
            {
                Path = _fullPath,
                Dialect = _dialect,
                DialectReason = _reason,
                Version = _raw.Version,
                Files = _raw.Files.ToList(),
            };
            if (_dialect == ConfigDialect.FreeSwan && !_raw.VersionSeen && _raw.Files.Count > 0 && _raw.Sections.Count > 0)
                _diag.Warning(new SourceLocation(ConfReader.Display(BaseDir, _raw.Files[0]), 1, 1), "no \"version 2\" line; FreeS/WAN 2.x expects it at the top of the file (seed 002:373-377)");

            var setupSettings = new Dictionary<string, RawSetting>(StringComparer.Ordinal);
            RawSection? setupSection = null;
            bool seenNonDefaultConn = false;
            var cas = new Dictionary<string, IReadOnlyDictionary<string, ConfigValue>>(StringComparer.Ordinal);
            foreach (RawSection s in _raw.Sections)
            {
                if (s.Type == "config")
                {
                    if (setupSection != null) _diag.Error(s.Location, $"duplicate section \"config setup\" (first at {setupSection.Location})");
                    else setupSection = s;
                    CheckSettings(s, Sec.Setup, setupSettings, allowAlso: false);
                }
                else if (s.Type == "ca")
                {
                    if ((_d & Dia.LS) == 0) _diag.Error(s.Location, $"\"ca\" sections are strongSwan/Libreswan; not part of the {Keywords.Name(_dialect)} dialect");
                    if (cas.ContainsKey(s.Name)) _diag.Error(s.Location, $"duplicate section \"ca {s.Name}\"");
                    cas[s.Name] = s.Settings.GroupBy(x => x.Key).ToDictionary(g => g.Key, g => new ConfigValue(g.Key, g.First().Value, g.First().ValueLocation, "ca " + s.Name));
                }
                else if (s.Name == "%default")
                {
                    if (seenNonDefaultConn && _dialect == ConfigDialect.FreeSwan)
                        _diag.Error(s.Location, "conn %default must precede all other conn sections (FreeS/WAN ipsec.conf(5))");
                    CheckSettings(s, Sec.Conn, _default, allowAlso: _dialect != ConfigDialect.FreeSwan);
                    if (_dialect == ConfigDialect.FreeSwan)
                        foreach (RawSetting a in s.Settings.Where(x => x.Key == "also"))
                            _diag.Error(a.KeyLocation, "conn %default may not contain also= (FreeS/WAN ipsec.conf(5))");
                }
                else
                {
                    seenNonDefaultConn = true;
                    if (_conns.TryGetValue(s.Name, out RawSection? prev))
                    {
                        _diag.Error(s.Location, $"duplicate conn \"{s.Name}\" (first at {prev.Location})");
                        continue;
                    }
                    _conns[s.Name] = s;
                    _connOrder.Add(s.Name);
                    CheckSettings(s, Sec.Conn, new Dictionary<string, RawSetting>(StringComparer.Ordinal), allowAlso: true);
                }
            }
            cfg.CaSections = cas;
            cfg.Setup = BuildSetup(setupSettings);

            if (_dialect == ConfigDialect.FreeSwan && _opt.ImplicitConns)
                foreach (var (name, settings) in ImplicitConns)
                {
                    var sec = new RawSection { Type = "conn", Name = name, Location = new SourceLocation("<implicit conn " + name + ">", 0, 0) };
                    foreach (var (k, v) in settings) sec.Settings.Add(new RawSetting(k, v, sec.Location, sec.Location));
                    _implicit[name] = sec;
                }
            foreach (RawSection s in _conns.Values)
                foreach (RawSetting a in s.Settings.Where(x => x.Key == "also")) _alsoTargets.Add(a.Value);

            var conns = new List<Connection>();
            foreach (string name in _connOrder)
            {
                Connection? c = BuildConn(name, cfg.Setup);
                if (c != null) conns.Add(c);
            }
            foreach (string name in _implicit.Keys.Where(n => !_conns.ContainsKey(n)))
            {
                Connection? c = BuildConn(name, cfg.Setup);
                if (c != null) conns.Add(c);
            }
            CheckManualSpis(conns);
            cfg.Connections = conns;

            if (_opt.LoadPolicyGroups)
            {
                string dir = _opt.PoliciesDirectory ?? Path.Combine(BaseDir, "ipsec.d", "policies");
                cfg.PolicyGroups = PolicyGroups.Load(conns, dir, _diag, BaseDir);
            }
            return cfg;
        }

        private string BaseDir => Path.GetDirectoryName(_fullPath) ?? "/";

        // ---- dialect -------------------------------------------------------------------------

        private void ChooseDialect()
        {
            if (_opt.Dialect != ConfigDialect.Auto)
            {
                _dialect = _opt.Dialect;
                _reason = "explicit";
            }
            else
            {
                // Count, per dialect, the settings it would not accept; the dialect with the fewest
                // wins. Ties: `version 2.0` means strongSwan; otherwise FreeS/WAN, then strongSwan, then Libreswan.
                var order = _raw.Version == "2.0"
                    ? new[] { ConfigDialect.StrongSwan, ConfigDialect.FreeSwan, ConfigDialect.Libreswan }
                    : new[] { ConfigDialect.FreeSwan, ConfigDialect.StrongSwan, ConfigDialect.Libreswan };
                var misses = order.ToDictionary(d => d, _ => 0);
                var evidence = new Dictionary<ConfigDialect, (RawSetting Setting, int Width)>();
                foreach (RawSection s in _raw.Sections)
                {
                    if (s.Type == "ca") { misses[ConfigDialect.FreeSwan]++; continue; }
                    Sec sec = s.Type == "config" ? Sec.Setup : Sec.Conn;
                    foreach (RawSetting st in s.Settings)
                    {
                        Dia ok = AcceptedBy(sec, st);
                        if (ok == Dia.All || ok == 0) continue;
                        foreach (ConfigDialect d in order)
                        {
                            if ((ok & Keywords.Of(d)) == 0) misses[d]++;
                            // The most telling evidence is a setting only this dialect accepts.
                            else if (!evidence.TryGetValue(d, out var ev) || (System.Numerics.BitOperations.PopCount((uint)ok) < ev.Width))
                                evidence[d] = (st, System.Numerics.BitOperations.PopCount((uint)ok));
                        }
                    }
                }
                _dialect = order.OrderBy(d => misses[d]).ThenBy(d => Array.IndexOf(order, d)).First();
                RawSetting? why = evidence.TryGetValue(_dialect, out var best) ? best.Setting : null;
                _reason = why != null
                    ? $"detected from \"{why.Key}={why.Value}\" at {why.KeyLocation}"
                    : _raw.Version == "2.0" ? "detected from \"version 2.0\"" : "no dialect-specific parameter; FreeS/WAN 2.x assumed";
            }
            _d = Keywords.Of(_dialect);
            _defaults = DialectDefaults.For(_dialect);
        }

        /// <summary>Which dialects accept this setting (keyword and, for enums, value); 0 if unknown everywhere.</summary>
        private static Dia AcceptedBy(Sec sec, RawSetting st)
        {
            if (!Keywords.For(sec).TryGetValue(st.Key, out Keyword? kw)) return 0;
            Dia d = kw.Dialects;
            if (kw.Kind == Kind.Enum && st.Value.Length > 0)
            {
                Dia v = 0;
                foreach (var (value, dias) in kw.EnumValues()) if (value == st.Value) v |= dias;
                if (v != 0) d &= v;
            }
            if (kw.Kind == Kind.Subnet && st.Value.Contains(',', StringComparison.Ordinal)) d &= Dia.LS;
            return d;
        }

        private string DialectHint => _reason == "explicit" ? $"dialect {Keywords.Name(_dialect)}" : $"dialect {Keywords.Name(_dialect)}, {_reason}";

        // ---- parameter names -----------------------------------------------------------------

        private void CheckSettings(RawSection s, Sec sec, Dictionary<string, RawSetting> seen, bool allowAlso)
        {
            IReadOnlyDictionary<string, Keyword> table = Keywords.For(sec);
            var local = new Dictionary<string, RawSetting>(StringComparer.Ordinal);
            var alsoSeen = new Dictionary<string, RawSetting>(StringComparer.Ordinal);
            foreach (RawSetting st in s.Settings)
            {
                if (st.Key.StartsWith("x-", StringComparison.OrdinalIgnoreCase) || st.Key.StartsWith("x_", StringComparison.OrdinalIgnoreCase))
                    continue; // reserved for user extensions (FreeS/WAN ipsec.conf(5))
                if (!table.TryGetValue(st.Key, out Keyword? kw))
                {
                    string where = sec == Sec.Setup ? " in config setup" : "";
                    string other = Keywords.For(sec == Sec.Setup ? Sec.Conn : Sec.Setup).ContainsKey(st.Key)
                        ? $"; \"{st.Key}\" belongs in {(sec == Sec.Setup ? "a conn section" : "config setup")}"
                        : Suggest.DidYouMean(st.Key, table.Values.Where(k => (k.Dialects & _d) != 0).Select(k => k.Name));
                    _diag.Error(st.KeyLocation, $"unknown parameter name \"{st.Key}\"{where}{other}");
                    continue;
                }
                if ((kw.Dialects & _d) == 0)
                {
                    _diag.Error(st.KeyLocation, $"parameter \"{st.Key}\" is not part of the {Keywords.Name(_dialect)} dialect (it is {Keywords.Names(kw.Dialects)}; {DialectHint})");
                    continue;
                }
                if (kw.Obsolete != null && (kw.ObsoleteIn & _d) != 0)
                {
                    if (kw.AliasOf != null || kw.Kind == Kind.Str && sec == Sec.Setup)
                    {
                        _diag.Error(st.KeyLocation, $"parameter \"{st.Key}\" is {kw.Obsolete}");
                        continue;
                    }
                    _diag.Warning(st.KeyLocation, $"parameter \"{st.Key}\" is {kw.Obsolete}");
                }
                if (kw.Kind == Kind.Also)
                {
                    if (!allowAlso) { _diag.Error(st.KeyLocation, "also= is only allowed in conn sections"); continue; }
                    if (alsoSeen.TryGetValue(st.Value, out RawSetting? firstAlso))
                        _diag.Error(st.KeyLocation, $"also={st.Value} given twice in conn \"{s.Name}\" (first at {firstAlso.KeyLocation})");
                    else alsoSeen[st.Value] = st;
                    continue;
                }
                if (local.TryGetValue(kw.Canonical, out RawSetting? first))
                {
                    string same = first.Key == st.Key ? "" : $" (\"{st.Key}\" and \"{first.Key}\" are the same parameter)";
                    _diag.Error(st.KeyLocation, $"duplicate parameter \"{st.Key}\" in {SectionName(s)} (first set at {first.KeyLocation}){same}");
                    continue;
                }
                if (s.Name == "%default" && seen.TryGetValue(kw.Canonical, out RawSetting? def))
                {
                    _diag.Error(st.KeyLocation, $"duplicate default for \"{st.Key}\" (first set at {def.KeyLocation}); only one conn %default may set it");
                    continue;
                }
                local[kw.Canonical] = st;
                seen[kw.Canonical] = st;
            }
        }

        private static string SectionName(RawSection s) => s.Type == "config" ? "config setup" : $"{s.Type} \"{s.Name}\"";

        // ---- config setup --------------------------------------------------------------------

        private ConfigSetup BuildSetup(Dictionary<string, RawSetting> raw)
        {
            var setup = new ConfigSetup();
            var eff = raw.Values.ToDictionary(r => KeyOf(Sec.Setup, r.Key), r => new ConfigValue(r.Key, r.Value, r.ValueLocation, "config setup"), StringComparer.Ordinal);
            var v = new Reader(this, eff, Sec.Setup);
            string? ifs = v.Str("interfaces") ?? _defaults.Interfaces;
            if (ifs != null)
            {
                var list = new List<string>();
                foreach (string tok in ifs.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries))
                {
                    int eq = tok.IndexOf('=', StringComparison.Ordinal);
                    bool ok = tok is "%defaultroute" or "%none"
                        || (eq > 0 && eq < tok.Length - 1 && IsIfName(tok[..eq]) && IsIfName(tok[(eq + 1)..]))
                        || (eq < 0 && IsIfName(tok));
                    if (!ok) v.Bad("interfaces", $"invalid interfaces entry \"{tok}\"; allowed: %defaultroute, %none, or virtual=physical pairs such as ipsec0=eth0");
                    else list.Add(tok);
                }
                setup.Interfaces = list;
            }
            setup.UniqueIds = v.Enum("uniqueids") switch
            {
                "no" => UniqueIdsPolicy.No,
                "never" => UniqueIdsPolicy.Never,
                "replace" => UniqueIdsPolicy.Replace,
                "keep" => UniqueIdsPolicy.Keep,
                "yes" => UniqueIdsPolicy.Yes,
                _ => _defaults.UniqueIds,
            };
            setup.HideTos = v.Bool("hidetos") ?? true;
            setup.MyId = v.Id("myid");
            setup.PlutoDebug = v.Str("plutodebug");
            setup.KlipsDebug = v.Str("klipsdebug");
            setup.CharonDebug = v.Str("charondebug");
            setup.NatTraversal = v.Bool("nat_traversal") ?? false;
            setup.PacketDefault = v.Enum("packetdefault") switch { "pass" => ConnectionType.Passthrough, "reject" => ConnectionType.Reject, _ => ConnectionType.Drop };
            foreach (string k in new[] { "overridemtu", "keep_alive", "nhelpers" }) v.Int(k);
            foreach (string k in new[] { "plutowait", "pluto", "forwardcontrol", "fragicmp", "logtime", "logappend", "cachecrls", "charonstart" }) v.Bool(k);
            setup.Settings = eff;
            return setup;
        }

        private static bool IsIfName(string s) => s.Length is > 0 and <= 15 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ':' or '+');

        private static string KeyOf(Sec sec, string key) => Keywords.For(sec).TryGetValue(key, out Keyword? kw) ? kw.Canonical : key;

        // ---- conn ----------------------------------------------------------------------------

        /// <summary>Effective raw settings of a section: own, then also= (depth first), then the implicit conn of that name.</summary>
        private Dictionary<string, ConfigValue>? Resolve(string name, List<string> chain, List<string> alsoOrder, SourceLocation from)
        {
            if (chain.Contains(name))
            {
                // Report each cycle once, however many conns lead into it.
                var members = chain.Skip(chain.IndexOf(name)).Order(StringComparer.Ordinal);
                if (_reportedCycles.Add(string.Join(" ", members)))
                    _diag.Error(from, $"also= cycle: {string.Join(" -> ", chain.Append(name))}");
                _alsoFailed = true;
                return null;
            }
            RawSection? sec = _conns.GetValueOrDefault(name);
            RawSection? imp = _implicit.GetValueOrDefault(name);
            if (sec == null && imp == null) return null;
            if (chain.Count >= MaxAlsoDepth)
            {
                if (_reportedCycles.Add("depth " + chain[0])) _diag.Error(from, $"also= nested more than {MaxAlsoDepth} deep (from conn \"{chain[0]}\")");
                _alsoFailed = true;
                return null;
            }
            chain.Add(name);
            var eff = new Dictionary<string, ConfigValue>(StringComparer.Ordinal);
            try
            {
                foreach (RawSection? layer in new[] { sec, imp })
                {
                    if (layer == null) continue;
                    // A section's own parameters first, then its also= sections in order: the
                    // section's own value wins wherever the also= line stands.
                    foreach (RawSetting st in layer.Settings.Where(x => x.Key != "also").Concat(layer.Settings.Where(x => x.Key == "also")))
                    {
                        if (st.Key == "also")
                        {
                            if (!_conns.ContainsKey(st.Value) && !_implicit.ContainsKey(st.Value))
                            {
                                string sugg = Suggest.DidYouMean(st.Value, _conns.Keys.Concat(_implicit.Keys).Where(n => n != name));
                                _alsoFailed = true;
                                _diag.Error(st.ValueLocation, st.Value == "%default"
                                    ? "also=%default is not allowed: conn %default applies by itself"
                                    : $"also={st.Value}: no conn \"{st.Value}\"{sugg}");
                                continue;
                            }
                            if (alsoOrder.Contains(st.Value)) continue; // diamond: already merged once
                            alsoOrder.Add(st.Value);
                            Dictionary<string, ConfigValue>? sub = Resolve(st.Value, chain, alsoOrder, st.ValueLocation);
                            if (sub == null) continue;
                            foreach (var (k, v) in sub) eff.TryAdd(k, v);
                            continue;
                        }
                        if (!Keywords.Conn.TryGetValue(st.Key, out Keyword? kw)) continue; // reported already
                        if ((kw.Dialects & _d) == 0) continue;
                        eff.TryAdd(kw.Canonical, new ConfigValue(st.Key, st.Value, st.ValueLocation, "conn " + layer.Name));
                    }
                }
            }
            finally { chain.RemoveAt(chain.Count - 1); }
            return eff;
        }

        private Connection? BuildConn(string name, ConfigSetup setup)
        {
            RawSection? sec = _conns.GetValueOrDefault(name);
            RawSection? imp = _implicit.GetValueOrDefault(name);
            SourceLocation at = sec?.Location ?? imp!.Location;
            var alsoOrder = new List<string>();
            _alsoFailed = false;
            Dictionary<string, ConfigValue>? eff = Resolve(name, new List<string>(), alsoOrder, at);
            bool alsoFailed = _alsoFailed;
            if (eff == null) return null;
            foreach (var (k, st) in _default)
                if (Keywords.Conn.TryGetValue(st.Key, out Keyword? kw) && (kw.Dialects & _d) != 0)
                    eff.TryAdd(k, new ConfigValue(st.Key, st.Value, st.ValueLocation, "conn %default"));
            // An empty value means "the default" (FreeS/WAN ipsec.conf(5)): it blocks inheritance.
            foreach (string k in eff.Where(p => p.Value.Value.Length == 0).Select(p => p.Key).ToList()) eff.Remove(k);

            var c = new Connection { Name = name, Location = at, IsImplicit = sec == null, Also = alsoOrder };
            var v = new Reader(this, eff, Sec.Conn, name);
            bool template = sec != null && _alsoTargets.Contains(name) && !eff.ContainsKey("auto");
            c.IsTemplate = template;

            c.Type = v.Enum("type") switch
            {
                "transport" => ConnectionType.Transport,
                "transport_proxy" => ConnectionType.TransportProxy,
                "passthrough" => ConnectionType.Passthrough,
                "drop" => ConnectionType.Drop,
                "reject" => ConnectionType.Reject,
                "tunnel" => ConnectionType.Tunnel,
                _ => _defaults.Type,
            };
            c.Auto = v.Enum("auto") switch
            {
                "add" => AutoAction.Add,
                "route" or "ondemand" => AutoAction.Route,
                "start" or "up" => AutoAction.Start,
                "keep" => AutoAction.Keep,
                "ignore" => AutoAction.Ignore,
                _ => _defaults.Auto,
            };
            c.AuthBy = v.AuthBy("authby") ?? _defaults.AuthBy;
            c.KeyExchange = KeyExchange(v);
            c.IkeProposals = v.Proposals("ike");
            c.EspProposals = v.Proposals("esp");
            c.Pfs = v.Bool("pfs") ?? _defaults.Pfs;
            c.IkeLifetime = v.Time("ikelifetime") ?? _defaults.IkeLifetime;
            c.KeyLife = v.Time("keylife") ?? _defaults.KeyLife;
            c.RekeyMargin = v.Time("rekeymargin") ?? _defaults.RekeyMargin;
            c.RekeyFuzzPercent = v.Percent("rekeyfuzz") ?? _defaults.RekeyFuzzPercent;
            c.KeyingTries = v.KeyingTries("keyingtries") ?? _defaults.KeyingTries;
            c.Rekey = v.Bool("rekey") ?? _defaults.Rekey;
            c.DpdDelay = v.Time("dpddelay") ?? _defaults.DpdDelay;
            c.DpdTimeout = v.Time("dpdtimeout") ?? _defaults.DpdTimeout;
            c.DpdAction = v.Enum("dpdaction") switch
            {
                "none" => DpdAction.None,
                "clear" => DpdAction.Clear,
                "hold" => DpdAction.Hold,
                "restart" => DpdAction.Restart,
                _ => _defaults.DpdAction,
            };
            c.ReplayWindow = v.Int("replay-window") ?? _defaults.ReplayWindow;
            c.Encapsulation = v.Enum("encapsulation") switch
            {
                "yes" => Encapsulation.Yes,
                "no" => Encapsulation.No,
                "auto" => Encapsulation.Auto,
                _ => v.Bool("forceencaps") == true ? Encapsulation.Yes : _defaults.Encapsulation,
            };
            c.Compress = v.Bool("compress") ?? _defaults.Compress;
            c.Mobike = v.Bool("mobike") ?? _defaults.Mobike;
            c.FailureShunt = v.Enum("failureshunt") switch
            {
                "passthrough" => ConnectionType.Passthrough,
                "drop" or "hold" => ConnectionType.Drop,
                "reject" => ConnectionType.Reject,
                _ => null,
            };
            foreach (string k in new[] { "ikev2", "phase2", "auth", "fragmentation", "closeaction", "esn", "negotiationshunt" }) v.Enum(k);
            foreach (string k in new[] { "reauth", "aggressive", "aggrmode", "installpolicy", "narrowing", "disablearrivalcheck", "leftallowany", "rightallowany", "lefthostaccess", "righthostaccess" }) v.Bool(k);
            foreach (string k in new[] { "reqid", "lifebytes", "lifepackets", "marginbytes", "marginpackets", "leftikeport", "rightikeport" }) v.Int(k);
            v.Time("inactivity");

            End(v, c, c.Left, "left", setup);
            End(v, c, c.Right, "right", setup);

            CheckConn(v, c, eff, template || alsoFailed);
            c.Manual = Manual(v, c, eff);
            c.Settings = eff;
            return c;
        }

        private IkeVersion KeyExchange(Reader v)
        {
            string? kx = v.Enum("keyexchange");
            string? ikev2 = v.Enum("ikev2");
            IkeVersion result = _dialect switch
            {
                ConfigDialect.FreeSwan => IkeVersion.IkeV1,
                ConfigDialect.StrongSwan => kx switch { "ikev1" => IkeVersion.IkeV1, "ikev2" => IkeVersion.IkeV2, _ => IkeVersion.Any },
                _ => kx == "ikev1" ? IkeVersion.IkeV1 : IkeVersion.IkeV2,
            };
            if (ikev2 != null)
            {
                IkeVersion fromIkev2 = ikev2 is "no" or "never" ? IkeVersion.IkeV1 : IkeVersion.IkeV2;
                if (kx is "ikev1" or "ikev2" && fromIkev2 != result)
                    v.Bad("ikev2", $"ikev2={ikev2} contradicts keyexchange={kx} (at {v.Location("keyexchange")})");
                result = fromIkev2;
            }
            return result;
        }

        private void End(Reader v, Connection c, ConnectionEnd e, string side, ConfigSetup setup)
        {
            e.Host = v.Host(side);
            IReadOnlyList<IPNetwork> subnets = v.Subnets(side + "subnet", allowList: (_d & Dia.LS) != 0);
            IReadOnlyList<IPNetwork> list = v.SubnetList(side + "subnets");
            if (subnets.Count > 0 && list.Count > 0)
                v.Bad(side + "subnets", $"give either {side}subnet= or {side}subnets=, not both ({side}subnet at {v.Location(side + "subnet")})");
            e.Subnets = subnets.Count > 0 ? subnets : list;
            e.SubnetWithin = v.Subnets(side + "subnetwithin", allowList: false).FirstOrDefault();
            e.NextHop = v.NextHop(side + "nexthop");
            e.Id = v.Id(side + "id");
            if (e.Id?.Kind == IdentityKind.MyId && setup.MyId != null) e.Id = setup.MyId;
            if (e.Id == null && e.Host.Kind == HostKind.Address) e.Id = new Identity(IdentityKind.Address, e.Host.Address!.ToString(), e.Host.Address);
            e.RsaSigKey = v.RsaKey(side + "rsasigkey")
                ?? ((c.AuthBy & AuthMethods.RsaSig) != 0 && _defaults.RsaSigKey != PublicKeySource.Unset ? new PublicKeySpec(_defaults.RsaSigKey) : PublicKeySpec.Unset);
            e.Cert = v.Str(side + "cert");
            e.Ca = v.Str(side + "ca");
            e.Auth = v.Str(side + "auth");
            e.SourceIp = v.Str(side + "sourceip");
            e.ProtoPort = v.Str(side + "protoport");
            e.UpDown = v.Str(side + "updown");
            e.Firewall = v.Bool(side + "firewall") ?? false;
            e.IkePort = v.Int(side + "ikeport");
            v.Str(side + "sendcert");
            v.Str(side + "groups");
        }

        private void CheckConn(Reader v, Connection c, Dictionary<string, ConfigValue> eff, bool template)
        {
            if (!template && !c.IsImplicit)
            {
                foreach (string side in new[] { "left", "right" })
                    if (!eff.ContainsKey(side) && !v.Failed(side))
                        _diag.Error(c.Location, $"conn \"{c.Name}\": missing required parameter \"{side}\" (the {side} participant's public address, %defaultroute or %any)");
            }
            if (c.Left.Host.Kind == HostKind.DefaultRoute && c.Right.Host.Kind == HostKind.DefaultRoute)
                v.Bad("right", "left and right cannot both be %defaultroute");
            if (c.Left.Host.Kind == HostKind.Address && c.Right.Host.Kind == HostKind.Address && c.Left.Host.Address!.Equals(c.Right.Host.Address))
                v.Bad("right", $"left and right are the same address {c.Left.Host.Address}");
            if (c.Left.Host.Kind == HostKind.Address && c.Right.Host.Kind == HostKind.Address
                && c.Left.Host.Address!.AddressFamily != c.Right.Host.Address!.AddressFamily)
                v.Bad("right", $"left={c.Left.Host.Address} and right={c.Right.Host.Address} are of different address families");
            if (c.Type == ConnectionType.Transport)
                foreach (string side in new[] { "left", "right" })
                    if ((side == "left" ? c.Left : c.Right).Subnets.Count > 0)
                        v.Bad(side + "subnet", $"type=transport is incompatible with {side}subnet (transport mode protects only the hosts)");
            IReadOnlyList<IPNetwork> ls = c.Left.EffectiveSubnets, rs = c.Right.EffectiveSubnets;
            if (ls.Count > 0 && rs.Count > 0 && !ls.Any(l => rs.Any(r => l.BaseAddress.AddressFamily == r.BaseAddress.AddressFamily)))
                v.Bad(eff.ContainsKey("rightsubnet") ? "rightsubnet" : "right", "left and right protect different address families (IPv4 vs IPv6): no packet can match");
            if (_dialect == ConfigDialect.FreeSwan)
                foreach (string side in new[] { "left", "right" })
                    if (eff.ContainsKey(side + "updown") && eff.ContainsKey(side + "firewall") && (side == "left" ? c.Left : c.Right).Firewall)
                        v.Bad(side + "firewall", $"{side}firewall=yes may not be used together with {side}updown (at {v.Location(side + "updown")}); FreeS/WAN ipsec.conf(5)");

            // Lifetimes: bounded per dialect; the margin (plus fuzz) must leave room before expiry.
            if (_defaults.MaxIkeLifetime is TimeSpan maxIke && c.IkeLifetime > maxIke)
                LimitError(v, "ikelifetime", c.IkeLifetime, maxIke);
            if (_defaults.MaxKeyLife is TimeSpan maxKey && c.KeyLife > maxKey)
                LimitError(v, "keylife", c.KeyLife, maxKey);
            if (c.Rekey && c.RekeyMargin >= c.KeyLife && c.Manual == null && eff.ContainsKey("rekeymargin") | eff.ContainsKey("keylife"))
                v.Bad(eff.ContainsKey("rekeymargin") ? "rekeymargin" : "keylife",
                    $"rekeymargin ({Values.FormatTime(c.RekeyMargin)}) must be shorter than keylife ({Values.FormatTime(c.KeyLife)}), or the SA is rekeyed before it is up");
            else if (c.Rekey && c.RekeyMargin.TotalSeconds * (1 + c.RekeyFuzzPercent / 100.0) > c.KeyLife.TotalSeconds && (eff.ContainsKey("rekeymargin") || eff.ContainsKey("keylife") || eff.ContainsKey("rekeyfuzz")))
                _diag.Warning(v.Location(eff.ContainsKey("rekeyfuzz") ? "rekeyfuzz" : eff.ContainsKey("rekeymargin") ? "rekeymargin" : "keylife") ?? c.Location,
                    $"conn \"{c.Name}\": rekeymargin {Values.FormatTime(c.RekeyMargin)} plus rekeyfuzz {c.RekeyFuzzPercent}% can exceed keylife {Values.FormatTime(c.KeyLife)}");
            if (c.DpdDelay is TimeSpan dd && c.DpdTimeout is TimeSpan dt && eff.ContainsKey("dpdtimeout") && dt <= dd && (eff.ContainsKey("dpddelay")))
                v.Bad("dpdtimeout", $"dpdtimeout ({Values.FormatTime(dt)}) must be longer than dpddelay ({Values.FormatTime(dd)})");
        }

        private void LimitError(Reader v, string key, TimeSpan value, TimeSpan max)
        {
            string msg = $"{key}={Values.FormatTime(value)} exceeds the {Keywords.Name(_dialect)} maximum of {Values.FormatTime(max)}";
            if (_dialect == ConfigDialect.Libreswan) _diag.Warning(v.Location(key) ?? SourceLocation.None, msg + "; Libreswan clamps it, FastPath does the same");
            else v.Bad(key, msg);
        }

        // ---- manual keying (FreeS/WAN ipsec_manual(8)) ---------------------------------------

        private static readonly string[] ManualKeys =
        {
            "spi", "spibase", "espenckey", "espauthkey", "leftespenckey", "rightespenckey", "leftespauthkey", "rightespauthkey",
            "leftespspi", "rightespspi", "ah", "ahkey", "leftahkey", "rightahkey", "leftahspi", "rightahspi", "espreplay_window", "ahreplay_window",
        };

        private ManualKeying? Manual(Reader v, Connection c, Dictionary<string, ConfigValue> eff)
        {
            if (!ManualKeys.Any(eff.ContainsKey)) return null;
            var m = new ManualKeying();
            m.Spi = v.Spi("spi");
            m.SpiBase = v.SpiBase("spibase");
            // esp= names the manual algorithm (ipsec spi --esp), e.g. 3des-md5-96.
            if (eff.TryGetValue("esp", out ConfigValue? esp)) m.EspAlgorithm = esp.Value;
            m.AhAlgorithm = v.Str("ah");
            m.EspReplayWindow = v.IntRange("espreplay_window", 0, 64) ?? 0;
            m.AhReplayWindow = v.IntRange("ahreplay_window", 0, 64) ?? 0;
            bool pass = c.Type == ConnectionType.Passthrough;
            if (eff.ContainsKey("spi") && eff.ContainsKey("spibase")) v.Bad("spibase", "cannot specify both spi and spibase");
            if (pass)
            {
                if (m.EspAlgorithm != null || m.AhAlgorithm != null) v.Bad(m.EspAlgorithm != null ? "esp" : "ah", "passthrough connection may not specify AH or ESP");
                return m;
            }
            if (m.EspAlgorithm == null && m.AhAlgorithm == null)
                _diag.Error(c.Location, $"conn \"{c.Name}\": manual keying needs esp= or ah= (neither AH nor ESP specified)");
            if (!eff.ContainsKey("spi") && !eff.ContainsKey("spibase"))
                _diag.Error(c.Location, $"conn \"{c.Name}\": manual keying needs spi= or spibase=");
            foreach (string side in new[] { "left", "right" })
                if ((side == "left" ? c.Left : c.Right).Host.Kind is not (HostKind.Address or HostKind.DefaultRoute or HostKind.Unset))
                    v.Bad(side, $"manual keying needs a literal address (or %defaultroute) for {side}=");
            if (c.Type is not (ConnectionType.Tunnel or ConnectionType.Transport))
                v.Bad("type", "manual keying knows only type=tunnel, transport or passthrough");

            // Keys: espenckey applies to both directions unless left/right ones are given; both or neither.
            SecretBytes? Key(string side, string name) => v.Key(side + name) ?? v.Key(name);
            foreach (string name in new[] { "espenckey", "espauthkey", "ahkey" })
            {
                bool l = eff.ContainsKey("left" + name) || eff.ContainsKey(name), r = eff.ContainsKey("right" + name) || eff.ContainsKey(name);
                if (l != r) v.Bad((l ? "left" : "right") + name, $"must give both or neither \"left{name}\" and \"right{name}\"");
            }
            m.ToLeft.EspEncKey = Key("left", "espenckey");
            m.ToRight.EspEncKey = Key("right", "espenckey");
            m.ToLeft.EspAuthKey = Key("left", "espauthkey");
            m.ToRight.EspAuthKey = Key("right", "espauthkey");
            m.ToLeft.AhKey = Key("left", "ahkey");
            m.ToRight.AhKey = Key("right", "ahkey");
            if (m.AhAlgorithm != null && m.ToLeft.AhKey == null && m.ToRight.AhKey == null && !v.Failed("ahkey"))
                v.Bad("ah", "AH specified but no ahkey= given");
            if (m.EspAlgorithm != null && m.ToLeft.EspEncKey == null && !v.Failed("espenckey") && !v.Failed("leftespenckey")
                && !m.EspAlgorithm.StartsWith("null", StringComparison.OrdinalIgnoreCase))
                v.Bad("esp", $"esp={m.EspAlgorithm} needs espenckey= (or leftespenckey= and rightespenckey=)");

            // SPIs exactly as ipsec_manual assigned them (see ManualKeying).
            bool tunnel = c.Type == ConnectionType.Tunnel;
            bool hasEsp = m.EspAlgorithm != null, hasAh = m.AhAlgorithm != null;
            uint?[] right = SpiSequence(m, 0), left = SpiSequence(m, 1);
            int ri = 0, li = 0;
            uint? tR = right[ri++], eR, tL = null, eL;
            if (tunnel) { eR = right[ri++]; tL = left[li++]; } else eR = tR;
            eL = left[li++];
            eR = v.Spi("rightespspi") ?? eR;
            eL = v.Spi("leftespspi") ?? eL;
            uint? aR = null, aL = null;
            if (hasAh)
            {
                if (hasEsp) { aR = right[ri]; aL = left[li]; } else { aR = eR; aL = eL; }
                aR = v.Spi("rightahspi") ?? aR;
                aL = v.Spi("leftahspi") ?? aL;
            }
            if (tunnel) { m.ToRight.TunnelSpi = tR; m.ToLeft.TunnelSpi = tL; }
            if (hasEsp) { m.ToRight.EspSpi = eR; m.ToLeft.EspSpi = eL; }
            if (hasAh) { m.ToRight.AhSpi = aR; m.ToLeft.AhSpi = aL; }
            return m;
        }

        /// <summary>spi= gives every SA that SPI; spibase=0xNNN0 gives 0xNNN0+offset, offset+2, ... (offset 0 toward right, 1 toward left).</summary>
        private static uint?[] SpiSequence(ManualKeying m, int offset)
        {
            var seq = new uint?[3];
            for (int i = 0; i < 3; i++)
                seq[i] = m.Spi ?? (m.SpiBase is uint b ? b + (uint)(offset + 2 * i) : null);
            return seq;
        }

        private void CheckManualSpis(List<Connection> conns)
        {
            // "Each manual connection must have a unique SPI value ... Two or more with the same value will fail" (seed 002:1889-1891).
            var seen = new Dictionary<uint, Connection>();
            foreach (Connection c in conns)
            {
                if (c.Manual == null || c.Type == ConnectionType.Passthrough) continue;
                var mine = new HashSet<uint>();
                foreach (ManualSa sa in new[] { c.Manual.ToLeft, c.Manual.ToRight })
                    foreach (uint? spi in new[] { sa.TunnelSpi, sa.EspSpi, sa.AhSpi })
                        if (spi is uint s) mine.Add(s);
                foreach (uint s in mine.Order())
                {
                    if (seen.TryGetValue(s, out Connection? other))
                    {
                        string key = c.Settings.ContainsKey("spi") ? "spi" : c.Settings.ContainsKey("spibase") ? "spibase" : "spi";
                        _diag.Error(c.LocationOf(key) ?? c.Location, $"conn \"{c.Name}\": SPI 0x{s:x} is already used by conn \"{other.Name}\" ({other.Location}); each manual connection needs its own SPIs");
                        break;
                    }
                }
                foreach (uint s in mine) seen.TryAdd(s, c);
            }
        }

        // ---- typed value readers ---------------------------------------------------------------

        /// <summary>Reads typed values from one section's effective settings and reports bad ones at their place.</summary>
        private sealed class Reader
        {
            private readonly Builder _b;
            private readonly Dictionary<string, ConfigValue> _eff;
            private readonly Sec _sec;
            private readonly string? _conn;
            private readonly HashSet<string> _failed = new(StringComparer.Ordinal);

            public Reader(Builder b, Dictionary<string, ConfigValue> eff, Sec sec, string? conn = null)
            {
                _b = b;
                _eff = eff;
                _sec = sec;
                _conn = conn;
            }

            public bool Failed(string key) => _failed.Contains(key);
            public SourceLocation? Location(string key) => _eff.TryGetValue(key, out ConfigValue? v) ? v.Location : null;

            private ConfigValue? Get(string key) => _eff.TryGetValue(key, out ConfigValue? v) && v.Value.Length > 0 ? v : null;

            public void Bad(string key, string message)
            {
                _failed.Add(key);
                SourceLocation at = Location(key) ?? SourceLocation.None;
                string inConn = _conn != null && Get(key) is ConfigValue cv && cv.FromSection != null && cv.FromSection != "conn " + _conn
                    ? $" (inherited by conn \"{_conn}\")" : "";
                _b._diag.Error(at, message + inConn);
            }

            private void BadValue(ConfigValue v, string allowed, string? suggestion = null)
            {
                string sugg = suggestion == null ? "" : $"; did you mean \"{suggestion}\"?";
                Bad(KeyOf(_sec, v.Keyword), $"invalid value \"{v.Value}\" for {v.Keyword}=; allowed: {allowed}{sugg}");
            }

            public string? Str(string key) => Get(key)?.Value;

            public string? Enum(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                Keyword kw = Keywords.For(_sec)[v.Keyword];
                var allowed = kw.EnumValues().Where(e => (e.Dialects & _b._d) != 0).Select(e => e.Value).ToList();
                if (allowed.Contains(v.Value)) return v.Value;
                var elsewhere = kw.EnumValues().Where(e => e.Value == v.Value).Select(e => e.Dialects).FirstOrDefault();
                if (elsewhere != 0)
                    Bad(key, $"value \"{v.Value}\" for {v.Keyword}= is {Keywords.Names(elsewhere)} only; allowed in the {Keywords.Name(_b._dialect)} dialect: {string.Join("|", allowed)} ({_b.DialectHint})");
                else
                    BadValue(v, string.Join("|", allowed), Suggest.Closest(v.Value, allowed));
                return null;
            }

            public bool? Bool(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                if (v.Value == "yes") return true;
                if (v.Value == "no") return false;
                BadValue(v, "yes|no", v.Value is "true" or "y" or "on" or "1" ? "yes" : v.Value is "false" or "n" or "off" or "0" ? "no" : null);
                return null;
            }

            public TimeSpan? Time(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                if (Values.TryTime(v.Value, out TimeSpan t, out string? err)) return t;
                Bad(key, $"{v.Keyword}=: {err}");
                return null;
            }

            public int? Percent(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                if (v.Value.EndsWith('%') && int.TryParse(v.Value.AsSpan(0, v.Value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p <= 100000) return p;
                BadValue(v, "a whole number followed by '%' (e.g. 100%)");
                return null;
            }

            public int? Int(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                if (int.TryParse(v.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return n;
                BadValue(v, "a whole number (0 or more)");
                return null;
            }

            public int? IntRange(string key, int min, int max)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                if (int.TryParse(v.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max) return n;
                BadValue(v, $"a whole number {min}..{max}");
                return null;
            }

            public int? KeyingTries(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                if (v.Value == "%forever") return Connection.KeyingTriesForever;
                if (int.TryParse(v.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return n;
                BadValue(v, "a whole number, or %forever (0 also means never give up)", Suggest.Closest(v.Value, new[] { "%forever" }));
                return null;
            }

            public AuthMethods? AuthBy(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                Dia d = _b._d;
                string[] names = d switch
                {
                    Dia.F => new[] { "secret", "rsasig", "secret|rsasig", "rsasig|secret", "never" },
                    Dia.L => new[] { "secret", "rsasig", "ecdsa", "null", "never", "rsa-sha1", "rsa-sha2", "rsa-sha2_256", "rsa-sha2_384", "rsa-sha2_512", "ecdsa-sha2", "ecdsa-sha2_256", "ecdsa-sha2_384", "ecdsa-sha2_512" },
                    _ => new[] { "pubkey", "rsasig", "ecdsasig", "psk", "secret", "xauthrsasig", "xauthpsk", "never" },
                };
                // Libreswan takes a comma list (rsasig,ecdsa); FreeS/WAN wrote secret|rsasig as one value.
                string[] parts = d == Dia.L ? v.Value.Split(',') : new[] { v.Value };
                AuthMethods m = AuthMethods.None;
                foreach (string part in parts)
                {
                    string p = part.Trim();
                    if (!names.Contains(p))
                    {
                        BadValue(v, string.Join(", ", d == Dia.F ? new[] { "secret", "rsasig", "secret|rsasig", "never" } : names.Take(8)), Suggest.Closest(p, names));
                        return null;
                    }
                    m |= p switch
                    {
                        "secret" or "psk" => AuthMethods.Secret,
                        "secret|rsasig" or "rsasig|secret" => AuthMethods.Secret | AuthMethods.RsaSig,
                        "never" => AuthMethods.Never,
                        "null" => AuthMethods.Null,
                        "pubkey" => AuthMethods.PubKey,
                        "xauthrsasig" => AuthMethods.XAuth | AuthMethods.RsaSig,
                        "xauthpsk" => AuthMethods.XAuth | AuthMethods.Secret,
                        _ when p.StartsWith("ecdsa", StringComparison.Ordinal) => AuthMethods.Ecdsa,
                        _ => AuthMethods.RsaSig,
                    };
                }
                if ((m & AuthMethods.Never) != 0 && m != AuthMethods.Never) { BadValue(v, "never alone, or a list of methods"); return null; }
                return m;
            }

            public IReadOnlyList<string> Proposals(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return Array.Empty<string>();
                var list = new List<string>();
                foreach (string raw in v.Value.Split(','))
                {
                    string p = raw.Trim();
                    bool ok = p.Length > 0 && p.Length <= 200 && char.IsAsciiLetterOrDigit(p[0]) && !p.Contains("--", StringComparison.Ordinal)
                        && !p.EndsWith('-') && p.TrimEnd('!').All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or ';' or ':' or '.' or '+')
                        && p.IndexOf('!') is -1 || p.IndexOf('!') == p.Length - 1;
                    if (!ok || p.Length == 0)
                    {
                        Bad(key, $"invalid proposal \"{p}\" in {v.Keyword}=; expected algorithm names joined by '-' (e.g. aes128-sha256-modp3072 or aes128gcm16-prfsha256-x25519), proposals separated by ','");
                        return Array.Empty<string>();
                    }
                    list.Add(p);
                }
                return list;
            }

            public HostAddress Host(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return HostAddress.Unset;
                string s = v.Value;
                switch (s)
                {
                    case "%defaultroute": return new HostAddress(HostKind.DefaultRoute);
                    case "%any": case "%any4": case "%any6": case "0.0.0.0": case "::": return new HostAddress(HostKind.Any, null, s);
                    case "%opportunistic": return new HostAddress(HostKind.Opportunistic);
                    case "%opportunisticgroup": return new HostAddress(HostKind.OpportunisticGroup);
                    case "%group": return new HostAddress(HostKind.Group);
                }
                if (Values.TryStrictAddress(s, out IPAddress? a)) return new HostAddress(HostKind.Address, a);
                if (s.StartsWith('%') || s.Contains('/', StringComparison.Ordinal) || !Values.IsHostname(s))
                {
                    string allowed = "an IPv4/IPv6 address, a host name, %defaultroute, %any, %opportunistic, %opportunisticgroup, %group";
                    string hint = s.Contains('/', StringComparison.Ordinal) ? $" (a subnet belongs in {v.Keyword}subnet=)" : "";
                    BadValue(v, allowed + hint, s.StartsWith('%') ? Suggest.Closest(s, new[] { "%defaultroute", "%any", "%opportunistic", "%opportunisticgroup", "%group" }) : null);
                    return HostAddress.Unset;
                }
                return new HostAddress(HostKind.Hostname, null, s.ToLowerInvariant());
            }

            public IReadOnlyList<IPNetwork> Subnets(string key, bool allowList)
            {
                ConfigValue? v = Get(key);
                if (v == null) return Array.Empty<IPNetwork>();
                string[] parts = v.Value.Split(',');
                if (parts.Length > 1 && !allowList)
                {
                    Bad(key, $"{v.Keyword}= takes one subnet in the {Keywords.Name(_b._dialect)} dialect; lists are strongSwan/Libreswan ({_b.DialectHint})");
                    return Array.Empty<IPNetwork>();
                }
                return ParseNets(key, v, parts);
            }

            public IReadOnlyList<IPNetwork> SubnetList(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return Array.Empty<IPNetwork>();
                string s = v.Value.Trim();
                if (s.StartsWith('{') != s.EndsWith('}')) { Bad(key, $"invalid {v.Keyword}= list \"{s}\"; write {{a.b.c.d/n, e.f.g.h/m}}"); return Array.Empty<IPNetwork>(); }
                s = s.TrimStart('{').TrimEnd('}');
                string[] parts = s.Split(new[] { ',', ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 0) { Bad(key, $"empty {v.Keyword}= list"); return Array.Empty<IPNetwork>(); }
                return ParseNets(key, v, parts);
            }

            private List<IPNetwork> ParseNets(string key, ConfigValue v, string[] parts)
            {
                var list = new List<IPNetwork>();
                foreach (string part in parts)
                {
                    if (!Values.TrySubnet(part, out IPNetwork n, out string? err))
                    {
                        Bad(key, $"{v.Keyword}=: {err}");
                        return new List<IPNetwork>();
                    }
                    if (list.Contains(n)) { Bad(key, $"{v.Keyword}=: subnet {n} is listed twice"); return new List<IPNetwork>(); }
                    list.Add(n);
                }
                return list;
            }

            public NextHop NextHop(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return Config.NextHop.Unset;
                if (v.Value == "%defaultroute") return new NextHop(NextHopKind.DefaultRoute);
                if (v.Value == "%direct") return new NextHop(NextHopKind.Direct);
                if (Values.TryStrictAddress(v.Value, out IPAddress? a)) return new NextHop(NextHopKind.Address, a);
                BadValue(v, "an IP address, %defaultroute, %direct", v.Value.StartsWith('%') ? Suggest.Closest(v.Value, new[] { "%defaultroute", "%direct" }) : null);
                return Config.NextHop.Unset;
            }

            public Identity? Id(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                if (Identity.TryParse(v.Value, out Identity id, out string? err)) return id;
                Bad(key, $"{v.Keyword}=: {err}");
                return null;
            }

            public PublicKeySpec? RsaKey(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                switch (v.Value)
                {
                    case "%dns": return new PublicKeySpec(PublicKeySource.Dns);
                    case "%dnsondemand": return new PublicKeySpec(PublicKeySource.DnsOnDemand);
                    case "%dnsonload": return new PublicKeySpec(PublicKeySource.DnsOnLoad);
                    case "%cert": return new PublicKeySpec(PublicKeySource.Cert);
                    case "%none": return new PublicKeySpec(PublicKeySource.None);
                }
                if (v.Value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || v.Value.StartsWith("0s", StringComparison.Ordinal))
                {
                    if (Values.TryTtoData(v.Value, out byte[] bytes, out string? err)) return new PublicKeySpec(PublicKeySource.Literal, v.Value, bytes);
                    Bad(key, $"{v.Keyword}=: {err}");
                    return null;
                }
                if (_b._dialect == ConfigDialect.StrongSwan) return new PublicKeySpec(PublicKeySource.Literal, v.Value); // a key file
                BadValue(v, "an RFC 2537 key (0s<base64> or 0x<hex>), %dns, %dnsondemand, %dnsonload, %cert", v.Value.StartsWith('%') ? Suggest.Closest(v.Value, new[] { "%dns", "%dnsondemand", "%dnsonload", "%cert" }) : null);
                return null;
            }

            public uint? Spi(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                if (!Values.TrySpi(v.Value, out uint spi)) { BadValue(v, "0x followed by 1 to 8 hex digits (e.g. 0x200)"); return null; }
                if (spi < 0x100) { Bad(key, $"{v.Keyword}={v.Value}: SPIs 0x0-0xff are reserved (RFC 4303 §2.1); use 0x100 or more"); return null; }
                return spi;
            }

            public uint? SpiBase(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                if (!Values.TrySpi(v.Value, out uint b) || !v.Value.EndsWith('0')) { BadValue(v, "0x...0: hex digits ending in 0 (e.g. 0x200)"); return null; }
                if (b < 0x100) { Bad(key, $"{v.Keyword}={v.Value}: SPIs 0x0-0xff are reserved (RFC 4303 §2.1); use 0x100 or more"); return null; }
                return b;
            }

            public SecretBytes? Key(string key)
            {
                ConfigValue? v = Get(key);
                if (v == null) return null;
                if (Values.TryTtoData(v.Value, out byte[] bytes, out string? err)) return new SecretBytes(bytes);
                Bad(key, $"{v.Keyword}=: {err}");
                return null;
            }
        }
    }
}
