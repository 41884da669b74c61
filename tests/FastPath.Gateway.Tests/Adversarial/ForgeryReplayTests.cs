using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using FastPath.Gateway.Tests.Netns;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Adversarial;

/// <summary>
/// Forgery and replay from an attacker on the public link (docs/security.md §Forgery): ESP for
/// east's inbound SA with bit-flipped and random ICVs and random bodies, ESP for unknown SPIs,
/// verbatim replays of genuine west→east ESP captured on the wire (left of the window and inside
/// it), then — after both gateways were restarted with the IPv4 SA re-keyed under the same SPI and
/// the IPv6 SA replaced by a new SPI — the same replays again. Figure: injected / accepted (0) /
/// counted under the expected reason (IntegrityFailed, NoState, Replay). The valid originals of the
/// forgeries are sent last and must be accepted: the forgeries did not move the replay window.
/// </summary>
[Collection("netns")]
public sealed class ForgeryReplayTests
{
    private const uint V4In = 0x1002, V6In = 0x2002;
    private readonly ITestOutputHelper _out;
    public ForgeryReplayTests(ITestOutputHelper output) => _out = output;

    private enum Expect { IntegrityFailed, NoState, Replay }

    [Fact]
    public void ForgedAndReplayedEspIsNeverAccepted()
    {
        using var bed = new AttackBed();
        var tb = bed.Tb;
        var (west1, east1) = AttackBed.WriteScripts(Path.Combine(tb.GatewayDir, "gen1"));
        bed.StartGateway("east", east1);
        bed.StartGateway("west", west1);
        Assert.True(tb.Warm("192.0.2.138"), "tunnel did not come up");
        Assert.True(tb.Warm("2001:db8:2::138"), "IPv6 tunnel did not come up");
        string eastMac = bed.Mac(tb.East, "outside");
        ulong attackerMac = Convert.ToUInt64(bed.Mac(bed.Attacker, "eth0").Replace(":", "", StringComparison.Ordinal), 16);

        // Genuine ESP west → east, captured on east's port of the wire.
        var cap = tb.Capture(bed.Wire, "wire-e", "'(ip proto 50 and dst host 203.0.113.2) or (ip6 proto 50 and dst host 2001:db8:ffff::2)'");
        Testbed.Sh($"ip netns exec {tb.Sunset} ping -n -q -c 300 -i 0.005 -W 1 192.0.2.138; ip netns exec {tb.Sunset} ping -6 -n -q -c 100 -i 0.005 -W 1 2001:db8:2::138", check: false, timeoutMs: 60_000);
        var genuine = AttackBed.ReadPcap(tb.EndCapture(cap)).Select(f => WithSource(f, attackerMac)).ToList();
        var genuine4 = genuine.Where(f => EtherType(f) == 0x0800).ToList();
        var genuine6 = genuine.Where(f => EtherType(f) == 0x86DD).ToList();
        _out.WriteLine($"captured genuine ESP: {genuine4.Count} IPv4, {genuine6.Count} IPv6");
        Assert.True(genuine4.Count >= 250 && genuine6.Count >= 80, $"captured {genuine4.Count}/{genuine6.Count} genuine ESP frames");

        // Valid ESP for the inbound SA with fresh sequence numbers (scapy, the independent ESP).
        string key1 = AttackBed.Key(east1, V4In);
        var bases = AttackBed.HexFrames(AttackBed.Python("", "adv_esp.py", $"craft {eastMac} {Mac(attackerMac)} 0x{V4In:x} {key1} 5000000 64"));
        Assert.Equal(64, bases.Count);

        // The forgeries, each tagged with the drop reason it must be counted under.
        var rnd = new Random(9);
        var pool = new List<(byte[] Frame, Expect Why)>();
        foreach (byte[] b in bases)
        {
            for (int k = 0; k < 24; k++) pool.Add((FlipBit(b, rnd), Expect.IntegrityFailed));   // one bit of IV, ciphertext or ICV
            for (int k = 0; k < 8; k++) pool.Add((RandomIcv(b, rnd), Expect.IntegrityFailed));  // the 16-byte ICV replaced
            for (int k = 0; k < 8; k++) pool.Add((RandomBody(b, rnd), Expect.IntegrityFailed)); // fresh random seq, body and ICV
            for (int k = 0; k < 8; k++) pool.Add((UnknownSpi(b, rnd), Expect.NoState));
        }
        foreach (byte[] g in genuine) pool.Add((g, Expect.Replay)); // duplicates inside the window and left of it

        // scapy confirms on a sample that the mutants are forgeries and the originals valid.
        var sample = pool.Where(p => p.Why == Expect.IntegrityFailed).Take(200).Select(p => p.Frame).Concat(bases.Take(4)).ToList();
        var verdicts = CheckWithScapy(V4In, key1, "v4", sample);
        Assert.Equal(200, verdicts.Take(200).Count(v => v.StartsWith("FORGED", StringComparison.Ordinal)));
        Assert.All(verdicts.Skip(200), v => Assert.StartsWith("VALID adv-", v, StringComparison.Ordinal));

        long count = Profile.Size(200_000, 1_200_000);
        var accepted = tb.Capture(tb.Sunrise, "eth0", "'udp port 9999'");
        var before = bed.Counters("east");
        long sent;
        var clock = Stopwatch.StartNew();
        using (var inj = new FrameInjector(bed.Attacker, "eth0"))
            sent = inj.Send(pool.Select(p => p.Frame).ToList(), count, framesPerSecond: 150_000, maxTime: TimeSpan.FromSeconds(Profile.Long ? 60 : 20));
        double seconds = clock.Elapsed.TotalSeconds;
        var during = bed.Counters("east").Minus(before);
        _out.WriteLine($"phase 1: sent {sent} in {seconds:F1} s; east: {during.Describe()}");
        var expected = ExpectedCounts(pool, sent);

        // The valid originals, once: accepted (the forgeries with their sequence numbers did not
        // advance the window), then once more: replays.
        using (var inj = new FrameInjector(bed.Attacker, "eth0")) { inj.Send(bases, bases.Count); Thread.Sleep(300); inj.Send(bases, bases.Count); }
        var control = bed.Counters("east").Minus(before);
        string pcap = tb.EndCapture(accepted);
        int atSunrise = AttackBed.CountFrames(pcap);

        Assert.Equal(0, during.Total("Decapsulated"));
        Assert.Equal(0, during.Total("TxInside"));
        AssertCounted(during, expected, sent, "phase 1");
        Assert.Equal(64, control.Total("Decapsulated"));
        Assert.Equal(64, atSunrise); // exactly the 64 originals reached sunrise, none of the forgeries
        Assert.Equal(64, control.Drop("Replay") - during.Drop("Replay")); // the second copies of the originals

        // The SAs replaced: IPv4 re-keyed under the same SPI, IPv6 moved to SPI 0x2102 (0x2002 deleted).
        bed.Signal("west", "TERM");
        bed.Signal("east", "TERM");
        var (west2, east2) = AttackBed.WriteScripts(Path.Combine(tb.GatewayDir, "gen2"), v6WestToEast: 0x2102, v6EastToWest: 0x2101);
        bed.StartGateway("east", east2);
        bed.StartGateway("west", west2);
        // Warm the new gateways' paths over IPv6 only (new SPI 0x2102): the IPv4 SA's window must
        // still be empty when the old IPv4 packets arrive, so that each one reaches the ICV check.
        Assert.True(tb.Warm("2001:db8:2::138"), "replaced IPv6 tunnel does not carry traffic");
        var replays = genuine4.Select(g => (g, Expect.IntegrityFailed)).Concat(bases.Select(b => (b, Expect.IntegrityFailed)))
            .Concat(genuine6.Select(g => (g, Expect.NoState))).ToList();
        long count2 = Profile.Size(100_000, 300_000);
        // The replayed frames carry UDP 9999 (the forgeries' originals) or echo requests (the captured pings); ND is not theirs.
        var accepted2 = tb.Capture(tb.Sunrise, "eth0", "'udp port 9999 or icmp[icmptype] == icmp-echo or (icmp6 and ip6[40] == 128)'");
        var before2 = bed.Counters("east");
        long sent2;
        using (var inj = new FrameInjector(bed.Attacker, "eth0"))
            sent2 = inj.Send(replays.Select(r => r.Item1).ToList(), count2, framesPerSecond: 80_000, maxTime: TimeSpan.FromSeconds(Profile.Long ? 30 : 15));
        var after2 = bed.Counters("east").Minus(before2);
        int atSunrise2 = AttackBed.CountFrames(tb.EndCapture(accepted2));
        _out.WriteLine($"phase 2 (after the SAs were replaced): sent {sent2}; east: {after2.Describe()}");
        var expected2 = ExpectedCounts(replays, sent2);
        Assert.Equal(0, after2.Total("Decapsulated"));
        Assert.Equal(0, atSunrise2);
        AssertCounted(after2, expected2, sent2, "phase 2");
        // And the new tunnel carries traffic.
        Assert.True(tb.Warm("192.0.2.138"), "re-keyed IPv4 tunnel does not carry traffic");

        long total = sent + sent2 + 2 * bases.Count;
        long integrity = during.Drop("IntegrityFailed") + after2.Drop("IntegrityFailed");
        long nostate = during.Drop("NoState") + after2.Drop("NoState");
        long replay = control.Drop("Replay");
        long ring = during.OutsideRingDrops + after2.OutsideRingDrops;
        Profile.Figure(_out, "forgery-replay",
            $"injected={total - bases.Count} accepted=0 IntegrityFailed={integrity} NoState={nostate} Replay={replay} ringDrops={ring} " +
            $"expected_IntegrityFailed={expected[Expect.IntegrityFailed] + expected2[Expect.IntegrityFailed]} expected_NoState={expected[Expect.NoState] + expected2[Expect.NoState]} " +
            $"expected_Replay={expected[Expect.Replay] + 64} rate_pps={sent / seconds:F0} controls_accepted=64/64");
    }

