using System;
using System.Linq;
using FastPath.Dataplane;
using Xunit;

namespace FastPath.Dataplane.Tests;

public class DropReasonTests
{
    [Fact]
    public void ReasonsAreDenseFromZeroSoTheyIndexCounterArrays()
    {
        var values = Enum.GetValues<DropReason>().Where(r => r != DropReason.Count).Select(r => (int)r).OrderBy(v => v).ToArray();
        Assert.Equal(Enumerable.Range(0, (int)DropReason.Count), values);
    }
}
