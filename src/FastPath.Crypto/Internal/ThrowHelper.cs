using System;
using System.Diagnostics.CodeAnalysis;

namespace FastPath.Crypto.Internal;

/// <summary>Throw sites kept out of line so callers stay small and inlinable (dotnet/runtime style).
/// Only the control plane (keying, argument validation) throws; packet operations return bool.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ArgumentException(string message, string paramName) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void KeySize(int actual, string expected) =>
        throw new ArgumentException($"key is {actual} bytes; expected {expected}", "key");

    [DoesNotReturn]
    public static void Length(string what, int actual, string expected) =>
        throw new ArgumentException($"{what} is {actual} bytes; expected {expected}", what);

    [DoesNotReturn]
    public static void ObjectDisposed(object instance) =>
        throw new ObjectDisposedException(instance.GetType().Name);

    [DoesNotReturn]
    public static void NotSupported(string message) =>
        throw new NotSupportedException(message);

    [DoesNotReturn]
    public static void PlatformNotSupported(string message) =>
        throw new PlatformNotSupportedException(message);
}
