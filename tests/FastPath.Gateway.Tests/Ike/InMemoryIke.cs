using System;
using System.Collections.Concurrent;
using System.Net;
using System.Threading;
using FastPath.Ike.Engine;
using FastPath.Ike.Proposals;

namespace FastPath.Gateway.Tests.Ike;

/// <summary>IKE datagrams between real engines without sockets: each engine is attached under its outside address,
/// a datagram sent to an address goes straight into that engine's OnDatagram (from the sender's address, also when it
/// sent from the wildcard). Counts the messages for diagnostics.</summary>
internal sealed class InMemoryIkeWire
{
    private readonly ConcurrentDictionary<IPAddress, IkeEngine> _nodes = new();
    public int Messages;
    public void Attach(IPAddress a, IkeEngine e) => _nodes[a] = e;
    public IIkeTransport For(IPAddress self) => new Port(this, self);

    private sealed class Port(InMemoryIkeWire wire, IPAddress self) : IIkeTransport
    {
        public void Send(ReadOnlySpan<byte> ikeMessage, IPEndPoint local, IPEndPoint remote)
        {
            Interlocked.Increment(ref wire.Messages);
            var from = local.Address.Equals(IPAddress.Any) ? new IPEndPoint(self, local.Port) : local;
            if (wire._nodes.TryGetValue(remote.Address, out var e)) e.OnDatagram(ikeMessage.ToArray(), remote, from);
        }
    }

    /// <summary>A PSK conn (aes128gcm16-prfsha256-x25519, forced UDP encapsulation, one keying try) between two outside
    /// addresses with one subnet pair.</summary>
    public static IkeConnection PskConn(string name, IPAddress local, IPAddress remote, string localTs, string remoteTs, string esp, string psk) => new()
    {
        Name = name,
        LocalAddress = local,
        RemoteAddress = remote,
        IkeProposals = ProposalParser.Parse("aes128gcm16-prfsha256-x25519", ProposalProtocol.Ike),
        EspProposals = ProposalParser.Parse(esp, ProposalProtocol.Esp),
        LocalTs = SinkPair.Ts(localTs),
        RemoteTs = SinkPair.Ts(remoteTs),
        LocalCredentials = new IkeCredentials { Psk = System.Text.Encoding.ASCII.GetBytes(psk) },
        Encapsulation = EncapsulationMode.Force,
        KeyingTries = 1,
    };
}
