using System;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading;

namespace FastPath.Crypto.Internal;

/// <summary>
/// Key material and key schedules live here: 64-byte aligned native memory (no GC moves, no copies
/// left behind by compaction, cache-line aligned for the round-key loads), zeroed on dispose and in
/// the finalizer. One per keyed cipher object, allocated once at SA install.
/// </summary>
internal sealed unsafe class NativeKeyBuffer : IDisposable
{
    private nint _handle;
    public int Length { get; }

    public NativeKeyBuffer(int length)
    {
        if (length <= 0) ThrowHelper.ArgumentException("length must be positive", nameof(length));
        Length = length;
        byte* p = (byte*)NativeMemory.AlignedAlloc((nuint)length, 64);
        NativeMemory.Clear(p, (nuint)length);
        _handle = (nint)p;
        Diagnostics.NativeKeyMemory.Allocated(length);
    }

    /// <summary>Base pointer; valid until <see cref="Dispose"/>.</summary>
    public byte* Pointer
    {
        get
        {
            nint p = _handle;
            if (p == 0) ThrowHelper.ObjectDisposed(this);
            return (byte*)p;
        }
    }

    public Span<byte> Span => new(Pointer, Length);

    public bool IsDisposed => _handle == 0;

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~NativeKeyBuffer() => Free();

    private void Free()
    {
        nint p = Interlocked.Exchange(ref _handle, 0);
        if (p != 0)
        {
            CryptographicOperations.ZeroMemory(new Span<byte>((byte*)p, Length));
            NativeMemory.AlignedFree((void*)p);
            Diagnostics.NativeKeyMemory.Freed(Length);
        }
    }
}
