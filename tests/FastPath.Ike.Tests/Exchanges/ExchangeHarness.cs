using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using FastPath.Ike.Crypto;
using FastPath.Ike.Engine;
using FastPath.Ike.Exchanges;
using FastPath.Ike.Messages;
using FastPath.Ike.Proposals;

namespace FastPath.Ike.Tests.Exchanges;

// West (192.0.2.1, 192.0.2.0/25 behind it) and east (192.0.2.2... here 203.0.113.2, 192.0.2.128/25)
// as two CREATE_CHILD_SA contexts sharing one IkeSaKeys made with SaKeyFactory.CreateIkeSa from
// fixed values. Payloads cross through the real encoder and parser (SerializeInner / ParseInner),
// as they would inside SK.
internal static class ExchangeHarness
{
    public static readonly IPAddress West = IPAddress.Parse("203.0.113.1"), East = IPAddress.Parse("203.0.113.2");
    public static readonly IkeSuite IkeSuite = new(EncrId.AesCbc, 128, PrfId.HmacSha2_256, IntegId.HmacSha2_256_128, DhGroup.Curve25519);

    public static IkeSaKeys SharedIkeKeys() => SaKeyFactory.CreateIkeSa(IkeSuite,
        Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(),
        Enumerable.Repeat((byte)0xA1, 32).ToArray(), Enumerable.Repeat((byte)0xB2, 32).ToArray(),
        0x1111222233334444, 0x5555666677778888);

    public static IkeConnection Conn(string name, string esp, string local, string remote, string ike = "aes128-sha256-x25519!", bool transport = false) => new()
    {
        Name = name,
        IkeProposals = ProposalParser.Parse(ike, ProposalProtocol.Ike),
        EspProposals = ProposalParser.Parse(esp, ProposalProtocol.Esp),
        LocalTs = local.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => TrafficSelectors.FromPrefix(p)).ToArray(),
        RemoteTs = remote.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => TrafficSelectors.FromPrefix(p)).ToArray(),
        Transport = transport,
    };

    private static uint _spi = 0xc0000000;
    private static ulong _ikeSpi = 0xabc0000000000000;

    public static CreateChildSaContext Ctx(IkeSaKeys keys, IkeConnection c, bool west, Random? nonceRng = null) => new()
    {
        IkeKeys = keys,
        Connection = c,
        LocalAddress = west ? West : East,
        RemoteAddress = west ? East : West,
        AllocateChildSpi = () => System.Threading.Interlocked.Increment(ref _spi),
        AllocateIkeSpi = () => System.Threading.Interlocked.Increment(ref _ikeSpi),
        NonceGenerator = nonceRng is null ? System.Security.Cryptography.RandomNumberGenerator.GetBytes : n =>
        {
            var b = new byte[n];
            lock (nonceRng) nonceRng.NextBytes(b);
            return b;
        },
    };

    public static (CreateChildSaContext W, CreateChildSaContext E) Pair(string westEsp = "aes128gcm16!", string? eastEsp = null,
        string westLocal = "192.0.2.0/25", string westRemote = "192.0.2.128/25", string? eastLocal = null, string? eastRemote = null,
        bool westTransport = false, bool eastTransport = false, string westIke = "aes128-sha256-x25519!", string? eastIke = null)
    {
        var keys = SharedIkeKeys();
        return (Ctx(keys, Conn("west-east", westEsp, westLocal, westRemote, westIke, westTransport), true),
                Ctx(keys, Conn("east-west", eastEsp ?? westEsp, eastLocal ?? westRemote, eastRemote ?? westLocal, eastIke ?? westIke, eastTransport), false));
    }

    /// <summary>What the peer receives: the payloads encoded as an inner chain and parsed back.</summary>
    public static IReadOnlyList<IkePayload> Wire(IReadOnlyList<IkePayload> payloads)
    {
        var bytes = IkeMessageBuilder.SerializeInner(payloads);
        var r = IkeMessage.ParseInner(bytes, payloads.Count > 0 ? payloads[0].Type : PayloadType.None);
        if (!r.Ok) throw new InvalidOperationException($"own payloads do not parse: {r.Error}");
        return r.Value!;
    }

    public static IReadOnlyList<IkePayload> Without(IReadOnlyList<IkePayload> payloads, PayloadType type) =>
        payloads.Where(p => p.Type != type).ToList();

    /// <summary>Runs one exchange: request → responder → response → initiator.</summary>
    public static (CreateChildSaResponse Response, CreateChildSaOutcome Initiator) Run(CreateChildSaContext initiator, CreateChildSaContext responder,
        CreateChildSaRequest request, CreateChildSaResponderState? state = null)
    {
        var response = CreateChildSaExchange.ProcessRequest(responder, Wire(request.Payloads), state);
        var outcome = CreateChildSaExchange.ProcessResponse(initiator, request.Pending, Wire(response.Payloads));
        return (response, outcome);
    }
}

/// <summary>A key exchange with a known shared secret (charon's g^ir from the vectors): the public value is what charon
/// sent, the secret what charon logged. Lets the test drive our initiator path with a real peer's response.</summary>
internal sealed class KnownSecretKeyExchange(DhGroup group, byte[] publicValue, byte[] secret) : KeyExchange(group)
{
    public override byte[] PublicValue => publicValue;

    protected override bool TryCompute(ReadOnlySpan<byte> peer, out byte[] sharedSecret, out string error)
    {
        sharedSecret = (byte[])secret.Clone();
        error = "";
        return true;
    }
}
