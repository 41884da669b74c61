using System;
using System.Linq;
using System.Security.Cryptography;
using FastPath.Crypto;
using FastPath.Crypto.Portable;
using FastPath.Crypto.Tests.Support;
using Xunit;

namespace FastPath.Crypto.Tests;

public unsafe class TripleDesTests
{
    // NIST CAVP, TDES Multi-block Message Test for CBC with three independent keys: TCBCMMT3.rsp
    // ("CAVS 11.1 ... TDES Multi block Message Test for CBC") from tdesmmt.zip,
    // https://csrc.nist.gov/CSRC/media/Projects/Cryptographic-Algorithm-Validation-Program/documents/des/tdesmmt.zip
    // (copied from the file as pyca/cryptography ships it: vectors/cryptography_vectors/ciphers/3DES/CBC/TCBCMMT3.rsp).
    // COUNT, KEY1, KEY2, KEY3, IV, PLAINTEXT, CIPHERTEXT.
    private static readonly (int Count, string Key1, string Key2, string Key3, string Iv, string Pt, string Ct)[] Mmt3Encrypt =
    [
        (0, "b5cb1504802326c7", "3df186e3e352a20d", "e643b0d63ee30e37", "43f791134c5647ba",
            "dcc153cef81d6f24",
            "92538bd8af18d3ba"),
        (1, "a49d7564199e97cb", "529d2c9d97bf2f98", "d35edf57ba1f7358", "c2e999cb6249023c",
            "c689aee38a301bb316da75db36f110b5",
            "e9afaba5ec75ea1bbe65506655bb4ecb"),
        (2, "1a5d4c0825072a15", "a8ad9dfdaeda8c04", "8adffb85bc4fced0", "7fcfa736f7548b6f",
            "983c3edacd939406010e1bc6ff9e12320ac5008117fa8f84",
            "d84fa24f38cf451ca2c9adc960120bd8ff9871584fe31cee"),
        (3, "d98aadc76d4a3716", "158c32866efbb9ce", "834af2297379a49d", "3c5220327c502b44",
            "6174079dda53ca723ebf00a66837f8d5ce648c08acaa5ee45ffe62210ef79d3e",
            "f5bd4d600bed77bec78409e3530ebda1d815506ed53103015b87e371ae000958"),
        (4, "ef6d3e54266d978f", "fb0b8ce6689d803e", "2cd34cc802fd0252", "38bae5bce06d0ad9",
            "c4f228b537223cd01c0debb5d9d4e12ba71656618d119b2f8f0af29d23efa3a9e43c4c458a1b79a0",
            "9e3289fb18379f55aa4e45a7e0e6df160b33b75f8627ad0954f8fdcb78cee55a4664caeda1000fe5"),
        (5, "625bc19b19df83ab", "fb2f5bec9d4f2062", "017525a75bc26e70", "bd0cff364ff69a91",
            "8152d2ab876c3c8201403a5a406d3feaf27319dbea6ad01e24f4d18203704b86de70da6bbb6d638e5aba3ff576b79b28",
            "706fe7a973fac40e25b2b4499ce527078944c70e976d017b6af86a3a7a6b52943a72ba18a58000d2b61fdc3bfef2bc4a"),
        (6, "b6383176046e6880", "a1023bf45768b5bf", "5119022fe054bfe5", "ec13ca541c43401e",
            "cd5a886e9af011346c4dba36a424f96a78a1ddf28aaa4188bf65451f4efaffc7179a6dd237c0ae35d9b672314e5cb032612597f7e462c6f3",
            "b030f976f46277ee211c4a324d5c87555d1084513a1223d3b84416b52bbc28f4b77f3a9d8d0d91dc37d3dbe8af8be98f74674b02f9a38527"),
        (7, "3d8cf273d343b9ae", "dccddacb91ad8620", "6737adc86b4a49a7", "bb3a9a0c71c62ef0",
            "1fde3991c32ce220b5b6666a9234f2fd7bd24b921829fd9cdc6eb4218be9eac9faa9c2351777349128086b6d58776bc86ff2f76ee1b3b2850a318462b8983fa1",
            "422ce705a46bb52ad928dab6c863166d617c6fc24003633120d91918314bbf464cea7345c3c35f2042f2d6929735d74d7728f22fea618a0b9cf5b1281acb13fb"),
        (8, "fbceb5cb646b925b", "e0b92f7f6b493d5e", "5b16e9159732732a", "2e17b3c7025ae86b",
            "4c309bc8e1e464fdd2a2b8978645d668d455f7526bd8d7b6716a722f6a900b815c4a73cc30e788065c1dfca7bf5958a6cc5440a5ebe7f8691c20278cde95db764ff8ce8994ece89c",
            "c02129bdf4bbbd75e71605a00b12c80db6b4e05308e916615011f09147ed915dd1bc67f27f9e027e4e13df36b55464a31c11b4d1fe3d855d89df492e1a7201b995c1ba16a8dbabee"),
        (9, "9b162a0df8ad9b61", "c88676e3d5864345", "70b902f12a2046e0", "ebd6fefe029ad54b",
            "f4c1c918e77355c8156f0fd778da52bff121ae5f2f44eaf4d2754946d0e10d1f18ce3a0176e69c18b7d20b6e0d0bee5eb5edfe4bd60e4d92adcd86bce72e76f94ee5cbcaa8b01cfddcea2ade575e66ac",
            "1ff3c8709f403a8eff291aedf50c010df5c5ff64a8b205f1fce68564798897a390db16ee0d053856b75898009731da290fcc119dad987277aacef694872e880c4bb41471063fae05c89f25e4bd0cad6a"),
    ];

