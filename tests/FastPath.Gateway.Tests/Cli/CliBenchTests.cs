using System.Linq;
using System.Text.Json;
using Xunit;

namespace FastPath.Gateway.Tests.Cli;

/// <summary>`fastpath bench --quick --json`: the headline numbers (crypto and pipeline) from the real command,
/// no root or namespace needed; every rate is positive and no measured path allocates per packet.</summary>
public sealed class CliBenchTests
{
    [Fact]
    public void Bench_quick_json_reports_crypto_and_pipeline_rates_and_zero_allocations()
    {
        var r = CliRunner.Run("bench --quick --json", timeoutMs: 120_000);
        Assert.True(r.Exit == 0, $"exit {r.Exit}: {r.Err}\n{r.Out}");
        using var j = JsonDocument.Parse(r.Out);
        var root = j.RootElement;
        Assert.True(root.GetProperty("quick").GetBoolean());
        Assert.True(root.GetProperty("cores").GetInt32() >= 1);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("engine").GetString()));
        var crypto = root.GetProperty("crypto").EnumerateArray().ToArray();
        Assert.Equal(new[] { 64, 1420 }, crypto.Select(c => c.GetProperty("packet_bytes").GetInt32()).ToArray());
        foreach (var c in crypto)
        {
            Assert.True(c.GetProperty("fast_path_ns").GetDouble() > 0, c.ToString());
            Assert.True(c.GetProperty("bcl_ns").GetDouble() > 0, c.ToString());
            Assert.True(c.GetProperty("packets_per_second").GetDouble() > 0, c.ToString());
            Assert.True(c.GetProperty("ratio").GetDouble() > 0, c.ToString());
            Assert.Equal(0, c.GetProperty("allocated_bytes_per_packet").GetDouble());
        }
        var pipeline = root.GetProperty("pipeline").EnumerateArray().ToArray();
        Assert.Equal(new[] { "64", "1420", "imix" }, pipeline.Select(p => p.GetProperty("size").GetString()).ToArray());
        foreach (var p in pipeline)
        {
            Assert.True(p.GetProperty("packets_per_second").GetDouble() > 0, p.ToString());
            Assert.True(p.GetProperty("inner_gbps").GetDouble() > 0, p.ToString());
            Assert.Equal(0, p.GetProperty("allocated_bytes_per_packet").GetDouble());
        }
        Assert.True(pipeline[0].GetProperty("packets_per_second").GetDouble() > pipeline[1].GetProperty("packets_per_second").GetDouble(),
            "64 B packets should go faster than 1420 B ones"); // a sanity check that the sizes really differ
        Assert.Equal(JsonValueKind.Null, root.GetProperty("scaling").ValueKind); // --quick skips the 10,000-SA row
        Assert.Equal(0, root.GetProperty("max_allocated_bytes_per_packet").GetDouble());
    }

    [Fact]
    public void Bench_refuses_an_unknown_option()
    {
        var r = CliRunner.Run("bench --fast");
        Assert.Equal(2, r.Exit);
        Assert.Contains("bench: unknown option '--fast'", r.Err, System.StringComparison.Ordinal);
    }
}
