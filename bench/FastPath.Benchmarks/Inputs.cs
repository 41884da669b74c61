using System;
using System.Runtime.InteropServices;
using FastPath.Crypto;
using FastPath.Crypto.Esp;

namespace FastPath.Benchmarks;

/// <summary>Pinned, deterministic benchmark buffers (allocated in GlobalSetup, never per operation).</summary>
internal static unsafe class Inputs
{
    public static byte[] Pinned(int length, int seed)
    {
        byte[] b = GC.AllocateUninitializedArray<byte>(Math.Max(length, 1), pinned: true);
        new Random(seed).NextBytes(b);
        return b;
    }

    public static CryptoEngine Engine(string name) => name switch
    {
        "intrinsics" => CryptoEngine.Intrinsics,
        "portable" => CryptoEngine.Portable,
        "bcl" => CryptoEngine.Bcl,
        _ => throw new ArgumentException(name),
    };

    /// <summary>A batch of ESP packets of one size, laid out in one pinned array.</summary>
    public sealed class EspBatch
    {
        public readonly byte[] Memory;
        public readonly EspPacket[] Packets;
        public readonly int Stride;

        public EspBatch(EspTransform t, int count, int payload)
        {
            int n = (payload + t.PayloadAlignment - 1) / t.PayloadAlignment * t.PayloadAlignment;
            int length = t.Overhead + n;
            Stride = (length + 63) & ~63;
            Memory = Pinned(Stride * count, 5);
            Packets = new EspPacket[count];
            byte* basePtr = (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(Memory, 0);
            for (int i = 0; i < count; i++) Packets[i] = new EspPacket(basePtr + i * Stride, length, 0);
        }
    }
}
