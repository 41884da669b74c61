using System;
using System.Collections.Generic;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.Pipeline;
using FastPath.Gateway.Ike;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Proposals;
using FastPath.Ike.Transport;

namespace FastPath.IkeLoad;

using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

// `--respond`: the smallest real FastPath IKE responder — IkeEngine + UdpIkeTransport on 500/4500 of
// one address, one connection with right=%any (any identity, one wildcard PSK, like the charon side's
// `remote { id = %any }` and a secret without ids), CHILD_SAs into a CountingSink (no dataplane) or,
// with --dataplane, into a running FastPath dataplane (one worker thread, in-memory ports without
// traffic) through the gateway's DataplaneChildSaSink — the daemon's own install path: inbound and
// outbound ESP SAs built (AES-GCM key schedule, replay window) and applied by the worker, eroutes for
// the selectors, the outbound retired after RCU grace periods on delete. That is the equivalent of
// charon's kernel-libipsec install (userspace ESP SAs + policies) on the other side of the comparison.
// The full daemon (FastPath.Gateway/Cli) is not used: it is being written elsewhere. Runs until
// SIGTERM/SIGINT or --seconds, then prints the engine's counters as one JSON object on stdout.
// Cookies: --cookie-threshold N (half-open SAs before COOKIE, RFC 7296 §2.6); the rate test sets it
// above any reachable half-open count, as charon's dos_protection = no does on the other side.
internal static class ResponderHost
{
    public static int Run(IPAddress bind, string psk, int cookieThreshold, int seconds, string ikeProposal, string espProposal, bool dataplane, bool sinkSync = false)
    {
        var counting = new CountingSink();
        var logger = new EngineEventLogger();
        using var dp = dataplane ? NewDataplane(bind) : null;
        using var dpSink = dp is null ? null : new DataplaneChildSaSink(dp, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance) { Asynchronous = !sinkSync };
        IChildSaSink sink = dpSink is null ? counting : new CountingTee(dpSink, counting);
        dp?.Start();
        using var transport = new UdpIkeTransport([bind], 500, 4500, logger);
        var options = new IkeEngineOptions
        {
            UniqueIds = false,
            CookieThreshold = cookieThreshold,
            HalfOpenTimeout = TimeSpan.FromSeconds(30),
        };
        using var engine = new IkeEngine(options, transport, sink, logger);
        engine.AddConnection(new IkeConnection
        {
            Name = "responder",
            LocalAddress = bind,
            RemoteAddress = null,
            IkeProposals = ProposalParser.Parse(ikeProposal + "!", ProposalProtocol.Ike),
            EspProposals = ProposalParser.Parse(espProposal + "!", ProposalProtocol.Esp),
            LocalCredentials = new IkeCredentials { Psk = Encoding.ASCII.GetBytes(psk) },
            LocalTs = [TrafficSelectors.FromPrefix("203.0.113.0/24")],
            RemoteTs = [TrafficSelectors.FromPrefix("192.0.2.0/24")],
            Encapsulation = EncapsulationMode.Auto,
            Fragmentation = false,
            Rekey = false,
        });
        engine.Start();
        engine.ReceiveOnEngineThread(transport); // as the daemon (FastPathGateway)
        using var stop = new ManualResetEventSlim();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        Console.Error.WriteLine($"fastpath-ikeload: responding on {bind}[500/4500], cookie threshold {cookieThreshold}");
        stop.Wait(seconds > 0 ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan);
        var c = engine.GetStatus().Counters;
        var t = transport.Counters;
        var report = new Dictionary<string, object>
        {
            ["ikeSasEstablished"] = c.IkeSasEstablished,
            ["childSasEstablished"] = c.ChildSasEstablished,
            ["messagesIn"] = c.MessagesIn,
            ["messagesOut"] = c.MessagesOut,
            ["retransmits"] = c.Retransmits,
            ["invalidMessages"] = c.InvalidMessages,
            ["authFailures"] = c.AuthFailures,
            ["cookiesSent"] = c.CookiesSent,
            ["halfOpen"] = c.HalfOpen,
            ["sink"] = dp is null ? "counting" : "dataplane",
            ["sinkInstalls"] = counting.Installs,
            ["sinkDeletes"] = counting.Deletes,
            ["sinkLive"] = counting.Live,
            ["udpReceived"] = t.Received,
            ["udpErrors"] = t.Errors,
            ["warnings"] = logger.Warnings,
        };
        Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(report));
        dp?.Stop();
        return 0;
    }

    // One worker, in-memory inside/outside ports (no traffic flows: the rate test measures keying);
    // the worker polls its ports every PollTimeoutMs like the daemon's.
    private static Dataplane NewDataplane(IPAddress bind)
    {
        var (inside, _) = InMemoryIo.CreatePair();
        var (outside, _) = InMemoryIo.CreatePair();
        return new Dataplane(new DataplaneOptions { WorkerCount = 1, LocalAddresses = [bind, IPAddress.Parse("203.0.113.1")] }, _ => (inside, outside));
    }

    /// <summary>Every call to the dataplane sink, counted as well (the report's install/delete numbers).</summary>
    private sealed class CountingTee(DataplaneChildSaSink inner, CountingSink counter) : IChildSaSink, IChildSaSinkBarrier
    {
        public long Mark() => ((IChildSaSinkBarrier)inner).Mark();
        public bool IsApplied(long mark) => ((IChildSaSinkBarrier)inner).IsApplied(mark);
        public void WhenApplied(long mark, Action continuation) => ((IChildSaSinkBarrier)inner).WhenApplied(mark, continuation);
        public void InstallInbound(ChildSaInstall sa) { inner.InstallInbound(sa); counter.InstallInbound(sa); }
        public void InstallOutbound(ChildSaInstall sa) { inner.InstallOutbound(sa); counter.InstallOutbound(sa); }
        public void DeleteInbound(uint spi) { inner.DeleteInbound(spi); counter.DeleteInbound(spi); }
        public void DeleteOutbound(uint spi) { inner.DeleteOutbound(spi); counter.DeleteOutbound(spi); }
        public ChildSaUsage Usage(uint spi, bool inbound) => inner.Usage(spi, inbound);
    }
}
