using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using FastPath.Ike.Crypto;
using FastPath.Ike.Proposals;
using Xunit;
using static FastPath.Ike.Tests.Crypto.Hex;

namespace FastPath.Ike.Tests.Crypto;

// Live oracle: runs Vectors/capture.sh (two strongSwan charons in netns fp-ikecr-a/-b that this
// test creates and deletes, documentation addresses only, bounded by timeouts) for a suite not in
// the recorded vectors - ChaCha20-Poly1305 SK payloads, PRF_HMAC_SHA2_512, ECP_521 - and checks
// our derivation and SK cipher against what those charons just did. Needs root, iproute2,
// strongSwan, tcpdump and /usr/bin/python3: it FAILS (does not skip) when any is missing.
public class StrongSwanLiveTests
{
    [Fact]
    public void FreshCharonExchangeChaCha20Sha512Ecp521()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fp-ikecr-live-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            string vectors = Path.Combine(AppContext.BaseDirectory, "Crypto", "Vectors");
            Run("/bin/bash", $"{vectors}/capture.sh {dir} live chacha20poly1305-prfsha512-ecp521 aes256-sha512", 90);
            string txt = Run("/usr/bin/python3", $"{vectors}/extract.py {dir} live", 30);
            var v = new System.Collections.Generic.Dictionary<string, byte[]>();
            foreach (string line in txt.Split('\n'))
                if (!line.StartsWith('#') && line.Contains('=')) v[line.Split('=')[0].Trim()] = Convert.FromHexString(line.Split('=')[1].Trim());

            var suite = new IkeSuite(EncrId.ChaCha20Poly1305, 256, PrfId.HmacSha2_512, IntegId.None, DhGroup.Ecp521);
            Assert.Equal(66, v["g_ir"].Length); // ECP_521 x coordinate
            var k = SaKeyFactory.CreateIkeSa(suite, v["g_ir"], v["ni"], v["nr"],
                BinaryPrimitives.ReadUInt64BigEndian(v["spi_i"]), BinaryPrimitives.ReadUInt64BigEndian(v["spi_r"]));
            Assert.Equal(S(v["skeyseed"]), S(k.SkeySeed));
            Assert.Equal(S(v["sk_d"]), S(k.SkD));
            Assert.Equal(S(v["sk_ei"]), S(k.Material.SkEi)); // 32-byte key + 4-byte salt (RFC 7634 §2)
            Assert.Equal(36, k.Material.SkEi.Length);
            Assert.Equal(S(v["sk_pr"]), S(k.SkPr));

            var request = StrongSwanVectorTests.Open(k.InitiatorToResponder, v["ike_auth_request"]);
            Assert.Equal(S(v["initiator_auth"]), S(request[39].AsSpan(4)));
            var response = StrongSwanVectorTests.Open(k.ResponderToInitiator, v["ike_auth_response"]);
            byte[] octets = IkeAuth.SignedOctets(k.Prf, v["ike_sa_init_response"], v["ni"], k.SkPr, response[36]);
            Assert.True(IkeAuth.VerifyPskAuth(k.Prf, v["psk"], octets, response[39].AsSpan(4)));

            var child = SaKeyFactory.CreateChildSa(k, new ChildSuite(EncrId.AesCbc, 256, IntegId.HmacSha2_512_256, DhGroup.None, EsnId.NoEsn),
                default, v["ni"], v["nr"]);
            Assert.Equal(S(v["child_encr_i"]), S(child.InitiatorToResponder.EncryptionKey));
            Assert.Equal(S(v["child_integ_r"]), S(child.ResponderToInitiator.IntegrityKey));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static string Run(string exe, string args, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{exe} {args} did not finish in {timeoutSeconds} s");
        }
        Assert.True(p.ExitCode == 0, $"{exe} {args} exited {p.ExitCode}: {stderr.Result}\n{stdout.Result}");
        return stdout.Result;
    }
}
