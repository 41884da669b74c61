using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;
using FastPath.Ike.Tests.EngineRuns;
using FastPath.Ike.Transport;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Ike.Tests.Load;

// The IKE_SA_INIT flood (issue 6 must-show, issue 9): a FastPath responder (IkeEngine +
// UdpIkeTransport, default IkeEngineOptions: COOKIE above 30 half-open SAs, RFC 7296 §2.6) in
// fp-ikr-T-resp (198.51.100.1) with one IKE SA + CHILD_SA established to a legitimate FastPath
// peer in fp-ikr-T-atk (198.51.100.2); DPD every second on both sides, so liveness exchanges run
// all through the flood. From the same attacker namespace, a raw socket (IPPROTO_RAW, our own IPv4
// + UDP headers) sends well-formed IKE_SA_INIT requests (real SA/KE/Ni payloads) from spoofed
// sources in 203.0.113.0/24 with random ports and SPIs — FloodPackets of them at about FloodRate/s.
// The responder routes 203.0.113.0/24 back to the attacker namespace, which drops the answers
// (no such local address, no forwarding): nothing leaves the namespaces.
// What must hold: cookies engage (IkeStatus CookiesSent counts most of the flood), the half-open
// count sampled during the flood never exceeds the threshold (+ slack for the legitimate peer),
// the established SA keeps its SPIs and its DPD never times out, a new legitimate IKE SA started
// during the flood still comes up (it answers the COOKIE), managed memory stays bounded.
// Needs root and iproute2; FAILS (does not skip) when they are missing.
[Collection("netns")]
public sealed partial class IkeFloodTests(ITestOutputHelper output)
{
    private const string Psk = "fastpath-flood-test-psk-0123456789";
    private static readonly IPAddress RespIp = IPAddress.Parse("198.51.100.1"), PeerIp = IPAddress.Parse("198.51.100.2");
    private const int FloodPackets = 30_000;
    private const int FloodRate = 3_000;