    // The [DECRYPT] section of the same file (CIPHERTEXT given, PLAINTEXT expected), stored in the same order.
    private static readonly (int Count, string Key1, string Key2, string Key3, string Iv, string Pt, string Ct)[] Mmt3Decrypt =
    [
        (0, "5eb6040d46082c7a", "a7d06dfd08dfeac8", "c18364c1548c3ba1", "41746c7e442d3681",
            "d4f00eb455de1034",
            "c53a7b0ec40600fe"),
        (1, "5b1cce7c0dc1ec49", "130dfb4af45785ab", "9179e567f2c7d549", "3982bc02c3727d45",
            "edae09288e9e3bc05746d872b48e3b29",
            "6006f10adef52991fcc777a1238bbb65"),
        (2, "254acb647907adba", "1ad5ef7a43e383cd", "cd588975759e5292", "5857f24bed725646",
            "64cc69a4f2b9877dad558bd7b5e6a78268e4978bb39845a1",
            "d4342af5c33adcd67c3e89e64241bbd8131e78ec38c8715c"),
        (3, "86838c6815c25b97", "5bdc10f4b95145e6", "49fdefdcf4754ab9", "4b1992ad38b4d6dd",
            "f5f94e406cec1b85e9a7c076b95456b6a439921591abbfc381d0bbf363ff5c04",
            "cb78b6deaca11379094341f5c2cfb977bba8259482341f0a32323cae974e49a6"),
        (4, "34e68f58ecc71f4a", "d504e0b6e085a7c7", "1c9bd38610737949", "dfee6ce5d36b2c3d",
            "fb5c4ad0525832b2d3594981b920c65c1029ddfa054d271c5a99a853f4b6de5d6da41d8bdc2c7ede",
            "374ec363fa84e7e7e2ae011427b79d5852923557452c52827c9ff4eb92a83457075b28954015070f"),
        (5, "dccbe0ad199b26fb", "d0f89d86c2d62aab", "cb4f4c23dcdf7651", "73c925a55dc15ce2",
            "007c436de5bd97850e51339a257c9796a9e53100de00959deebae4c27c62f512defadca7c9a4bbf2243f3f409c11d281",
            "1b566c871114932f03bb68917bbd66cd646872c46fba6187b676bb0ea077be2e0445a6c591e62c386df74d1f1cfb4c3e"),
        (6, "0145d5831570572a", "988a70ae92bcaeba", "e9d937feb945adba", "528fac8461ccf9d4",
            "9e8c6589d776b75ee82c067f318ffb6cc12a8aeffb8f0c28d699f1e2f17489411cd1ec9c7f279928221943001c435302d81fad63d038346d",
            "188607517e89a4d042b5f59ed6498d16f3a5a1a425b7b2da89b76cc0d514cf6c9aae8cd3c645b2df6d3189c2c954be897f4ec1f423ef6c85"),
        (7, "1675e5a42697d02f", "9e8308948a07e015", "3107fbae16bfda37", "328c1857e19ec9d9",
            "4d0713639589f9b75d0ef038a4b3ad5cd8a6cb59a8a0bd055ad7c8424d5a35433092bf95b3898af93538a0085b6a788093b9ff5ee0453adf5e1bf5ac3c8e43e7",
            "a653dc3e12d737bc33e9e160a0d6c203234ca3dc626bee3cbf1fb57c7caef634238d1eae2578cb9bc1c1d60427e99183de6d4db263e220e41344e5134a8c831a"),
        (8, "fbfb1c7a7fd3aec4", "ec40263d4a1fda76", "68583de986b62f23", "27506620edc6eb1f",
            "40df8b31407fe232f86cb87642567c4232d94866817260d10236680f1ab970e4dbac12693fcc68efd939fdc37404b3f5c32c3a0342b26389eaadb5c90a55bb8c7e28e1d616bb1ce4",
            "25becd4074e3679353fc3812460d7e0c35f3f9556c5307e0e6d10e90cb821a4c37a3c7523d8b62cd2cde4ba910049da67cd911ab87a6205e155168f158d0513e96e3f0172c032cd7"),
        (9, "524a01b30ddf377a", "fdbc077962580738", "3b9bb952a86849f4", "69f4af59fe96e79d",
            "d56fa31c1db2978fa11c1dae70252a168b8193f1e0438e723aaf446dad2f5e490a4b53d7bd08e308e030187428ca5f554cb6dbd46f4b68677f4496098d23412c0f8863379e9f8330813836b8d48c987e",
            "889d82d2961d440ea1089dec8713884f32cf5a06ca159a4b29a812909016267c98df65306bd95ece33d3b53cd3797625d678a841a4e226d7fcd3aa809e552b2d4881696be4e7c6e60030572c7e023bb4"),
    ];

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void CavpTcbcMmt3Encrypt(string engine) => RunMmt3(Engines.ByName(engine), Mmt3Encrypt, "ENCRYPT");

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void CavpTcbcMmt3Decrypt(string engine) => RunMmt3(Engines.ByName(engine), Mmt3Decrypt, "DECRYPT");

