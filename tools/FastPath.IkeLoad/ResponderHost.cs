using System;
using System.Collections.Generic;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Proposals;
using FastPath.Ike.Transport;

namespace FastPath.IkeLoad;

// `--respond`: the smallest real FastPath IKE responder — IkeEngine + UdpIkeTransport on 500/4500 of
// one address, one connection with right=%any (any identity, one wildcard PSK, like the charon side's
// `remote { id = %any }` and a secret without ids), CHILD_SAs into a CountingSink (no dataplane).
// The full daemon (FastPath.Gateway/Cli) is not used: it is being written elsewhere. Runs until
// SIGTERM/SIGINT or --seconds, then prints the engine's counters as one JSON object on stdout.
// Cookies: --cookie-threshold N (half-open SAs before COOKIE, RFC 7296 §2.6); the rate test sets it
// above any reachable half-open count, as charon's dos_protection = no does on the other side.
internal static class ResponderHost
{
    public static int Run(IPAddress bind, string psk, int cookieThreshold, int seconds, string ikeProposal, string espProposal)
    {
        var sink = new CountingSink();
        var logger = new EngineEventLogger();
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
        transport.Start(engine.OnDatagram);
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
            ["sinkInstalls"] = sink.Installs,
            ["sinkDeletes"] = sink.Deletes,
            ["sinkLive"] = sink.Live,
            ["udpReceived"] = t.Received,
            ["udpErrors"] = t.Errors,
            ["warnings"] = logger.Warnings,
        };
        Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(report));
        return 0;
    }
}
