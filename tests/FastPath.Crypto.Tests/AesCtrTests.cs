using System;
using FastPath.Crypto;
using FastPath.Crypto.Tests.Support;
using Xunit;

namespace FastPath.Crypto.Tests;

public class AesCtrTests
{
    // RFC 3686 §6, Test Vectors #1-#9: key, nonce, IV, plaintext, ciphertext.
    private static readonly (string Key, string Nonce, string Iv, string Pt, string Ct)[] Rfc3686 =
    [
        ("AE6852F8121067CC4BF7A5765577F39E", "00000030", "0000000000000000",
            "53696E676C6520626C6F636B206D7367", "E4095D4FB7A7B3792D6175A3261311B8"),
        ("7E24067817FAE0D743D6CE1F32539163", "006CB6DB", "C0543B59DA48D90B",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "5104A106168A72D9790D41EE8EDAD388EB2E1EFC46DA57C8FCE630DF9141BE28"),
        ("7691BE035E5020A8AC6E618529F9A0DC", "00E0017B", "27777F3F4A1786F0",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20212223",
            "C1CF48A89F2FFDD9CF4652E9EFDB72D74540A42BDE6D7836D59A5CEAAEF3105325B2072F"),
        ("16AF5B145FC9F579C175F93E3BFB0EED863D06CCFDB78515", "00000048", "36733C147D6D93CB",
            "53696E676C6520626C6F636B206D7367", "4B55384FE259C9C84E7935A003CBE928"),
        ("7C5CB2401B3DC33C19E7340819E0F69C678C3DB8E6F6A91A", "0096B03B", "020C6EADC2CB500D",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "453243FC609B23327EDFAAFA7131CD9F8490701C5AD4A79CFC1FE0FF42F4FB00"),
        ("02BF391EE8ECB159B959617B0965279BF59B60A786D3E0FE", "0007BDFD", "5CBD60278DCC0912",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20212223",
            "96893FC55E5C722F540B7DD1DDF7E758D288BC95C69165884536C811662F2188ABEE0935"),
        ("776BEFF2851DB06F4C8A0542C8696F6C6A81AF1EEC96B4D37FC1D689E6C1C104", "00000060", "DB5672C97AA8F0B2",
            "53696E676C6520626C6F636B206D7367", "145AD01DBF824EC7560863DC71E3E0C0"),
        ("F6D66D6BD52D59BB0796365879EFF886C66DD51A5B6A99744B50590C87A23884", "00FAAC24", "C1585EF15A43D875",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "F05E231B3894612C49EE000B804EB2A9B8306B508F839D6A5530831D9344AF1C"),
        ("FF7A617CE69148E4F1726E2F43581DE2AA62D9F805532EDFF1EED687FB54153D", "001CC5B7", "51A51D70A1C11148",
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20212223",
            "EB6C52821D0BBBF7CE7594462ACA4FAAB407DF866569FD07F48CC0B583D6071F1EC0E6B8"),
    ];

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void Rfc3686Vectors(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        for (int i = 0; i < Rfc3686.Length; i++)
        {
            var v = Rfc3686[i];
            byte[] key = Hex.Parse(v.Key), nonce = Hex.Parse(v.Nonce), iv = Hex.Parse(v.Iv), pt = Hex.Parse(v.Pt);
            using CtrCipher ctr = e.CreateAesCtr(key);
            Assert.Equal(key.Length, ctr.KeySize);
            var ct = new byte[pt.Length];
            ctr.Transform(nonce, iv, pt, ct);
            Assert.Equal($"#{i + 1}: {v.Ct.ToLowerInvariant()}", $"#{i + 1}: {Hex.Format(ct)}");
            // Decryption is the same operation; in place too.
            ctr.Transform(nonce, iv, ct, ct);
            Assert.Equal($"#{i + 1}: {v.Pt.ToLowerInvariant()}", $"#{i + 1}: {Hex.Format(ct)}");
        }
    }

    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void MatchesBclForRandomInputs(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(3686);
        int[] keySizes = [16, 24, 32];
        for (int iteration = 0; iteration < 500; iteration++)
        {
            int length = iteration <= 300 ? iteration : rng.Next(0, 2049);
            if (iteration == 499) length = 65536 + 7;
            int keySize = keySizes[iteration % 3];
            byte[] key = TestRandom.Bytes(rng, keySize), nonce = TestRandom.Bytes(rng, 4), iv = TestRandom.Bytes(rng, 8);
            int off = rng.Next(1, 16);
            byte[] inArr = TestRandom.Bytes(rng, length + 32);
            ReadOnlySpan<byte> input = inArr.AsSpan(off, length);
            using CtrCipher mine = e.CreateAesCtr(key);
            using CtrCipher bcl = CryptoEngine.Bcl.CreateAesCtr(key);
            var expected = new byte[length];
            bcl.Transform(nonce, iv, input, expected);

            byte[] outArr = new byte[length + 32];
            Span<byte> output = outArr.AsSpan(16 - off, length);
            mine.Transform(nonce, iv, input, output);
            string what = $"len={length} key={keySize}";
            Assert.True(expected.AsSpan().SequenceEqual(output), what);
            Assert.All(outArr[..(16 - off)], b => Assert.Equal(0, b));
            Assert.All(outArr[(16 - off + length)..], b => Assert.Equal(0, b));

            byte[] io = (byte[])inArr.Clone();
            mine.Transform(nonce, iv, io.AsSpan(off, length), io.AsSpan(off, length));
            Assert.True(expected.AsSpan().SequenceEqual(io.AsSpan(off, length)), what);
        }
    }