    private static void RunMmt3(CryptoEngine e, (int Count, string Key1, string Key2, string Key3, string Iv, string Pt, string Ct)[] vectors, string section)
    {
        foreach (var v in vectors)
        {
            byte[] key = Hex.Parse(v.Key1 + v.Key2 + v.Key3), iv = Hex.Parse(v.Iv), pt = Hex.Parse(v.Pt);
            string what = $"{section} COUNT = {v.Count}";
            using CbcCipher cbc = e.CreateTripleDesCbc(key);
            Assert.Equal(8, cbc.BlockSize);
            Assert.Equal(24, cbc.KeySize);
            var ct = new byte[pt.Length];
            cbc.Encrypt(iv, pt, ct);
            Assert.Equal($"{what}: {v.Ct}", $"{what}: {Hex.Format(ct)}");
            var back = new byte[ct.Length];
            cbc.Decrypt(iv, ct, back);
            Assert.Equal($"{what}: {v.Pt}", $"{what}: {Hex.Format(back)}");
            // In place, both directions.
            byte[] io = (byte[])pt.Clone();
            cbc.Encrypt(iv, io, io);
            Assert.Equal($"{what}: {v.Ct}", $"{what}: {Hex.Format(io)}");
            cbc.Decrypt(iv, io, io);
            Assert.Equal($"{what}: {v.Pt}", $"{what}: {Hex.Format(io)}");
        }
    }

