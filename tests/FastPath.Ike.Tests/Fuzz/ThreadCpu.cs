using System.Globalization;

namespace FastPath.Ike.Tests.Fuzz;

/// <summary>CPU time of the calling thread: the fuzz budgets are checked against it, not wall time, because
/// on this shared 2-core machine wall time measures the neighbours.</summary>
internal static class ThreadCpu
{
    /// <summary>utime + stime of the calling thread (/proc/thread-self/stat fields 14 and 15, in 1/100 s clock ticks).</summary>
    public static double Seconds()
    {
        string stat = System.IO.File.ReadAllText("/proc/thread-self/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // f[0] is field 3 (state): utime is field 14 -> f[11], stime field 15 -> f[12].
        return (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
