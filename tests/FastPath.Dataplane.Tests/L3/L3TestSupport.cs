using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using FastPath.Dataplane.Packets;

namespace FastPath.Dataplane.Tests.L3;

/// <summary>Packet builders, an independent RFC 1071 checksum and the scapy runner for the L3 tests.</summary>
internal static unsafe class L3TestSupport
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Runs a python3 script (scapy imported by the script) with <paramref name="stdin"/>; returns stdout.
    /// Throws (the test fails, never skips) when python3/scapy is missing or the script fails.</summary>
    public static string RunPython(string script, string stdin)
    {
        if (!File.Exists(Python)) throw new InvalidOperationException($"{Python} missing (apt-get install python3-scapy)");
        string path = Path.Combine(Path.GetTempPath(), $"fp-l3-{Guid.NewGuid():N}.py");
        File.WriteAllText(path, script);
        try
        {
            var psi = new ProcessStartInfo(Python, $"\"{path}\"") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start python3");
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
            if (!p.WaitForExit(120_000))
            {
                p.Kill();
                throw new TimeoutException("python3 did not finish in 120 s");
            }
            if (p.ExitCode != 0) throw new InvalidOperationException($"python3 failed ({p.ExitCode}): {stderr.Result}");
            return stdout.Result;
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Independent RFC 1071 checksum: 16-bit big-endian words, 32-bit accumulator, folded at the end.</summary>
    public static ushort Rfc1071(ReadOnlySpan<byte> data, uint initial = 0)
    {
        uint sum = initial;
        int i = 0;
        for (; i + 1 < data.Length; i += 2) sum += (uint)(data[i] << 8 | data[i + 1]);
        if (i < data.Length) sum += (uint)data[i] << 8;
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>Writes an IPv4 packet (ihl 20 + options) with random payload into <paramref name="p"/>'s data.</summary>
    public static void WriteIpv4(ref Packet p, Random rng, int totalLength, ushort id, byte protocol, bool df, ReadOnlySpan<byte> options = default, int linkHeader = 0)
    {
        int ihl = 20 + options.Length;
        byte* d = p.Data;
        for (int i = 0; i < linkHeader; i++) d[i] = (byte)(0xE0 + i);
        byte* ip = d + linkHeader;
        ip[0] = (byte)(0x40 | (ihl / 4));
        ip[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(ip + 2, 2), (ushort)totalLength);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(ip + 4, 2), id);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(ip + 6, 2), df ? Ipv4Header.DontFragment : (ushort)0);
        ip[8] = 64;
        ip[9] = protocol;
        ip[10] = ip[11] = 0;
        ip[12] = 192; ip[13] = 0; ip[14] = 2; ip[15] = 1;
        ip[16] = 198; ip[17] = 51; ip[18] = 100; ip[19] = (byte)rng.Next(1, 255);
        options.CopyTo(new Span<byte>(ip + 20, options.Length));
        rng.NextBytes(new Span<byte>(ip + ihl, totalLength - ihl));
        Ipv4Header.At(ip).UpdateChecksum();
        p.Length = linkHeader + totalLength;
    }

    /// <summary>Writes an IPv6 packet (no extension headers) with a random payload.</summary>
    public static void WriteIpv6(ref Packet p, Random rng, int totalLength, byte nextHeader)
    {
        byte* ip = p.Data;
        ref Ipv6Header h = ref Ipv6Header.At(ip);
        h.SetVersionClassFlow(0, 0x12345);
        h.PayloadLength = (ushort)(totalLength - 40);
        h.NextHeader = nextHeader;
        h.HopLimit = 64;
        h.Source = IpAddress16.Parse("2001:db8::1");
        h.Destination = IpAddress16.Parse("2001:db8:1::" + rng.Next(1, 0xFFFF).ToString("x"));
        rng.NextBytes(new Span<byte>(ip + 40, totalLength - 40));
        p.Length = totalLength;
    }

    public static string Hex(in Packet p) => Convert.ToHexString(p.Span);
}
