using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics.X86;
using System.Text;
using FastPath.Crypto;
using FastPath.Crypto.Internal;
using FastPath.Crypto.Intrinsics;
using FastPath.Crypto.Tests.Support;
using Xunit;

namespace FastPath.Crypto.Tests;

public unsafe class ChaCha20Poly1305Tests
{
    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    // RFC 8439 §2.4.2 / A.2 #2 / A.3 #2-#3 message and A.2 #3 / A.3 #4 message (ASCII as printed in the RFC dumps).
    private const string IetfText =
        "Any submission to the IETF intended by the Contributor for publication as all or part of an IETF " +
        "Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an " +
        "\"IETF Contribution\". Such statements include oral statements in IETF sessions, as well as written and " +
        "electronic communications made at any time or place, which are addressed to";
    private const string Jabberwocky =
        "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\n" +
        "And the mome raths outgrabe.";

    private sealed record AeadVector(string Name, string Key, string Nonce, string Aad, byte[] Pt, string Ct, string Tag);

    private static readonly AeadVector[] AeadVectors =
    [
        // RFC 8439 §2.8.2: nonce = 32-bit fixed-common part 07000000 ‖ IV 4041424344454647.
        new("RFC 8439 2.8.2",
            "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
            "070000004041424344454647",
            "50515253c0c1c2c3c4c5c6c7",
            Text("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."),
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b" +
            "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
            "3ff4def08e4b7a9de576d26586cec64b6116",
            "1ae10b594f09e26a7e902ecbd0600691"),
        // RFC 8439 Appendix A.5 (AEAD decryption).
        new("RFC 8439 A.5",
            "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
            "000000000102030405060708",
            "f33388860000000000004e91",
            Text("Internet-Drafts are draft documents valid for a maximum of six months and may be updated, replaced, or " +
                 "obsoleted by other documents at any time. It is inappropriate to use Internet-Drafts as reference material " +
                 "or to cite them other than as /\u201cwork in progress./\u201d"),
            "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0" +
            "bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855" +
            "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e9" +
            "9040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a" +
            "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130" +
            "305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b",
            "eead9d67890cbb22392336fea1851f38"),
        // RFC 7634 Appendix A (ESP example): KEYMAT = key ‖ salt a0a1a2a3, IV 1011121314151617,
        // nonce = salt ‖ IV, AAD = SPI 01020304 ‖ sequence number 00000005; plaintext is the IPv4 ICMP
        // packet with ESP padding and trailer. (The RFC text itself was not reachable from here: the bytes
        // are from two independent public transcriptions of Appendix A, which agree byte for byte, and the
        // BCL/OpenSSL engine reproduces them too.)
        new("RFC 7634 A (ESP)",
            "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
            "a0a1a2a31011121314151617",
            "0102030400000005",
            Hex.Parse("45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10000736270809" +
                      "0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363701020204"),
            "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c614ee8099d52844eb61aa95dfab4c02f7" +
            "2aa71e7c4c4f64c9befe2facc638e8f3cbec163fac469b502773f6fb94e664da9165b82829f641e0",
            "76aaa8266b7fb0f7b11b369907e1ad43"),
        // RFC 7634 Appendix B (IKEv2 example): same key, salt and IV; AAD = IKE header ‖ SK payload header
        // (from one public transcription of Appendix B; every engine, the BCL included, reproduces it).
        new("RFC 7634 B (IKEv2)",
            "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
            "a0a1a2a31011121314151617",
            "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e202500000000090000004529000029",
            Hex.Parse("0000000c000040010000000a00"),
            "610394701f8d017f7c12924889",
            "6b71bfe25236efd7cdc67066906315b2"),
    ];

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void AeadKnownAnswerVectors(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        foreach (AeadVector v in AeadVectors)
        {
            byte[] key = Hex.Parse(v.Key), nonce = Hex.Parse(v.Nonce), aad = Hex.Parse(v.Aad), pt = v.Pt;
            string expectedCt = Hex.Format(Hex.Parse(v.Ct)), expectedTag = Hex.Format(Hex.Parse(v.Tag));
            using AeadCipher aead = e.CreateChaCha20Poly1305(key);
            Assert.Equal(32, aead.KeySize);
            Assert.Equal(16, aead.MinTagSize);

            var ct = new byte[pt.Length];
            var tag = new byte[16];
            aead.Encrypt(nonce, pt, ct, tag, aad);
            Assert.Equal($"{v.Name}: {expectedCt} / {expectedTag}", $"{v.Name}: {Hex.Format(ct)} / {Hex.Format(tag)}");

            var back = new byte[ct.Length];
            Assert.True(aead.Decrypt(nonce, ct, tag, back, aad), v.Name);
            Assert.Equal(pt, back);

            byte[] buf = (byte[])pt.Clone();
            aead.Encrypt(nonce, buf, buf, tag, aad);
            Assert.Equal($"{v.Name}: {expectedCt}", $"{v.Name}: {Hex.Format(buf)}");
            Assert.True(aead.Decrypt(nonce, buf, tag, buf, aad), v.Name);
            Assert.Equal(pt, buf);
        }
    }

