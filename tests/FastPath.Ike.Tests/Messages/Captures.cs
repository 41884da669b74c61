using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace FastPath.Ike.Tests.Messages;

/// <summary>The strongSwan captures of tests/FastPath.Ike.Tests/Captures (see capture.sh there).</summary>
internal static class Captures
{
    internal sealed record Datagram(int Index, string Src, string Dst, byte[] Bytes)
    {
        public bool FromInitiator => Src.StartsWith("192.0.2.1:", StringComparison.Ordinal);
    }

    private static string Dir() => Path.Combine(AppContext.BaseDirectory, "Captures");

    public static IReadOnlyList<Datagram> Messages { get; } = Load();

    private static List<Datagram> Load()
    {
        var list = new List<Datagram>();
        foreach (var line in File.ReadAllLines(Path.Combine(Dir(), "ike-messages.txt")))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 4) continue;
            list.Add(new Datagram(int.Parse(f[0], CultureInfo.InvariantCulture), f[1], f[2], Convert.FromHexString(f[3])));
        }
        return list;
    }

    /// <summary>SK_* keys of the IKE SAs in the order charon-a established them (gcmx, cbcmodp, frag).</summary>
    public static IReadOnlyList<Dictionary<string, byte[]>> Keys { get; } = LoadKeys();

    private static List<Dictionary<string, byte[]>> LoadKeys()
    {
        var sas = new List<Dictionary<string, byte[]>>();
        var lines = File.ReadAllLines(Path.Combine(Dir(), "charon-a.keys.log"));
        for (int i = 0; i < lines.Length; i++)
        {
            int s = lines[i].IndexOf("] Sk_", StringComparison.Ordinal);
            if (s < 0) continue;
            var rest = lines[i][(s + 2)..]; // "Sk_d secret => 32 bytes @ 0x..."
            var parts = rest.Split(' ');
            string name = parts[0];
            int n = int.Parse(parts[3], CultureInfo.InvariantCulture);
            var key = new byte[n];
            int got = 0;
            for (int j = i + 1; got < n && j < lines.Length; j++)
            {
                int c = lines[j].IndexOf(": ", StringComparison.Ordinal);
                var hex = lines[j][(c + 2)..];
                for (int k = 0; k < 16 && got < n; k++) key[got++] = Convert.FromHexString(hex.AsSpan(k * 3, 2))[0];
            }
            if (name == "Sk_d") sas.Add([]);
            sas[^1][name] = key;
        }
        return sas;
    }
}
