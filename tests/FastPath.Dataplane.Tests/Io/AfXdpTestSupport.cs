using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Tests.Io;

/// <summary>Network namespaces fp-xdp-RANDOM-X joined by veth pairs, made by the test and deleted in
/// Dispose (also when the test fails). Only documentation addresses (198.51.100.0/24,
/// 2001:db8::/32), no routes beyond the connected ones: nothing leaves the namespaces. Creation
/// failures throw: the test fails, it never skips.</summary>
public sealed class XdpNetns : IDisposable
{
    private readonly string[] _names;

    /// <summary><paramref name="count"/> namespaces (2 or 3): veth a-b (IfA/IfB), and with 3, b-c
    /// (IfB2/IfC).</summary>
    public XdpNetns(int count = 2)
    {
        string id = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..6];
        _names = count == 3 ? [$"fp-xdp-{id}-a", $"fp-xdp-{id}-b", $"fp-xdp-{id}-c"] : [$"fp-xdp-{id}-a", $"fp-xdp-{id}-b"];
        IfA = $"fpx{id}a";
        IfB = $"fpx{id}b";
        IfB2 = $"fpx{id}d";
        IfC = $"fpx{id}c";
        try
        {
            foreach (string n in _names) Ip($"netns add {n}");
            foreach (string n in _names) Ip($"-n {n} link set lo up");
            Ip($"link add {IfA} netns {NsA} type veth peer name {IfB} netns {NsB}");
            Ip($"-n {NsA} link set {IfA} up");
            Ip($"-n {NsB} link set {IfB} up");
            if (count == 3)
            {
                Ip($"link add {IfB2} netns {NsB} type veth peer name {IfC} netns {NsC}");
                Ip($"-n {NsB} link set {IfB2} up");
                Ip($"-n {NsC} link set {IfC} up");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string NsA => _names[0];
    public string NsB => _names[1];
    public string NsC => _names.Length > 2 ? _names[2] : throw new InvalidOperationException("two namespaces only");
    public string IfA { get; }
    public string IfB { get; }
    public string IfB2 { get; }
    public string IfC { get; }

    public static string Ip(string args, bool check = true) => Run("ip", args, check);

    public static string Run(string file, string args, bool check = true, int timeoutMs = 10_000)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill();
            throw new TimeoutException($"{file} {args}: no exit in {timeoutMs} ms");
        }
        if (check && p.ExitCode != 0) throw new InvalidOperationException($"{file} {args} failed ({p.ExitCode}): {stderr.Result.Trim()}");
        return stdout.Result + stderr.Result;
    }

    public void Dispose()
    {
        foreach (string n in _names) Ip($"netns del {n}", check: false);
    }

    /// <summary>Fails (throws) unless the shim and program were built: these tests must not skip.</summary>
    public static void RequireShim()
    {
        string dir = Environment.GetEnvironmentVariable("FASTPATH_NATIVE_DIR") is { Length: > 0 } d ? d : AppContext.BaseDirectory;
        foreach (string f in new[] { "libfastpath_xdp.so", "fastpath_xdp.bpf.o" })
            if (!File.Exists(Path.Combine(dir, f))) throw new InvalidOperationException($"{f} missing in {dir}: run `make -C native-shims` (clang, libbpf-dev, libxdp-dev) before building");
    }
}

/// <summary>Frames of the AF_XDP tests.</summary>
public static unsafe class XdpFrames
{
    public static readonly byte[] MacA = [0x02, 0, 0, 0, 0, 0x0a];
    public static readonly byte[] MacB = [0x02, 0, 0, 0, 0, 0x0b];

    /// <summary>Ethernet + IPv4 198.51.100.1 -> .2 + UDP sport 40000 -> <paramref name="dport"/>,
    /// <paramref name="length"/> bytes; payload: seq (4 bytes) then a pattern of seq.</summary>
    public static void Udp4(ref Packet p, uint seq, int length, ushort dport = 9)
    {
        p.Length = length;
        byte* d = p.Data;
        new Span<byte>(d, 42).Clear();
        MacB.CopyTo(new Span<byte>(d, 6));
        MacA.CopyTo(new Span<byte>(d + 6, 6));
        d[12] = 0x08; d[13] = 0x00;
        byte* ip = d + 14;
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(ip + 2, 2), (ushort)(length - 14));
        ip[8] = 64;
        ip[9] = IpProtocol.Udp;
        ip[12] = 198; ip[13] = 51; ip[14] = 100; ip[15] = 1;
        ip[16] = 198; ip[17] = 51; ip[18] = 100; ip[19] = 2;
        Ipv4Header.At(ip).UpdateChecksum();
        byte* udp = ip + 20;
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(udp, 2), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(udp + 2, 2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(udp + 4, 2), (ushort)(length - 34));
        BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(d + 42, 4), seq);
        for (int i = 46; i < length; i++) d[i] = (byte)(seq + i);
    }

    public static bool IsUdp4To(in Packet p, ushort dport) =>
        p.Length >= 46 && p.Data[12] == 0x08 && p.Data[13] == 0 && p.Data[14 + 9] == IpProtocol.Udp &&
        BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(p.Data + 36, 2)) == dport;

    public static uint Seq(in Packet p) => BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(p.Data + 42, 4));

    public static bool PayloadOk(in Packet p, uint seq)
    {
        for (int i = 46; i < p.Length; i++) if (p.Data[i] != (byte)(seq + i)) return false;
        return true;
    }

    /// <summary>True if the UDP checksum of an IPv4/UDP frame verifies (RFC 768; 0 = none).</summary>
    public static bool Udp4ChecksumOk(in Packet p)
    {
        byte* ip = p.Data + 14;
        int ihl = (ip[0] & 15) * 4;
        byte* udp = ip + ihl;
        int len = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(udp + 4, 2));
        if (udp[6] == 0 && udp[7] == 0) return true;
        ulong s = 0;
        for (int i = 12; i < 20; i += 2) s += (uint)(ip[i] << 8 | ip[i + 1]);
        s += IpProtocol.Udp;
        s += (uint)len;
        for (int i = 0; i + 1 < len; i += 2) s += (uint)(udp[i] << 8 | udp[i + 1]);
        if ((len & 1) != 0) s += (uint)(udp[len - 1] << 8);
        while (s >> 16 != 0) s = (s & 0xFFFF) + (s >> 16);
        return s == 0xFFFF;
    }
}
