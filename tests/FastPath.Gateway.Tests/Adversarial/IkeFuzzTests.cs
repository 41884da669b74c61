using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Adversarial;

/// <summary>
/// IKE fuzzing from a peer namespace (docs/security.md §IKE fuzzing): the real exchange between the two
/// FastPath daemons is captured while the tunnel comes up (IKE_SA_INIT, IKE_AUTH, whatever follows),
/// then the attacker sends mutants of every captured message at the daemon it was addressed to, over UDP
/// 500 and 4500 (with and without the non-ESP marker): bit flips, random bytes, truncation, extension,
/// corrupt IKE and payload lengths, next-payload types, header fields, SPIs, random garbage — from the
/// real peer's address (spoofed, with the live IKE SA's SPIs: the dangerous case) and from the
/// attacker's own. Asserts: neither daemon crashes, the established IKE SA is the same one afterwards
/// (same SPIs: nothing tore it down), the tunnel carries traffic, and both daemons' invalid_messages
/// counters rose. The seed is fixed (and printed) so a failure replays.
/// </summary>
[Collection("netns")]
public sealed class IkeFuzzTests
{
    private readonly ITestOutputHelper _out;
    public IkeFuzzTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void MutatedIkeMessagesNeitherCrashNorDisturbTheEstablishedTunnel() => Fuzz("ike-fuzz", encrypted: false);

    /// <summary>
    /// The encrypted exchanges after IKE_AUTH (docs/security.md "Remaining"): west rekeys its CHILD_SA every
    /// ~2 s (keylife=3s, rekeymargin=1s), the capture runs until two rekeys went by, and the mutants are made
    /// from the CREATE_CHILD_SA (36) and INFORMATIONAL (37) requests and responses only — plus 10 % verbatim
    /// replays of them (a replayed CREATE_CHILD_SA or DELETE with a message ID the window already passed must
    /// be a retransmission at most, RFC 7296 §2.2, never a second CHILD_SA or a delete). The rekeys go on
    /// during the fuzzing, so the live exchanges race the forged ones.
    /// </summary>
    [Fact]
    public void MutatedCreateChildSaAndInformationalMessagesAcrossRekeysNeitherCrashNorDisturbTheIkeSa() => Fuzz("ike-fuzz-encrypted", encrypted: true);

