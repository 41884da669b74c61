using System;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Internal;

/// <summary>
/// AES key expansion (FIPS-197 §5.2) in plain C#. It runs once per SA on the control plane, so it is
/// written for clarity, and shared by every engine: round keys are laid out as 16-byte blocks in
/// FIPS-197 byte order, which is exactly the order AES-NI's AESENC/AESDEC XOR them in, and what the
/// portable engine reads.
/// </summary>
internal static class AesKeySchedule
{
    /// <summary>Nr: 10, 12 or 14 rounds for 16-, 24- and 32-byte keys.</summary>
    public static int Rounds(int keyLength) => keyLength switch
    {
        16 => 10,
        24 => 12,
        32 => 14,
        _ => 0,
    };

    /// <summary>Throws unless the key is an AES key (16, 24 or 32 bytes); returns Nr.</summary>
    public static int CheckKey(ReadOnlySpan<byte> key)
    {
        int rounds = Rounds(key.Length);
        if (rounds == 0) ThrowHelper.KeySize(key.Length, "16, 24 or 32");
        return rounds;
    }

    /// <summary>Writes the (Nr+1)·16 bytes of encryption round keys.</summary>
    public static void ExpandEncrypt(ReadOnlySpan<byte> key, Span<byte> roundKeys)
    {
        int rounds = CheckKey(key);
        int nk = key.Length / 4;
        int totalWords = 4 * (rounds + 1);
        if (roundKeys.Length < totalWords * 4) ThrowHelper.Length("roundKeys", roundKeys.Length, (totalWords * 4).ToString(System.Globalization.CultureInfo.InvariantCulture));
        key.CopyTo(roundKeys);
        byte rcon = 1;
        Span<byte> temp = stackalloc byte[4];
        for (int i = nk; i < totalWords; i++)
        {
            roundKeys.Slice((i - 1) * 4, 4).CopyTo(temp);
            if (i % nk == 0)
            {
                // RotWord, SubWord, Rcon
                byte t0 = temp[0];
                temp[0] = (byte)(SBox[temp[1]] ^ rcon);
                temp[1] = SBox[temp[2]];
                temp[2] = SBox[temp[3]];
                temp[3] = SBox[t0];
                rcon = XTime(rcon);
            }
            else if (nk > 6 && i % nk == 4)
            {
                for (int j = 0; j < 4; j++) temp[j] = SBox[temp[j]];
            }
            for (int j = 0; j < 4; j++) roundKeys[i * 4 + j] = (byte)(roundKeys[(i - nk) * 4 + j] ^ temp[j]);
        }
        temp.Clear();
    }

    /// <summary>Writes the round keys of the Equivalent Inverse Cipher (FIPS-197 §5.3.5) in the order
    /// AESDEC consumes them: dk[0] = ek[Nr], dk[i] = InvMixColumns(ek[Nr−i]) for 0 &lt; i &lt; Nr, dk[Nr] = ek[0].</summary>
    public static void ExpandDecrypt(ReadOnlySpan<byte> encRoundKeys, int rounds, Span<byte> decRoundKeys)
    {
        encRoundKeys.Slice(rounds * 16, 16).CopyTo(decRoundKeys);
        for (int i = 1; i < rounds; i++)
        {
            InvMixColumns(encRoundKeys.Slice((rounds - i) * 16, 16), decRoundKeys.Slice(i * 16, 16));
        }
        encRoundKeys[..16].CopyTo(decRoundKeys.Slice(rounds * 16, 16));
    }

    private static void InvMixColumns(ReadOnlySpan<byte> input, Span<byte> output)
    {
        for (int c = 0; c < 4; c++)
        {
            byte a0 = input[4 * c], a1 = input[4 * c + 1], a2 = input[4 * c + 2], a3 = input[4 * c + 3];
            output[4 * c] = (byte)(Mul(a0, 14) ^ Mul(a1, 11) ^ Mul(a2, 13) ^ Mul(a3, 9));
            output[4 * c + 1] = (byte)(Mul(a0, 9) ^ Mul(a1, 14) ^ Mul(a2, 11) ^ Mul(a3, 13));
            output[4 * c + 2] = (byte)(Mul(a0, 13) ^ Mul(a1, 9) ^ Mul(a2, 14) ^ Mul(a3, 11));
            output[4 * c + 3] = (byte)(Mul(a0, 11) ^ Mul(a1, 13) ^ Mul(a2, 9) ^ Mul(a3, 14));
        }
    }

    /// <summary>Multiplication in GF(2^8) mod x^8+x^4+x^3+x+1 (constant-time: no branches on data).</summary>
    internal static byte Mul(byte a, byte b)
    {
        int result = 0;
        int x = a;
        for (int i = 0; i < 8; i++)
        {
            result ^= x & -((b >> i) & 1);
            x = (x << 1) ^ (0x1B & -((x >> 7) & 1));
        }
        return (byte)result;
    }

    internal static byte XTime(byte x) => (byte)((x << 1) ^ (0x1B & -((x >> 7) & 1)));

    /// <summary>The AES S-box (FIPS-197 Figure 7).</summary>
    internal static ReadOnlySpan<byte> SBox =>
    [
        0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
        0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
        0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
        0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
        0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
        0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
        0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
        0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
        0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
        0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
        0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
        0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
        0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
        0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
        0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
        0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
    ];
}
