using System;
using System.Collections.Generic;
using System.IO;

namespace FastPath.Dataplane.Io;

// Choosing the packet I/O of an interface: AF_XDP when it can be had (the shim and BPF object are
// there, the program loads and attaches, the socket binds), otherwise AF_PACKET, with the reason
// returned so the gateway can say "AF_XDP (native, copy) eth1 queue 0" or "AF_PACKET (fallback:
// attach XDP ...: Device or resource busy (another XDP program is attached))". Setup-time only;
// runs in the calling thread's network namespace (wrap in NetworkNamespace.Run for another one).
// No logging here: the caller logs Description.

/// <summary>Which packet I/O back end to open.</summary>
public enum PacketIoKind
{
    /// <summary>AF_XDP, else AF_PACKET with the reason in <see cref="PacketIoOpenResult.FallbackReason"/>.</summary>
    Auto = 0,
    /// <summary>AF_XDP only: failures throw.</summary>
    AfXdp = 1,
    /// <summary>AF_PACKET only.</summary>
    AfPacket = 2,
}

/// <summary>Options for <see cref="PacketIoFactory.Open"/> (the defaults of AfXdpOptions/AfPacketOptions otherwise).</summary>
public sealed class PacketIoOpenOptions
{
    public XdpAttachMode XdpMode { get; init; } = XdpAttachMode.Auto;
    /// <summary>BPF object path (default: next to libfastpath_xdp.so).</summary>
    public string? XdpObjectPath { get; init; }
    /// <summary>A program already attached to the interface (for the second and later queues).</summary>
    public XdpProgram? XdpProgram { get; init; }
    public int XdpRxFrames { get; init; } = 2048;
    public int XdpTxFrames { get; init; } = 2048;
    public IReadOnlyList<int> ManagementTcpPorts { get; init; } = [];
    public IReadOnlyList<int> ManagementUdpPorts { get; init; } = [];
    /// <summary>AF_XDP: flag received frames ChecksumNotReady (see AfXdpOptions.AssumeChecksumNotReady);
    /// AF_PACKET reports CHECKSUM_PARTIAL per frame itself.</summary>
    public bool AssumeChecksumNotReady { get; init; }
    /// <summary>AF_PACKET: PACKET_FANOUT group (several workers on one interface).</summary>
    public int? FanoutGroup { get; init; }
    /// <summary>AF_PACKET: RX ring blocks of 1 MiB.</summary>
    public int PacketBlockCount { get; init; } = 32;
}

/// <summary>What <see cref="PacketIoFactory.Open"/> opened.</summary>
public sealed class PacketIoOpenResult
{
    internal PacketIoOpenResult(IPacketIo io, PacketIoKind kind, string description, string? fallbackReason)
    {
        Io = io;
        Kind = kind;
        Description = description;
        FallbackReason = fallbackReason;
    }

    /// <summary>The endpoint (the caller disposes it).</summary>
    public IPacketIo Io { get; }
    /// <summary>AfXdp or AfPacket (never Auto).</summary>
    public PacketIoKind Kind { get; }
    /// <summary>One line for the log: "AF_XDP (native, copy) eth1 queue 0", "AF_PACKET (fallback: ...)".</summary>
    public string Description { get; }
    /// <summary>Why AF_XDP was not used (null when it was, or when AF_PACKET was asked for).</summary>
    public string? FallbackReason { get; }
}

/// <summary>Opens the packet I/O of one interface queue.</summary>
public static class PacketIoFactory
{
    public static PacketIoOpenResult Open(string ifname, PacketIoKind kind = PacketIoKind.Auto, int queue = 0, PacketIoOpenOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(ifname);
        options ??= new PacketIoOpenOptions();
        string? reason = null;
        if (kind != PacketIoKind.AfPacket)
        {
            try
            {
                var xdp = new AfXdpIo(new AfXdpOptions
                {
                    Interface = ifname,
                    Queue = queue,
                    Mode = options.XdpMode,
                    ObjectPath = options.XdpObjectPath,
                    Program = options.XdpProgram,
                    RxFrames = options.XdpRxFrames,
                    TxFrames = options.XdpTxFrames,
                    AssumeChecksumNotReady = options.AssumeChecksumNotReady,
                    ManagementTcpPorts = options.ManagementTcpPorts,
                    ManagementUdpPorts = options.ManagementUdpPorts,
                });
                return new PacketIoOpenResult(xdp, PacketIoKind.AfXdp, xdp.Description, null);
            }
            catch (Exception e) when (kind == PacketIoKind.Auto && e is IOException or ArgumentException)
            {
                reason = e.Message;
            }
        }
        var packet = new AfPacketIo(new AfPacketOptions { Interface = ifname, FanoutGroup = options.FanoutGroup, BlockCount = options.PacketBlockCount });
        string description = reason == null ? $"AF_PACKET {ifname}" : $"AF_PACKET {ifname} (fallback: {reason})";
        return new PacketIoOpenResult(packet, PacketIoKind.AfPacket, description, reason);
    }
}
