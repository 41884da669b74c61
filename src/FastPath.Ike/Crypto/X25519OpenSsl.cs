using System;
using System.Runtime.InteropServices;

namespace FastPath.Ike.Crypto;

// X25519 (RFC 7748 §5) for the Curve25519 KE of IKEv2 (RFC 8031) through OpenSSL 3's libcrypto
// (EVP_PKEY_X25519: the same library the BCL uses on Linux and strongSwan's openssl plugin uses).
// It replaced BouncyCastle's managed Rfc7748.X25519 on the IKE hot path: one scalar multiplication
// per key pair, one per shared secret — the largest single CPU cost of an IKE SA. A managed
// radix-2^51 ladder (Math.BigMul) was tried first and measured slower than BouncyCastle under the
// .NET 10 JIT (docs/ike-performance.md), so it was not kept.
//
//   ScalarMultBase(k) = EVP_PKEY_new_raw_private_key(X25519, k) -> EVP_PKEY_get_raw_public_key
//   ScalarMult(k, u)  = private key k, public key u (EVP_PKEY_new_raw_public_key) -> EVP_PKEY_derive
//   PrivateKey        = the EVP_PKEY of one ephemeral key pair, kept from the public value to the
//                       derive: OpenSSL 3 computes the public key whenever a raw private key is
//                       imported, so importing k again for the derive would cost a second base-point
//                       multiplication per SA (measured: derive from a fresh import ~2.2x a kept key).
// Clamping of k and masking of u's top bit are OpenSSL's (RFC 7748 §5). OpenSSL's derive fails on an
// all-zero result (small-order u): reported as false, which the KE maps to the RFC 8031 §2.3 rejection.
internal static unsafe partial class X25519OpenSsl
{
    public const int Size = 32;
    private const int EvpPkeyX25519 = 1034; // NID_X25519
    private const string Lib = "libcrypto.so.3";

    [LibraryImport(Lib)] private static partial nint EVP_PKEY_new_raw_private_key(int type, nint engine, byte* key, nuint len);
    [LibraryImport(Lib)] private static partial nint EVP_PKEY_new_raw_public_key(int type, nint engine, byte* key, nuint len);
    [LibraryImport(Lib)] private static partial int EVP_PKEY_get_raw_public_key(nint pkey, byte* pub, nuint* len);
    [LibraryImport(Lib)] private static partial void EVP_PKEY_free(nint pkey);
    [LibraryImport(Lib)] private static partial nint EVP_PKEY_CTX_new(nint pkey, nint engine);
    [LibraryImport(Lib)] private static partial void EVP_PKEY_CTX_free(nint ctx);
    [LibraryImport(Lib)] private static partial int EVP_PKEY_derive_init(nint ctx);
    [LibraryImport(Lib)] private static partial int EVP_PKEY_derive_set_peer(nint ctx, nint peer);
    [LibraryImport(Lib)] private static partial int EVP_PKEY_derive(nint ctx, byte* key, nuint* len);
    [LibraryImport(Lib)] private static partial void ERR_clear_error();

    /// <summary>One X25519 key pair held in OpenSSL (freed on Dispose or finalization).</summary>
    public sealed class PrivateKey : SafeHandle
    {
        private PrivateKey() : base(0, ownsHandle: true) { }

        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            EVP_PKEY_free(handle);
            return true;
        }

        /// <summary>Imports <paramref name="scalar"/> and writes its public value X25519(k, 9) to <paramref name="publicValue"/>.</summary>
        public static PrivateKey Create(ReadOnlySpan<byte> scalar, Span<byte> publicValue)
        {
            if (scalar.Length != Size || publicValue.Length < Size) throw new ArgumentException("X25519 takes a 32-byte scalar and a 32-byte output");
            var key = new PrivateKey();
            fixed (byte* k = scalar)
            fixed (byte* r = publicValue)
            {
                key.SetHandle(EVP_PKEY_new_raw_private_key(EvpPkeyX25519, 0, k, Size));
                if (key.IsInvalid) throw new InvalidOperationException("OpenSSL: EVP_PKEY_new_raw_private_key(X25519) failed");
                nuint len = Size;
                if (EVP_PKEY_get_raw_public_key(key.handle, r, &len) != 1 || len != Size)
                {
                    key.Dispose();
                    throw new InvalidOperationException("OpenSSL: EVP_PKEY_get_raw_public_key(X25519) failed");
                }
            }
            return key;
        }

        /// <summary>X25519(k, u); false when the result is all zero (small-order u).</summary>
        public bool TryDerive(ReadOnlySpan<byte> u, Span<byte> result)
        {
            if (u.Length != Size || result.Length < Size) throw new ArgumentException("X25519 takes a 32-byte u and a 32-byte output");
            bool added = false;
            try
            {
                DangerousAddRef(ref added);
                return Derive(handle, u, result);
            }
            finally
            {
                if (added) DangerousRelease();
            }
        }
    }

    private static bool Derive(nint priv, ReadOnlySpan<byte> u, Span<byte> result)
    {
        fixed (byte* pu = u)
        fixed (byte* r = result)
        {
            nint peer = EVP_PKEY_new_raw_public_key(EvpPkeyX25519, 0, pu, Size);
            nint ctx = EVP_PKEY_CTX_new(priv, 0);
            try
            {
                if (peer == 0 || ctx == 0) throw new InvalidOperationException("OpenSSL: X25519 key or context allocation failed");
                nuint len = Size;
                bool ok = EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 && EVP_PKEY_derive(ctx, r, &len) == 1 && len == Size;
                if (!ok)
                {
                    ERR_clear_error(); // the all-zero check's error must not linger on this thread's OpenSSL queue
                    result[..Size].Clear();
                }
                return ok;
            }
            finally
            {
                if (ctx != 0) EVP_PKEY_CTX_free(ctx);
                if (peer != 0) EVP_PKEY_free(peer);
            }
        }
    }

    /// <summary>X25519(k, 9): the public value of private key <paramref name="scalar"/>.</summary>
    public static void ScalarMultBase(ReadOnlySpan<byte> scalar, Span<byte> result)
    {
        if (scalar.Length != Size || result.Length < Size) throw new ArgumentException("X25519 takes a 32-byte scalar and a 32-byte output");
        fixed (byte* k = scalar)
        fixed (byte* r = result)
        {
            nint pkey = EVP_PKEY_new_raw_private_key(EvpPkeyX25519, 0, k, Size);
            if (pkey == 0) throw new InvalidOperationException("OpenSSL: EVP_PKEY_new_raw_private_key(X25519) failed");
            try
            {
                nuint len = Size;
                if (EVP_PKEY_get_raw_public_key(pkey, r, &len) != 1 || len != Size) throw new InvalidOperationException("OpenSSL: EVP_PKEY_get_raw_public_key(X25519) failed");
            }
            finally { EVP_PKEY_free(pkey); }
        }
    }

    /// <summary>X25519(k, u) of RFC 7748 §5; false when the result is all zero (small-order u, RFC 7748 §6.1).</summary>
    public static bool TryScalarMult(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> u, Span<byte> result)
    {
        if (scalar.Length != Size || u.Length != Size || result.Length < Size) throw new ArgumentException("X25519 takes 32-byte scalar and u, and a 32-byte output");
        using PrivateKey key = PrivateKey.Create(scalar, stackalloc byte[Size]);
        return key.TryDerive(u, result);
    }
}
