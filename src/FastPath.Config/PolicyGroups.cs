// FreeS/WAN policy groups (seeds 002:719-967): a conn whose right is %group or
// %opportunisticgroup takes its peers from /etc/ipsec.d/policies/<conn name>, one CIDR block
// (or address, or host name) per line, '#' comments. A missing file is an empty group
// (002:870). The same block in two groups for the same local source is ambiguous and refused,
// naming both places, as Pluto did:
//   "/etc/ipsec.d/policies/private-or-clear" line 14: subnet "0.0.0.0/0", source 192.0.2.13/32, already "private-or-clear"
// (002:3293-3300). Groups for different local sources (private vs private-net with its own
// leftsubnet) may hold the same block ("the fine print", 002:3298).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;

namespace FastPath.Config;

/// <summary>One line of a policy file.</summary>
public sealed record PolicyEntry(IPNetwork? Network, string? Hostname, SourceLocation Location)
{
    public override string ToString() => Network?.ToString() ?? Hostname ?? "";
}

/// <summary>A policy group: its conn and the peers listed in its file.</summary>
public sealed class PolicyGroup
{
    public required string Name { get; init; }
    public required Connection Connection { get; init; }
    public required string File { get; init; }
    public bool FileExists { get; init; }
    public IReadOnlyList<PolicyEntry> Entries { get; init; } = Array.Empty<PolicyEntry>();
    /// <summary>The local side this group protects (leftsubnet, or the host itself).</summary>
    public string Source => Connection.Left.Subnets.Count > 0 ? string.Join(",", Connection.Left.Subnets) : Connection.Left.Host.ToString();
}

public static class PolicyGroups
{
    /// <summary>Re-reads the policy files (`rereadgroups`) for a loaded config; throws ConfigException on errors.</summary>
    public static IReadOnlyList<PolicyGroup> Load(IpsecConfig config, string directory, out IReadOnlyList<ConfigDiagnostic> warnings)
    {
        var diag = new DiagnosticBag();
        IReadOnlyList<PolicyGroup> groups = Load(config.Connections, directory, diag, Path.GetDirectoryName(config.Path) ?? "/");
        if (diag.HasErrors) throw new ConfigException(diag.Sorted());
        warnings = diag.Warnings;
        return groups;
    }

    internal static IReadOnlyList<PolicyGroup> Load(IReadOnlyList<Connection> conns, string directory, DiagnosticBag diag, string baseDir)
    {
        var groups = new List<PolicyGroup>();
        var claimed = new Dictionary<(string Source, IPNetwork Net), (PolicyGroup Group, PolicyEntry Entry)>();
        foreach (Connection c in conns.Where(c => c.IsPolicyGroup && c.Auto != AutoAction.Ignore))
        {
            string file = Path.Combine(directory, c.Name);
            string display = ConfReader.Display(baseDir, Path.GetFullPath(file));
            bool exists = File.Exists(file);
            var entries = new List<PolicyEntry>();
            if (exists)
            {
                string? text = ConfReader.ReadText(Path.GetFullPath(file), new SourceLocation(display, 0, 0), diag, "policy file", display);
                if (text != null) ParseFile(text, display, entries, diag);
            }
            var group = new PolicyGroup { Name = c.Name, Connection = c, File = file, FileExists = exists, Entries = entries };
            foreach (PolicyEntry e in entries.Where(e => e.Network != null))
            {
                var key = (group.Source, e.Network!.Value);
                if (claimed.TryGetValue(key, out var prev))
                {
                    if (prev.Group == group)
                        diag.Warning(e.Location, $"subnet \"{e.Network}\" is listed twice in this file (first at {prev.Entry.Location})");
                    else
                        diag.Error(e.Location, $"subnet \"{e.Network}\", source {group.Source}, already \"{prev.Group.Name}\" ({prev.Entry.Location}); a block may be in only one policy group");
                    continue;
                }
                claimed[key] = (group, e);
            }
            groups.Add(group);
        }
        if (Directory.Exists(directory))
        {
            var names = new HashSet<string>(conns.Where(c => c.IsPolicyGroup).Select(c => c.Name), StringComparer.Ordinal);
            foreach (string f in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
            {
                string n = Path.GetFileName(f);
                if (n.StartsWith('.') || names.Contains(n)) continue;
                diag.Warning(new SourceLocation(ConfReader.Display(baseDir, Path.GetFullPath(f)), 0, 0),
                    $"policy file \"{n}\" has no conn \"{n}\" with right=%group or %opportunisticgroup; it is ignored");
            }
        }
        return groups;
    }

    internal static void ParseFile(string text, string display, List<PolicyEntry> entries, DiagnosticBag diag)
    {
        int lineNo = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNo++;
            string line = raw.TrimEnd('\r');
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0) line = line[..hash];
            int col = 0;
            while (col < line.Length && line[col] is ' ' or '\t') col++;
            string content = line.Trim();
            if (content.Length == 0) continue;
            var at = new SourceLocation(display, lineNo, col + 1);
            if (content.Any(ch => ch < ' ' && ch != '\t' || ch == '\uFFFD')) { diag.Error(at, "invalid character in policy file"); continue; }
            string[] tokens = content.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length > 1) { diag.Error(at, $"one CIDR block per line; found \"{content}\""); continue; }
            string t = tokens[0];
            int dash = t.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && Values.TryStrictAddress(t[..dash], out IPAddress? lo) && Values.TryStrictAddress(t[(dash + 1)..], out IPAddress? hi))
            {
                // An IP range (002:754) becomes the smallest set of CIDR blocks covering it exactly.
                if (lo!.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || hi!.AddressFamily != lo.AddressFamily)
                { diag.Error(at, $"invalid range \"{t}\": only IPv4 ranges are supported; write CIDR blocks"); continue; }
                uint a = ToUInt(lo), b = ToUInt(hi);
                if (a > b) { diag.Error(at, $"invalid range \"{t}\": the first address is above the last"); continue; }
                foreach (IPNetwork n in RangeToCidrs(a, b)) entries.Add(new PolicyEntry(n, null, at));
                continue;
            }
            if (Values.TrySubnet(t, out IPNetwork net, out string? err)) { entries.Add(new PolicyEntry(net, null, at)); continue; }
            if (!t.Contains('/', StringComparison.Ordinal) && Values.IsHostname(t))
            {
                // FreeS/WAN resolved names when the groups were read; FastPath does no DNS here.
                diag.Warning(at, $"host name \"{t}\" is kept but not resolved (FastPath does not look up policy-group names); write its address");
                entries.Add(new PolicyEntry(null, t.ToLowerInvariant(), at));
                continue;
            }
            diag.Error(at, err ?? $"invalid entry \"{t}\"; expected a CIDR block (e.g. 192.0.2.0/24), an address or a host name");
        }
    }

    private static uint ToUInt(IPAddress a)
    {
        byte[] b = a.GetAddressBytes();
        return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
    }

    internal static IEnumerable<IPNetwork> RangeToCidrs(uint lo, uint hi)
    {
        ulong cur = lo;
        while (cur <= hi)
        {
            int len = 32;
            while (len > 0)
            {
                ulong size = 1UL << (33 - len);
                if ((cur & (size - 1)) != 0 || cur + size - 1 > hi) break;
                len--;
            }
            uint c = (uint)cur;
            yield return new IPNetwork(new IPAddress(new[] { (byte)(c >> 24), (byte)(c >> 16), (byte)(c >> 8), (byte)c }), len);
            cur += 1UL << (32 - len);
        }
    }
}