    private void Fuzz(string figure, bool encrypted)
    {
        long count = Profile.Size(12_000, 300_000);
        int rate = Profile.Long ? 5000 : 3000;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("FP_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) ? s : 9009;
        using var ike = new IkeBed();
        var bed = ike.Bed;
        var tb = ike.Tb;
        ike.Write(IkeBed.Conf("west", encrypted ? "keylife=3s\nrekeymargin=1s\nrekeyfuzz=0%" : "", v6: false), IkeBed.Conf("east", encrypted ? "keylife=10m\nrekeymargin=1m\nrekeyfuzz=0%" : "", v6: false));
        ike.Start(["west-east"], capture: true, 60_000, until: encrypted ? () => ike.IkeCounters("west")["child_rekeys"] >= 2 : null);
        Assert.True(tb.Warm("192.0.2.138"), "IKE tunnel does not carry traffic");
        var msgs = IkeFrames.Parse(ike.Captured);
        foreach (var m in msgs) _out.WriteLine("captured: " + m);
        Assert.True(msgs.Count >= 4, $"captured only {msgs.Count} IKE messages");
        Assert.Contains(msgs, m => m.Exchange == 35); // IKE_AUTH
        if (encrypted)
        {
            Assert.Contains(msgs, m => m.Exchange == 36 && !m.Response); // CREATE_CHILD_SA request (west's rekey)
            Assert.Contains(msgs, m => m.Exchange == 36 && m.Response);
            Assert.Contains(msgs, m => m.Exchange == 37 && !m.Response); // INFORMATIONAL (the old SA's DELETE)
            Assert.Contains(msgs, m => m.Exchange == 37 && m.Response);
            msgs = msgs.Where(m => m.Exchange is 36 or 37).ToList();
        }
        long verbatim = 0;

        string SaSpis(string side) => string.Join(",", ike.Status(side).GetProperty("ike").GetProperty("ike_sas").EnumerateArray()
            .Where(x => x.GetProperty("state").GetString() == "ESTABLISHED").Select(x => $"{x.GetProperty("spi_i").GetUInt64():x}/{x.GetProperty("spi_r").GetUInt64():x}").OrderBy(x => x));
        string spisW = SaSpis("west"), spisE = SaSpis("east");
        byte[] attackerMac = IkeFrames.Mac(bed.Mac(bed.Attacker, "eth0"));
        var attacker = IPAddress.Parse("203.0.113.66");
        var rnd = new Random(seed);
        var pool = new List<byte[]>();
        var kinds = new int[IkeFuzzer.Kinds.Length];
        for (int i = 0; i < 20_000; i++)
        {
            var m = msgs[rnd.Next(msgs.Count)];
            int kind = rnd.Next(IkeFuzzer.Kinds.Length);
            kinds[kind]++;
            bool replay = encrypted && rnd.Next(10) == 0;
            if (replay) verbatim++;
            byte[] body = replay ? m.Ike : IkeFuzzer.Mutate(m.Ike, kind, rnd);
            bool spoofPeer = rnd.Next(10) < 7;
            ushort dport = rnd.Next(4) == 0 ? (ushort)(m.DestinationPort == 500 ? 4500 : 500) : m.DestinationPort;
            pool.Add(IkeFrames.Build(m, attackerMac, spoofPeer ? m.Source : attacker, spoofPeer ? m.SourcePort : (ushort)rnd.Next(1024, 65536), dport, body, marker: rnd.Next(20) != 0));
        }
        var k0 = new[] { ike.IkeCounters("west"), ike.IkeCounters("east") };
        long sent;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var inj = new FrameInjector(bed.Attacker, "eth0"))
            sent = inj.Send(pool, count, rate, TimeSpan.FromSeconds(count / rate + 30));
        double secs = clock.Elapsed.TotalSeconds;
        System.Threading.Thread.Sleep(1000);
        Assert.True(ike.Alive("west") && ike.Alive("east"), "a daemon died under the fuzzer:\n" + Netns.IkeInterop.Tail(ike.LogPath("west")) + "\n" + Netns.IkeInterop.Tail(ike.LogPath("east")));
        var k1 = new[] { ike.IkeCounters("west"), ike.IkeCounters("east") };
        long inW = k1[0]["messages_in"] - k0[0]["messages_in"], inE = k1[1]["messages_in"] - k0[1]["messages_in"];
        long invW = k1[0]["invalid_messages"] - k0[0]["invalid_messages"], invE = k1[1]["invalid_messages"] - k0[1]["invalid_messages"];
        string spisW2 = SaSpis("west"), spisE2 = SaSpis("east");
        bool warm = tb.Warm("192.0.2.138");
        string crashes = string.Join("\n", new[] { "west", "east" }.SelectMany(side => File.ReadLines(ike.LogPath(side))
            .Where(l => l.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase) || l.Contains("crit:", StringComparison.Ordinal)).Take(5)));
        Profile.Figure(_out, figure, string.Create(CultureInfo.InvariantCulture,
            $"seed={seed} sent={sent} verbatim_in_pool={verbatim} child_rekeys_west={k1[0]["child_rekeys"]} seconds={secs:F1} captured_messages={msgs.Count} messages_in_west={inW} messages_in_east={inE} invalid_west={invW} invalid_east={invE} " +
            $"ike_sa_kept={(spisW == spisW2 && spisE == spisE2 ? 1 : 0)} tunnel_ok={(warm ? 1 : 0)} kinds={string.Join('/', kinds)}"));
        Assert.Equal(count, sent);
        Assert.True(crashes.Length == 0, "critical log lines:\n" + crashes);
        Assert.Equal(spisW, spisW2);
        Assert.Equal(spisE, spisE2);
        Assert.True(warm, "the tunnel does not carry traffic after the fuzzing");
        Assert.True(ike.Established("west", "west-east"));
        Assert.True(inW + inE > sent / 4, $"the daemons saw {inW}+{inE} IKE messages of {sent}");
        Assert.True(invW > 0 && invE > 0, $"invalid_messages did not rise: west +{invW}, east +{invE}");
    }
}
