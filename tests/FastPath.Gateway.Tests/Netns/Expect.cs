using System;
using Xunit;

namespace FastPath.Gateway.Tests.Netns;

/// <summary>Assertions whose message is built only when they fail. The netns tests attach a diagnosis to every
/// assertion (charon's log, `swanctl --list-sas`, `fastpath status`, drop counters: two process starts and two file
/// reads, 1-2 s on a loaded machine); <c>Assert.True(c, "..." + run.Diagnose())</c> paid that on every passing
/// assertion too — minutes over the CI run, and seconds inside the forced-collision test's timed phases.</summary>
internal static class Expect
{
    public static void True(bool condition, Func<string> message)
    {
        if (!condition) Assert.Fail(message());
    }

    public static void False(bool condition, Func<string> message)
    {
        if (condition) Assert.Fail(message());
    }
}
