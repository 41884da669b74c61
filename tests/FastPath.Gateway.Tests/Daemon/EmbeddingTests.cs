using System;
using System.IO;
using FastPath.Dataplane.Io;
using FastPath.Gateway.Daemon;
using FastPath.Gateway.Tests.Netns;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace FastPath.Gateway.Tests.Daemon;

/// <summary>docs/embedding.md's example, run: two FastPathGateway instances in this one test process
/// (west and east, each started on a thread inside its namespace) carry sunset → sunrise traffic.</summary>
[Collection("netns")]
public sealed class EmbeddingTests
{
    [Fact]
    public void Two_embedded_gateways_in_one_process_carry_a_manually_keyed_tunnel()
    {
        using var tb = new Testbed("gateway");
        string dir = Directory.CreateTempSubdirectory($"fp-dmn-emb-{tb.Tag}-").FullName;
        try
        {
            string conf = Path.Combine(dir, "ipsec.conf");
            File.WriteAllText(conf, """
                version 2
                conn west-east
                        left=203.0.113.1
                        leftsubnet=192.0.2.0/25
                        right=203.0.113.2
                        rightsubnet=192.0.2.128/25
                        spi=0x2000
                        esp=aes128-sha256
                        espenckey=0x000102030405060708090a0b0c0d0e0f
                        espauthkey=0x101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f
                        auto=start
                """);
            using FastPathGateway west = NetworkNamespace.Run(tb.West, () => EmbeddingExample.StartGateway(conf, NullLoggerFactory.Instance));
            using FastPathGateway east = NetworkNamespace.Run(tb.East, () => EmbeddingExample.StartGateway(conf, NullLoggerFactory.Instance));
            Assert.Contains("west-east: manual up, 1 eroutes, 2 SAs", EmbeddingExample.Describe(west), StringComparison.Ordinal);
            Assert.Contains("192.0.2.128/25     -> 192.0.2.0/25       => tun0x2000@203.0.113.1", EmbeddingExample.Describe(east), StringComparison.Ordinal);
            Assert.True(tb.Warm("192.0.2.138"), "no traffic through the embedded gateways");
            // Manual keys: a re-installed SA starts at sequence 1, which the peer's replay window (still
            // at the old SA's sequence) drops; so both ends are bounced, as with `ipsec manual --down/--up`.
            EmbeddingExample.Bounce(west, "west-east");
            Assert.Equal(0, tb.Ping(tb.Sunset, "192.0.2.138", count: 2).Received);
            EmbeddingExample.Bounce(east, "west-east");
            Assert.Equal(5, tb.Ping(tb.Sunset, "192.0.2.138").Received);
            // Each instance has its own metrics endpoint (no global state).
            Assert.NotEqual(west.Metrics!.Endpoint!.Port, east.Metrics!.Endpoint!.Port);
            // The endpoint is on the loopback of west's namespace (it was opened there).
            System.Net.IPEndPoint ep = west.Metrics.Endpoint;
            string text = NetworkNamespace.Run(tb.West, () =>
            {
                using var client = new System.Net.Sockets.TcpClient();
                client.Connect(ep);
                var stream = client.GetStream();
                stream.Write(System.Text.Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"));
                return new StreamReader(stream).ReadToEnd();
            });
            Assert.StartsWith("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4", text, StringComparison.Ordinal);
            Assert.Matches("fastpath_child_sa_packets_total\\{conn=\"west-east\",direction=\"out\",spi=\"0x00002000\"\\} [1-9]", text);
            Assert.Contains("# TYPE fastpath_drops_total counter", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
