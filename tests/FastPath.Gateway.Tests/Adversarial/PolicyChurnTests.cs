using System;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Threading;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.L3;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Policy;
using FastPath.Dataplane.Sad;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Gateway.Tests.Adversarial;

// The facade's name is also a namespace (FastPath.Dataplane): an alias picks the type.
using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>
/// Policy churn under traffic (seed 000 #10, docs/security.md §Policy churn), in process: west's
/// dataplane with two real worker threads over in-memory ports; a generator thread plays sunset
/// (two flows, A: 192.0.2.10 → 192.0.2.138 and B: 192.0.2.70 → 192.0.2.200), a writer thread
/// replaces eroutes continuously — A between SAs, with a fresh SA (new SPI, new keys) installed and
/// the oldest deleted every few dozen replacements, B between its own SA and %drop, and now and then
/// the whole table at once — and a verifier thread checks every frame that leaves the outside port.
/// Under both protected eroutes lies a 0.0.0.0/0 → 0.0.0.0/0 %pass eroute with next hops for both
/// destinations on the outside: a replace that ever exposed it would put cleartext on the wire.
/// Every frame must be ESP, decrypt (BCL AES-GCM, not FastPath's crypto) under the keys of the SA its
/// SPI names, and carry only the flow that SA was installed for.
/// </summary>
public sealed class PolicyChurnTests
{
    private static readonly ulong WestOutMac = 0x02_00_00_00_01_02, EastOutMac = 0x02_00_00_00_02_02, WestInMac = 0x02_00_00_00_01_01, SunsetMac = 0x02_00_00_00_00_10;
    private readonly ITestOutputHelper _out;
    public PolicyChurnTests(ITestOutputHelper output) => _out = output;

    private sealed record SaKeys(uint Spi, byte[] Key, char Flow);