    /// <summary>The 32-bit block counter wraps modulo 2^32 only after 2^32 blocks; the counter of the
    /// 8-way batches and of the tail must agree: a message spanning both equals block-by-block CTR.</summary>
    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void ConsecutiveBlocksUseConsecutiveCounters(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        byte[] key = new byte[16], nonce = [1, 2, 3, 4], iv = [5, 6, 7, 8, 9, 10, 11, 12];
        using CtrCipher ctr = e.CreateAesCtr(key);
        using System.Security.Cryptography.Aes ecb = System.Security.Cryptography.Aes.Create();
        ecb.Key = key;
        const int blocks = 21;
        var zeros = new byte[blocks * 16];
        var stream = new byte[blocks * 16];
        ctr.Transform(nonce, iv, zeros, stream);
        for (int b = 0; b < blocks; b++)
        {
            byte[] counter = [.. nonce, .. iv, 0, 0, 0, (byte)(b + 1)];
            byte[] expected = ecb.EncryptEcb(counter, System.Security.Cryptography.PaddingMode.None);
            Assert.Equal(Hex.Format(expected), Hex.Format(stream.AsSpan(b * 16, 16)));
        }
    }

    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void DoesNotAllocatePerOperation(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        using CtrCipher ctr = e.CreateAesCtr(new byte[16]);
        byte[] nonce = new byte[4], iv = new byte[8], data = new byte[1419];
        Assert.Equal(0, AllocationProbe.Allocated(() => ctr.Transform(nonce, iv, data, data)));
    }

    [Theory]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void RejectsMisuse(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        foreach (int bad in new[] { 0, 8, 15, 17, 31, 33 })
        {
            Assert.Throws<ArgumentException>(() => e.CreateAesCtr(new byte[bad]));
        }
        using CtrCipher ctr = e.CreateAesCtr(new byte[32]);
        Assert.Throws<ArgumentException>(() => ctr.Transform(new byte[3], new byte[8], new byte[4], new byte[4]));
        Assert.Throws<ArgumentException>(() => ctr.Transform(new byte[4], new byte[7], new byte[4], new byte[4]));
        Assert.Throws<ArgumentException>(() => ctr.Transform(new byte[4], new byte[8], new byte[4], new byte[5]));
    }
}