    /// <summary>Every injected frame is counted under its expected reason, except those the
    /// victim's RX ring dropped before the gateway saw them (reported; the kernel's decision).</summary>
    private void AssertCounted(AttackBed.Snapshot d, Dictionary<Expect, long> expected, long sent, string phase)
    {
        long ring = d.OutsideRingDrops;
        foreach (var (why, n) in expected)
        {
            long got = d.Drop(why.ToString());
            Assert.True(got <= n + 50 && got + ring >= n, $"{phase}: {why} counted {got}, expected {n} (ring drops {ring}); {d.Describe()}");
        }
        Assert.True(ring <= sent / 10, $"{phase}: {ring} of {sent} frames dropped at east's RX ring: the injector is too fast for a meaningful figure");
    }

    private static Dictionary<Expect, long> ExpectedCounts(IReadOnlyList<(byte[] Frame, Expect Why)> pool, long sent)
    {
        var d = Enum.GetValues<Expect>().ToDictionary(e => e, _ => 0L);
        long rounds = sent / pool.Count, rest = sent % pool.Count;
        for (int i = 0; i < pool.Count; i++) d[pool[i].Why] += rounds + (i < rest ? 1 : 0);
        return d;
    }

    private List<string> CheckWithScapy(uint spi, string key, string family, List<byte[]> frames)
    {
        string file = Path.Combine(Path.GetTempPath(), $"fp-adv-check-{Guid.NewGuid():N}.txt");
        File.WriteAllLines(file, frames.Select(Convert.ToHexString));
        try
        {
            string o = Testbed.Sh($"/usr/bin/python3 {AttackBed.Oracle("adv_esp.py")} check 0x{spi:x} {key} {family} < {file}", timeoutMs: 120_000);
            return o.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }
        finally
        {
            File.Delete(file);
        }
    }

