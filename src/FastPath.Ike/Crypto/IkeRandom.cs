using System;
using System.Security.Cryptography;

namespace FastPath.Ike.Crypto;

// Random bytes for SPIs, nonces, IVs and ephemeral private keys, from the OS CSPRNG (RandomNumberGenerator, i.e.
// OpenSSL's DRBG on Linux) through a per-thread pool of 4 KiB.
// Why a pool: every RandomNumberGenerator call is an OpenSSL RAND_bytes call with its locking and a getpid(2) for
// fork detection; on this machine's PVM guest one 32-byte call cost 2.5 µs, and a responder makes ~8 of them per
// IKE SA (SPIs, nonce, ESP SPIs, key pair, IVs) — ~5 % of its CPU per establishment in the rate test's profile
// (getpid alone 2.9 %). One 4 KiB fill serves ~60 IKE SAs. The bytes are the CSPRNG's, unchanged; each range is
// handed out once and zeroed in the pool as it leaves it, so the pool never holds bytes already in use (a later
// memory disclosure does not reveal past nonces or keys). Requests above 256 bytes go to the CSPRNG directly.
// Thread-static: no lock; the daemon does not fork without exec, so no two processes share a pool.
public static class IkeRandom
{
    private const int PoolSize = 4096;
    private const int DirectAbove = 256;

    [ThreadStatic] private static byte[]? t_pool;
    [ThreadStatic] private static int t_next;

    public static void Fill(Span<byte> destination)
    {
        if (destination.Length > DirectAbove)
        {
            RandomNumberGenerator.Fill(destination);
            return;
        }
        byte[]? pool = t_pool;
        if (pool is null)
        {
            t_pool = pool = new byte[PoolSize];
            t_next = PoolSize;
        }
        if (PoolSize - t_next < destination.Length)
        {
            RandomNumberGenerator.Fill(pool);
            t_next = 0;
        }
        Span<byte> take = pool.AsSpan(t_next, destination.Length);
        take.CopyTo(destination);
        CryptographicOperations.ZeroMemory(take);
        t_next += destination.Length;
    }

    public static byte[] GetBytes(int count)
    {
        byte[] b = new byte[count];
        Fill(b);
        return b;
    }
}
