// Random byte and line mutations of the good corpus: the loaders either succeed or throw
// ConfigException (never anything else), and finish quickly (no hang).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using FastPath.Config;
using Xunit;

namespace FastPath.Config.Tests;

public class FuzzTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _out;
    public FuzzTests(Xunit.Abstractions.ITestOutputHelper output) { _out = output; }

    private static List<string> Seeds() =>
        Directory.EnumerateFiles(Path.Combine(TestUtil.CorpusDir, "good"), "*", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(TestUtil.CorpusDir, "bad"), "*.conf"))
            .Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();

    private static readonly string[] Tokens =
    {
        "conn ", "config setup", "include ", "version 2", "also=", "left=", "%default", "{", "}", "\"", "#", "=", "\t", "    ",
        "*", "?", "[", "/", "0x", "0s", "%any", "%forever", "spi=0x200", "esp=", "leftsubnets={", ": PSK ", ": RSA {", "\n", "\r", "\0", "\u00ff",
    };

    private static string Mutate(string s, Random r)
    {
        var sb = new StringBuilder(s);
        int n = r.Next(1, 8);
        for (int i = 0; i < n; i++)
        {
            int pos = sb.Length == 0 ? 0 : r.Next(sb.Length);
            switch (r.Next(6))
            {
                case 0: if (sb.Length > 0) sb.Remove(pos, Math.Min(r.Next(1, 20), sb.Length - pos)); break;
                case 1: sb.Insert(pos, Tokens[r.Next(Tokens.Length)]); break;
                case 2: if (sb.Length > 0) sb[pos] = (char)r.Next(0, 256); break;
                case 3:
                    {
                        string[] lines = sb.ToString().Split('\n');
                        int a = r.Next(lines.Length), b = r.Next(lines.Length);
                        (lines[a], lines[b]) = (lines[b], lines[a]);
                        sb.Clear().Append(string.Join('\n', lines));
                        break;
                    }
                case 4:
                    {
                        string[] lines = sb.ToString().Split('\n');
                        int a = r.Next(lines.Length);
                        sb.Clear().Append(string.Join('\n', lines.Take(a + 1).Append(lines[a]).Concat(lines.Skip(a + 1))));
                        break;
                    }
                default: sb.Insert(pos, (char)r.Next(0x20, 0x7f)); break;
            }
        }
        return sb.ToString();
    }

    [Fact]
    public void Mutated_configs_only_ever_raise_ConfigException()
    {
        using TempDir t = TestUtil.Temp();
        var seeds = Seeds();
        var r = new Random(7);
        var sw = Stopwatch.StartNew();
        int runs = 0, failed = 0;
        var slowest = TimeSpan.Zero;
        while (runs < 4000 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            string text = Mutate(seeds[r.Next(seeds.Count)], r);
            // Through the file system too, so includes and globs of mutated text are exercised.
            string path = t.Write("ipsec.conf", text);
            var one = Stopwatch.StartNew();
            try
            {
                if ((runs & 1) == 0) IpsecConfLoader.Parse(text, path);
                else IpsecConfLoader.Load(path, new IpsecConfigOptions { Dialect = (ConfigDialect)(runs % 4) });
            }
            catch (ConfigException e)
            {
                failed++;
                Assert.NotEmpty(e.Diagnostics);
                Assert.DoesNotContain("internal error", e.Message);
            }
            one.Stop();
            if (one.Elapsed > slowest) slowest = one.Elapsed;
            runs++;
        }
        _out.WriteLine($"{runs} runs, {failed} rejected, slowest {slowest.TotalMilliseconds:F1} ms, {sw.Elapsed.TotalSeconds:F1} s");
        Assert.True(runs >= 500, $"only {runs} runs in 10 s");
        Assert.True(failed > runs / 10, $"{failed} of {runs} failed: mutations too weak");
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"slowest parse {slowest}");
    }

    [Fact]
    public void Mutated_secrets_only_ever_raise_ConfigException()
    {
        string seed = ": PSK \"x\"\n192.0.2.1 192.0.2.2 : PSK 0x0102\n@a: RSA {\n    Modulus: 0x00c5\n    PublicExponent: 0sAw==\n    PrivateExponent: 0x83\n    Prime1: 0x0d\n    Prime2: 0x0f\n    Exponent1: 0x09\n    Exponent2: 0x0a\n    Coefficient: 0x04\n    }\n: ECDSA k.pem\n";
        var r = new Random(11);
        for (int i = 0; i < 3000; i++)
        {
            string text = Mutate(seed, r);
            try { IpsecSecrets.Parse(text, "/nonexistent-fp/ipsec.secrets"); }
            catch (ConfigException e) { Assert.DoesNotContain("internal error", e.Message); }
        }
    }

    [Fact]
    public void Mutated_swanctl_only_ever_raises_ConfigException()
    {
        string seed = File.ReadAllText(Path.Combine(TestUtil.CorpusDir, "swanctl", "swanctl.conf"));
        var r = new Random(13);
        for (int i = 0; i < 2000; i++)
        {
            string text = Mutate(seed, r);
            try { SwanctlImporter.Parse(text, "/nonexistent-fp/swanctl.conf"); }
            catch (ConfigException e) { Assert.False(e.Message.Contains("internal error", StringComparison.Ordinal), e.Message); }
            try { SwanctlImporter.ParseSecrets(text, "/nonexistent-fp/swanctl.conf"); }
            catch (ConfigException e) { Assert.False(e.Message.Contains("internal error", StringComparison.Ordinal), e.Message); }
        }
    }

    [Fact]
    public void Pathological_inputs_finish()
    {
        var sw = Stopwatch.StartNew();
        string huge = "conn a\n" + string.Concat(Enumerable.Repeat("    x-y=1\n", 50000));
        Assert.Equal(2, TestUtil.Errors(huge).Length); // missing left and right, once each
        Assert.NotEmpty(TestUtil.Errors(new string('\0', 100000)));
        TestUtil.Errors("include " + new string('*', 5000) + "a\n");
        // A 3000-deep also= chain is cut at 32 levels, reported once per conn that reaches it.
        string[] deep = TestUtil.Errors(string.Concat(Enumerable.Range(0, 3000).Select(i => $"conn c{i}\n    also=c{i + 1}\n    left=192.0.2.1\n    right=192.0.2.2\n")));
        Assert.Contains(deep, e => e.EndsWith("also= nested more than 32 deep (from conn \"c0\")", StringComparison.Ordinal));
        Assert.Contains(TestUtil.Errors("include /" + string.Concat(Enumerable.Repeat("*/", 40)) + "x\n"), e => e.Contains("cannot expand include pattern", StringComparison.Ordinal));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), sw.Elapsed.ToString());
    }
}