    /// <summary>NIST SP 800-67 Rev. 2, Appendix B (example of TDEA, three-key, in ECB): keys
    /// 0123456789ABCDEF, 23456789ABCDEF01, 456789ABCDEF0123, plaintext "The qufck brown fox jump" (the
    /// standard's spelling). ECB is CBC of each block alone under a zero IV.</summary>
    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void Sp800_67AppendixBExample(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        byte[] key = Hex.Parse("0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123");
        byte[] pt = Hex.Parse("5468652071756663 6B2062726F776E20 666F78206A756D70");
        Assert.Equal("The qufck brown fox jump", System.Text.Encoding.ASCII.GetString(pt));
        const string expected = "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900";
        using CbcCipher cbc = e.CreateTripleDesCbc(key);
        var ct = new byte[pt.Length];
        var zeroIv = new byte[8];
        for (int b = 0; b < pt.Length; b += 8) cbc.Encrypt(zeroIv, pt.AsSpan(b, 8), ct.AsSpan(b, 8));
        Assert.Equal(expected, Hex.Format(ct));
        var back = new byte[ct.Length];
        for (int b = 0; b < ct.Length; b += 8) cbc.Decrypt(zeroIv, ct.AsSpan(b, 8), back.AsSpan(b, 8));
        Assert.Equal(Hex.Format(pt), Hex.Format(back));
    }

    // FIPS PUB 81 (DES modes of operation), Appendix B Table B1 (ECB) and Appendix C Table C1 (CBC):
    // key 0123456789abcdef, plaintext "Now is the time for all ", CBC IV 1234567890abcdef. Single DES cannot
    // go through the 3DES API (K1 = K2 = K3 is refused), so these test the DES core directly.
    private const string Fips81Key = "0123456789abcdef";
    private const string Fips81Plaintext = "4e6f772069732074 68652074696d6520 666f7220616c6c20";
    private const string Fips81Ecb = "3fa40e8a984d4815 6a271787ab8883f9 893d51ec4b563b53";
    private const string Fips81CbcIv = "1234567890abcdef";
    private const string Fips81Cbc = "e5c7cdde872bf27c 43e934008c389c0f 683788499a7c05f6";

    private static uint[] DesSchedule(byte[] key, bool decrypt)
    {
        var ks = new uint[DesCore.DesScheduleWords];
        DesCore.ExpandKey(key, ks);
        if (!decrypt) return ks;
        var rev = new uint[ks.Length];
        for (int r = 0; r < 16; r++) { rev[2 * r] = ks[2 * (15 - r)]; rev[2 * r + 1] = ks[2 * (15 - r) + 1]; }
        return rev;
    }

