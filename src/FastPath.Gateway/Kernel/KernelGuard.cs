using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;

namespace FastPath.Gateway.Kernel;

// Fail closed next to the kernel (DESIGN.md §2, seed 000 #8, /work/shared/IO.md pitfalls 3 and 5).
// AF_PACKET copies frames, it does not steal them: the kernel of the gateway still receives every
// frame the dataplane reads. Left alone, the kernel would
//   - forward the protected cleartext in parallel with (or, when FastPath is down, instead of) the
//     tunnel: ip_forward must be 0, and stays 0 when FastPath stops or crashes, so nothing crosses
//     when FastPath is not running;
//   - answer inbound ESP (IP protocol 50) with ICMP protocol-unreachable, since this kernel has no
//     ESP, and ESP-in-UDP on 4500 with port-unreachable when no socket listens;
//   - deliver transit cleartext that happens to be addressed oddly.
// The guard is one nft table in the netdev family: an ingress chain per dataplane interface, at
// priority -500, that drops what the dataplane owns before the kernel's IP stack sees it. AF_PACKET's
// ETH_P_ALL taps run before the netdev ingress hook, so the dataplane still sees everything. What the
// kernel must keep receiving: ARP and IPv6 ND (neighbor resolution for both the kernel and the
// dataplane's next hops), IKE (UDP 500, and UDP 4500 whose first 4 payload bytes are the zero non-ESP
// marker, RFC 3948 §2.2) for the control plane's sockets, and traffic addressed to the gateway itself
// (management). The ip_forward=0 sysctls are the second wall. The table is installed before any ring
// opens and left in place at stop (the kernel then drops ESP silently; it would not forward anyway).

/// <summary>One check of <see cref="KernelGuard.Verify"/>, printed `[OK]` / `[FAILED]` like `ipsec verify`.</summary>
public readonly record struct GuardCheck(string Name, bool Ok, string Detail)
{
    public override string ToString() => $"{Name,-60} [{(Ok ? "OK" : "FAILED")}]" + (Detail.Length > 0 ? $" {Detail}" : "");
}

/// <summary>Installs and verifies the kernel-side fail-closed settings of one gateway (in the current network namespace).</summary>
public sealed class KernelGuard
{
    /// <summary>Name of the nft table (family netdev).</summary>
    public const string TableName = "fastpath_guard";

    private readonly string _inside;
    private readonly string _outside;

    public KernelGuard(string insideInterface, string outsideInterface)
    {
        ArgumentException.ThrowIfNullOrEmpty(insideInterface);
        ArgumentException.ThrowIfNullOrEmpty(outsideInterface);
        _inside = insideInterface;
        _outside = outsideInterface;
    }