    // ---- frame surgery (Ethernet + IPv4/IPv6 + ESP; the IP header is never touched, so its checksum stays valid)

    internal static int EtherType(byte[] f) => BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12));
    private static int EspOffset(byte[] f) => 14 + (EtherType(f) == 0x86DD ? 40 : (f[14] & 0xF) * 4);
    private static string Mac(ulong m) => string.Join(':', Enumerable.Range(0, 6).Select(i => ((m >> (40 - 8 * i)) & 0xFF).ToString("x2")));

    internal static byte[] WithSource(byte[] f, ulong mac)
    {
        var c = (byte[])f.Clone();
        for (int i = 0; i < 6; i++) c[6 + i] = (byte)(mac >> (40 - 8 * i));
        return c;
    }

    private static byte[] FlipBit(byte[] b, Random r)
    {
        var c = (byte[])b.Clone();
        int from = EspOffset(c) + 8; // after SPI and sequence number: IV, ciphertext, ICV
        int at = r.Next(from, c.Length);
        c[at] ^= (byte)(1 << r.Next(8));
        return c;
    }

    private static byte[] RandomIcv(byte[] b, Random r)
    {
        var c = (byte[])b.Clone();
        r.NextBytes(c.AsSpan(c.Length - 16));
        return c;
    }

    private static byte[] RandomBody(byte[] b, Random r)
    {
        var c = (byte[])b.Clone();
        int esp = EspOffset(c);
        BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(esp + 4), (uint)r.NextInt64(10_000_000, uint.MaxValue));
        r.NextBytes(c.AsSpan(esp + 8));
        return c;
    }

    private static byte[] UnknownSpi(byte[] b, Random r)
    {
        var c = (byte[])b.Clone();
        uint spi;
        do spi = (uint)r.NextInt64(256, uint.MaxValue); while (spi is 0x1001 or 0x1002 or 0x2001 or 0x2002 or 0x2101 or 0x2102);
        BinaryPrimitives.WriteUInt32BigEndian(c.AsSpan(EspOffset(c)), spi);
        return c;
    }
}
