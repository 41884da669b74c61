using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using FastPath.Cli.Demo;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Demo;

/// <summary>
/// `fastpath demo` end to end (the README's main command): the real netns topology, two real
/// FastPath gateways, ping and iperf3 through them; afterwards no fp-demo-* namespace of the run and
/// no process of it is left — also when the run is cancelled after the tunnel is up. Missing tools
/// make it fail (exit 3), never skip.
/// </summary>
[Collection("netns")]
public sealed partial class DemoTests
{
    private readonly ITestOutputHelper _out;
    public DemoTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [InlineData("ikev2")]
    [InlineData("manual")]
    public async Task DemoCarriesPingsAndIperfThroughTheTunnelAndLeavesNothingBehind(string keying)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var sw = Stopwatch.StartNew();
        int code = await DemoCommand.RunAsync(new DemoOptions { Seconds = 2, Json = true, Keying = keying, Output = output, Error = error }, CancellationToken.None);
        _out.WriteLine($"demo took {sw.Elapsed.TotalSeconds:F1} s, exit {code}");
        _out.WriteLine(error.ToString());
        Assert.True(code == 0, $"exit {code}\n{error}\n{output}");

        using var doc = JsonDocument.Parse(output.ToString());
        var root = doc.RootElement;
        Assert.Equal("ok", root.GetProperty("result").GetString());
        Assert.Equal(keying, root.GetProperty("keying").GetString());
        string tag = root.GetProperty("tag").GetString()!;
        Assert.StartsWith("demo-", tag, StringComparison.Ordinal);

        // Packets crossed: every ping direction and family got replies, iperf3 measured throughput,
        // and the gateways' counters show the ESP work (encapsulated on one side, decapsulated on the other).
        var pings = root.GetProperty("pings").EnumerateArray().ToList();
        Assert.Equal(4, pings.Count);
        foreach (var p in pings) Assert.True(p.GetProperty("received").GetInt32() >= 4, p.ToString());
        double mbits = root.GetProperty("iperf3").GetProperty("receiver_mbits").GetDouble();
        Assert.True(mbits > 0, $"iperf3 {mbits} Mbit/s");
        Assert.True(root.GetProperty("iperf3").GetProperty("intervals").GetArrayLength() >= 2);
        var west = root.GetProperty("counters").GetProperty("west").GetProperty("totals");
        var east = root.GetProperty("counters").GetProperty("east").GetProperty("totals");
        Assert.True(west.GetProperty("Encapsulated").GetInt64() > 1000, west.ToString());
        Assert.True(east.GetProperty("Decapsulated").GetInt64() > 1000, east.ToString());
        // Four ESP SAs on west: in and out for IPv4 and IPv6 (manual: one line each; IKEv2: `fastpath spi` blocks).
        var sas = root.GetProperty("sas").GetProperty("west").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(4, keying == "manual" ? sas.Count : sas.Count(l => l.Contains("proto esp", StringComparison.Ordinal)));
        Assert.Contains(root.GetProperty("eroutes").GetProperty("west").EnumerateArray(), e => e.GetString()!.Contains("192.0.2.128/25", StringComparison.Ordinal));
        // The human-readable lines (on the error writer with --json) show the live intervals and the throughput.
        Assert.Matches(@"throughput: [\d.]+ Mbit/s received", error.ToString());
        Assert.DoesNotContain("--enckey 0x", output.ToString() + error, StringComparison.Ordinal); // keys masked