    [Fact]
    public void ErouteAndSaReplacementUnderTrafficNeverLeaksOrUsesTheWrongSa()
    {
        const int workers = 2;
        var inside = new InMemoryIo[workers];
        var wire = new InMemoryIo[workers];
        var options = new DataplaneOptions
        {
            WorkerCount = workers,
            LocalAddresses = [IPAddress.Parse("192.0.2.1"), IPAddress.Parse("203.0.113.1")],
            IcmpSourceV4 = IPAddress.Parse("192.0.2.1"),
        };
        using var west = new Dataplane(options, i =>
        {
            var (sunset, westIn) = InMemoryIo.CreatePair();
            var (westOut, w) = InMemoryIo.CreatePair();
            inside[i] = sunset;
            wire[i] = w;
            return (westIn, westOut);
        });
        west.NextHops.Set(IPAddress.Parse("203.0.113.2"), new NextHop(2, EastOutMac, WestOutMac, 1500));
        // Cleartext, were it ever forwarded by the %pass eroute, would leave on the outside too.
        west.NextHops.Set(IPAddress.Parse("192.0.2.138"), new NextHop(2, EastOutMac, WestOutMac, 1500));
        west.NextHops.Set(IPAddress.Parse("192.0.2.200"), new NextHop(2, EastOutMac, WestOutMac, 1500));

        var suite = EspSuite.Parse("aes128gcm16");
        var keys = new ConcurrentDictionary<uint, SaKeys>();
        uint nextSpi = 0x5000;
        SaKeys NewSa(char flow)
        {
            var k = new SaKeys(nextSpi++, RandomNumberGenerator.GetBytes(20), flow);
            keys[k.Spi] = k; // known to the verifier before any packet can use it
            west.InstallOutbound(new SaParameters
            {
                Spi = k.Spi, Suite = suite, KeyMaterial = k.Key,
                LocalAddress = IpAddress16.Parse("203.0.113.1"), RemoteAddress = IpAddress16.Parse("203.0.113.2"),
            });
            return k;
        }
        var selA = ErouteSelector<uint>.Parse("192.0.2.0/25", "192.0.2.128/25");
        var selB = ErouteSelector<uint>.Parse("192.0.2.64/26", "192.0.2.192/26");
        var selAll = ErouteSelector<uint>.Parse("0.0.0.0/0", "0.0.0.0/0");
        var peer = IPAddress.Parse("203.0.113.2");
        var liveA = new Queue<SaKeys>();
        liveA.Enqueue(NewSa('A'));
        liveA.Enqueue(NewSa('A'));
        SaKeys saB = NewSa('B');
        west.ErouteV4.Add(selAll, ErouteAction.Pass);
        west.ErouteV4.Add(selA, ErouteAction.Sa(liveA.Peek().Spi), peer);
        west.ErouteV4.Add(selB, ErouteAction.Sa(saB.Spi), peer);
        west.Start();

        TimeSpan duration = TimeSpan.FromSeconds(Profile.Size(8, 90));
        using var stop = new CancellationTokenSource();
        long sentA = 0, sentB = 0, replacements = 0, bulk = 0, installed = 3, deleted = 0;
        long espA = 0, espB = 0, cleartext = 0, wrongSa = 0, undecryptable = 0, other = 0;
        var problems = new ConcurrentQueue<string>();

        var generator = new Thread(() =>
        {
            using var slab = new FrameSlab(256);
            byte[] a = Frame(WestInMac, SunsetMac, Ipv4Udp("192.0.2.10", "192.0.2.138", 200));
            byte[] b = Frame(WestInMac, SunsetMac, Ipv4Udp("192.0.2.70", "192.0.2.200", 120));
            int i = 0;
            while (!stop.IsCancellationRequested)
            {
                bool isA = (i & 1) == 0;
                if (Send(inside[i % workers], slab, isA ? a : b)) { if (isA) sentA++; else sentB++; }
                else Thread.Yield();
                i++;
            }
        }) { IsBackground = true, Name = "churn-generator" };

        var writer = new Thread(() =>
        {
            var rnd = new Random(10);
            bool bOn = true;
            long k = 0;
            while (!stop.IsCancellationRequested)
            {
                k++;
                SaKeys[] a = liveA.ToArray();
                west.ErouteV4.Replace(selA, ErouteAction.Sa(a[rnd.Next(a.Length)].Spi), peer);
                bOn = !bOn;
                west.ErouteV4.Replace(selB, bOn ? ErouteAction.Sa(saB.Spi) : ErouteAction.Drop, bOn ? peer : null);
                replacements += 2;
                if (k % 40 == 0)
                {
                    // Rekey flow A: a new SA, the eroute switched to it, the oldest SA deleted once nothing names it.
                    SaKeys fresh = NewSa('A');
                    installed++;
                    west.ErouteV4.Replace(selA, ErouteAction.Sa(fresh.Spi), peer);
                    liveA.Enqueue(fresh);
                    replacements++;
                    if (liveA.Count > 3)
                    {
                        SaKeys old = liveA.Dequeue();
                        west.DeleteSa(old.Spi, SaDirection.Outbound);
                        deleted++;
                    }
                }
                if (k % 25 == 0)
                {
                    west.ErouteV4.ReplaceAll([
                        new(selAll, ErouteAction.Pass),
                        new(selA, ErouteAction.Sa(liveA.Last().Spi), peer),
                        new(selB, ErouteAction.Sa(saB.Spi), peer),
                    ]);
                    bOn = true;
                    bulk++;
                }
                if ((k & 7) == 0) Thread.Sleep(0);
            }
        }) { IsBackground = true, Name = "churn-writer" };

        var verifier = new Thread(() =>
        {
            using var slab = new FrameSlab(1024);
            var batch = new PacketBatch(256);
            var plain = new byte[2048];
            while (true)
            {
                bool stopping = stop.IsCancellationRequested;
                int got = 0;
                foreach (InMemoryIo w in wire)
                {
                    int n = w.Receive(batch, slab);
                    got += n;
                    foreach (ref Packet p in batch.Packets)
                    {
                        switch (Check(p.Span, keys, plain, out string? why))
                        {
                            case 'A': espA++; break;
                            case 'B': espB++; break;
                            case 'C': cleartext++; problems.Enqueue(why!); break;
                            case 'W': wrongSa++; problems.Enqueue(why!); break;
                            case 'U': undecryptable++; problems.Enqueue(why!); break;
                            default: other++; break;
                        }
                        slab.Return(p);
                    }
                    batch.Clear();
                }
                if (got == 0)
                {
                    if (stopping) break;
                    Thread.Sleep(0);
                }
            }
        }) { IsBackground = true, Name = "churn-verifier" };

        generator.Start();
        writer.Start();
        verifier.Start();
        Thread.Sleep(duration);
        stop.Cancel();
        generator.Join();
        writer.Join();
        Thread.Sleep(200); // the workers drain what is in flight
        west.Stop();
        verifier.Join();

        var drops = west.DropsByReason();
        _out.WriteLine($"sent A {sentA} B {sentB}; replacements {replacements} (+{bulk} whole-table), SAs installed {installed} deleted {deleted}; " +
                       $"wire: ESP A {espA} B {espB}, cleartext {cleartext}, wrong SA {wrongSa}, undecryptable {undecryptable}, other {other}; drops {string.Join(", ", drops.Select(kv => $"{kv.Key}={kv.Value}"))}");
        foreach (string p in problems.Take(10)) _out.WriteLine(p);
        Profile.Figure(_out, "policy-churn",
            $"seconds={duration.TotalSeconds:F0} eroute_replacements={replacements} bulk_replacements={bulk} sa_installed={installed} sa_deleted={deleted} " +
            $"packets_checked={espA + espB + cleartext + wrongSa + undecryptable + other} cleartext={cleartext} wrong_sa={wrongSa} undecryptable={undecryptable}");
        Assert.Equal(0, cleartext);
        Assert.Equal(0, wrongSa);
        Assert.Equal(0, undecryptable);
        Assert.Equal(0, other);
        Assert.True(replacements >= 2000, $"only {replacements} replacements");
        Assert.True(espA > 10_000 && espB > 1_000, $"too little traffic crossed: A {espA}, B {espB}");
    }

