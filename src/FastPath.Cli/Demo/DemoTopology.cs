// The West/East/Sunset/Sunrise topology of DESIGN.md §5 (the same as perf-scripts/lib/topology.sh
// in "gateway" mode, docs/netns-testbed.md), built by the demo itself in four network namespaces
// fp-demo-<rand>-{sunset,west,east,sunrise}, documentation addresses only, no default route anywhere:
//
//   sunset 192.0.2.10/25 2001:db8:1::10 ─eth0──inside─ west [192.0.2.1 | 203.0.113.1]
//     ═outside══outside═ [203.0.113.2 | 192.0.2.129] east ─inside──eth0─ sunrise 192.0.2.138/25 2001:db8:2::138
//   public link 203.0.113.0/24, 2001:db8:ffff::/64
//
// West and east do not forward in the kernel (the gateway's kernel guard also sets ip_forward=0);
// they keep routes to the far subnets because FastPath asks the kernel for next hops. TSO/GSO off
// on the end hosts (frames on the wire stay MTU-sized, as from a real NIC), GRO off on the
// gateways' interfaces (AF_PACKET would see 64 KB aggregates), IPv6 DAD off (addresses usable at once).
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace FastPath.Cli.Demo;

internal sealed class DemoTopology
{
    public static readonly string[] Roles = ["sunset", "west", "east", "sunrise"];
    public string Tag { get; }
    public bool Created { get; private set; }
    public List<string> Notes { get; } = [];

    public DemoTopology(string tag) => Tag = tag;

    public string Ns(string role) => $"fp-{Tag}-{role}";
    public string Sunset => Ns("sunset");
    public string West => Ns("west");
    public string East => Ns("east");
    public string Sunrise => Ns("sunrise");

    public async Task UpAsync(CancellationToken cancel)
    {
        Created = true; // from the first `ip netns add` on, teardown has something to delete
        foreach (string r in Roles)
        {
            await Ip(cancel, "netns", "add", Ns(r)).ConfigureAwait(false);
            await Ip(cancel, "-n", Ns(r), "link", "set", "lo", "up").ConfigureAwait(false);
            await Sysctl(Ns(r), cancel, ("net/ipv6/conf/all/accept_dad", "0"), ("net/ipv6/conf/default/accept_dad", "0"),
                ("net/ipv6/conf/all/accept_ra", "0"), ("net/ipv6/conf/default/accept_ra", "0")).ConfigureAwait(false);
        }
        await Ip(cancel, "link", "add", "eth0", "netns", Sunset, "type", "veth", "peer", "name", "inside", "netns", West).ConfigureAwait(false);
        await Ip(cancel, "link", "add", "outside", "netns", West, "type", "veth", "peer", "name", "outside", "netns", East).ConfigureAwait(false);
        await Ip(cancel, "link", "add", "inside", "netns", East, "type", "veth", "peer", "name", "eth0", "netns", Sunrise).ConfigureAwait(false);

        (string Ns, string Dev, string Addr)[] addrs =
        [
            (Sunset, "eth0", "192.0.2.10/25"), (Sunset, "eth0", "2001:db8:1::10/64"),
            (West, "inside", "192.0.2.1/25"), (West, "inside", "2001:db8:1::1/64"),
            (West, "outside", "203.0.113.1/24"), (West, "outside", "2001:db8:ffff::1/64"),
            (East, "outside", "203.0.113.2/24"), (East, "outside", "2001:db8:ffff::2/64"),
            (East, "inside", "192.0.2.129/25"), (East, "inside", "2001:db8:2::1/64"),
            (Sunrise, "eth0", "192.0.2.138/25"), (Sunrise, "eth0", "2001:db8:2::138/64"),
        ];
        foreach (var (ns, dev, addr) in addrs)
        {
            if (addr.Contains(':', StringComparison.Ordinal)) await Ip(cancel, "-n", ns, "addr", "add", addr, "dev", dev, "nodad").ConfigureAwait(false);
            else await Ip(cancel, "-n", ns, "addr", "add", addr, "dev", dev).ConfigureAwait(false);
        }

        string? ethtool = DemoShell.Which("ethtool");
        if (ethtool is null) Notes.Add("ethtool not found: veth offloads left on (install ethtool for MTU-sized frames on the wire)");
        foreach (string ns in new[] { Sunset, Sunrise })
        {
            await Ip(cancel, "-n", ns, "link", "set", "eth0", "up").ConfigureAwait(false);
            if (ethtool is not null) await DemoShell.RunAsync(["ip", "netns", "exec", ns, ethtool, "-K", "eth0", "tso", "off", "gso", "off"], 10_000, cancel).ConfigureAwait(false);
        }
        foreach (string ns in new[] { West, East })
            foreach (string dev in new[] { "inside", "outside" })
            {
                await Ip(cancel, "-n", ns, "link", "set", dev, "up").ConfigureAwait(false);
                if (ethtool is not null) await DemoShell.RunAsync(["ip", "netns", "exec", ns, ethtool, "-K", dev, "gro", "off", "lro", "off"], 10_000, cancel).ConfigureAwait(false);
            }

        // End hosts reach the far subnet through their gateway; nothing has a default route.
        await Ip(cancel, "-n", Sunset, "route", "add", "192.0.2.128/25", "via", "192.0.2.1").ConfigureAwait(false);
        await Ip(cancel, "-n", Sunset, "-6", "route", "add", "2001:db8:2::/64", "via", "2001:db8:1::1").ConfigureAwait(false);
        await Ip(cancel, "-n", Sunrise, "route", "add", "192.0.2.0/25", "via", "192.0.2.129").ConfigureAwait(false);
        await Ip(cancel, "-n", Sunrise, "-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:2::1").ConfigureAwait(false);
        await Ip(cancel, "-n", West, "route", "add", "192.0.2.128/25", "via", "203.0.113.2").ConfigureAwait(false);
        await Ip(cancel, "-n", West, "-6", "route", "add", "2001:db8:2::/64", "via", "2001:db8:ffff::2").ConfigureAwait(false);
        await Ip(cancel, "-n", East, "route", "add", "192.0.2.0/25", "via", "203.0.113.1").ConfigureAwait(false);
        await Ip(cancel, "-n", East, "-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:ffff::1").ConfigureAwait(false);
        foreach (string ns in new[] { West, East })
            await Sysctl(ns, cancel, ("net/ipv4/ip_forward", "0"), ("net/ipv6/conf/all/forwarding", "0")).ConfigureAwait(false);

        // Neighbours warm, so the first pings through the tunnel do not pay ARP/ND.
        await DemoShell.RunAsync(["ip", "netns", "exec", Sunset, "ping", "-n", "-c1", "-W1", "192.0.2.1"], 5000, cancel).ConfigureAwait(false);
        await DemoShell.RunAsync(["ip", "netns", "exec", Sunrise, "ping", "-n", "-c1", "-W1", "192.0.2.129"], 5000, cancel).ConfigureAwait(false);
        await DemoShell.RunAsync(["ip", "netns", "exec", West, "ping", "-n", "-c1", "-W1", "203.0.113.2"], 5000, cancel).ConfigureAwait(false);
    }

