using System;
using System.Net;
using FastPath.Crypto.Esp;
using FastPath.Dataplane.Io;
using FastPath.Dataplane.Packets;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Sad;
using Xunit;

namespace FastPath.Dataplane.Tests.Pipeline;

using Dataplane = FastPath.Dataplane.Pipeline.Dataplane;

/// <summary>More SA installs before Start than the worker's command ring holds (`fastpath manual` with
/// 10,000 tunnels and a 1024-slot ring used to fail "stayed full for 1 s"): the commands wait in order
/// and reach the worker once it runs (Start) or steps (Step); Dispose frees the ones never delivered.</summary>
public class PipelineCommandOverflowTests
{
    private const int Tunnels = 300;

    private static Dataplane Build()
    {
        var (a, b) = InMemoryIo.CreatePair();
        var (c, d) = InMemoryIo.CreatePair();
        return new Dataplane(new DataplaneOptions { LocalAddresses = [IPAddress.Parse("203.0.113.1")], CommandRingCapacity = 16 }, _ => (a, c));
    }

    private static void InstallAll(Dataplane dp)
    {
        var suite = EspSuite.Parse("aes128gcm16");
        var keys = new byte[suite.KeyMaterialLength];
        IpAddress16 west = IpAddress16.Parse("203.0.113.1"), east = IpAddress16.Parse("203.0.113.2");
        for (int i = 0; i < Tunnels; i++)
        {
            keys[0] = (byte)i;
            dp.InstallOutbound(new SaParameters { Spi = 0x1000u + (uint)i, Suite = suite, KeyMaterial = keys, LocalAddress = west, RemoteAddress = east });
            dp.InstallInbound(new SaParameters { Spi = 0x9000u + (uint)i, Suite = suite, KeyMaterial = keys, LocalAddress = west, RemoteAddress = east }, policyGroup: 0x1000u + (uint)i);
        }
    }

    [Fact]
    public void InstallsBeyondTheRingBeforeStartReachTheRunningWorker()
    {
        using Dataplane dp = Build();
        InstallAll(dp);
        Assert.True(dp.PendingCommands >= 2 * Tunnels - 16, $"pending {dp.PendingCommands}");
        dp.Start();
        Assert.Equal(0, dp.PendingCommands);
        Assert.True(dp.WaitForCommands(TimeSpan.FromSeconds(10)));
        Assert.Equal(2 * Tunnels, dp.Workers[0].Counters.Commands);
        dp.Stop();
    }

    [Fact]
    public void InstallsBeyondTheRingReachAWorkerThatIsStepped()
    {
        using Dataplane dp = Build();
        InstallAll(dp);
        int steps = 0;
        while (dp.Workers[0].Counters.Commands < 2 * Tunnels && steps++ < 1000) dp.Step();
        Assert.Equal(0, dp.PendingCommands);
        Assert.Equal(2 * Tunnels, dp.Workers[0].Counters.Commands);
        Assert.True(steps <= 2 * Tunnels / 16 + 2, $"{steps} steps");
    }

    [Fact]
    public void PendingInstallsAreDisposedWithTheDataplane()
    {
        Dataplane dp = Build();
        InstallAll(dp);
        Assert.True(dp.PendingCommands > 0);
        dp.Dispose(); // must not throw or hang with commands never delivered
    }
}
