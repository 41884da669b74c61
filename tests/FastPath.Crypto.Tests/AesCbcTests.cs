using System;
using System.Text;
using FastPath.Crypto;
using FastPath.Crypto.Tests.Support;
using Xunit;

namespace FastPath.Crypto.Tests;

public unsafe class AesCbcTests
{
    // RFC 3602 §4, Cases #1-#4 (AES-128-CBC encryption): key, IV, plaintext, ciphertext. Cases #1 and #3
    // give the plaintext as an ASCII string (without a trailing NUL, as §4 says). Cases #5-#8 are whole ESP
    // packets and are not repeated here.
    private static readonly (string Key, string Iv, byte[] Pt, string Ct)[] Rfc3602 =
    [
        ("06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
            Encoding.ASCII.GetBytes("Single block msg"),
            "e353779c1079aeb82708942dbe77181a"),
        ("c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
            Hex.Parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
            "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"),
        ("6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81",
            Encoding.ASCII.GetBytes("This is a 48-byte message (exactly 3 AES blocks)"),
            "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684"),
        ("56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9",
            Hex.Parse("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" +
                      "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"),
            "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e" +
            "35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55"),
    ];

    // NIST SP 800-38A Appendix F.2: F.2.1/F.2.2 CBC-AES128, F.2.3/F.2.4 CBC-AES192, F.2.5/F.2.6 CBC-AES256
    // (the .Decrypt vectors are the .Encrypt vectors read backwards). IV and plaintext are common to all.
    private const string Sp80038aIv = "000102030405060708090a0b0c0d0e0f";
    private const string Sp80038aPt =
        "6bc1bee22e409f96e93d7e117393172a" + "ae2d8a571e03ac9c9eb76fac45af8e51" +
        "30c81c46a35ce411e5fbc1191a0a52ef" + "f69f2445df4f9b17ad2b417be66c3710";

    private static readonly (string Name, string Key, string Ct)[] Sp80038a =
    [
        ("F.2.1/F.2.2 CBC-AES128", "2b7e151628aed2a6abf7158809cf4f3c",
            "7649abac8119b246cee98e9b12e9197d" + "5086cb9b507219ee95db113a917678b2" +
            "73bed6b8e3c1743b7116e69e22229516" + "3ff1caa1681fac09120eca307586e1a7"),
        ("F.2.3/F.2.4 CBC-AES192", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
            "4f021db243bc633d7178183a9fa071e8" + "b4d9ada9ad7dedf4e5e738763f69145a" +
            "571b242012fb7ae07fa9baac3df102e0" + "08b0e27988598881d920a9e64f5615cd"),
        ("F.2.5/F.2.6 CBC-AES256", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            "f58c4c04d6e5f1ba779eabfb5f7bfbd6" + "9cfc4e967edb808d679f777bc6702c7d" +
            "39f23369a9d9bacfa530e26304231461" + "b2eb05e2c39be9fcda6c19078c6a9d1b"),
    ];

    private static void CheckVector(CryptoEngine e, string name, byte[] key, byte[] iv, byte[] pt, string expectedCt)
    {
        using CbcCipher cbc = e.CreateAesCbc(key);
        Assert.Equal(16, cbc.BlockSize);
        Assert.Equal(key.Length, cbc.KeySize);
        var ct = new byte[pt.Length];
        cbc.Encrypt(iv, pt, ct);
        Assert.Equal($"{name}: {expectedCt}", $"{name}: {Hex.Format(ct)}");
        var back = new byte[ct.Length];
        cbc.Decrypt(iv, ct, back);
        Assert.Equal($"{name}: {Hex.Format(pt)}", $"{name}: {Hex.Format(back)}");
        // In place, both directions.
        byte[] io = (byte[])pt.Clone();
        cbc.Encrypt(iv, io, io);
        Assert.Equal($"{name}: {expectedCt}", $"{name}: {Hex.Format(io)}");
        cbc.Decrypt(iv, io, io);
        Assert.Equal($"{name}: {Hex.Format(pt)}", $"{name}: {Hex.Format(io)}");
    }

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void Rfc3602Vectors(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        for (int i = 0; i < Rfc3602.Length; i++)
        {
            var v = Rfc3602[i];
            CheckVector(e, $"RFC 3602 case #{i + 1}", Hex.Parse(v.Key), Hex.Parse(v.Iv), v.Pt, v.Ct);
        }
    }

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void Sp80038aVectors(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        foreach (var v in Sp80038a)
        {
            CheckVector(e, v.Name, Hex.Parse(v.Key), Hex.Parse(Sp80038aIv), Hex.Parse(Sp80038aPt), v.Ct);
        }
    }

