using System;
using System.Net;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Sad;
using FastPath.Ike.Crypto;
using FastPath.Ike.Proposals;

namespace FastPath.Benchmarks;

using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>
/// SA install rate: what the control plane pays to bring a tunnel up or down in the dataplane —
/// build an inbound and an outbound SA (key schedule, GHASH table, replay window), post both to the
/// worker, the worker applies them (the inbound SAD publishes a new snapshot), then delete both.
/// Measured on a dataplane that already holds <see cref="Existing"/> SA pairs (rekeys and new
/// tunnels of a busy gateway). Per SA pair installed and deleted (OperationsPerInvoke = 64).
/// </summary>
[MemoryDiagnoser]
public class SaInstallBenchmarks
{
    private const int PerInvoke = 64;

    [Params(0, 1_000, 10_000)]
    public int Existing { get; set; }

    [Params("aes128gcm16", "aes128-sha1")]
    public string Suite { get; set; } = "aes128gcm16";

    private Dataplane _dp = null!;
    private EspSuite _suite = null!;
    private byte[] _keys = null!;
    private readonly IpAddress16 _west = IpAddress16.Parse("203.0.113.1"), _east = IpAddress16.Parse("203.0.113.2");

    [GlobalSetup]
    public void Setup()
    {
        var (inside, _) = InMemoryIo.CreatePair();
        var (outside, _) = InMemoryIo.CreatePair();
        // PollTimeoutMs = 0: Step() must not wait for traffic that never comes (it would add 1 ms per Step).
        _dp = new Dataplane(new DataplaneOptions { LocalAddresses = [IPAddress.Parse("203.0.113.2")], CommandRingCapacity = 32768, PollTimeoutMs = 0 }, _ => (inside, outside));
        _suite = EspSuite.Parse(Suite);
        _keys = RandomNumberGenerator.GetBytes(_suite.KeyMaterialLength);
        for (int i = 0; i < Existing; i++) Install(0x100000u + (uint)i);
        _dp.Step();
    }

    [GlobalCleanup]
    public void Cleanup() => _dp.Dispose();

    private void Install(uint spi)
    {
        _dp.InstallInbound(new SaParameters { Spi = spi, Suite = _suite, KeyMaterial = _keys, LocalAddress = _east, RemoteAddress = _west, Esn = true, ReplayWindow = 1024 }, policyGroup: spi);
        _dp.InstallOutbound(new SaParameters { Spi = spi, Suite = _suite, KeyMaterial = _keys, LocalAddress = _east, RemoteAddress = _west, Esn = true });
    }

    /// <summary>Install 64 SA pairs, let the worker apply them, delete them again.</summary>
    [Benchmark(OperationsPerInvoke = PerInvoke)]
    public void InstallAndDeletePair()
    {
        for (int i = 0; i < PerInvoke; i++) Install(0x10u + (uint)i);
        _dp.Step();
        for (int i = 0; i < PerInvoke; i++)
        {
            _dp.DeleteSa(0x10u + (uint)i, SaDirection.Inbound);
            _dp.DeleteSa(0x10u + (uint)i, SaDirection.Outbound);
        }
        _dp.Step();
    }
}

/// <summary>
/// IKE handshake rate, the part that exists today: the cryptography of one IKEv2 IKE_SA_INIT +
/// IKE_AUTH pair as both peers do it — two ephemeral key exchanges (each side's key pair and shared
/// secret; RFC 7296 §1.2), SKEYSEED and the IKE SA keys (SaKeyFactory.CreateIkeSa, §2.14) and the
/// first CHILD_SA's KEYMAT (§2.17) — per handshake. The message encoding, AUTH payloads and the
/// exchange state machine are not in it yet: the IKE engineers replace <see cref="Handshake"/> with
/// a loopback initiator/responder pair once the engine runs (keep the class name, the gate and
/// docs/performance.md refer to it).
/// </summary>
[MemoryDiagnoser]
public class IkeHandshakeBenchmarks
{
    [Params(DhGroup.Curve25519, DhGroup.Ecp256, DhGroup.Modp2048)]
    public DhGroup Group { get; set; } = DhGroup.Curve25519;