    private static ulong DesBlock(uint[] schedule, ReadOnlySpan<byte> block)
    {
        fixed (uint* ks = schedule)
        fixed (byte* b = block)
        {
            return DesCore.DesBlock(b, ks);
        }
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void DesCoreFips81Ecb()
    {
        byte[] key = Hex.Parse(Fips81Key), pt = Hex.Parse(Fips81Plaintext);
        Assert.Equal("Now is the time for all ", System.Text.Encoding.ASCII.GetString(pt));
        uint[] enc = DesSchedule(key, false), dec = DesSchedule(key, true);
        var ct = new byte[pt.Length];
        for (int b = 0; b < pt.Length; b += 8) BitConverter.TryWriteBytes(ct.AsSpan(b, 8), DesBlock(enc, pt.AsSpan(b, 8)));
        Assert.Equal(Hex.Format(Hex.Parse(Fips81Ecb)), Hex.Format(ct));
        var back = new byte[ct.Length];
        for (int b = 0; b < ct.Length; b += 8) BitConverter.TryWriteBytes(back.AsSpan(b, 8), DesBlock(dec, ct.AsSpan(b, 8)));
        Assert.Equal(Hex.Format(pt), Hex.Format(back));
    }

    [Fact]
    [Trait("Category", "KAT")]
    public void DesCoreFips81Cbc()
    {
        byte[] key = Hex.Parse(Fips81Key), pt = Hex.Parse(Fips81Plaintext), iv = Hex.Parse(Fips81CbcIv);
        uint[] enc = DesSchedule(key, false);
        var ct = new byte[pt.Length];
        ulong chain = BitConverter.ToUInt64(iv);
        for (int b = 0; b < pt.Length; b += 8)
        {
            ulong x = BitConverter.ToUInt64(pt, b) ^ chain;
            chain = DesBlock(enc, BitConverter.GetBytes(x));
            BitConverter.TryWriteBytes(ct.AsSpan(b, 8), chain);
        }
        Assert.Equal(Hex.Format(Hex.Parse(Fips81Cbc)), Hex.Format(ct));
    }

    /// <summary>The DES core against the BCL's single DES (OpenSSL) for random keys and blocks, both directions.</summary>
    [Fact]
    public void DesCoreMatchesBclDes()
    {
        Random rng = TestRandom.Create(4681);
#pragma warning disable CA5351 // DES: this is a test of the DES core against a reference.
        using DES des = DES.Create();
#pragma warning restore CA5351
        for (int i = 0; i < 200; i++)
        {
            byte[] key = TestRandom.Bytes(rng, 8), block = TestRandom.Bytes(rng, 8);
            if (DES.IsWeakKey(key) || DES.IsSemiWeakKey(key)) continue;
            des.Key = key;
            byte[] expected = des.EncryptEcb(block, PaddingMode.None);
            Assert.Equal(Hex.Format(expected), Hex.Format(BitConverter.GetBytes(DesBlock(DesSchedule(key, false), block))));
            Assert.Equal(Hex.Format(block), Hex.Format(BitConverter.GetBytes(DesBlock(DesSchedule(key, true), expected))));
        }
    }

    /// <summary>IP by PERM_OP swaps equals IP by the FIPS 46-3 table (then the halves rotated left by one, the
    /// core's representation); FP is its inverse.</summary>
    [Fact]
    public void InitialPermutationMatchesFips46Table()
    {
        int[] ip =
        [
            58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
            62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
            57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
            61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
        ];
        Random rng = TestRandom.Create(46);
        for (int i = 0; i < 500; i++)
        {
            byte[] block = TestRandom.Bytes(rng, 8);
            ulong x = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(block), y = 0;
            for (int b = 0; b < 64; b++) y |= ((x >> (64 - ip[b])) & 1) << (63 - b);
            uint expectedL = uint.RotateLeft((uint)(y >> 32), 1), expectedR = uint.RotateLeft((uint)y, 1);
            uint l, r;
            fixed (byte* p = block) DesCore.InitialPermutation(p, out l, out r);
            Assert.Equal(expectedL, l);
            Assert.Equal(expectedR, r);
            Assert.Equal(BitConverter.ToUInt64(block), DesCore.FinalPermutation(l, r));
        }
    }

    /// <summary>The key-folded serial rounds (used by CBC encryption) equal the plain rounds (used by the
    /// interleaved paths), for the encryption and the decryption schedule.</summary>
    [Fact]
    public void FoldedRoundsMatchPlainRounds()
    {
        Random rng = TestRandom.Create(800);
        var encrypt = new uint[DesCore.Ede3ScheduleWords];
        var decrypt = new uint[DesCore.Ede3ScheduleWords];
        var folded = new uint[DesCore.Ede3FoldedScheduleWords];
        for (int k = 0; k < 50; k++)
        {
            DesCore.ExpandEde3(TestRandom.Bytes(rng, 24), encrypt, decrypt);
            foreach (uint[] schedule in new[] { encrypt, decrypt })
            {
                DesCore.FoldEde3(schedule, folded);
                fixed (uint* ks = schedule, xs = folded)
                {
                    for (int b = 0; b < 20; b++)
                    {
                        uint l = (uint)rng.NextInt64(), r = (uint)rng.NextInt64();
                        uint l1 = l, r1 = r, l2 = l, r2 = r;
                        DesCore.Ede3Rounds(ref l1, ref r1, ks, DesCore.SPTable);
                        DesCore.Ede3RoundsSerial(ref l2, ref r2, xs, DesCore.SPTable);
                        Assert.Equal((l1, r1), (l2, r2));
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void MatchesBclForRandomInputs(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(2451);
        foreach (int length in Enumerable.Range(0, 257).Select(b => 8 * b).Append(65536 + 8))
        {
            byte[] key = TestRandom.Bytes(rng, 24), iv = TestRandom.Bytes(rng, 8);
            int off = rng.Next(1, 16);
            byte[] inArr = TestRandom.Bytes(rng, length + 32);
            ReadOnlySpan<byte> input = inArr.AsSpan(off, length);
            using CbcCipher mine = e.CreateTripleDesCbc(key);
            using CbcCipher bcl = CryptoEngine.Bcl.CreateTripleDesCbc(key);
            string what = $"len={length} off={off}";

            var expectedCt = new byte[length];
            bcl.Encrypt(iv, input, expectedCt);
            var expectedPt = new byte[length];
            bcl.Decrypt(iv, input, expectedPt);

            byte[] outArr = new byte[length + 32];
            Span<byte> output = outArr.AsSpan(16 - off + 1, length);
            mine.Encrypt(iv, input, output);
            Assert.True(expectedCt.AsSpan().SequenceEqual(output), "encrypt " + what);
            Assert.All(outArr[..(16 - off + 1)], b => Assert.Equal(0, b));
            Assert.All(outArr[(16 - off + 1 + length)..], b => Assert.Equal(0, b));
            mine.Decrypt(iv, input, output);
            Assert.True(expectedPt.AsSpan().SequenceEqual(output), "decrypt " + what);

            byte[] io = (byte[])inArr.Clone();
            mine.Encrypt(iv, io.AsSpan(off, length), io.AsSpan(off, length));
            Assert.True(expectedCt.AsSpan().SequenceEqual(io.AsSpan(off, length)), "encrypt in place " + what);
            io = (byte[])inArr.Clone();
            mine.Decrypt(iv, io.AsSpan(off, length), io.AsSpan(off, length));
            Assert.True(expectedPt.AsSpan().SequenceEqual(io.AsSpan(off, length)), "decrypt in place " + what);
            Assert.True(inArr.AsSpan(0, off).SequenceEqual(io.AsSpan(0, off)) && inArr.AsSpan(off + length).SequenceEqual(io.AsSpan(off + length)), "in place stays in bounds " + what);
        }
    }

    [Theory]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void EncryptMultiMatchesEncryptPerJob(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(4303);
        for (int round = 0; round < 60; round++)
        {
            int count = round < 40 ? round + 1 : rng.Next(1, 41);
            byte[] key = TestRandom.Bytes(rng, 24);
            using CbcCipher cbc = e.CreateTripleDesCbc(key);
            bool inPlace = round % 2 == 1;
            bool sameLength = round % 5 == 0;
            int common = 8 * rng.Next(0, 200);
            int[] lengths = Enumerable.Range(0, count).Select(_ => sameLength ? common : 8 * rng.Next(0, 200)).ToArray();
            int[] offsets = new int[count];
            int total = 0;
            for (int j = 0; j < count; j++) { offsets[j] = total + rng.Next(0, 8); total = offsets[j] + lengths[j]; }
            byte[] input = GC.AllocateArray<byte>(total + 1, pinned: true);
            rng.NextBytes(input);
            byte[] ivs = GC.AllocateArray<byte>(8 * count + 1, pinned: true);
            rng.NextBytes(ivs);
            byte[] output = GC.AllocateArray<byte>(total + 1, pinned: true);
            if (inPlace) input.CopyTo(output, 0);

            var expected = new byte[count][];
            for (int j = 0; j < count; j++)
            {
                expected[j] = new byte[lengths[j]];
                cbc.Encrypt(ivs.AsSpan(1 + 8 * j, 8), input.AsSpan(offsets[j], lengths[j]), expected[j]);
            }

            var jobs = new CbcJob[count];
            fixed (byte* pin = input, pout = output, piv = ivs)
            {
                for (int j = 0; j < count; j++)
                {
                    byte* src = (inPlace ? pout : pin) + offsets[j];
                    jobs[j] = new CbcJob(piv + 1 + 8 * j, src, pout + offsets[j], lengths[j]);
                }
                cbc.EncryptMulti(jobs);
            }
            for (int j = 0; j < count; j++)
            {
                Assert.True(expected[j].AsSpan().SequenceEqual(output.AsSpan(offsets[j], lengths[j])),
                    $"round {round} job {j}/{count} len={lengths[j]} inPlace={inPlace}");
            }
        }
    }

    /// <summary>Keys whose thirds repeat (K1 = K2 or K2 = K3) make EDE3 single DES and are refused
    /// (TripleDesKeyCheck: RFC 2451 §2.3 weak keys, as FreeS/WAN did; parity bits ignored). K1 = K3 with K2
    /// different is two-key TDEA (SP 800-67 keying option 2), not single DES: TripleDesKeyCheck allows it (as
    /// OpenSSL does), so it is accepted and must match the BCL.</summary>
    [Theory]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void RefusesKeysThatAreSingleDes(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(81);
        byte[] key = TestRandom.Bytes(rng, 24);

        byte[] k12 = (byte[])key.Clone();
        k12.AsSpan(0, 8).CopyTo(k12.AsSpan(8));
        Assert.Contains("single DES", Assert.Throws<ArgumentException>(() => e.CreateTripleDesCbc(k12)).Message);

        byte[] k23 = (byte[])key.Clone();
        k23.AsSpan(8, 8).CopyTo(k23.AsSpan(16));
        Assert.Contains("single DES", Assert.Throws<ArgumentException>(() => e.CreateTripleDesCbc(k23)).Message);

        // Equal but for the parity bits is still equal.
        byte[] parity = (byte[])k23.Clone();
        for (int i = 16; i < 24; i++) parity[i] ^= 1;
        Assert.Throws<ArgumentException>(() => e.CreateTripleDesCbc(parity));

        byte[] k13 = (byte[])key.Clone();
        k13.AsSpan(0, 8).CopyTo(k13.AsSpan(16));
        using CbcCipher twoKey = e.CreateTripleDesCbc(k13);
        using CbcCipher reference = CryptoEngine.Bcl.CreateTripleDesCbc(k13);
        byte[] iv = TestRandom.Bytes(rng, 8), pt = TestRandom.Bytes(rng, 64);
        var a = new byte[64];
        var b = new byte[64];
        twoKey.Encrypt(iv, pt, a);
        reference.Encrypt(iv, pt, b);
        Assert.Equal(Hex.Format(b), Hex.Format(a));
    }

    /// <summary>DES ignores the low bit of each key byte (PC-1 drops it), as OpenSSL does.</summary>
    [Theory]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void IgnoresParityBits(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(67);
        byte[] key = TestRandom.Bytes(rng, 24), iv = TestRandom.Bytes(rng, 8), pt = TestRandom.Bytes(rng, 40);
        byte[] flipped = key.Select(b => (byte)(b ^ 1)).ToArray();
        using CbcCipher a = e.CreateTripleDesCbc(key);
        using CbcCipher b = e.CreateTripleDesCbc(flipped);
        var ca = new byte[40];
        var cb = new byte[40];
        a.Encrypt(iv, pt, ca);
        b.Encrypt(iv, pt, cb);
        Assert.Equal(Hex.Format(ca), Hex.Format(cb));
    }

    [Theory]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void RejectsMisuse(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        foreach (int bad in new[] { 0, 8, 16, 23, 25, 32 })
        {
            Assert.Throws<ArgumentException>(() => e.CreateTripleDesCbc(new byte[bad]));
        }
        byte[] key = TestRandom.Bytes(TestRandom.Create(5), 24);
        using CbcCipher cbc = e.CreateTripleDesCbc(key);
        Assert.Throws<ArgumentException>(() => cbc.Encrypt(new byte[7], new byte[8], new byte[8]));
        Assert.Throws<ArgumentException>(() => cbc.Encrypt(new byte[16], new byte[8], new byte[8]));
        Assert.Throws<ArgumentException>(() => cbc.Encrypt(new byte[8], new byte[12], new byte[12]));
        Assert.Throws<ArgumentException>(() => cbc.Encrypt(new byte[8], new byte[16], new byte[8]));
        Assert.Throws<ArgumentException>(() => cbc.Decrypt(new byte[8], new byte[15], new byte[15]));
        Assert.Throws<ArgumentException>(() => cbc.Decrypt(new byte[8], new byte[16], new byte[24]));
        Assert.Throws<ArgumentException>(() => cbc.Decrypt(new byte[9], new byte[16], new byte[16]));
        byte[] buffer = GC.AllocateArray<byte>(64, pinned: true);
        fixed (byte* p = buffer)
        {
            CbcJob[] jobs = [new CbcJob(p, p + 8, p + 8, 16), new CbcJob(p, p + 8, p + 8, 20)];
            Assert.Throws<ArgumentException>(() => cbc.EncryptMulti(jobs));
            jobs = [new CbcJob(p, p + 8, p + 8, -8)];
            Assert.ThrowsAny<ArgumentException>(() => cbc.EncryptMulti(jobs)); // the BCL's span constructor: ArgumentOutOfRangeException
        }
    }

    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void RefusesUseAfterDispose(string engine)
    {
        CbcCipher cbc = Engines.ByName(engine).CreateTripleDesCbc(TestRandom.Bytes(TestRandom.Create(7), 24));
        cbc.Dispose();
        Assert.Throws<ObjectDisposedException>(() => cbc.Encrypt(new byte[8], new byte[8], new byte[8]));
        Assert.Throws<ObjectDisposedException>(() => cbc.Decrypt(new byte[8], new byte[8], new byte[8]));
    }

    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void DoesNotAllocatePerOperation(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        using CbcCipher cbc = e.CreateTripleDesCbc(TestRandom.Bytes(TestRandom.Create(9), 24));
        byte[] iv = new byte[8];
        byte[] data = GC.AllocateArray<byte>(16 * 1424, pinned: true);
        var jobs = new CbcJob[16];
        fixed (byte* d = data, v = iv)
        {
            for (int i = 0; i < jobs.Length; i++) jobs[i] = new CbcJob(v, d + 1424 * i, d + 1424 * i, 1416 - 8 * i);
            long allocated = AllocationProbe.Allocated(() =>
            {
                cbc.Encrypt(iv, data.AsSpan(0, 1416), data.AsSpan(0, 1416));
                cbc.Decrypt(iv, data.AsSpan(0, 1416), data.AsSpan(0, 1416));
                cbc.EncryptMulti(jobs);
            }, iterations: 20);
            Assert.Equal(0, allocated);
        }
    }
}