    [Fact]
    public void SaInitFloodFromSpoofedSourcesEngagesCookiesAndSparesTheEstablishedSa()
    {
        using var ns = new FloodNetns();
        var options = new IkeEngineOptions { RetransmitBase = TimeSpan.FromSeconds(1), RetransmitTries = 4 };
        Assert.Equal(30, options.CookieThreshold); // the default is what is under test

        var respLog = new CountingLogger();
        var respSink = new RecordingSink();
        using var respTransport = ns.InNamespace(ns.Resp, () => new UdpIkeTransport([RespIp], 500, 4500, respLog));
        using var resp = new IkeEngine(options, respTransport, respSink, respLog);
        resp.AddConnection(new IkeConnection
        {
            Name = "any",
            LocalAddress = RespIp,
            IkeProposals = ProposalParser.Parse("aes128gcm16-prfsha256-x25519!", ProposalProtocol.Ike),
            EspProposals = ProposalParser.Parse("aes128gcm16!", ProposalProtocol.Esp),
            LocalCredentials = new IkeCredentials { Psk = Encoding.ASCII.GetBytes(Psk) },
            DpdDelay = TimeSpan.FromSeconds(1),
            DpdTimeout = TimeSpan.FromSeconds(8),
            DpdAction = DpdAction.Clear,
        });
        resp.Start();
        resp.ReceiveOnEngineThread(respTransport); // the responder under the flood receives as the daemon does; the peer keeps receive threads

        var peerLog = new ListLogger("peer", null);
        var peerSink = new RecordingSink();
        using var peerTransport = ns.InNamespace(ns.Atk, () => new UdpIkeTransport([PeerIp], 500, 4500, peerLog));
        using var peer = new IkeEngine(options, peerTransport, peerSink, peerLog);
        // "late" uses an identity of its own: with the same one, the responder's uniqueids=yes (the default)
        // would rightly replace "legit" by it.
        IkeConnection PeerConn(string name) => new()
        {
            Name = name,
            LocalAddress = PeerIp,
            LocalId = name == "late" ? IkeIdentity.Parse("@late.example") : null,
            RemoteAddress = RespIp,
            IkeProposals = ProposalParser.Parse("aes128gcm16-prfsha256-x25519!", ProposalProtocol.Ike),
            EspProposals = ProposalParser.Parse("aes128gcm16!", ProposalProtocol.Esp),
            LocalCredentials = new IkeCredentials { Psk = Encoding.ASCII.GetBytes(Psk) },
            DpdDelay = TimeSpan.FromSeconds(1),
            DpdTimeout = TimeSpan.FromSeconds(8),
            DpdAction = DpdAction.Clear,
            KeyingTries = 3,
        };
        peer.AddConnection(PeerConn("legit"));
        peer.AddConnection(PeerConn("late"));
        peer.Start();
        peerTransport.Start(peer.OnDatagram);
        peer.Initiate("legit");
        Assert.True(WaitFor(() => peerSink.Inbound.Count == 1 && respSink.Inbound.Count == 1, TimeSpan.FromSeconds(20)),
            "the legitimate IKE SA did not come up before the flood:\n" + string.Join("\n", peerLog.Lines.TakeLast(20)));
        var before = peer.GetStatus().IkeSas.Single();
        var respBefore = resp.GetStatus();
        long peerInBefore = peer.GetStatus().Counters.MessagesIn;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long memBefore = GC.GetTotalMemory(true);

        // ---- the flood ------------------------------------------------------------------------
        int maxHalfOpen = 0, maxSas = 0;
        using var stopSampling = new CancellationTokenSource();
        var sampler = new Thread(() =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                IkeStatus s;
                try { s = resp.GetStatus(); }
                catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException or TimeoutException) { return; }
                maxHalfOpen = Math.Max(maxHalfOpen, (int)s.Counters.HalfOpen);
                maxSas = Math.Max(maxSas, s.IkeSas.Count);
                Thread.Sleep(100);
            }
        }) { IsBackground = true };
        sampler.Start();
        try
        {
            var sw = Stopwatch.StartNew();
            int sent = 0;
            Exception? floodError = null;
            var flood = new Thread(() =>
            {
                try { sent = ns.InNamespace(ns.Atk, () => SpoofedFlood(FloodPackets, FloodRate)); }
#pragma warning disable CA1031 // reported by the assertion below
                catch (Exception e) { floodError = e; }
#pragma warning restore CA1031
            }) { IsBackground = true };
            flood.Start();
            Thread.Sleep(2000); // the flood is on and cookies should be engaged: a legitimate initiator now
            peer.Initiate("late");
            Assert.True(flood.Join(TimeSpan.FromSeconds(40)), "flood thread did not finish");
            double floodSeconds = sw.Elapsed.TotalSeconds;
            Assert.Null(floodError);
            Assert.True(WaitFor(() => peerSink.Inbound.Count == 2, TimeSpan.FromSeconds(15)),
                "a legitimate IKE SA started during the flood did not come up:\n" + string.Join("\n", peerLog.Lines.TakeLast(30)));
            Thread.Sleep(3000); // a few more DPD rounds after the flood
            stopSampling.Cancel();
            sampler.Join();
            Check(sent, floodSeconds);
        }
        finally
        {
            stopSampling.Cancel();
            sampler.Join();
        }

        void Check(int sent, double floodSeconds)
        {

            var after = resp.GetStatus();
            var peerAfter = peer.GetStatus();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long memAfter = GC.GetTotalMemory(true);
            var c = after.Counters;
            output.WriteLine($"flood: {sent} spoofed IKE_SA_INIT in {floodSeconds:0.0} s; responder: cookies sent {c.CookiesSent}, messages in {c.MessagesIn}, " +
                $"half-open max {maxHalfOpen} (now {c.HalfOpen}), IKE SAs max {maxSas} (now {after.IkeSas.Count}), established {c.IkeSasEstablished}, " +
                $"DPD timeouts resp {c.DpdTimeouts} / peer {peerAfter.Counters.DpdTimeouts}; peer messages in during the run {peerAfter.Counters.MessagesIn - peerInBefore}; " +
                $"managed memory {memBefore / 1024} KiB -> {memAfter / 1024} KiB; UDP {respTransport.Counters}");

            Assert.Equal(FloodPackets, sent);
            Assert.Equal(0, respBefore.Counters.CookiesSent);
            // Cookies engaged: all but the first ~threshold requests (and what the kernel dropped) were answered with a COOKIE.
            Assert.True(c.CookiesSent >= FloodPackets / 2, $"only {c.CookiesSent} COOKIE notifies for {FloodPackets} spoofed requests");
            Assert.True(c.MessagesIn >= FloodPackets / 2, $"the responder saw only {c.MessagesIn} messages: the flood did not reach it");
            Assert.True(maxHalfOpen <= options.CookieThreshold + 2, $"half-open reached {maxHalfOpen} (threshold {options.CookieThreshold})");
            Assert.True(maxSas <= options.CookieThreshold + 4, $"the SA table reached {maxSas} entries");
            // The established SA survived with its SPIs, and liveness kept working both ways.
            var legit = peerAfter.IkeSas.Single(s => s.Connection == "legit");
            Assert.Equal(before.SpiI, legit.SpiI);
            Assert.Equal(before.SpiR, legit.SpiR);
            Assert.Equal("ESTABLISHED", legit.State);
            Assert.Contains(after.IkeSas, s => s.SpiI == before.SpiI && s.SpiR == before.SpiR && s.State == "ESTABLISHED");
            Assert.Equal(0, c.DpdTimeouts);
            Assert.Equal(0, peerAfter.Counters.DpdTimeouts);
            Assert.True(peerAfter.Counters.MessagesIn - peerInBefore >= (long)(floodSeconds / 2), // DPD every 1 s, either side; at least one message per 2 s
                $"the peer received only {peerAfter.Counters.MessagesIn - peerInBefore} IKE messages over {floodSeconds:0} s: DPD stalled");
            // The late initiator went through a COOKIE round trip and is up on both sides.
            Assert.Contains(peerLog.Lines, l => l.Contains("\"late\"", StringComparison.Ordinal) && l.Contains("COOKIE", StringComparison.OrdinalIgnoreCase));
            Assert.Equal("ESTABLISHED", peerAfter.IkeSas.Single(s => s.Connection == "late").State);
            // Bounded memory: the flood leaves no per-request state behind.
            Assert.True(memAfter - memBefore < 64L << 20, $"managed memory grew by {(memAfter - memBefore) >> 20} MiB");
            Assert.Equal(0, respLog.Errors);
        }
    }

    /// <summary>Sends <paramref name="count"/> spoofed IKE_SA_INIT requests at about <paramref name="rate"/>/s
    /// from 203.0.113.1-254 (random ports, SPIs, nonces, KE values) to 198.51.100.1:500 with a raw socket.</summary>
    private static int SpoofedFlood(int count, int rate)
    {
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Raw); // IPPROTO_RAW: IP_HDRINCL implied
        var offer = ProposalParser.Effective(ProposalParser.Parse("aes128gcm16-prfsha256-x25519!", ProposalProtocol.Ike), ProposalProtocol.Ike);
        var dst = new IPEndPoint(RespIp, 0);
        var sw = Stopwatch.StartNew();
        var rng = new Random(6);
        for (int i = 0; i < count; i++)
        {
            var src = new IPAddress(new byte[] { 203, 0, 113, (byte)rng.Next(1, 255) });
            ushort sport = (ushort)rng.Next(1024, 65535);
            ulong spi = (ulong)rng.NextInt64(1, long.MaxValue);
            var payloads = new List<IkePayload>
            {
                ProposalWire.ToSaPayload(offer, []),
                new KePayload(31, RandomNumberGenerator.GetBytes(32)),
                new NoncePayload(RandomNumberGenerator.GetBytes(32)),
            };
            byte[] ike = IkeMessageBuilder.Build(IkeHeader.Create(spi, 0, ExchangeType.IkeSaInit, IkeFlags.Initiator, 0), payloads);
            byte[] pkt = Ipv4Udp(src, RespIp, sport, 500, ike);
            raw.SendTo(pkt, SocketFlags.None, dst);
            // Pace: never more than `rate` per second on average (bounded run).
            double due = (i + 1) / (double)rate;
            double ahead = due - sw.Elapsed.TotalSeconds;
            if (ahead > 0.002) Thread.Sleep(TimeSpan.FromSeconds(ahead));
        }
        return count;
    }

    internal static byte[] Ipv4Udp(IPAddress src, IPAddress dst, ushort sport, ushort dport, byte[] payload)
    {
        var p = new byte[20 + 8 + payload.Length];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        p[8] = 64; // TTL
        p[9] = 17; // UDP
        src.GetAddressBytes().CopyTo(p, 12);
        dst.GetAddressBytes().CopyTo(p, 16);
        uint sum = 0;
        for (int i = 0; i < 20; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(i));
        while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), (ushort)~sum);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), sport);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), dport);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), (ushort)(8 + payload.Length));
        // UDP checksum 0 = none (allowed over IPv4, RFC 768).
        payload.CopyTo(p, 28);
        return p;
    }

    private static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < end)
        {
            if (condition()) return true;
            Thread.Sleep(100);
        }
        return condition();
    }

    /// <summary>The responder's logger: counts, keeps nothing (a flood must not fill the test output).</summary>
    private sealed class CountingLogger : ILogger
    {
        private long _errors;
        public long Errors => Interlocked.Read(ref _errors);
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error) Interlocked.Increment(ref _errors);
        }
    }

    /// <summary>fp-ikr-T-resp (198.51.100.1/24, route 203.0.113.0/24 via the attacker) and fp-ikr-T-atk (198.51.100.2/24), one veth.</summary>
    private sealed partial class FloodNetns : IDisposable
    {
        private readonly string _tag = Guid.NewGuid().ToString("N")[..6];
        public string Resp => $"fp-ikr-{_tag}-resp";
        public string Atk => $"fp-ikr-{_tag}-atk";

        public FloodNetns()
        {
            if (!File.Exists("/usr/sbin/ip") && !File.Exists("/usr/bin/ip"))
                throw new InvalidOperationException("iproute2 (ip) is missing: the flood test needs network namespaces");
            try
            {
                Ip($"netns add {Resp}");
                Ip($"netns add {Atk}");
                Ip($"link add fpikr{_tag}r type veth peer name fpikr{_tag}a");
                Ip($"link set fpikr{_tag}r netns {Resp}");
                Ip($"link set fpikr{_tag}a netns {Atk}");
                Ip($"-n {Resp} addr add 198.51.100.1/24 dev fpikr{_tag}r");
                Ip($"-n {Atk} addr add 198.51.100.2/24 dev fpikr{_tag}a");
                Ip($"-n {Resp} link set fpikr{_tag}r up");
                Ip($"-n {Atk} link set fpikr{_tag}a up");
                Ip($"-n {Resp} link set lo up");
                Ip($"-n {Atk} link set lo up");
                // Answers to the spoofed sources go to the attacker namespace, which drops them.
                Ip($"-n {Resp} route add 203.0.113.0/24 via 198.51.100.2");
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>Runs <paramref name="f"/> on a thread that has entered <paramref name="netns"/> (sockets created there stay there).</summary>
        public T InNamespace<T>(string netns, Func<T> f) => FastPath.Ike.Tests.Interop.NetnsThread.Run(netns, f);

        private static void Ip(string args)
        {
            var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args.Split(' ')) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(20000)) { p.Kill(); throw new TimeoutException("ip " + args); }
            if (p.ExitCode != 0) throw new InvalidOperationException($"ip {args}: {err}");
        }

        public void Dispose()
        {
            foreach (var n in new[] { Resp, Atk })
            {
                try { Ip($"netns del {n}"); } catch (InvalidOperationException) { } catch (TimeoutException) { }
            }
        }

    }
}