    /// <summary>Processes still inside the namespaces when they were deleted (killed first).</summary>
    public List<int> Stragglers { get; } = [];

    /// <summary>Deletes the four namespaces (also ones never created). Whatever still runs inside one
    /// (`ip netns pids`) can only be the demo's own — the namespaces are its — and is killed by PID
    /// first, so no process outlives its network.</summary>
    public void Down()
    {
        if (!Created) return;
        foreach (string r in Roles)
        {
            var (code, pids) = DemoShell.RunAsync(["ip", "netns", "pids", Ns(r)], 10_000, CancellationToken.None).GetAwaiter().GetResult();
            if (code == 0)
                foreach (string p in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    if (int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid) && pid > 1)
                    {
                        Stragglers.Add(pid);
                        _ = Libc.kill(pid, Libc.SIGKILL);
                    }
            DemoShell.RunAsync(["ip", "netns", "del", Ns(r)], 10_000, CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    /// <summary>The fp-TAG-* namespaces that still exist (the test's leak check, and the teardown's).</summary>
    public static IReadOnlyList<string> Existing(string tag)
    {
        var found = new List<string>();
        if (!System.IO.Directory.Exists("/run/netns")) return found;
        foreach (string f in System.IO.Directory.GetFiles("/run/netns", $"fp-{tag}-*")) found.Add(System.IO.Path.GetFileName(f));
        return found;
    }

    private static Task<string> Ip(CancellationToken cancel, params string[] args)
    {
        var argv = new List<string>(args.Length + 1) { "ip" };
        argv.AddRange(args);
        return DemoShell.CheckAsync(argv, cancel);
    }

    // /proc/sys inside the namespace (no dependency on procps' sysctl).
    private static Task<string> Sysctl(string ns, CancellationToken cancel, params (string Key, string Value)[] settings)
    {
        var script = new System.Text.StringBuilder();
        foreach (var (k, v) in settings) script.Append($"echo {v} > /proc/sys/{k} && ");
        script.Append("true");
        return DemoShell.CheckAsync(["ip", "netns", "exec", ns, "sh", "-c", script.ToString()], cancel);
    }
}