    // ------------------------------------------------------------------ ChaCha20 cores

    /// <summary>The keystream implementations: the scalar core and, where the intrinsics engine can run,
    /// the vector one (its widths depend on the knobs; <see cref="VectorPassesMatchScalar"/> tests each).</summary>
    public static TheoryData<string> Keystreams
    {
        get
        {
            var data = new TheoryData<string> { "scalar" };
            if (CryptoEngine.Intrinsics.IsSupported) data.Add("simd");
            return data;
        }
    }

    private static void ChaChaXor(string impl, byte[] key, uint counter, byte[] nonce, ReadOnlySpan<byte> input, Span<byte> output)
    {
        uint* k = stackalloc uint[8];
        ChaCha20Core.LoadKey(key, k);
        fixed (byte* n = nonce, src = input, dst = output)
        {
            uint n0 = ChaCha20Core.Le32(n), n1 = ChaCha20Core.Le32(n + 4), n2 = ChaCha20Core.Le32(n + 8);
            if (impl == "scalar") ChaCha20Core.Xor(k, counter, n0, n1, n2, src, dst, input.Length);
            else ChaCha20Simd.Xor(k, counter, n0, n1, n2, src, dst, input.Length);
        }
    }

    private sealed record BlockVector(string Name, string Key, string Nonce, uint Counter, string Keystream);

