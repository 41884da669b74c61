using System;
using System.Collections.Generic;
using FastPath.Crypto;
using FastPath.Crypto.Tests.Support;
using Xunit;

namespace FastPath.Crypto.Tests;

public class AesGcmTests
{
    private sealed record Vector(string Name, string Key, string Iv, string Aad, string Pt, string Ct, string Tag);

    // McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B, test cases with a
    // 96-bit IV (1-4 AES-128, 7-10 AES-192, 13-16 AES-256), and NIST CAVP gcmEncryptExtIV128.rsp /
    // gcmEncryptExtIV256.rsp entries with AAD and truncated tags (Taglen 104, 112, 120), and the ESP
    // packets of draft-mcgrew-gcm-test-01.
    private static readonly Vector[] Vectors =
    [
        new("GCM TC1", "00000000000000000000000000000000", "000000000000000000000000", "", "", "",
            "58e2fccefa7e3061367f1d57a4e7455a"),
        new("GCM TC2", "00000000000000000000000000000000", "000000000000000000000000", "",
            "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"),
        new("GCM TC3", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
            "4d5c2af327cd64a62cf35abd2ba6fab4"),
        new("GCM TC4", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            "5bc94fbc3221a5db94fae95ae7121a47"),
        new("GCM TC7", "000000000000000000000000000000000000000000000000", "000000000000000000000000", "", "", "",
            "cd33b28ac773f74ba00ed1f312572435"),
        new("GCM TC8", "000000000000000000000000000000000000000000000000", "000000000000000000000000", "",
            "00000000000000000000000000000000", "98e7247c07f0fe411c267e4384b0f600", "2ff58d80033927ab8ef4d4587514f0fb"),
        new("GCM TC9", "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabefacedbaddecaf888", "",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
            "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade256",
            "9924a7c8587336bfb118024db8674a14"),
        new("GCM TC10", "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
            "2519498e80f1478f37ba55bd6d27618c"),
        new("GCM TC13", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "", "", "",
            "530f8afbc74536b9a963b4f1c4cb738b"),
        new("GCM TC14", "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "",
            "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"),
        new("GCM TC15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
            "b094dac5d93471bdec1a502270e3cc6c"),
        new("GCM TC16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b"),
        // gcmEncryptExtIV128.rsp
        new("CAVP 128 PT256 AAD0 Tag112", "c75116c19f5ea4ed1b10bf0eaaebe5a1", "48a53fc17d4300f4a23a5a39", "",
            "4569944fcde5b3f4ae4d50eb7a0e3ef88dab44b684c737b90aa88cf579bf0558",
            "d58b89300c62e0b0ea729d6de39545ea35ddc5a04e22b709f45af532bc67d90d", "c428abd4bf85468d57236ed16d36"),
        new("CAVP 128 PT0 AAD128 Tag120", "da0b615656135194ba6d3c851099bc48", "d39d4b4d3cc927885090e6c3",
            "e7e5e6f8dac913036cb2ff29e8625e0e", "", "", "ab967711a5770461724460b07237e2"),
        new("CAVP 128 PT104 AAD128 Tag104", "27e3626a8347f252519f3a391712f65a", "e50b6bbe4ac7307f75421a71",
            "96fe6e72597f596ae93907a820ba79a8", "bf386209503082f15ed8461ddd", "34d347fa1b56d2cf691f1ce062", "cb083ec9d63075bea3bba1c0d4"),
        new("CAVP 128 PT408 AAD160 Tag128", "fe47fcce5fc32665d2ae399e4eec72ba", "5adb9609dbaeb58cbd6e7275",
            "88319d6e1d3ffa5f987199166c8a9b56c2aeba5a",
            "7c0e88c88899a779228465074797cd4c2e1498d259b54390b85e3eef1c02df60e743f1b840382c4bccaf3bafb4ca8429bea063",
            "98f4826f05a265e6dd2be82db241c0fbbbf9ffb1c173aa83964b7cf5393043736365253ddbc5db8778371495da76d269e5db3e",
            "291ef1982e4defedaa2249f898556b47"),
        // gcmEncryptExtIV256.rsp
        new("CAVP 256 PT128 AAD160 Tag128", "83688deb4af8007f9b713b47cfa6c73e35ea7a3aa4ecdb414dded03bf7a0fd3a", "0b459724904e010a46901cf3",
            "794a14ccd178c8ebfd1379dc704c5e208f9d8424", "33d893a2114ce06fc15d55e454cf90c3", "cc66bee423e3fcd4c0865715e9586696",
            "0fb291bd3dba94a1dfd8b286cfb97ac5"),
        // draft-mcgrew-gcm-test-01 (GCM in IPsec ESP, RFC 4106 packets): nonce = salt ‖ IV,
        // AAD = SPI ‖ sequence number (8 bytes) or SPI ‖ 64-bit extended sequence number (12 bytes).
        new("ESP AES-128 ESN AAD12", "4c80cdefbb5d10da906ac73c3613a634", "2e443b684956ed7e3b244cfe", "000043218765432100000000",
            "45000048699a000080114db7c0a80102c0a801010a9bf15638d301000001000000000000045f736970045f756470037369700963796265726369747902646b000021000101020201",
            "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732",
            "459018148f6cbe722fd04796562dfdb4"),
        new("ESP AES-192 AAD8", "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabefacedbaddecaf888", "0000a5f80000000a",
            "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001",
            "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0315b27452144cc77", "95457b9652037f5318027b5b4cd7a636"),
        new("ESP AES-256 AAD8", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "112233440102030405060708", "4a2cbfe300000002",
            "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b40101040201020201",
            "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8e",
            "b335f4eecfdbf831824b4c4915956c96"),
    ];

    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void KnownAnswerVectors(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        foreach (Vector v in Vectors)
        {
            byte[] key = Hex.Parse(v.Key), iv = Hex.Parse(v.Iv), aad = Hex.Parse(v.Aad), pt = Hex.Parse(v.Pt);
            byte[] expectedTag = Hex.Parse(v.Tag);
            using AeadCipher gcm = e.CreateAesGcm(key);
            Assert.Equal(key.Length, gcm.KeySize);

            var ct = new byte[pt.Length];
            var tag = new byte[expectedTag.Length];
            gcm.Encrypt(iv, pt, ct, tag, aad);
            Assert.Equal($"{v.Name}: {v.Ct} / {v.Tag}", $"{v.Name}: {Hex.Format(ct)} / {Hex.Format(tag)}");

            var back = new byte[ct.Length];
            Assert.True(gcm.Decrypt(iv, ct, tag, back, aad), v.Name);
            Assert.Equal($"{v.Name}: {v.Pt}", $"{v.Name}: {Hex.Format(back)}");

            // In place (same buffer) in both directions.
            byte[] buf = (byte[])pt.Clone();
            gcm.Encrypt(iv, buf, buf, tag, aad);
            Assert.Equal($"{v.Name}: {v.Ct}", $"{v.Name}: {Hex.Format(buf)}");
            Assert.True(gcm.Decrypt(iv, buf, tag, buf, aad), v.Name);
            Assert.Equal($"{v.Name}: {v.Pt}", $"{v.Name}: {Hex.Format(buf)}");
        }
    }

