using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using FastPath.Ike.Messages;
using Xunit;
using Xunit.Abstractions;

namespace FastPath.Ike.Tests.Messages;

// Mutation fuzzing of the parser from the real captures (and built messages using every payload
// type): bit flips, byte changes, 16-bit length-field edits to boundary values, truncation,
// extension with garbage, splicing a segment of another message in. Properties: no exception
// escapes Parse/ParseInner/DecryptSk; a mutant that parses re-serializes to bytes that parse again
// and serialize to the same bytes (reserved fields are zeroed, so the first serialization may
// differ from the mutant); the seeds are unchanged afterwards. 1M messages; the rate is printed.
public class FuzzTests(ITestOutputHelper output)
{
    private const int Iterations = 1_000_000;

    [Fact]
    public void One_million_mutated_messages_never_throw()
    {
        var seeds = Captures.Messages.Select(d => d.Bytes).ToList();
        var c = Samples.Cipher();
        seeds.Add(IkeMessageBuilder.Build(Samples.Header, Samples.AllPayloads()));
        seeds.Add(IkeMessageBuilder.BuildEncrypted(Samples.Header, [], Samples.AllPayloads(), c));
        seeds.AddRange(IkeMessageBuilder.BuildFragments(Samples.Header, Samples.AllPayloads(), c, 200));
        // Inner chains (decrypted content) are fuzzed through ParseInner.
        var innerSeed = IkeMessageBuilder.SerializeInner(Samples.AllPayloads());
        var snapshot = seeds.Select(s => (byte[])s.Clone()).ToList();

        var rng = new Random(7296);
        var counts = new Dictionary<ParseErrorCode, int>();
        int ok = 0, decrypts = 0;
        var ra = new FragmentReassembler();
        var buf = new byte[70_000];
        var sw = Stopwatch.StartNew();
        double cpu0 = FastPath.Ike.Tests.Fuzz.ThreadCpu.Seconds();
        for (int it = 0; it < Iterations; it++)
        {
            bool inner = it % 8 == 7;
            var seed = inner ? innerSeed : seeds[rng.Next(seeds.Count)];
            int len = Mutate(seed, buf, rng, seeds);
            var span = buf.AsSpan(0, len);
            if (inner)
            {
                var ir = IkeMessage.ParseInner(span, (PayloadType)(rng.Next(4) == 0 ? rng.Next(256) : (int)PayloadType.SecurityAssociation));
                if (ir.Ok) IkeMessageBuilder.SerializeInner(ir.Value!);
                continue;
            }
            var r = IkeMessage.Parse(span);
            if (!r.Ok)
            {
                counts[r.Error.Code] = counts.GetValueOrDefault(r.Error.Code) + 1;
                continue;
            }
            ok++;
            var m = r.Value!;
            var once = m.Serialize();
            var again = IkeMessage.Parse(once);
            Assert.True(again.Ok, $"re-serialized mutant does not parse: {again.Error}");
            Assert.Equal(once, again.Value!.Serialize());
            if ((it & 15) == 0 && m.Encrypted is not null)
            {
                decrypts++;
                m.DecryptSk(span, c);
            }
            if ((it & 15) == 1 && m.Fragment is not null) ra.Add(m, span, c, it);
        }
        sw.Stop();
        double cpu = FastPath.Ike.Tests.Fuzz.ThreadCpu.Seconds() - cpu0;
        double rate = Iterations / sw.Elapsed.TotalSeconds;
        output.WriteLine($"{Iterations} mutants in {sw.Elapsed.TotalSeconds:F1} s = {rate:F0}/s; parsed OK {ok}, decrypt attempts {decrypts}; errors: " +
            string.Join(", ", counts.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}")));
        Assert.True(ok > 1000, "mutations too destructive to reach the payload parsers");
        Assert.True(counts.Count >= 6, "too few kinds of errors reached");
        for (int i = 0; i < seeds.Count; i++) Assert.Equal(snapshot[i], seeds[i]);
        foreach (var d in Captures.Messages) Assert.Equal(d.Bytes, IkeMessage.Parse(d.Bytes).Value!.Serialize());
        // Budget on the thread's CPU time: wall time on a loaded shared machine measures the neighbours.
        Assert.True(cpu < 60, $"1M mutants took {cpu:F1} s of CPU ({sw.Elapsed.TotalSeconds:F1} s wall)");
    }

    private static readonly int[] Boundary = [0, 1, 3, 4, 5, 7, 8, 27, 28, 0x7fff, 0x8000, 0xffff];

    private static int Mutate(byte[] seed, byte[] dst, Random rng, List<byte[]> others)
    {
        seed.CopyTo(dst, 0);
        int len = seed.Length;
        int ops = 1 + rng.Next(3);
        for (int k = 0; k < ops && len > 0; k++)
        {
            switch (rng.Next(7))
            {
                case 0: // bit flip
                    dst[rng.Next(len)] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1: // byte change
                    dst[rng.Next(len)] = (byte)rng.Next(256);
                    break;
                case 2: // 16-bit length edit at a random even-ish position, boundary or +-small
                {
                    int p = rng.Next(Math.Max(1, len - 1));
                    int cur = (dst[p] << 8) | dst[p + 1 < len ? p + 1 : p];
                    int v = rng.Next(2) == 0 ? Boundary[rng.Next(Boundary.Length)] : cur + rng.Next(-8, 9);
                    dst[p] = (byte)(v >> 8);
                    if (p + 1 < len) dst[p + 1] = (byte)v;
                    break;
                }
                case 3: // truncation (the header length no longer matches... or is fixed up below)
                    len = rng.Next(len);
                    break;
                case 4: // extension with garbage
                {
                    int add = rng.Next(1, 64);
                    rng.NextBytes(dst.AsSpan(len, add));
                    len += add;
                    break;
                }
                case 5: // splice: a segment of another message replaces ours from a random point
                {
                    var o = others[rng.Next(others.Count)];
                    int from = rng.Next(o.Length);
                    int n = rng.Next(o.Length - from + 1);
                    int at = rng.Next(len + 1);
                    o.AsSpan(from, n).CopyTo(dst.AsSpan(at));
                    len = Math.Max(len, at + n);
                    break;
                }
                default: // payload-length edit on a real generic header position found by walking the chain
                {
                    int p = 28;
                    int steps = rng.Next(6);
                    for (int s = 0; s < steps && p + 4 <= len; s++)
                    {
                        int l = (dst[p + 2] << 8) | dst[p + 3];
                        if (l < 4) break;
                        p += l;
                    }
                    if (p + 4 <= len)
                    {
                        int v = Boundary[rng.Next(Boundary.Length)];
                        dst[p + 2] = (byte)(v >> 8);
                        dst[p + 3] = (byte)v;
                    }
                    break;
                }
            }
        }
        // Half the time fix the IKE header length so mutants get past the header check.
        if (len >= 28 && rng.Next(2) == 0)
        {
            dst[24] = (byte)(len >> 24);
            dst[25] = (byte)(len >> 16);
            dst[26] = (byte)(len >> 8);
            dst[27] = (byte)len;
        }
        return len;
    }
}
