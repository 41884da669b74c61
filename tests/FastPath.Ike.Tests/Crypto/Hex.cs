using System;
using System.Collections.Generic;
using System.IO;

namespace FastPath.Ike.Tests.Crypto;

internal static class Hex
{
    public static byte[] B(string hex) => Convert.FromHexString(hex.Replace(" ", "").Replace("\n", "").Replace("\r", ""));

    public static string S(ReadOnlySpan<byte> b) => Convert.ToHexString(b).ToLowerInvariant();

    /// <summary>"name = hex" lines of a Vectors/*.txt file (written by extract.py from a real strongSwan run).</summary>
    public static Dictionary<string, byte[]> LoadVector(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Crypto", "Vectors", name + ".txt");
        var d = new Dictionary<string, byte[]>();
        foreach (string line in File.ReadAllLines(path))
        {
            if (line.StartsWith('#') || !line.Contains('=')) continue;
            var parts = line.Split('=', 2);
            d[parts[0].Trim()] = Convert.FromHexString(parts[1].Trim());
        }
        return d;
    }
}
