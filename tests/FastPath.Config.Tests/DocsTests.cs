using System;
using System.IO;
using System.Linq;
using FastPath.Config;
using Xunit;

namespace FastPath.Config.Tests;

public class DocsTests
{
    [Fact]
    public void Configuration_md_documents_every_keyword()
    {
        string doc = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "configuration.md"));
        var missing = Keywords.Conn.Keys.Concat(Keywords.Setup.Keys).Where(k => !doc.Contains("`" + k + "`", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "undocumented: " + string.Join(", ", missing));
    }
}