    /// <summary>The nft script the guard loads (replaces any earlier table of the same name).</summary>
    public string Ruleset()
    {
        var local4 = new List<string>();
        var local6 = new List<string>();
        foreach (var ni in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (var ua in ni.GetIPProperties().UnicastAddresses)
            {
                if (IPAddress.IsLoopback(ua.Address)) continue;
                if (ua.Address.AddressFamily == AddressFamily.InterNetwork) local4.Add(ua.Address.ToString());
                else if (ua.Address.AddressFamily == AddressFamily.InterNetworkV6 && !ua.Address.IsIPv6LinkLocal) local6.Add(ua.Address.ToString());
            }
        }
        string set4 = local4.Count > 0 ? "{ " + string.Join(", ", local4.Distinct()) + " }" : "{ 127.0.0.1 }";
        // Link-local and multicast destinations are the gateway's own (ND lives there).
        string set6 = "{ fe80::/10, ff00::/8" + string.Concat(local6.Distinct().Select(a => ", " + a)) + " }";
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"table netdev {TableName}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"delete table netdev {TableName}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"table netdev {TableName} {{");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  chain inside {{");
        sb.AppendLine(CultureInfo.InvariantCulture, $"    type filter hook ingress device \"{_inside}\" priority -500; policy accept;");
        sb.AppendLine("    # cleartext from the protected side belongs to the dataplane (eroute, ESP); the kernel keeps ARP/ND and its own traffic");
        sb.AppendLine(CultureInfo.InvariantCulture, $"    ip daddr != {set4} counter drop");
        sb.AppendLine(CultureInfo.InvariantCulture, $"    ip6 daddr != {set6} counter drop");
        sb.AppendLine("  }");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  chain outside {{");
        sb.AppendLine(CultureInfo.InvariantCulture, $"    type filter hook ingress device \"{_outside}\" priority -500; policy accept;");
        sb.AppendLine("    # ESP is the dataplane's: the kernel (no ESP here) would answer with ICMP protocol unreachable");
        sb.AppendLine("    ip protocol esp counter drop");
        sb.AppendLine("    ip6 nexthdr esp counter drop");
        sb.AppendLine("    # ESP-in-UDP (RFC 3948): non-zero first 4 payload bytes; IKE (zero non-ESP marker) still reaches the kernel's socket");
        sb.AppendLine("    udp dport 4500 @th,64,32 != 0 counter drop");
        sb.AppendLine(CultureInfo.InvariantCulture, $"    ip daddr != {set4} counter drop");
        sb.AppendLine(CultureInfo.InvariantCulture, $"    ip6 daddr != {set6} counter drop");
        sb.AppendLine("  }");
        sb.AppendLine("}");
        return sb.ToString();
    }

    /// <summary>Switches forwarding off and loads the nft table. Throws <see cref="InvalidOperationException"/>
    /// with the reason when the kernel refuses (then the gateway must not start).</summary>
    public void Apply()
    {
        WriteSysctl("net/ipv4/ip_forward", "0");
        if (Directory.Exists("/proc/sys/net/ipv6")) WriteSysctl("net/ipv6/conf/all/forwarding", "0");
        var (code, output) = Run("nft", "-f -", Ruleset());
        if (code != 0) throw new InvalidOperationException($"nft refused the guard table: {output.Trim()} (is nftables installed and are you root?)");
    }

    /// <summary>Removes the nft table (forwarding stays off).</summary>
    public static void Remove()
    {
        Run("nft", $"delete table netdev {TableName}", null);
    }

    /// <summary>The checks of `fastpath verify` for this gateway's kernel settings.</summary>
    public IReadOnlyList<GuardCheck> Verify()
    {
        var checks = new List<GuardCheck>();
        string f4 = ReadSysctl("net/ipv4/ip_forward");
        checks.Add(new("IPv4 forwarding off (net.ipv4.ip_forward = 0)", f4 == "0", f4 == "0" ? "" : $"is {f4}: the kernel would forward protected cleartext"));
        if (Directory.Exists("/proc/sys/net/ipv6"))
        {
            string f6 = ReadSysctl("net/ipv6/conf/all/forwarding");
            checks.Add(new("IPv6 forwarding off (net.ipv6.conf.all.forwarding = 0)", f6 == "0", f6 == "0" ? "" : $"is {f6}"));
        }
        var (code, listing) = Run("nft", $"list table netdev {TableName}", null);
        bool table = code == 0;
        checks.Add(new($"nft table netdev {TableName} present", table, table ? "" : listing.Trim()));
        if (table)
        {
            checks.Add(new($"ingress guard on {_inside} (protected side)", listing.Contains($"device \"{_inside}\"", StringComparison.Ordinal) || listing.Contains($"devices = {{ {_inside} }}", StringComparison.Ordinal), ""));
            checks.Add(new($"ingress guard on {_outside}: ESP hidden from the kernel", listing.Contains("esp", StringComparison.Ordinal) && listing.Contains(_outside, StringComparison.Ordinal), ""));
            checks.Add(new("ESP-in-UDP (4500, non-zero marker) hidden from the kernel, IKE passes", listing.Contains("dport 4500", StringComparison.Ordinal), ""));
        }
        foreach (string ifname in new[] { _inside, _outside })
        {
            var ni = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == ifname);
            checks.Add(new($"interface {ifname} exists and is up", ni is not null && ni.OperationalStatus != OperationalStatus.Down,
                ni is null ? "no such interface in this network namespace" : ni.OperationalStatus.ToString()));
        }
        return checks;
    }

    private static string ReadSysctl(string path)
    {
        try { return File.ReadAllText("/proc/sys/" + path).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "unreadable"; }
    }

    private static void WriteSysctl(string path, string value)
    {
        try { File.WriteAllText("/proc/sys/" + path, value); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot set /proc/sys/{path} = {value}: {e.Message} (root needed)", e);
        }
    }

    internal static (int Code, string Output) Run(string file, string args, string? stdin)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process p;
        try { p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}"); }
        catch (System.ComponentModel.Win32Exception e) { return (127, $"{file}: {e.Message}"); }
        using (p)
        {
            if (stdin is not null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(10_000)) { p.Kill(); return (124, $"{file} timed out"); }
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
    }
}
