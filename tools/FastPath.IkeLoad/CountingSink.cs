using System.Collections.Concurrent;
using System.Threading;
using FastPath.Ike.Engine;

namespace FastPath.IkeLoad;

// The CHILD_SA sink of both sides of the rate test: no dataplane, only counts and the live set of
// SPIs (so a delete of an SA that was never installed shows up as a counted mismatch, not silence).
// The bar measures keying, not ESP; charon's kernel-libipsec install is its in-process equivalent.
internal sealed class CountingSink : IChildSaSink
{
    private readonly ConcurrentDictionary<uint, byte> _inbound = new();
    private readonly ConcurrentDictionary<uint, byte> _outbound = new();
    private long _installs, _deletes, _unknownDeletes;

    public long Installs => Interlocked.Read(ref _installs);
    public long Deletes => Interlocked.Read(ref _deletes);
    public long UnknownDeletes => Interlocked.Read(ref _unknownDeletes);
    public int Live => _inbound.Count;

    public void InstallInbound(ChildSaInstall sa)
    {
        _inbound[sa.InboundSpi] = 0;
        Interlocked.Increment(ref _installs);
    }

    public void InstallOutbound(ChildSaInstall sa) => _outbound[sa.OutboundSpi] = 0;

    public void DeleteInbound(uint spi)
    {
        if (_inbound.TryRemove(spi, out _)) Interlocked.Increment(ref _deletes);
        else Interlocked.Increment(ref _unknownDeletes);
    }

    public void DeleteOutbound(uint spi) => _outbound.TryRemove(spi, out _);

    public ChildSaUsage Usage(uint spi, bool inbound) => new(inbound ? _inbound.ContainsKey(spi) : _outbound.ContainsKey(spi), 0, 0, 0);
}