    /// <summary>Every length 0..2048 in 16-byte steps, all three key sizes, odd input/output offsets, out of
    /// place (bytes around the output untouched) and in place, both directions, against the BCL.</summary>
    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void MatchesBclForRandomInputs(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(3602);
        int[] keySizes = [16, 24, 32];
        int iteration = 0;
        foreach (int keySize in keySizes)
        {
            byte[] key = TestRandom.Bytes(rng, keySize);
            using CbcCipher mine = e.CreateAesCbc(key);
            using CbcCipher bcl = CryptoEngine.Bcl.CreateAesCbc(key);
            for (int length = 0; length <= 2048; length += 16, iteration++)
            {
                byte[] iv = TestRandom.Bytes(rng, 16);
                int inOff = rng.Next(0, 16) | 1, outOff = rng.Next(0, 16) | 1;
                byte[] inArr = TestRandom.Bytes(rng, length + 32);
                ReadOnlySpan<byte> input = inArr.AsSpan(inOff, length);
                string what = $"len={length} key={keySize}";

                var expectedCt = new byte[length];
                var expectedPt = new byte[length];
                bcl.Encrypt(iv, input, expectedCt);
                bcl.Decrypt(iv, input, expectedPt);

                byte[] outArr = new byte[length + 32];
                mine.Encrypt(iv, input, outArr.AsSpan(outOff, length));
                Assert.True(expectedCt.AsSpan().SequenceEqual(outArr.AsSpan(outOff, length)), "encrypt " + what);
                Assert.All(outArr[..outOff], b => Assert.Equal(0, b));
                Assert.All(outArr[(outOff + length)..], b => Assert.Equal(0, b));

                Array.Clear(outArr);
                mine.Decrypt(iv, input, outArr.AsSpan(outOff, length));
                Assert.True(expectedPt.AsSpan().SequenceEqual(outArr.AsSpan(outOff, length)), "decrypt " + what);
                Assert.All(outArr[..outOff], b => Assert.Equal(0, b));
                Assert.All(outArr[(outOff + length)..], b => Assert.Equal(0, b));

                byte[] io = (byte[])inArr.Clone();
                mine.Encrypt(iv, io.AsSpan(inOff, length), io.AsSpan(inOff, length));
                Assert.True(expectedCt.AsSpan().SequenceEqual(io.AsSpan(inOff, length)), "encrypt in place " + what);
                io = (byte[])inArr.Clone();
                mine.Decrypt(iv, io.AsSpan(inOff, length), io.AsSpan(inOff, length));
                Assert.True(expectedPt.AsSpan().SequenceEqual(io.AsSpan(inOff, length)), "decrypt in place " + what);
                Assert.True(inArr.AsSpan(0, inOff).SequenceEqual(io.AsSpan(0, inOff)), "in place prefix " + what);
                Assert.True(inArr.AsSpan(inOff + length).SequenceEqual(io.AsSpan(inOff + length)), "in place suffix " + what);
            }
        }
        Assert.Equal(3 * 129, iteration);
    }

