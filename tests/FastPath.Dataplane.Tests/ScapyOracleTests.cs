using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Esp;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Sad;
using FastPath.Dataplane.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Dataplane.Tests;

/// <summary>Independent oracles: scapy's SecurityAssociation decrypts and verifies what FastPath
/// encapsulates and encrypts what FastPath must decapsulate, for every suite scapy knows, tunnel
/// (4-in-4, 6-in-6, 4-in-6, 6-in-4) and transport, IPv4 and IPv6, with and without NAT-T, with ESN
/// where scapy supports it (AEAD only: scapy 2.5 never adds the ESN high bits to an HMAC ICV); and
/// tshark decrypting a pcap written by FastPath (esp.icv_good). All cases go through one python
/// invocation (JSON on stdin/stdout); no network traffic. When python3-scapy/tshark are missing the
/// tests fail with the install command (`./run.sh test` installs them): an oracle test never passes
/// without running.</summary>
public class ScapyOracleTests
{
    private const string Python = "/usr/bin/python3";
    private readonly ITestOutputHelper _output;

    public ScapyOracleTests(ITestOutputHelper output) => _output = output;

    /// <summary>FastPath suite → (scapy crypt name, scapy auth name, ESN testable).</summary>
    private static readonly (string Suite, string Crypt, string Auth, bool Aead)[] Suites =
    [
        ("aes128gcm16", "AES-GCM", "NULL", true),
        ("aes256gcm16", "AES-GCM", "NULL", true),
        ("aes128-sha1", "AES-CBC", "HMAC-SHA1-96", false),
        ("aes128-sha256", "AES-CBC", "SHA2-256-128", false),
        ("aes256-sha384", "AES-CBC", "SHA2-384-192", false),
        ("aes256-sha512", "AES-CBC", "SHA2-512-256", false),
        ("3des-sha1", "3DES", "HMAC-SHA1-96", false),
        ("3des-md5", "3DES", "HMAC-MD5-96", false),
        ("aes128ctr-sha256", "AES-CTR", "SHA2-256-128", false),
        ("chacha20poly1305", "CHACHA20-POLY1305", "NULL", true),
    ];

    private sealed record Case(string Suite, string Crypt, string Auth, IpsecMode Mode, bool Outer6, bool Inner6, bool NatT, bool Esn)
    {
        public override string ToString() => $"{Suite} {Mode} {(Outer6 ? "v6" : "v4")}-outer {(Inner6 ? "v6" : "v4")}-inner natT={NatT} esn={Esn}";
    }

    private static IEnumerable<Case> Cases()
    {
        foreach (var s in Suites)
        foreach (bool esn in s.Aead ? new[] { false, true } : new[] { false })
        foreach (IpsecMode mode in new[] { IpsecMode.Tunnel, IpsecMode.Transport })
        foreach (bool outer6 in new[] { false, true })
        foreach (bool inner6 in new[] { false, true })
        foreach (bool natT in new[] { false, true })
        {
            if (mode == IpsecMode.Transport && inner6 != outer6) continue;
            yield return new Case(s.Suite, s.Crypt, s.Auth, mode, outer6, inner6, natT, esn);
        }
    }

    private static readonly int[] Sizes = [0, 57, 1300];
    private static readonly ulong[] EsnSequences = [0xFFFF_FFFE, 0x1_0000_0000, 0x1_0000_0003];

    private static byte[] Inner(Case c, int size, int seed)
    {
        if (c.Mode == IpsecMode.Transport)
            return c.Inner6 ? TestPackets.Ipv6Udp(size, seed, "2001:db8:ffff::1", "2001:db8:ffff::2") : TestPackets.Ipv4Udp(size, seed, "203.0.113.1", "203.0.113.2");
        return c.Inner6 ? TestPackets.Ipv6Udp(size, seed) : TestPackets.Ipv4Udp(size, seed);
    }

    private static JsonObject SaJson(Case c, OutboundSa o, byte[] keys, string op)
    {
        var suite = EspSuite.Parse(c.Suite);
        return new JsonObject
        {
            ["op"] = op,
            ["spi"] = o.Spi,
            ["crypt"] = c.Crypt,
            ["crypt_key"] = Convert.ToHexString(keys.AsSpan(0, suite.EncryptionKeyMaterialLength)),
            ["auth"] = c.Auth,
            ["auth_key"] = Convert.ToHexString(keys.AsSpan(suite.EncryptionKeyMaterialLength)),
            ["mode"] = c.Mode == IpsecMode.Tunnel ? "tunnel" : "transport",
            ["outer6"] = c.Outer6,
            ["src"] = c.Outer6 ? "2001:db8:ffff::1" : "203.0.113.1",
            ["dst"] = c.Outer6 ? "2001:db8:ffff::2" : "203.0.113.2",
            ["natt"] = c.NatT,
            ["esn"] = c.Esn,
        };
    }