    private IkeSuite _ike = null!;
    private ChildSuite _child = null!;
    private byte[] _ni = null!, _nr = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ike = new IkeSuite(EncrId.AesGcm16, 128, PrfId.HmacSha2_256, IntegId.None, Group);
        _child = new ChildSuite(EncrId.AesGcm16, 128, IntegId.None, DhGroup.None, EsnId.NoEsn);
        _ni = RandomNumberGenerator.GetBytes(32);
        _nr = RandomNumberGenerator.GetBytes(32);
    }

    /// <summary>Both peers' key exchange and key derivation for one IKE SA and its first CHILD_SA.</summary>
    [Benchmark]
    public int Handshake()
    {
        using KeyExchange initiator = KeyExchange.Create(Group);
        using KeyExchange responder = KeyExchange.Create(Group);
        if (!initiator.TryComputeSharedSecret(responder.PublicValue, out byte[] si, out string e1)) throw new InvalidOperationException(e1);
        if (!responder.TryComputeSharedSecret(initiator.PublicValue, out byte[] sr, out string e2)) throw new InvalidOperationException(e2);
        IkeSaKeys ki = SaKeyFactory.CreateIkeSa(_ike, si, _ni, _nr, 1, 2);
        IkeSaKeys kr = SaKeyFactory.CreateIkeSa(_ike, sr, _ni, _nr, 1, 2);
        ChildSaKeys ci = SaKeyFactory.CreateChildSa(ki, _child, default, _ni, _nr);
        ChildSaKeys cr = SaKeyFactory.CreateChildSa(kr, _child, default, _ni, _nr);
        if (!ci.InitiatorToResponder.EncryptionKey.AsSpan().SequenceEqual(cr.InitiatorToResponder.EncryptionKey)) throw new InvalidOperationException("KEYMAT differs");
        return ci.EncryptionKeyLength;
    }
}

/// <summary>
/// X25519 (RFC 7748) as the IKE KE of group 31 uses it, per scalar multiplication: BouncyCastle's
/// Rfc7748.X25519 (what KeyExchange used before, ten 25.5-bit limbs) vs OpenSSL's through
/// X25519OpenSsl (what it uses now), side by side in one run (docs/ike-performance.md).
/// </summary>
[MemoryDiagnoser]
public class X25519Benchmarks
{
    private readonly byte[] _k = RandomNumberGenerator.GetBytes(32), _u = new byte[32], _r = new byte[32];

    [GlobalSetup]
    public void Setup() => X25519OpenSsl.ScalarMultBase(RandomNumberGenerator.GetBytes(32), _u);

    [Benchmark(Baseline = true)]
    public byte BouncyCastle()
    {
        Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMult(_k, 0, _u, 0, _r, 0);
        return _r[0];
    }

    [Benchmark]
    public byte OpenSsl()
    {
        X25519OpenSsl.TryScalarMult(_k, _u, _r);
        return _r[0];
    }

    /// <summary>What an IKE SA pays now: key pair (kept in OpenSSL) + derive.</summary>
    [Benchmark]
    public byte OpenSslKeyPairAndDerive()
    {
        using var key = X25519OpenSsl.PrivateKey.Create(_k, _r);
        key.TryDerive(_u, _r);
        return _r[0];
    }

    /// <summary>What an IKE SA paid before: key pair + derive, both BouncyCastle.</summary>
    [Benchmark]
    public byte BouncyCastleKeyPairAndDerive()
    {
        Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMultBase(_k, 0, _r, 0);
        Org.BouncyCastle.Math.EC.Rfc7748.X25519.ScalarMult(_k, 0, _u, 0, _r, 0);
        return _r[0];
    }

    [Benchmark]
    public byte OpenSslBase()
    {
        X25519OpenSsl.ScalarMultBase(_k, _r);
        return _r[0];
    }
}