    /// <summary>Large messages cross many 8-block batches of the parallel decryption.</summary>
    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void MatchesBclForLargeMessages(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(65536);
        foreach (int keySize in new[] { 16, 24, 32 })
        {
            byte[] key = TestRandom.Bytes(rng, keySize), iv = TestRandom.Bytes(rng, 16);
            byte[] data = TestRandom.Bytes(rng, 65536 + 7 * 16);
            using CbcCipher mine = e.CreateAesCbc(key);
            using CbcCipher bcl = CryptoEngine.Bcl.CreateAesCbc(key);
            var expected = new byte[data.Length];
            var actual = new byte[data.Length];
            bcl.Encrypt(iv, data, expected);
            mine.Encrypt(iv, data, actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual));
            bcl.Decrypt(iv, data, expected);
            mine.Decrypt(iv, data, actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual));
        }
    }

    /// <summary>EncryptMulti equals Encrypt job by job: random job counts 1..40 with mixed lengths
    /// (including empty jobs and lengths that make lanes finish at different times), in place and out of
    /// place, all key sizes. Also checks that no byte outside the outputs changes and the IVs stay intact.</summary>
    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void EncryptMultiMatchesSingleEncrypt(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(1420);
        int[] keySizes = [16, 24, 32];
        for (int round = 0; round < 60; round++)
        {
            int keySize = keySizes[round % 3];
            byte[] key = TestRandom.Bytes(rng, keySize);
            using CbcCipher cbc = e.CreateAesCbc(key);
            int count = round < 40 ? round + 1 : rng.Next(1, 41);
            var lengths = new int[count];
            for (int j = 0; j < count; j++)
            {
                lengths[j] = (round % 4) switch
                {
                    0 => 16 * rng.Next(0, 130),                      // mixed
                    1 => 1424,                                       // equal (ESP 1420 B + padding)
                    2 => 16 * (1 + (j % 9)),                         // staircase: lanes retire one by one
                    _ => rng.Next(0, 4) == 0 ? 0 : 16 * rng.Next(1, 20),
                };
            }
            bool[] inPlace = new bool[count];
            for (int j = 0; j < count; j++) inPlace[j] = round % 5 == 0 || (round % 5 != 1 && rng.Next(2) == 0);

            // One arena: per job [IV 16][input len][gap 3][output len][gap 5], odd alignments.
            int total = 1;
            var ivAt = new int[count];
            var inAt = new int[count];
            var outAt = new int[count];
            for (int j = 0; j < count; j++)
            {
                ivAt[j] = total; total += 16 + 1;
                inAt[j] = total; total += lengths[j] + 3;
                outAt[j] = inPlace[j] ? inAt[j] : total; if (!inPlace[j]) total += lengths[j] + 5;
            }
            byte[] arena = GC.AllocateArray<byte>(total + 7, pinned: true);
            rng.NextBytes(arena);
            byte[] original = (byte[])arena.Clone();

            // Expected: per-job Encrypt on a copy.
            byte[] expectedArena = (byte[])original.Clone();
            for (int j = 0; j < count; j++)
            {
                cbc.Encrypt(expectedArena.AsSpan(ivAt[j], 16), original.AsSpan(inAt[j], lengths[j]),
                    expectedArena.AsSpan(outAt[j], lengths[j]));
            }

            fixed (byte* a = arena)
            {
                var jobs = new CbcJob[count];
                for (int j = 0; j < count; j++) jobs[j] = new CbcJob(a + ivAt[j], a + inAt[j], a + outAt[j], lengths[j]);
                cbc.EncryptMulti(jobs);
            }
            for (int j = 0; j < count; j++)
            {
                Assert.True(expectedArena.AsSpan(outAt[j], lengths[j]).SequenceEqual(arena.AsSpan(outAt[j], lengths[j])),
                    $"round {round}: job {j} of {count}, len={lengths[j]} inPlace={inPlace[j]} key={keySize}");
            }
            Assert.True(expectedArena.AsSpan().SequenceEqual(arena), $"round {round}: bytes outside the outputs changed");
        }
    }

    /// <summary>Cross-check against the BCL for the bar's shape: 16 packets of 1424 bytes, in place.</summary>
    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void EncryptMultiMatchesBcl(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(16);
        byte[] key = TestRandom.Bytes(rng, 16);
        using CbcCipher mine = e.CreateAesCbc(key);
        using CbcCipher bcl = CryptoEngine.Bcl.CreateAesCbc(key);
        const int count = 16, length = 1424;
        byte[] ivs = GC.AllocateArray<byte>(16 * count, pinned: true);
        byte[] data = GC.AllocateArray<byte>(length * count, pinned: true);
        rng.NextBytes(ivs);
        rng.NextBytes(data);
        var expected = new byte[data.Length];
        for (int j = 0; j < count; j++) bcl.Encrypt(ivs.AsSpan(16 * j, 16), data.AsSpan(j * length, length), expected.AsSpan(j * length, length));
        fixed (byte* iv = ivs)
        fixed (byte* d = data)
        {
            var jobs = new CbcJob[count];
            for (int j = 0; j < count; j++) jobs[j] = new CbcJob(iv + 16 * j, d + j * length, d + j * length, length);
            mine.EncryptMulti(jobs);
        }
        Assert.True(expected.AsSpan().SequenceEqual(data));
    }

    [Theory]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void RejectsMisuse(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        foreach (int bad in new[] { 0, 8, 15, 17, 31, 33 })
        {
            Assert.Throws<ArgumentException>(() => e.CreateAesCbc(new byte[bad]));
        }
        using CbcCipher cbc = e.CreateAesCbc(new byte[16]);
        foreach (int badIv in new[] { 0, 8, 15, 17 })
        {
            Assert.Throws<ArgumentException>(() => cbc.Encrypt(new byte[badIv], new byte[32], new byte[32]));
            Assert.Throws<ArgumentException>(() => cbc.Decrypt(new byte[badIv], new byte[32], new byte[32]));
        }
        foreach (int badLength in new[] { 1, 15, 17, 31, 33 })
        {
            Assert.Throws<ArgumentException>(() => cbc.Encrypt(new byte[16], new byte[badLength], new byte[badLength]));
            Assert.Throws<ArgumentException>(() => cbc.Decrypt(new byte[16], new byte[badLength], new byte[badLength]));
        }
        Assert.Throws<ArgumentException>(() => cbc.Encrypt(new byte[16], new byte[32], new byte[48]));
        Assert.Throws<ArgumentException>(() => cbc.Decrypt(new byte[16], new byte[32], new byte[16]));
    }

    /// <summary>A job whose length is not a multiple of 16 throws before any job is touched.</summary>
    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void EncryptMultiValidatesEveryJobFirst(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        using CbcCipher cbc = e.CreateAesCbc(new byte[16]);
        byte[] arena = GC.AllocateArray<byte>(16 + 10 * 64, pinned: true);
        for (int i = 0; i < arena.Length; i++) arena[i] = (byte)i;
        byte[] original = (byte[])arena.Clone();
        cbc.EncryptMulti(ReadOnlySpan<CbcJob>.Empty); // no jobs: nothing to do
        foreach (int badLength in new[] { 1, 15, 17, 40, -16 })
        {
            Assert.Throws<ArgumentException>(() =>
            {
                fixed (byte* a = arena)
                {
                    var jobs = new CbcJob[10];
                    for (int j = 0; j < jobs.Length; j++) jobs[j] = new CbcJob(a, a + 16 + 64 * j, a + 16 + 64 * j, j == 9 ? badLength : 64);
                    cbc.EncryptMulti(jobs);
                }
            });
            Assert.True(original.AsSpan().SequenceEqual(arena), $"len={badLength}: output written before the throw");
        }
    }

    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void DoesNotAllocatePerOperation(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        using CbcCipher cbc = e.CreateAesCbc(new byte[16]);
        byte[] iv = new byte[16];
        byte[] data = GC.AllocateArray<byte>(16 * 1424, pinned: true);
        byte[] ivs = GC.AllocateArray<byte>(16 * 16, pinned: true);
        var jobs = new CbcJob[16];
        fixed (byte* d = data)
        fixed (byte* v = ivs)
        {
            for (int j = 0; j < jobs.Length; j++) jobs[j] = new CbcJob(v + 16 * j, d + 1424 * j, d + 1424 * j, 1424 - 16 * (j % 5));
            long allocated = AllocationProbe.Allocated(() =>
            {
                Span<byte> one = data.AsSpan(0, 1424);
                cbc.Encrypt(iv, one, one);
                cbc.Decrypt(iv, one, one);
                cbc.EncryptMulti(jobs);
            });
            Assert.Equal(0, allocated);
        }
    }
}
