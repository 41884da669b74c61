using System;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto;

/// <summary>Refuses 3DES keys that are really single DES (RFC 2451 §2.3: K1 = K2 or K2 = K3 make
/// DES-EDE3 collapse to single DES, which FreeS/WAN refused and so do we). Parity bits are ignored.</summary>
public static class TripleDesKeyCheck
{
    public static void ThrowIfWeak(ReadOnlySpan<byte> key)
    {
        if (key.Length != 24) ThrowHelper.KeySize(key.Length, "24 (DES-EDE3)");
        if (EqualIgnoringParity(key[..8], key.Slice(8, 8)) || EqualIgnoringParity(key.Slice(8, 8), key.Slice(16, 8)))
        {
            ThrowHelper.ArgumentException("3DES key halves repeat (K1 = K2 or K2 = K3): that is single DES, which is refused", "key");
        }
    }

    private static bool EqualIgnoringParity(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        for (int i = 0; i < 8; i++)
        {
            if ((a[i] & 0xFE) != (b[i] & 0xFE)) return false;
        }
        return true;
    }
}
