using System;
using System.IO;
using System.Linq;
using FastPath.Config;
using Xunit;

namespace FastPath.Config.Tests;

internal static class TestUtil
{
    public static string CorpusDir => Path.Combine(AppContext.BaseDirectory, "Corpus");
    public static string Good(string name) => Path.Combine(CorpusDir, "good", name);

    /// <summary>A fresh temp directory; deleted by the caller's using.</summary>
    public static TempDir Temp() => new();

    public static IpsecConfig Parse(string text, ConfigDialect dialect = ConfigDialect.Auto) =>
        IpsecConfLoader.Parse(text, Path.Combine(Path.GetTempPath(), "fp-cfg-none", "ipsec.conf"), new IpsecConfigOptions { Dialect = dialect, LoadPolicyGroups = false });

    public static string[] Errors(string text, ConfigDialect dialect = ConfigDialect.Auto)
    {
        ConfigLoadResult r = IpsecConfLoader.TryParse(text, Path.Combine(Path.GetTempPath(), "fp-cfg-none", "ipsec.conf"), new IpsecConfigOptions { Dialect = dialect, LoadPolicyGroups = false });
        return r.Errors.Select(e => e.ToString()).ToArray();
    }

    public static string OneError(string text, ConfigDialect dialect = ConfigDialect.Auto)
    {
        string[] e = Errors(text, dialect);
        Assert.True(e.Length == 1, "expected one error, got:\n" + string.Join("\n", e));
        return e[0];
    }
}

internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fp-cfg-" + Guid.NewGuid().ToString("N"));
    public TempDir() { Directory.CreateDirectory(Path); }
    public string Write(string relative, string text)
    {
        string full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        return full;
    }
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}