    /// <summary>ESP truncates the 16-byte tag to 8 or 12 bytes (RFC 4106 §8): the shorter tags of the
    /// spec vectors are their prefixes, and they verify.</summary>
    [Theory]
    [Trait("Category", "KAT")]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void TruncatedTagsArePrefixesOfTheFullTag(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        foreach (Vector v in Vectors)
        {
            byte[] full = Hex.Parse(v.Tag);
            if (full.Length != 16) continue;
            byte[] key = Hex.Parse(v.Key), iv = Hex.Parse(v.Iv), aad = Hex.Parse(v.Aad), pt = Hex.Parse(v.Pt);
            using AeadCipher gcm = e.CreateAesGcm(key);
            for (int t = 8; t <= 16; t++)
            {
                var ct = new byte[pt.Length];
                var tag = new byte[t];
                gcm.Encrypt(iv, pt, ct, tag, aad);
                Assert.Equal($"{v.Name}/{t}: {v.Tag[..(2 * t)]}", $"{v.Name}/{t}: {Hex.Format(tag)}");
                var back = new byte[ct.Length];
                Assert.True(gcm.Decrypt(iv, ct, tag, back, aad), $"{v.Name}/{t}");
                Assert.Equal(pt, back);
            }
        }
    }

    /// <summary>Seeded random keys, nonces, lengths 0..2048 (every length up to 300, then random),
    /// AAD 0..64, spans at odd offsets 1..15 of larger arrays, tags 8/12/16, out of place and in
    /// place, against the BCL engine.</summary>
    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void MatchesBclForRandomInputs(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(4106);
        int[] keySizes = [16, 24, 32];
        int[] tagSizes = [8, 12, 16];
        var lengths = new List<int>();
        for (int n = 0; n <= 300; n++) lengths.Add(n);
        // Every tail (0..127 bytes, one-block tails included) after 3 and 4 bulk batches: the first sizes
        // where the intrinsics encryption finishes in its last-batch routine (with no and with one loop pass).
        for (int n = 384; n < 640; n++) lengths.Add(n);
        for (int n = 0; n < 150; n++) lengths.Add(rng.Next(0, 2049));
        lengths.Add(2048);
        lengths.Add(2047);
        lengths.Add(1420);
        int iteration = 0;
        foreach (int length in lengths)
        {
            int keySize = keySizes[iteration % 3];
            int tagSize = tagSizes[(iteration / 3) % 3];
            iteration++;
            byte[] key = TestRandom.Bytes(rng, keySize);
            byte[] nonce = TestRandom.Bytes(rng, 12);
            // ESP uses 8 or 12 bytes; longer AAD (past the single-pass limit of short messages) too.
            int aadLength = iteration % 17 == 0 ? rng.Next(200, 600) : rng.Next(0, 65);
            int off = rng.Next(1, 16);
            byte[] ptArr = new byte[length + 32], aadArr = new byte[aadLength + 32];
            rng.NextBytes(ptArr);
            rng.NextBytes(aadArr);
            ReadOnlySpan<byte> pt = ptArr.AsSpan(off, length);
            ReadOnlySpan<byte> aad = aadArr.AsSpan(off + 1 > 16 ? 1 : off + 1, aadLength);

            using AeadCipher mine = e.CreateAesGcm(key);
            using AeadCipher bcl = CryptoEngine.Bcl.CreateAesGcm(key);
            var expectedCt = new byte[length];
            var expectedTag = new byte[tagSize];
            bcl.Encrypt(nonce, pt, expectedCt, expectedTag, aad);

            // Out of place, odd offsets.
            byte[] ctArr = new byte[length + 32];
            byte[] tagArr = new byte[tagSize + 16];
            Span<byte> ct = ctArr.AsSpan(16 - off, length);
            Span<byte> tag = tagArr.AsSpan(off, tagSize);
            mine.Encrypt(nonce, pt, ct, tag, aad);
            string what = $"len={length} aad={aadLength} key={keySize} tag={tagSize}";
            Assert.True(expectedCt.AsSpan().SequenceEqual(ct), what);
            Assert.True(expectedTag.AsSpan().SequenceEqual(tag), what);
            // Nothing outside the output span is touched.
            Assert.All(ctArr[..(16 - off)], b => Assert.Equal(0, b));
            Assert.All(ctArr[(16 - off + length)..], b => Assert.Equal(0, b));

            byte[] backArr = new byte[length + 32];
            Span<byte> back = backArr.AsSpan(off, length);
            Assert.True(mine.Decrypt(nonce, ct, tag, back, aad), what);
            Assert.True(pt.SequenceEqual(back), what);

            // In place.
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
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(38);
        foreach (int length in new[] { 16384, 65536 + 13, 100_000 })
        {
            byte[] key = TestRandom.Bytes(rng, 16), nonce = TestRandom.Bytes(rng, 12), aad = TestRandom.Bytes(rng, 12);
            byte[] pt = TestRandom.Bytes(rng, length);
            using AeadCipher mine = e.CreateAesGcm(key);
            using AeadCipher bcl = CryptoEngine.Bcl.CreateAesGcm(key);
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

    /// <summary>Flipping any bit of ciphertext, tag or AAD (or using another nonce) fails, and the
    /// output holds no plaintext (all zero), out of place and in place.</summary>
    [Theory]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void TamperingFailsAndClearsTheOutput(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        Random rng = TestRandom.Create(7);
        foreach (int tagSize in new[] { 8, 12, 16 })
        {
            foreach (int length in new[] { 1, 16, 64, 131, 300 })
            {
                byte[] key = TestRandom.Bytes(rng, 16), nonce = TestRandom.Bytes(rng, 12), aad = TestRandom.Bytes(rng, 12);
                byte[] pt = TestRandom.Bytes(rng, length);
                using AeadCipher gcm = e.CreateAesGcm(key);
                byte[] ct = new byte[length], tag = new byte[tagSize];
                gcm.Encrypt(nonce, pt, ct, tag, aad);

                void ExpectFailure(byte[] c, byte[] t, byte[] a, byte[] n, string what)
                {
                    byte[] output = TestRandom.Bytes(rng, length);
                    Assert.False(gcm.Decrypt(n, c, t, output, a), what);
                    Assert.True(Array.TrueForAll(output, b => b == 0), what + " (out of place output not cleared)");
                    byte[] io = (byte[])c.Clone();
                    Assert.False(gcm.Decrypt(n, io, t, io, a), what);
                    Assert.True(Array.TrueForAll(io, b => b == 0), what + " (in place output not cleared)");
                }

                for (int i = 0; i < length; i++)
                {
                    byte[] c = (byte[])ct.Clone();
                    c[i] ^= (byte)(1 << rng.Next(8));
                    ExpectFailure(c, tag, aad, nonce, $"ct[{i}] tag={tagSize} len={length}");
                }
                for (int bit = 0; bit < tagSize * 8; bit++)
                {
                    byte[] t = (byte[])tag.Clone();
                    t[bit / 8] ^= (byte)(1 << (bit % 8));
                    ExpectFailure(ct, t, aad, nonce, $"tag bit {bit} tag={tagSize} len={length}");
                }
                for (int i = 0; i < aad.Length; i++)
                {
                    byte[] a = (byte[])aad.Clone();
                    a[i] ^= (byte)(1 << rng.Next(8));
                    ExpectFailure(ct, tag, a, nonce, $"aad[{i}] tag={tagSize} len={length}");
                }
                ExpectFailure(ct, tag, aad[..8], nonce, "shorter aad");
                byte[] n2 = (byte[])nonce.Clone();
                n2[11] ^= 1;
                ExpectFailure(ct, tag, aad, n2, "other nonce");
                byte[] ok = new byte[length];
                Assert.True(gcm.Decrypt(nonce, ct, tag, ok, aad));
                Assert.Equal(pt, ok);
            }
        }
    }

    /// <summary>Per-packet operations allocate nothing once keyed (hard requirement of Primitives.cs).</summary>
    [Theory]
    [MemberData(nameof(Engines.SupportedOwn), MemberType = typeof(Engines))]
    public void DoesNotAllocatePerOperation(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        using AeadCipher gcm = e.CreateAesGcm(new byte[32]);
        byte[] nonce = new byte[12], aad = new byte[12], pt = new byte[1420], ct = new byte[1420], back = new byte[1420];
        byte[] tag16 = new byte[16], tag8 = new byte[8], bad = new byte[16];
        void Run()
        {
            gcm.Encrypt(nonce, pt, ct, tag16, aad);
            gcm.Encrypt(nonce, pt.AsSpan(0, 61), ct.AsSpan(0, 61), tag8, aad);
            Assert.True(gcm.Decrypt(nonce, ct.AsSpan(0, 61), tag8, back.AsSpan(0, 61), aad));
            gcm.Encrypt(nonce, pt, ct, tag16, aad);
            Assert.True(gcm.Decrypt(nonce, ct, tag16, back, aad));
            Assert.False(gcm.Decrypt(nonce, ct, bad, back, aad));
        }
        Assert.Equal(0, AllocationProbe.Allocated(Run));
    }

    [Theory]
    [MemberData(nameof(Engines.Supported), MemberType = typeof(Engines))]
    public void RejectsMisuse(string engine)
    {
        CryptoEngine e = Engines.ByName(engine);
        foreach (int bad in new[] { 0, 15, 17, 20, 33 })
        {
            Assert.Throws<ArgumentException>(() => e.CreateAesGcm(new byte[bad]));
        }
        using AeadCipher gcm = e.CreateAesGcm(new byte[16]);
        byte[] pt = new byte[20], ct = new byte[20], tag = new byte[16];
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[11], pt, ct, tag, default));
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[12], pt, new byte[19], tag, default));
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[12], pt, ct, new byte[7], default));
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[12], pt, ct, new byte[17], default));
        Assert.Throws<ArgumentException>(() => gcm.Decrypt(new byte[13], ct, tag, pt, default));
        Assert.Throws<ArgumentException>(() => gcm.Decrypt(new byte[12], ct, tag, new byte[21], default));
        Assert.Throws<ArgumentException>(() => gcm.Decrypt(new byte[12], ct, new byte[4], pt, default));
    }
}