        var pids = root.GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("pid").GetInt32()).ToArray();
        Assert.True(pids.Length >= 4, "gateways and iperf3 client/server: " + root.GetProperty("processes"));
        AssertNothingLeft(tag, pids);
    }

    [Fact]
    public async Task CancelAfterTheTunnelIsUpTearsEverythingDown()
    {
        using var cts = new CancellationTokenSource();
        // Cancel the moment the demo reports the tunnel up (the iperf3 run would follow).
        var output = new TriggerWriter("tunnel up after", cts);
        var error = new StringWriter();
        var sw = Stopwatch.StartNew();
        int code = await DemoCommand.RunAsync(new DemoOptions { Seconds = 30, Output = output, Error = error }, cts.Token);
        string text = output.ToString();
        _out.WriteLine(text);
        _out.WriteLine($"cancelled run took {sw.Elapsed.TotalSeconds:F1} s");
        Assert.True(output.Fired, $"the tunnel never came up:\n{error}\n{text}");
        Assert.Equal(130, code);
        Assert.Contains("interrupted", error.ToString(), StringComparison.Ordinal);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), "teardown took too long");
        string tag = TagOf(text);
        int[] pids = GatewayPid().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(2, pids.Length);
        AssertNothingLeft(tag, pids);
    }

    [Fact]
    public async Task BadOptionsAreRefusedBeforeAnythingIsBuilt()
    {
        var error = new StringWriter();
        Assert.Equal(2, await DemoCommand.RunAsync(new DemoOptions { Keying = "ikev1", Output = new StringWriter(), Error = error }, CancellationToken.None));
        Assert.Contains("manual or ikev2", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, await DemoCommand.RunAsync(new DemoOptions { Seconds = 0, Output = new StringWriter(), Error = error }, CancellationToken.None));
        Assert.Equal(2, await DemoCommand.RunAsync(new DemoOptions { Suite = "des-md5", Output = new StringWriter(), Error = error }, CancellationToken.None));
    }

    [Fact]
    public void GeneratedIkeConfigsLoadWithTheConfigParser()
    {
        foreach (string side in new[] { "west", "east" })
        {
            var cfg = Config.IpsecConfLoader.Parse(DemoCommand.IpsecConf(side), "/tmp/ipsec.conf");
            var c = cfg["west-east"];
            Assert.Equal(side == "west" ? "192.0.2.0/25" : "192.0.2.128/25", c.Left.Subnets.Single().ToString());
            Assert.NotNull(cfg["west-east-v6"]);
        }
    }

    private static string TagOf(string text)
    {
        Match m = TagRegex().Match(text);
        Assert.True(m.Success, "no namespace tag in:\n" + text);
        return m.Groups[1].Value;
    }

    [GeneratedRegex(@"namespaces fp-(demo-[0-9a-f]{4})-\*")]
    private static partial Regex TagRegex();

    [GeneratedRegex(@"gateway: pid (\d+)")]
    private static partial Regex GatewayPid();

    private static void AssertNothingLeft(string tag, int[] pids)
    {
        foreach (int pid in pids)
        {
            string cmd = "";
            try { cmd = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
            catch (IOException) { } // gone: what we want
            Assert.False(cmd.Contains("fastpath", StringComparison.Ordinal) || cmd.Contains("iperf3", StringComparison.Ordinal), $"pid {pid} still runs: {cmd}");
        }
        string namespaces = Netns.Testbed.Sh("ip netns list", check: false);
        Assert.DoesNotContain($"fp-{tag}-", namespaces, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "fp-" + tag)), "run directory left");
        // No process of this run: every gateway and iperf3 of it carries the tag in its command line or namespace.
        var left = Directory.GetDirectories("/proc").Select(d => Path.GetFileName(d)).Where(n => n.All(char.IsDigit)).Select(pid =>
        {
            try { return (pid, cmd: File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')); }
            catch (IOException) { return (pid, cmd: ""); }
            catch (UnauthorizedAccessException) { return (pid, cmd: ""); }
        }).Where(p => p.cmd.Contains($"fp-{tag}", StringComparison.Ordinal)).ToList();
        Assert.True(left.Count == 0, "processes left: " + string.Join("; ", left.Select(p => $"{p.pid} {p.cmd}")));
    }

    /// <summary>Collects the output and cancels when a marker line is written.</summary>
    private sealed class TriggerWriter(string marker, CancellationTokenSource cts) : StringWriter
    {
        public bool Fired { get; private set; }
        public override void Write(char value) { base.Write(value); Check(); }
        public override void Write(string? value) { base.Write(value); Check(); }
        public override void Write(char[] buffer, int index, int count) { base.Write(buffer, index, count); Check(); }
        public override void WriteLine(string? value) { base.WriteLine(value); Check(); }

        private void Check()
        {
            if (Fired || !GetStringBuilder().ToString().Contains(marker, StringComparison.Ordinal)) return;
            Fired = true;
            cts.Cancel();
        }
    }
}