    // RFC 8439 Appendix A.1, test vectors #1-#5 (serialized keystream block).
    private static readonly BlockVector[] BlockVectors =
    [
        new("A.1 #1", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", 0,
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"),
        new("A.1 #2", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", 1,
            "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f"),
        new("A.1 #3", "0000000000000000000000000000000000000000000000000000000000000001", "000000000000000000000000", 1,
            "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0"),
        new("A.1 #4", "00ff000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", 2,
            "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096"),
        new("A.1 #5", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000002", 0,
            "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c78a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d"),
        // RFC 8439 §2.6.2 and A.4 #2/#3: Poly1305 key generation = the first 32 bytes of block 0.
        new("2.6.2", "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "000000000001020304050607", 0,
            "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646"),
        new("A.4 #2", "0000000000000000000000000000000000000000000000000000000000000001", "000000000000000000000002", 0,
            "ecfa254f845f647473d3cb140da9e87606cb33066c447b87bc2666dde3fbb739"),
        new("A.4 #3", "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", "000000000000000000000002", 0,
            "965e3bc6f9ec7ed9560808f4d229f94b137ff275ca9b3fcbdd59deaad23310ae"),
    ];

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Keystreams))]
    public void ChaCha20BlockFunctionVectors(string impl)
    {
        foreach (BlockVector v in BlockVectors)
        {
            byte[] expected = Hex.Parse(v.Keystream);
            var ks = new byte[expected.Length];
            ChaChaXor(impl, Hex.Parse(v.Key), v.Counter, Hex.Parse(v.Nonce), new byte[expected.Length], ks);
            Assert.Equal($"{v.Name}: {v.Keystream}", $"{v.Name}: {Hex.Format(ks)}");
        }
    }

    private sealed record CipherVector(string Name, string Key, string Nonce, uint Counter, byte[] Pt, string Ct);

    // RFC 8439 Appendix A.2, test vectors #1-#3 (and §2.4.2 through #2's text).
    private static readonly CipherVector[] CipherVectors =
    [
        new("A.2 #1", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", 0, new byte[64],
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"),
        new("A.2 #2", "0000000000000000000000000000000000000000000000000000000000000001", "000000000000000000000002", 1, Text(IetfText),
            "a3fbf07df3fa2fde4f376ca23e82737041605d9f4f4f57bd8cff2c1d4b7955ec2a97948bd3722915c8f3d337f7d370050e9e96d647b7c39f56e031ca5eb6250d" +
            "4042e02785ececfa4b4bb5e8ead0440e20b6e8db09d881a7c6132f420e52795042bdfa7773d8a9051447b3291ce1411c680465552aa6c405b7764d5e87bea85a" +
            "d00f8449ed8f72d0d662ab052691ca66424bc86d2df80ea41f43abf937d3259dc4b2d0dfb48a6c9139ddd7f76966e928e635553ba76c5c879d7b35d49eb2e62b" +
            "0871cdac638939e25e8a1e0ef9d5280fa8ca328b351c3c765989cbcf3daa8b6ccc3aaf9f3979c92b3720fc88dc95ed84a1be059c6499b9fda236e7e818b04b0b" +
            "c39c1e876b193bfe5569753f88128cc08aaa9b63d1a16f80ef2554d7189c411f5869ca52c5b83fa36ff216b9c1d30062bebcfd2dc5bce0911934fda79a86f6e6" +
            "98ced759c3ff9b6477338f3da4f9cd8514ea9982ccafb341b2384dd902f3d1ab7ac61dd29c6f21ba5b862f3730e37cfdc4fd806c22f221"),
        new("A.2 #3", "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", "000000000000000000000002", 42, Text(Jabberwocky),
            "62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283196c7fe4f60553eb" +
            "f39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f7704c6a8d1bcd1bf4d50d6154b6da731b187b58dfd728afa36757a797ac188d1"),
    ];

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Keystreams))]
    public void ChaCha20EncryptionVectors(string impl)
    {
        foreach (CipherVector v in CipherVectors)
        {
            var ct = new byte[v.Pt.Length];
            ChaChaXor(impl, Hex.Parse(v.Key), v.Counter, Hex.Parse(v.Nonce), v.Pt, ct);
            Assert.Equal($"{v.Name}: {v.Ct}", $"{v.Name}: {Hex.Format(ct)}");
            // In place, and back.
            byte[] io = (byte[])ct.Clone();
            ChaChaXor(impl, Hex.Parse(v.Key), v.Counter, Hex.Parse(v.Nonce), io, io);
            Assert.Equal(v.Pt, io);
        }
    }

    /// <summary>The vector keystream equals the scalar one for every length 0..600 and a spread to 3200
    /// (every pass width and tail), random counters, odd offsets, nothing written outside the output.</summary>
    [Fact]
    public void VectorKeystreamMatchesScalar()
    {
        if (!CryptoEngine.Intrinsics.IsSupported) return;
        Random rng = TestRandom.Create(8439);
        for (int length = 0; length <= 3200; length += length < 600 ? 1 : 7)
        {
            byte[] key = TestRandom.Bytes(rng, 32), nonce = TestRandom.Bytes(rng, 12);
            uint counter = (uint)rng.Next(0, 1 << 30);
            int off = rng.Next(1, 16);
            byte[] input = TestRandom.Bytes(rng, length + 32);
            byte[] expected = new byte[length];
            ChaChaXor("scalar", key, counter, nonce, input.AsSpan(off, length), expected);
            byte[] outArr = new byte[length + 32];
            ChaChaXor("simd", key, counter, nonce, input.AsSpan(off, length), outArr.AsSpan(16 - off, length));
            Assert.True(expected.AsSpan().SequenceEqual(outArr.AsSpan(16 - off, length)), $"len={length}");
            Assert.All(outArr[..(16 - off)], b => Assert.Equal(0, b));
            Assert.All(outArr[(16 - off + length)..], b => Assert.Equal(0, b));
        }
    }

    /// <summary>Each pass width this CPU has (4/8/16/24 blocks), with and without an input, against the scalar block function.</summary>
    [Fact]
    public void VectorPassesMatchScalar()
    {
        if (!CryptoEngine.Intrinsics.IsSupported) return;
        Random rng = TestRandom.Create(7539);
        byte[] keyBytes = TestRandom.Bytes(rng, 32), nonce = TestRandom.Bytes(rng, 12);
        uint* key = stackalloc uint[8];
        ChaCha20Core.LoadKey(keyBytes, key);
        var widths = new List<int> { 4 };
        if (Avx2.IsSupported) widths.Add(8);
        if (Avx512F.IsSupported) widths.AddRange([16, 24]);
        foreach (int blocks in widths)
        {
            uint counter = (uint)rng.Next();
            byte[] input = TestRandom.Bytes(rng, 64 * blocks);
            byte[] expectedKs = new byte[64 * blocks], expectedCt = new byte[64 * blocks];
            byte[] ks = new byte[64 * blocks], ct = new byte[64 * blocks];
            fixed (byte* n = nonce, i = input, eks = expectedKs, ect = expectedCt, k = ks, c = ct)
            {
                uint n0 = ChaCha20Core.Le32(n), n1 = ChaCha20Core.Le32(n + 4), n2 = ChaCha20Core.Le32(n + 8);
                for (int b = 0; b < blocks; b++)
                {
                    ChaCha20Core.Block(key, counter + (uint)b, n0, n1, n2, null, eks + 64 * b);
                    ChaCha20Core.Block(key, counter + (uint)b, n0, n1, n2, i + 64 * b, ect + 64 * b);
                }
                switch (blocks)
                {
                    case 4: ChaCha20Simd.Pass128(key, counter, n0, n1, n2, null, k); ChaCha20Simd.Pass128(key, counter, n0, n1, n2, i, c); break;
                    case 8: ChaCha20Simd.Pass256(key, counter, n0, n1, n2, null, k); ChaCha20Simd.Pass256(key, counter, n0, n1, n2, i, c); break;
                    case 16: ChaCha20Simd.Pass512(key, counter, n0, n1, n2, null, k); ChaCha20Simd.Pass512(key, counter, n0, n1, n2, i, c); break;
                    default: ChaCha20Simd.Pass768(key, counter, n0, n1, n2, null, k); ChaCha20Simd.Pass768(key, counter, n0, n1, n2, i, c); break;
                }
            }
            Assert.Equal(Hex.Format(expectedKs), Hex.Format(ks));
            Assert.Equal(Hex.Format(expectedCt), Hex.Format(ct));
        }
    }

    // ------------------------------------------------------------------ Poly1305 core

    private sealed record MacVector(string Name, string Key, byte[] Message, string Tag);

    private static readonly MacVector[] MacVectors =
    [
        // RFC 8439 §2.5.2.
        new("2.5.2", "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", Text("Cryptographic Forum Research Group"),
            "a8061dc1305136c6c22b8baf0c0127a9"),
        // RFC 8439 Appendix A.3, test vectors #1-#11 (#5-#11: key = R ‖ S).
        new("A.3 #1", "0000000000000000000000000000000000000000000000000000000000000000", new byte[64], "00000000000000000000000000000000"),
        new("A.3 #2", "0000000000000000000000000000000036e5f6b5c5e06070f0efca96227a863e", Text(IetfText), "36e5f6b5c5e06070f0efca96227a863e"),
        new("A.3 #3", "36e5f6b5c5e06070f0efca96227a863e00000000000000000000000000000000", Text(IetfText), "f3477e7cd95417af89a6b8794c310cf0"),
        new("A.3 #4", "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", Text(Jabberwocky), "4541669a7eaaee61e708dc7cbcc5eb62"),
        new("A.3 #5", "02000000000000000000000000000000" + "00000000000000000000000000000000",
            Hex.Parse("ffffffffffffffffffffffffffffffff"), "03000000000000000000000000000000"),
        new("A.3 #6", "02000000000000000000000000000000" + "ffffffffffffffffffffffffffffffff",
            Hex.Parse("02000000000000000000000000000000"), "03000000000000000000000000000000"),
        new("A.3 #7", "01000000000000000000000000000000" + "00000000000000000000000000000000",
            Hex.Parse("ffffffffffffffffffffffffffffffff f0ffffffffffffffffffffffffffffff 11000000000000000000000000000000"),
            "05000000000000000000000000000000"),
        new("A.3 #8", "01000000000000000000000000000000" + "00000000000000000000000000000000",
            Hex.Parse("ffffffffffffffffffffffffffffffff fbfefefefefefefefefefefefefefefe 01010101010101010101010101010101"),
            "00000000000000000000000000000000"),
        new("A.3 #9", "02000000000000000000000000000000" + "00000000000000000000000000000000",
            Hex.Parse("fdffffffffffffffffffffffffffffff"), "faffffffffffffffffffffffffffffff"),
        new("A.3 #10", "01000000000000000400000000000000" + "00000000000000000000000000000000",
            Hex.Parse("e33594d7505e43b90000000000000000 3394d7505e4379cd0100000000000000 00000000000000000000000000000000 01000000000000000000000000000000"),
            "14000000000000005500000000000000"),
        new("A.3 #11", "01000000000000000400000000000000" + "00000000000000000000000000000000",
            Hex.Parse("e33594d7505e43b90000000000000000 3394d7505e4379cd0100000000000000 00000000000000000000000000000000"),
            "13000000000000000000000000000000"),
    ];

    [Fact]
    [Trait("Category", "KAT")]
    public void Poly1305Vectors()
    {
        foreach (MacVector v in MacVectors)
        {
            var tag = new byte[16];
            Poly1305.Mac(Hex.Parse(v.Key), v.Message, tag);
            Assert.Equal($"{v.Name}: {v.Tag}", $"{v.Name}: {Hex.Format(tag)}");
        }
    }

    /// <summary>The AEAD MAC string of §2.8.2 as printed in the RFC ("AEAD Construction for Poly1305"), MACed raw
    /// under the printed one-time key, gives the printed tag; and AeadTag builds the same string itself.</summary>
    [Fact]
    [Trait("Category", "KAT")]
    public void Poly1305AeadConstruction()
    {
        byte[] otk = Hex.Parse("7bac2b252db447af09b67a55a4e955840ae1d6731075d9eb2a9375783ed553ff");
        byte[] macData = Hex.Parse(
            "50515253c0c1c2c3c4c5c6c700000000d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6" +
            "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58" +
            "fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b61160000000000000000000000000000" +
            "0c000000000000007200000000000000");
        var tag = new byte[16];
        Poly1305.Mac(otk, macData, tag);
        Assert.Equal("1ae10b594f09e26a7e902ecbd0600691", Hex.Format(tag));

        byte[] aad = macData[..12], ct = macData[16..130];
        var tag2 = new byte[16];
        fixed (byte* k = otk, a = aad, c = ct, t = tag2) Poly1305.AeadTag(k, a, aad.Length, c, ct.Length, t);
        Assert.Equal("1ae10b594f09e26a7e902ecbd0600691", Hex.Format(tag2));
    }

    /// <summary>The vector Poly1305 bulk (8 or 4 lanes, radix 2^26) hands back the same accumulator as the scalar
    /// code: random keys and messages, and the extremes (largest clamped r, all-ones s and blocks, which push
    /// the lazy limbs to their bounds), every length to 700 and a spread to 4 KB, with a prior accumulator.</summary>
    [Fact]
    public void VectorPoly1305MatchesScalar()
    {
        if (!Poly1305Simd.IsSupported) return;
        Random rng = TestRandom.Create(1305);
        for (int length = 0; length <= 4096; length += length < 700 ? 1 : 61)
        {
            for (int kind = 0; kind < 3; kind++)
            {
                byte[] key = kind == 0 ? TestRandom.Bytes(rng, 32) : Enumerable.Repeat((byte)0xff, 32).ToArray();
                byte[] msg = kind == 2 ? Enumerable.Repeat((byte)0xff, length).ToArray() : TestRandom.Bytes(rng, length);
                byte[] prefix = kind == 2 ? Enumerable.Repeat((byte)0xff, 16).ToArray() : TestRandom.Bytes(rng, 16);
                byte[] expected = new byte[16], actual = new byte[16];
                fixed (byte* k = key, m = msg, a = prefix, e = expected, t = actual)
                {
                    var scalar = new Poly1305(k);
                    scalar.Blocks(a, 16);
                    scalar.BlocksPadded(m, length);
                    scalar.FinishAead(16, length, e);

                    var vector = new Poly1305(k);
                    vector.Blocks(a, 16);
                    nint bulk = Poly1305Simd.Blocks(ref vector, m, length);
                    Assert.True(bulk % 64 == 0 && bulk <= length);
                    vector.BlocksPadded(m + bulk, length - bulk);
                    vector.FinishAead(16, length, t);
                }
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"len={length} kind={kind}");
            }
        }
    }

    // ------------------------------------------------------------------ engine properties

    /// <summary>Seeded random keys and nonces, every length 0..600 then a spread to 2048, AAD 0..64 (and some
    /// longer), spans at odd offsets, out of place and in place, against the BCL engine.</summary>
    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void MatchesBclForRandomInputs(string engine)
    {
        if (!System.Security.Cryptography.ChaCha20Poly1305.IsSupported) return;
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(7634);
        var lengths = new List<int>();
        for (int n = 0; n <= 600; n++) lengths.Add(n);
        for (int n = 0; n < 150; n++) lengths.Add(rng.Next(600, 2049));
        lengths.AddRange([959, 960, 961, 1023, 1024, 1025, 1420, 1472, 1984, 2047, 2048]);
        int iteration = 0;
        foreach (int length in lengths)
        {
            iteration++;
            byte[] key = TestRandom.Bytes(rng, 32), nonce = TestRandom.Bytes(rng, 12);
            int aadLength = iteration % 17 == 0 ? rng.Next(65, 600) : rng.Next(0, 65);
            int off = rng.Next(1, 16);
            byte[] ptArr = new byte[length + 32], aadArr = new byte[aadLength + 32];
            rng.NextBytes(ptArr);
            rng.NextBytes(aadArr);
            ReadOnlySpan<byte> pt = ptArr.AsSpan(off, length);
            ReadOnlySpan<byte> aad = aadArr.AsSpan(17 - off, aadLength);

            using AeadCipher mine = e.CreateChaCha20Poly1305(key);
            using AeadCipher bcl = CryptoEngine.Bcl.CreateChaCha20Poly1305(key);
            var expectedCt = new byte[length];
            var expectedTag = new byte[16];
            bcl.Encrypt(nonce, pt, expectedCt, expectedTag, aad);

            byte[] ctArr = new byte[length + 32];
            byte[] tagArr = new byte[16 + 16];
            Span<byte> ct = ctArr.AsSpan(16 - off, length);
            Span<byte> tag = tagArr.AsSpan(off, 16);
            mine.Encrypt(nonce, pt, ct, tag, aad);
            string what = $"len={length} aad={aadLength}";
            Assert.True(expectedCt.AsSpan().SequenceEqual(ct), what);
            Assert.True(expectedTag.AsSpan().SequenceEqual(tag), what);
            Assert.All(ctArr[..(16 - off)], b => Assert.Equal(0, b));
            Assert.All(ctArr[(16 - off + length)..], b => Assert.Equal(0, b));

            byte[] backArr = new byte[length + 32];
            Span<byte> back = backArr.AsSpan(off, length);
            Assert.True(mine.Decrypt(nonce, ct, tag, back, aad), what);
            Assert.True(pt.SequenceEqual(back), what);
            Assert.All(backArr[..off], b => Assert.Equal(0, b));
            Assert.All(backArr[(off + length)..], b => Assert.Equal(0, b));

            byte[] inPlace = (byte[])ptArr.Clone();
            Span<byte> io = inPlace.AsSpan(off, length);
            mine.Encrypt(nonce, io, io, tag, aad);
            Assert.True(expectedCt.AsSpan().SequenceEqual(io), what);
            Assert.True(mine.Decrypt(nonce, io, tag, io, aad), what);
            Assert.True(pt.SequenceEqual(io), what);
        }
    }

    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void MatchesBclForLargeMessages(string engine)
    {
        if (!System.Security.Cryptography.ChaCha20Poly1305.IsSupported) return;
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(39);
        foreach (int length in new[] { 8192, 16384 + 5, 65536 + 13, 100_000 })
        {
            byte[] key = TestRandom.Bytes(rng, 32), nonce = TestRandom.Bytes(rng, 12), aad = TestRandom.Bytes(rng, 12);
            byte[] pt = TestRandom.Bytes(rng, length);
            using AeadCipher mine = e.CreateChaCha20Poly1305(key);
            using AeadCipher bcl = CryptoEngine.Bcl.CreateChaCha20Poly1305(key);
            byte[] c1 = new byte[length], c2 = new byte[length], t1 = new byte[16], t2 = new byte[16];
            bcl.Encrypt(nonce, pt, c1, t1, aad);
            mine.Encrypt(nonce, pt, c2, t2, aad);
            Assert.Equal(c1, c2);
            Assert.Equal(t1, t2);
            byte[] back = new byte[length];
            Assert.True(mine.Decrypt(nonce, c2, t2, back, aad));
            Assert.Equal(pt, back);
        }
    }

    /// <summary>Flipping any bit of ciphertext, tag or AAD (or another nonce, shorter AAD) fails, and the
    /// output holds no plaintext (all zero), out of place and in place.</summary>
    [Theory]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void TamperingFailsAndClearsTheOutput(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(17);
        foreach (int length in new[] { 0, 1, 16, 64, 131, 300, 1100 })
        {
            byte[] key = TestRandom.Bytes(rng, 32), nonce = TestRandom.Bytes(rng, 12), aad = TestRandom.Bytes(rng, 12);
            byte[] pt = TestRandom.Bytes(rng, length);
            using AeadCipher aead = e.CreateChaCha20Poly1305(key);
            byte[] ct = new byte[length], tag = new byte[16];
            aead.Encrypt(nonce, pt, ct, tag, aad);

            void ExpectFailure(byte[] c, byte[] t, byte[] a, byte[] n, string what)
            {
                byte[] output = TestRandom.Bytes(rng, length);
                Assert.False(aead.Decrypt(n, c, t, output, a), what);
                Assert.True(Array.TrueForAll(output, b => b == 0), what + " (out of place output not cleared)");
                byte[] io = (byte[])c.Clone();
                Assert.False(aead.Decrypt(n, io, t, io, a), what);
                Assert.True(Array.TrueForAll(io, b => b == 0), what + " (in place output not cleared)");
            }

            for (int i = 0; i < length; i += length > 300 ? 7 : 1)
            {
                byte[] c = (byte[])ct.Clone();
                c[i] ^= (byte)(1 << rng.Next(8));
                ExpectFailure(c, tag, aad, nonce, $"ct[{i}] len={length}");
            }
            for (int bit = 0; bit < 128; bit++)
            {
                byte[] t = (byte[])tag.Clone();
                t[bit / 8] ^= (byte)(1 << (bit % 8));
                ExpectFailure(ct, t, aad, nonce, $"tag bit {bit} len={length}");
            }
            for (int bit = 0; bit < aad.Length * 8; bit++)
            {
                byte[] a = (byte[])aad.Clone();
                a[bit / 8] ^= (byte)(1 << (bit % 8));
                ExpectFailure(ct, tag, a, nonce, $"aad bit {bit} len={length}");
            }
            ExpectFailure(ct, tag, aad[..8], nonce, "shorter aad");
            byte[] n2 = (byte[])nonce.Clone();
            n2[0] ^= 0x80;
            ExpectFailure(ct, tag, aad, n2, "other nonce");
            byte[] ok = new byte[length];
            Assert.True(aead.Decrypt(nonce, ct, tag, ok, aad));
            Assert.Equal(pt, ok);
        }
    }

    /// <summary>Per-packet operations allocate nothing once keyed (Primitives.cs).</summary>
    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void DoesNotAllocatePerOperation(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        using AeadCipher aead = e.CreateChaCha20Poly1305(new byte[32]);
        byte[] nonce = new byte[12], aad = new byte[8], pt = new byte[8192], ct = new byte[8192], back = new byte[8192];
        byte[] tag = new byte[16], bad = new byte[16];
        int[] sizes = [0, 61, 1420, 8192];
        void Run()
        {
            foreach (int n in sizes)
            {
                aead.Encrypt(nonce, pt.AsSpan(0, n), ct.AsSpan(0, n), tag, aad);
                Assert.True(aead.Decrypt(nonce, ct.AsSpan(0, n), tag, back.AsSpan(0, n), aad));
                Assert.False(aead.Decrypt(nonce, ct.AsSpan(0, n), bad, back.AsSpan(0, n), aad));
            }
        }
        Assert.Equal(0, AllocationProbe.Allocated(Run));
    }

    [Theory]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void RejectsMisuse(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        foreach (int bad in new[] { 0, 16, 24, 31, 33 })
        {
            Assert.Throws<ArgumentException>(() => e.CreateChaCha20Poly1305(new byte[bad]));
        }
        using AeadCipher aead = e.CreateChaCha20Poly1305(new byte[32]);
        byte[] pt = new byte[20], ct = new byte[20], tag = new byte[16];
        Assert.Throws<ArgumentException>(() => aead.Encrypt(new byte[11], pt, ct, tag, default));
        Assert.Throws<ArgumentException>(() => aead.Encrypt(new byte[12], pt, new byte[19], tag, default));
        // 16-byte tags only (RFC 7634 §2, RFC 8439 §4: no truncation).
        Assert.Throws<ArgumentException>(() => aead.Encrypt(new byte[12], pt, ct, new byte[12], default));
        Assert.Throws<ArgumentException>(() => aead.Encrypt(new byte[12], pt, ct, new byte[8], default));
        Assert.Throws<ArgumentException>(() => aead.Encrypt(new byte[12], pt, ct, new byte[17], default));
        Assert.Throws<ArgumentException>(() => aead.Decrypt(new byte[13], ct, tag, pt, default));
        Assert.Throws<ArgumentException>(() => aead.Decrypt(new byte[12], ct, tag, new byte[21], default));
        Assert.Throws<ArgumentException>(() => aead.Decrypt(new byte[12], ct, new byte[15], pt, default));
    }
}