    /// <summary>Whether the oracle can run; fails the test when it cannot.</summary>
    private bool OracleAvailable(string what, string probeFile, string probeArgs)
    {
        bool ok = File.Exists(probeFile);
        if (ok)
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo(probeFile, probeArgs) { RedirectStandardOutput = true, RedirectStandardError = true })!;
                p.StandardOutput.ReadToEnd();
                p.StandardError.ReadToEnd();
                p.WaitForExit();
                ok = p.ExitCode == 0;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                ok = false;
            }
        }
        if (!ok)
        {
            string msg = $"{what} is not installed (apt-get install -y --no-install-recommends python3-scapy tshark)";
            Assert.Fail(msg + " — the oracle tests need it; ./run.sh test installs it");
        }
        return ok;
    }

    private static JsonNode RunOracle(JsonObject doc)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Oracle", "esp_oracle.py");
        var psi = new ProcessStartInfo(Python, $"\"{script}\"") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(doc.ToJsonString());
        p.StandardInput.Close();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(300_000), "oracle timed out");
        Assert.True(p.ExitCode == 0, "oracle failed: " + stderr.Result);
        return JsonNode.Parse(stdout)!["results"]!;
    }

    [Fact]
    [Trait("Category", "Oracle")]
    public void ScapyDecryptsWhatFastPathEncryptsAndFastPathDecryptsWhatScapyEncrypts()
    {
        if (!OracleAvailable("python3-scapy", Python, "-c \"import scapy.layers.ipsec\"")) return;
        var cases = Cases().ToList();
        var engine = new EspProcessor();
        using var frames = new Frames();
        var docCases = new JsonArray();
        var expectedInner = new List<byte[][]>();   // FastPath → scapy: what scapy must give back
        var scapyInputs = new List<byte[][]>();     // scapy → FastPath: what FastPath must give back
        var pairs = new List<(OutboundSa O, InboundSa I)>();
        uint spi = 0x2000;
        foreach (Case c in cases)
        {
            spi++;
            var suite = EspSuite.Parse(c.Suite);
            byte[] keys = SaPairs.Keys(suite, (int)spi);
            var (o, i) = SaPairs.Create(c.Suite, c.Esn, c.Mode, c.Outer6, c.NatT, spi, keys: keys);
            pairs.Add((o, i));
            if (c.Esn)
            {
                o.SetSequenceForTest(EsnSequences[0] - 1);
                i.Replay.Reset(EsnSequences[0] - 10);
            }
            // FastPath encrypts.
            frames.Reset();
            var inners = Sizes.Select((s, k) => Inner(c, s, k + (int)spi)).ToArray();
            foreach (byte[] inner in inners) frames.Add(inner);
            engine.Encapsulate(frames.Batch, o);
            var dec = SaJson(c, o, keys, "decrypt");
            var packets = new JsonArray();
            for (int k = 0; k < inners.Length; k++)
            {
                Assert.Equal(PacketVerdict.Forward, frames.Batch[k].Verdict);
                ulong seq = c.Esn ? EsnSequences[0] + (ulong)k : (ulong)k + 1; // consecutive, across 2^32
                packets.Add(new JsonObject { ["hex"] = Convert.ToHexString(frames.Data(k)), ["seq_high"] = (uint)(seq >> 32) });
            }
            dec["packets"] = packets;
            docCases.Add(dec);
            expectedInner.Add(inners);
            // scapy encrypts.
            var enc = SaJson(c, o, keys, "encrypt");
            var plain = Sizes.Select((s, k) => Inner(c, s + 3, k + 100 + (int)spi)).ToArray();
            enc["packets"] = new JsonArray(plain.Select((p, k) =>
            {
                ulong seq = c.Esn ? EsnSequences[k] : (ulong)k + 1;
                return (JsonNode)new JsonObject { ["hex"] = Convert.ToHexString(p), ["seq"] = (uint)seq, ["seq_high"] = (uint)(seq >> 32) };
            }).ToArray());
            docCases.Add(enc);
            scapyInputs.Add(plain);
        }
        JsonNode results = RunOracle(new JsonObject { ["cases"] = docCases });

        var failures = new List<string>();
        var sad = new SadTable();
        foreach (var (_, i) in pairs) sad.Install(i);
        for (int n = 0; n < cases.Count; n++)
        {
            Case c = cases[n];
            var decrypted = results[2 * n]!.AsArray();
            for (int k = 0; k < Sizes.Length; k++)
            {
                var r = decrypted[k]!;
                if (!(bool)r["ok"]!) { failures.Add($"scapy could not decrypt FastPath's {c} #{k}: {r["error"]}"); continue; }
                byte[] got = Convert.FromHexString((string)r["hex"]!);
                if (!got.AsSpan().SequenceEqual(expectedInner[n][k])) failures.Add($"scapy decrypted FastPath's {c} #{k} to different bytes");
            }
            var encrypted = results[2 * n + 1]!.AsArray();
            frames.Reset();
            for (int k = 0; k < Sizes.Length; k++)
            {
                var r = encrypted[k]!;
                if (!(bool)r["ok"]!) { failures.Add($"scapy could not encrypt {c} #{k}: {r["error"]}"); frames.Add(new byte[20]); continue; }
                frames.Add(Convert.FromHexString((string)r["hex"]!));
            }
            engine.Decapsulate(frames.Batch, sad);
            for (int k = 0; k < Sizes.Length; k++)
            {
                Packet p = frames.Batch[k];
                if (p.Verdict != PacketVerdict.Forward) { failures.Add($"FastPath dropped scapy's {c} #{k}: {p.Verdict} {p.Drop}"); continue; }
                if (!frames.Data(k).AsSpan().SequenceEqual(scapyInputs[n][k])) failures.Add($"FastPath decapsulated scapy's {c} #{k} to different bytes");
            }
        }
        foreach (var (o, i) in pairs) { o.Dispose(); i.Dispose(); }
        _output.WriteLine($"{cases.Count} SA configurations × {Sizes.Length} packets × 2 directions; {failures.Count} failures");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(40)));
    }
}
