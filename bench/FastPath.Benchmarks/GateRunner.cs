using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FastPath.Benchmarks;

/// <summary>
/// The CI perf gate (`-- gate`, perf-scripts/gate.sh; docs/performance.md "Perf gate").
///
/// The machine is shared and noisy, so the gate never compares an absolute time with a stored one.
/// Every metric is a RATIO of two measurements taken back to back in this process:
///   FastPath AES-128-GCM vs the BCL's AesGcm (OpenSSL) on the same buffers, ESP seal batch vs the
///   BCL's EncryptCbc + HMACSHA1, the ESP engine vs the BCL sealing the same payloads, the pipeline vs
///   a memcpy of the bytes it moves, 10,000 SAs vs 1 SA.
/// Each ratio is measured in R rounds (default 7); a round measures both sides for ~40 ms of thread
/// CPU time each (so time the scheduler gives to other jobs is not counted), alternating which side
/// goes first; the metric is the median of the rounds. The baseline (perf-scripts/baseline/gate.json)
/// holds each metric's value and its tolerance: a higher-is-better metric fails below
/// value × (1 − tolerance). Allocation checks are exact: bytes allocated by this thread over
/// thousands of operations after warm-up must be 0.
///   -- gate [--rounds R] [--baseline FILE] [--out FILE] [--update-baseline FILE] [--quick]
/// Prints one `GATE name measured baseline floor PASS|FAIL` line per metric and exits 1 on a
/// regression (2 when the baseline is unreadable or a metric is missing).
/// </summary>
internal static class GateRunner
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A ratio metric: Numerator time / Denominator time (higher = FastPath better).</summary>
    private sealed record RatioCase(string Name, string What, Measured Reference, Measured FastPath);

    /// <summary>A body that runs <c>calls</c> operations groups; OpsPerCall operations each.</summary>
    private sealed record Measured(Action<int> Run, int OpsPerCall);

    public static int Run(string[] args)
    {
        int rounds = IntArg(args, "--rounds", args.Contains("--quick") ? 5 : 7);
        string? baselinePath = StrArg(args, "--baseline");
        string? outPath = StrArg(args, "--out");
        string? updatePath = StrArg(args, "--update-baseline");
        double sliceMs = args.Contains("--quick") ? 25 : 40;
        var total = Stopwatch.StartNew();

        Console.Error.WriteLine($"fastpath gate: GHASH path {FastPath.Crypto.GhashPath.Active}, {rounds} rounds, setting up...");
        var disposables = new List<IDisposable>();
        var cases = new List<RatioCase>();
        var allocations = new List<(string Name, Action Op, int Ops)>();

        // Crypto: FastPath's AES-128-GCM vs System.Security.Cryptography.AesGcm on the same buffers.
        foreach (int size in new[] { 64, 1420 })
        {
            var fp = new AeadBenchmarks { Algorithm = "aes128gcm", Engine = "intrinsics", Size = size };
            fp.Setup();
            var bcl = new BaselineBenchmarks { Size = size };
            bcl.Setup();
            cases.Add(new RatioCase($"gcm128_encrypt_{size}B_x_bcl", $"AES-128-GCM encrypt {size} B: BCL AesGcm time / FastPath time",
                new Measured(n => { for (int i = 0; i < n; i++) bcl.BclAesGcm128Encrypt(); }, 1),
                new Measured(n => { for (int i = 0; i < n; i++) fp.Encrypt(); }, 1)));
            allocations.Add(($"gcm128_encrypt_{size}B", fp.Encrypt, 1));
            allocations.Add(($"gcm128_decrypt_{size}B", () => fp.Decrypt(), 1));
            disposables.Add(new Disposer(fp.Cleanup));
            disposables.Add(new Disposer(bcl.Cleanup));
        }
        {
            var fp = new AeadBenchmarks { Algorithm = "aes128gcm", Engine = "intrinsics", Size = 1420 };
            fp.Setup();
            var bcl = new AeadBenchmarks { Algorithm = "aes128gcm", Engine = "bcl", Size = 1420 };
            bcl.Setup();
            cases.Add(new RatioCase("gcm128_decrypt_1420B_x_bcl", "AES-128-GCM decrypt 1420 B: BCL time / FastPath time",
                new Measured(n => { for (int i = 0; i < n; i++) bcl.Decrypt(); }, 1),
                new Measured(n => { for (int i = 0; i < n; i++) fp.Decrypt(); }, 1)));
            disposables.Add(new Disposer(fp.Cleanup));
            disposables.Add(new Disposer(bcl.Cleanup));
        }
        {
            var fp = new EspBatchBenchmarks { Suite = "aes128-sha1", Engine = "intrinsics", Size = 1420 };
            fp.Setup();
            var bcl = new BaselineBenchmarks { Size = 1420 };
            bcl.Setup();
            cases.Add(new RatioCase("cbc_sha1_seal16_1420B_x_bcl", "ESP AES-128-CBC+HMAC-SHA1-96 seal, batch of 16 × 1420 B: BCL EncryptCbc+HMACSHA1 time / FastPath time",
                new Measured(n => { for (int i = 0; i < n; i++) bcl.BclCbcSha1Batch(); }, EspBatchBenchmarks.Batch),
                new Measured(n => { for (int i = 0; i < n; i++) fp.SealBatch(); }, EspBatchBenchmarks.Batch)));
            allocations.Add(("esp_cbc_sha1_seal16_1420B", fp.SealBatch, EspBatchBenchmarks.Batch));
            disposables.Add(new Disposer(fp.Cleanup));
            disposables.Add(new Disposer(bcl.Cleanup));
        }
        // The ESP engine (encapsulation: headers, padding, sequence, seal) vs the BCL sealing the same payloads.
        {
            var esp = new EspEngineBenchmarks { Suite = "aes128gcm16", Size = 1420 };
            esp.Setup();
            cases.Add(new RatioCase("esp_encap_1420B_x_bcl_seal", "ESP tunnel encapsulation AES-128-GCM 1420 B: BCL AesGcm seal of the same payloads / FastPath engine",
                new Measured(n => { for (int i = 0; i < n; i++) esp.BclAesGcmSeal(); }, EspEngineBenchmarks.Batch),
                new Measured(n => { for (int i = 0; i < n; i++) esp.Encapsulate(); }, EspEngineBenchmarks.Batch)));
            allocations.Add(("esp_encap_1420B", esp.Encapsulate, EspEngineBenchmarks.Batch));
            allocations.Add(("esp_decap_1420B", esp.Decapsulate, EspEngineBenchmarks.Batch));
            disposables.Add(new Disposer(esp.Cleanup));
        }
        // The whole in-memory pipeline vs a memcpy of the bytes it moves (4 copies per packet).
        foreach (string size in new[] { "64", "1420" })
        {
            var rig = new PipelineRig("aes128gcm16", 1, size);
            disposables.Add(rig);
            var copy = new CopyReference(rig.MeanFrameBytes);
            disposables.Add(copy);
            cases.Add(new RatioCase($"pipeline_{size}B_x_memcpy", $"pipeline 1 tunnel, {size} B, both gateways: memcpy of the same bytes / pipeline time",
                new Measured(copy.Run, PipelineRig.Batch),
                new Measured(n => { for (int i = 0; i < n; i++) rig.Forward(); }, PipelineRig.Batch)));
            allocations.Add(($"pipeline_{size}B", () => rig.Forward(), PipelineRig.Batch));
        }
        // SA scaling: 10,000 tunnels vs 1 tunnel, same 10,048-frame source pool, traffic spread round robin.
        {
            var one = new PipelineRig("aes128gcm16", 1, "64", SaScalingBenchmarks.PoolFrames);
            var many = new PipelineRig("aes128gcm16", 10_000, "64", SaScalingBenchmarks.PoolFrames);
            disposables.Add(one);
            disposables.Add(many);
            cases.Add(new RatioCase("pipeline_10k_sas_over_1_sa_64B", "pipeline 64 B: time with 1 SA / time with 10,000 SAs (the ≥ 0.9 bar)",
                new Measured(n => { for (int i = 0; i < n; i++) one.Forward(); }, PipelineRig.Batch),
                new Measured(n => { for (int i = 0; i < n; i++) many.Forward(); }, PipelineRig.Batch)));
            allocations.Add(("pipeline_10k_sas_64B", () => many.Forward(), PipelineRig.Batch));
        }
        Console.Error.WriteLine(string.Create(Inv, $"fastpath gate: set up in {total.Elapsed.TotalSeconds:F0} s; measuring..."));

        // Warm up every body past tiering (~0.3 s each) and calibrate calls per slice.
        var calls = new Dictionary<Measured, int>();
        foreach (RatioCase c in cases)
            foreach (Measured m in new[] { c.Reference, c.FastPath })
                calls[m] = Calibrate(m, sliceMs);

        var ratios = cases.ToDictionary(c => c.Name, _ => new List<double>());
        var nsFast = cases.ToDictionary(c => c.Name, _ => new List<double>());
        var nsRef = cases.ToDictionary(c => c.Name, _ => new List<double>());
        for (int r = 0; r < rounds; r++)
        {
            foreach (RatioCase c in cases)
            {
                double a, b;
                if ((r & 1) == 0)
                {
                    a = NsPerOp(c.Reference, calls[c.Reference], sliceMs);
                    b = NsPerOp(c.FastPath, calls[c.FastPath], sliceMs);
                }
                else
                {
                    b = NsPerOp(c.FastPath, calls[c.FastPath], sliceMs);
                    a = NsPerOp(c.Reference, calls[c.Reference], sliceMs);
                }
                ratios[c.Name].Add(a / b);
                nsRef[c.Name].Add(a);
                nsFast[c.Name].Add(b);
            }
        }

        var measured = new Dictionary<string, double>();
        var details = new List<object>();
        foreach (RatioCase c in cases)
        {
            double med = Median(ratios[c.Name]);
            measured[c.Name] = med;
            details.Add(new
            {
                name = c.Name, what = c.What, ratio = med, ratios = ratios[c.Name],
                reference_ns_per_op = Median(nsRef[c.Name]), fastpath_ns_per_op = Median(nsFast[c.Name]),
            });
        }
        var allocResults = new Dictionary<string, long>();
        foreach (var (name, op, ops) in allocations)
        {
            // Exact: the least of three passes of n operations must be 0 bytes. A steady-state allocation
            // of even one byte per operation shows in every pass; a one-off (a tier-1 rejit installing a
            // stub, a lazy static) only in one.
            for (int i = 0; i < 256; i++) op();
            int n = Math.Max(64, 4096 / ops);
            long least = long.MaxValue;
            for (int pass = 0; pass < 3; pass++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < n; i++) op();
                least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            allocResults[name] = least;
        }
        foreach (IDisposable d in disposables) d.Dispose();

        // Compare with the baseline.
        int status = 0;
        var lines = new List<(string Name, double Measured, double Baseline, double Floor, bool Pass)>();
        JsonObject? baseline = null;
        if (baselinePath is not null)
        {
            try
            {
                baseline = JsonNode.Parse(File.ReadAllText(baselinePath))?["metrics"]?.AsObject();
            }
            catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"fastpath gate: cannot read the baseline {baselinePath}: {e.Message}");
                return 2;
            }
            if (baseline is null)
            {
                Console.Error.WriteLine($"fastpath gate: {baselinePath} has no \"metrics\" object");
                return 2;
            }
        }
        foreach (var (name, value) in measured)
        {
            if (baseline is null) continue;
            JsonNode? b = baseline[name];
            if (b is null)
            {
                Console.Error.WriteLine($"fastpath gate: {name} is not in the baseline (add it: --update-baseline)");
                status = Math.Max(status, 2);
                continue;
            }
            double bv = b["value"]!.GetValue<double>(), tol = b["tolerance"]!.GetValue<double>();
            double floor = bv * (1 - tol);
            double? min = b["min"]?.GetValue<double>();
            if (min is { } m && m > floor) floor = m;
            bool pass = value >= floor;
            lines.Add((name, value, bv, floor, pass));
            if (!pass) status = Math.Max(status, 1);
        }
        foreach (var (name, bytes) in allocResults)
        {
            bool pass = bytes == 0;
            lines.Add(("alloc_bytes_" + name, bytes, 0, 0, pass));
            if (!pass) status = Math.Max(status, 1);
        }

        Console.WriteLine(string.Create(Inv, $"fastpath gate: GHASH {FastPath.Crypto.GhashPath.Active}, {rounds} rounds × {sliceMs:F0} ms slices, {Environment.ProcessorCount} cores, {total.Elapsed.TotalSeconds:F0} s"));
        foreach (var (name, value) in measured.Where(_ => baseline is null))
            Console.WriteLine(string.Create(Inv, $"GATE {name} {value:0.###} - - INFO"));
        foreach (var l in lines)
        {
            string kind = l.Name.StartsWith("alloc_", StringComparison.Ordinal) ? "exact 0" : "ratio";
            Console.WriteLine(string.Create(Inv, $"GATE {l.Name} {l.Measured:0.###} {l.Baseline:0.###} {l.Floor:0.###} {(l.Pass ? "PASS" : "FAIL")}  ({kind})"));
        }
        if (baseline is not null)
            Console.WriteLine(status == 0 ? "GATE RESULT PASS" : "GATE RESULT FAIL");

        if (outPath is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
            var doc = new
            {
                date = DateTime.UtcNow.ToString("o", Inv),
                ghash = FastPath.Crypto.GhashPath.Active,
                rounds,
                slice_ms = sliceMs,
                cpus = Environment.ProcessorCount,
                runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
                metrics = details,
                allocations = allocResults,
                checks = lines.Select(l => new { name = l.Name, measured = l.Measured, baseline = l.Baseline, floor = l.Floor, pass = l.Pass }),
                pass = status == 0,
            };
            File.WriteAllText(outPath, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
        }
        if (updatePath is not null)
        {
            // Deliberate baseline update: keep each metric's tolerance (default 0.25) and note, set the new value.
            JsonObject root;
            try { root = File.Exists(updatePath) ? JsonNode.Parse(File.ReadAllText(updatePath))!.AsObject() : new JsonObject(); }
            catch (JsonException) { root = new JsonObject(); }
            JsonObject metrics = root["metrics"] as JsonObject ?? new JsonObject();
            foreach (var (name, value) in measured)
            {
                JsonObject entry = metrics[name] as JsonObject ?? new JsonObject { ["tolerance"] = 0.25 };
                entry["value"] = Math.Round(value, 4);
                metrics[name] = entry;
            }
            root["metrics"] = metrics;
            root["updated"] = DateTime.UtcNow.ToString("o", Inv);
            root["ghash"] = FastPath.Crypto.GhashPath.Active;
            File.WriteAllText(updatePath, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.Error.WriteLine($"fastpath gate: baseline values written to {updatePath} (review the diff, then commit it with the reason)");
        }
        return status;
    }

    private static int Calibrate(Measured m, double sliceMs)
    {
        // Warm-up past tiered compilation (tier-1 code is installed in the background), then calibrate.
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 300) m.Run(1);
        long c0 = ErouteBars.ThreadCpuNs();
        int n = 0;
        while (ErouteBars.ThreadCpuNs() - c0 < 300_000_000)
        {
            m.Run(1);
            n++;
        }
        double perCall = 300e6 / n;
        // Clock reads every ~1 ms of work (CLOCK_THREAD_CPUTIME_ID is a system call).
        return Math.Max(1, (int)(1e6 / perCall));
    }

    private static double NsPerOp(Measured m, int callsPerCheck, double sliceMs)
    {
        long budget = (long)(sliceMs * 1e6);
        long done = 0;
        long c0 = ErouteBars.ThreadCpuNs();
        long elapsed;
        do
        {
            m.Run(callsPerCheck);
            done += callsPerCheck;
            elapsed = ErouteBars.ThreadCpuNs() - c0;
        }
        while (elapsed < budget);
        return (double)elapsed / (done * m.OpsPerCall);
    }

    private static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.Integer, Inv, out int v) ? v : fallback;
    }

    private static string? StrArg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private sealed class Disposer(Action a) : IDisposable
    {
        public void Dispose() => a();
    }
}

/// <summary>The memcpy reference of the pipeline ratio: per packet, the 4 copies the in-memory
/// pipeline makes (sunset→west RX, west TX→east RX, east TX→sunrise RX, counted as 2 inner-sized and
/// 2 ESP-sized frame copies), over 64 distinct 2 KB frames like the pipeline's batch.</summary>
internal sealed unsafe class CopyReference : IDisposable
{
    private readonly byte* _src, _dst;
    private readonly int _bytes;

    public CopyReference(double bytesPerPacket)
    {
        _bytes = (int)Math.Round(bytesPerPacket / 4);
        _src = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(64 * 2048, 64);
        _dst = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(64 * 2048, 64);
        new Span<byte>(_src, 64 * 2048).Fill(0x5A);
    }

    /// <summary><paramref name="calls"/> × (64 packets × 4 copies).</summary>
    public void Run(int calls)
    {
        for (int c = 0; c < calls; c++)
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < 64; i++)
                    Buffer.MemoryCopy(_src + i * 2048, _dst + i * 2048, 2048, _bytes);
    }

    public void Dispose()
    {
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_src);
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_dst);
    }
}