    /// <summary>'A'/'B': ESP of that flow under an SA installed for it; 'C' cleartext; 'W' an SA of the
    /// other flow; 'U' no such SA or the ICV does not verify; 'O' anything else.</summary>
    private static char Check(ReadOnlySpan<byte> f, ConcurrentDictionary<uint, SaKeys> keys, byte[] plain, out string? why)
    {
        why = null;
        if (f.Length < 14 + 20 || BinaryPrimitives.ReadUInt16BigEndian(f[12..]) != 0x0800) { why = "not IPv4"; return 'O'; }
        ReadOnlySpan<byte> ip = f[14..];
        int ihl = (ip[0] & 0xF) * 4;
        if (ip[9] != 50)
        {
            why = $"CLEARTEXT proto {ip[9]} {new IPAddress(ip.Slice(12, 4))} -> {new IPAddress(ip.Slice(16, 4))}";
            return 'C';
        }
        ReadOnlySpan<byte> esp = ip[ihl..BinaryPrimitives.ReadUInt16BigEndian(ip[2..])];
        uint spi = BinaryPrimitives.ReadUInt32BigEndian(esp);
        if (!keys.TryGetValue(spi, out SaKeys? k)) { why = $"unknown SPI 0x{spi:x}"; return 'U'; }
        Span<byte> nonce = stackalloc byte[12];
        k.Key.AsSpan(16, 4).CopyTo(nonce);
        esp.Slice(8, 8).CopyTo(nonce[4..]);
        ReadOnlySpan<byte> ct = esp[16..^16];
        using var gcm = new AesGcm(k.Key.AsSpan(0, 16), 16);
        try
        {
            gcm.Decrypt(nonce, ct, esp[^16..], plain.AsSpan(0, ct.Length), esp[..8]);
        }
        catch (AuthenticationTagMismatchException)
        {
            why = $"SPI 0x{spi:x}: ICV does not verify under its keys";
            return 'U';
        }
        var inner = plain.AsSpan(0, ct.Length);
        var src = new IPAddress(inner.Slice(12, 4));
        char flow = src.Equals(IPAddress.Parse("192.0.2.10")) ? 'A' : src.Equals(IPAddress.Parse("192.0.2.70")) ? 'B' : '?';
        if (flow != k.Flow)
        {
            why = $"flow {flow} ({src}) left through SA 0x{spi:x} of flow {k.Flow}";
            return 'W';
        }
        return flow;
    }

    private static unsafe bool Send(InMemoryIo io, FrameSlab slab, byte[] frame)
    {
        if (!slab.TryRent(out Packet p)) return false;
        frame.CopyTo(new Span<byte>(p.Frame + p.Offset, frame.Length));
        p.Length = frame.Length;
        int sent = io.Transmit(new ReadOnlySpan<Packet>(in p));
        slab.Return(p);
        return sent == 1;
    }

    private static byte[] Frame(ulong dst, ulong src, byte[] l3)
    {
        var f = new byte[14 + l3.Length];
        for (int i = 0; i < 6; i++) { f[i] = (byte)(dst >> (40 - 8 * i)); f[6 + i] = (byte)(src >> (40 - 8 * i)); }
        f[12] = 0x08;
        l3.CopyTo(f, 14);
        return f;
    }

    private static byte[] Ipv4Udp(string src, string dst, int payload)
    {
        var p = new byte[20 + 8 + payload];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
        p[6] = 0x40; // DF
        p[8] = 64;
        p[9] = 17;
        IPAddress.Parse(src).GetAddressBytes().CopyTo(p, 12);
        IPAddress.Parse(dst).GetAddressBytes().CopyTo(p, 16);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), FastPath.Dataplane.Packets.Checksum.Compute(p.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), 9999);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), (ushort)(8 + payload));
        for (int i = 0; i < payload; i++) p[28 + i] = (byte)i;
        return p; // UDP checksum 0: allowed for IPv4
    }
}
