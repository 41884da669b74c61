using System;
using System.Collections.Generic;
using System.Linq;
using FastPath.Ike.Crypto;

namespace FastPath.Ike.Proposals;

// Parser of the proposal syntax shared by strongSwan's ipsec.conf (ike=, esp=), swanctl.conf
// (proposals =, esp_proposals =) and, for the common forms, Libreswan:
//
//   value     = proposal *("," proposal) ["!"]
//   proposal  = token *("-" token)          e.g. aes128gcm16-prfsha256-x25519, aes256-sha256-modp2048
//
// Several tokens of one transform type in one proposal are alternatives (aes128-aes256-sha256-modp2048
// offers two ciphers). A trailing "!" (ipsec.conf, Libreswan) makes the list strict: only these
// proposals, no defaults appended; "default" (swanctl) stands for the default proposals. Rules
// follow strongSwan's proposal_create_from_string/check_proposal:
// - IKE: a PRF is mandatory; without one, each integrity algorithm maps to its HMAC PRF
//   (sha256 -> prfsha256), so "aes256-sha256-modp2048" = AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048.
//   A DH group is mandatory. ESN tokens do not belong to IKE.
// - ESP: no PRF; the DH group is optional (it asks for PFS in CREATE_CHILD_SA); "esn"/"noesn"
//   select ESN, NO_EXT_SEQ when neither is given.
// - AEAD (GCM, ChaCha20-Poly1305) carries no integrity algorithm: integrity tokens next to it are
//   dropped (after the IKE PRF mapping), and AEAD and classic ciphers cannot share a proposal.
// - Classic ciphers need an integrity algorithm.
// Refusals kept from FreeS/WAN (and why): single DES (56-bit key, brute-forced in 1998), NULL
// encryption (no confidentiality), DH group 1 / modp768 (768-bit, far too small); 1024/1536-bit
// MODP are not offered either (RFC 8247 §2.4, Logjam-style precomputation).

/// <summary>A proposal string that cannot be used; <see cref="Exception.Message"/> says which token and why.</summary>
public sealed class ProposalSyntaxException : FormatException
{
    public string Token { get; }

    public ProposalSyntaxException(string token, string message) : base(message) => Token = token;

    public ProposalSyntaxException() : this("", "invalid proposal") { }

    public ProposalSyntaxException(string message) : this("", message) { }

    public ProposalSyntaxException(string message, Exception inner) : base(message, inner) => Token = "";
}

/// <summary>Parses ipsec.conf/swanctl proposal strings into IANA transforms.</summary>
public static class ProposalParser
{
    /// <summary>What FastPath proposes when ike= / proposals= is unset (the supported part of strongSwan 5.9's
    /// default, AEAD first): one AEAD proposal and one classic proposal.</summary>
    public const string DefaultIke =
        "aes128gcm16-aes256gcm16-chacha20poly1305-prfsha256-prfsha384-prfsha512-x25519-ecp256-ecp384-ecp521-modp3072-modp4096-modp2048," +
        "aes128-aes192-aes256-sha256-sha384-sha512-x25519-ecp256-ecp384-ecp521-modp3072-modp4096-modp2048";

    /// <summary>What FastPath proposes when esp= / esp_proposals= is unset: no PFS, no ESN (as strongSwan).</summary>
    public const string DefaultEsp = "aes128gcm16-aes256gcm16-chacha20poly1305,aes128-aes192-aes256-sha256-sha384-sha512";

    /// <summary>Parses <paramref name="value"/>; null or blank means the defaults (<see cref="DefaultIke"/>/<see cref="DefaultEsp"/>).
    /// Throws <see cref="ProposalSyntaxException"/> with a message naming the offending token.</summary>
    public static ProposalList Parse(string? value, ProposalProtocol protocol)
    {
        if (protocol == ProposalProtocol.Ah)
            throw new ProposalSyntaxException("ah", "AH is not supported (FastPath does ESP only)");
        if (string.IsNullOrWhiteSpace(value))
            return new ProposalList(ParseList(Default(protocol), protocol), Strict: false);
        string v = value.Trim();
        bool strict = false;
        if (v.EndsWith('!'))
        {
            strict = true;
            v = v[..^1].TrimEnd();
        }
        if (v.Contains('!'))
            throw new ProposalSyntaxException("!", $"'!' (strict) may only end the whole list: '{value}'");
        return new ProposalList(ParseList(v, protocol), strict);
    }

    /// <summary>ipsec.conf semantics: a list without "!" gets the defaults appended (those not already present).</summary>
    public static IReadOnlyList<Proposal> Effective(ProposalList list, ProposalProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(list);
        if (list.Strict) return list.Proposals;
        var result = list.Proposals.ToList();
        foreach (var d in ParseList(Default(protocol), protocol))
            if (!result.Any(p => p.ToString() == d.ToString())) result.Add(d);
        return result;
    }

    private static string Default(ProposalProtocol protocol) => protocol == ProposalProtocol.Ike ? DefaultIke : DefaultEsp;

    private static List<Proposal> ParseList(string v, ProposalProtocol protocol)
    {
        var result = new List<Proposal>();
        foreach (string raw in v.Split(','))
        {
            string p = raw.Trim();
            if (p.Length == 0)
                throw new ProposalSyntaxException("", $"empty proposal in '{v}' (two commas or a trailing comma)");
            if (p == "default")
            {
                result.AddRange(ParseList(Default(protocol), protocol));
                continue;
            }
            result.Add(ParseOne(p, protocol));
        }
        return result;
    }

    private static Proposal ParseOne(string text, ProposalProtocol protocol)
    {
        var encr = new List<Transform>();
        var integ = new List<Transform>();
        var prf = new List<Transform>();
        var dh = new List<Transform>();
        var esn = new List<Transform>();
        foreach (string rawToken in text.Split('-'))
        {
            string token = rawToken.Trim().ToLowerInvariant();
            if (token.Length == 0)
                throw new ProposalSyntaxException("", $"empty algorithm in proposal '{text}' (two dashes or a dash at an end)");
            Transform t = Lookup(token, protocol, text);
            var bucket = t.Type switch
            {
                TransformType.Encryption => encr,
                TransformType.Integrity => integ,
                TransformType.Prf => prf,
                TransformType.KeyExchange => dh,
                _ => esn,
            };
            if (!bucket.Contains(t)) bucket.Add(t);
        }

        if (encr.Count == 0)
            throw new ProposalSyntaxException(text, $"no encryption algorithm in proposal '{text}' (e.g. aes128gcm16 or aes256-sha256)");
        int aead = encr.Count(t => IkeIana.IsAead((EncrId)t.Id));
        if (aead != 0 && aead != encr.Count)
            throw new ProposalSyntaxException(text,
                $"AEAD and classic encryption algorithms cannot share proposal '{text}': put them in two proposals separated by ','");

        if (aead == 0 && integ.Count == 0)
            throw new ProposalSyntaxException(text,
                $"an integrity algorithm is mandatory with classic (non-AEAD) encryption: add one to '{text}' (e.g. sha256)");

        if (protocol == ProposalProtocol.Ike)
        {
            if (esn.Count != 0)
                throw new ProposalSyntaxException(text, $"'esn'/'noesn' belong to ESP proposals, not to the IKE proposal '{text}'");
            if (prf.Count == 0)
            {
                // strongSwan: "No explicit PRF found. We assume HMAC, and map the integrity algorithm".
                foreach (var i in integ) prf.Add(Transform.PrfOf(PrfForInteg((IntegId)i.Id, text)));
                if (prf.Count == 0)
                    throw new ProposalSyntaxException(text,
                        $"a PRF is mandatory in IKE proposals: '{text}' has an AEAD cipher and no prf token (e.g. aes128gcm16-prfsha256-x25519)");
            }
            if (dh.Count == 0)
                throw new ProposalSyntaxException(text, $"a DH group is mandatory in IKE proposals: add one to '{text}' (e.g. x25519, ecp256, modp2048)");
        }
        else
        {
            if (prf.Count != 0)
                throw new ProposalSyntaxException(text, $"a PRF belongs to IKE proposals, not to the ESP proposal '{text}'");
            if (esn.Count == 0) esn.Add(Transform.EsnOf(EsnId.NoEsn));
        }

        if (aead != 0) integ.Clear(); // RFC 5282 §8 / RFC 4106: the AEAD tag is the integrity

        return new Proposal(protocol, encr.Concat(integ).Concat(prf).Concat(dh).Concat(esn));
    }

    private static PrfId PrfForInteg(IntegId integ, string text) => integ switch
    {
        IntegId.HmacSha1_96 => PrfId.HmacSha1,
        IntegId.HmacSha2_256_128 => PrfId.HmacSha2_256,
        IntegId.HmacSha2_384_192 => PrfId.HmacSha2_384,
        IntegId.HmacSha2_512_256 => PrfId.HmacSha2_512,
        _ => throw new ProposalSyntaxException(text, $"no PRF corresponds to {IkeIana.Name(integ)} in '{text}': add a prf token"),
    };

    private static Transform Lookup(string token, ProposalProtocol protocol, string text)
    {
        switch (token)
        {
            // --- encryption (RFC 7296 §3.3.2 Transform Type 1) ---
            case "aes" or "aes128": return Transform.Encr(EncrId.AesCbc, 128);
            case "aes192": return Transform.Encr(EncrId.AesCbc, 192);
            case "aes256": return Transform.Encr(EncrId.AesCbc, 256);
            case "aes128ctr" or "aes192ctr" or "aes256ctr":
                if (protocol == ProposalProtocol.Ike)
                    throw new ProposalSyntaxException(token, $"AES-CTR ('{token}' in '{text}') is only supported in ESP proposals; for the IKE SA use aes128gcm16 or aes128-sha256");
                return Transform.Encr(EncrId.AesCtr, int.Parse(token.AsSpan(3, 3), System.Globalization.CultureInfo.InvariantCulture));
            case "3des": return Transform.Encr(EncrId.TripleDesCbc);
            case "chacha20poly1305": return Transform.Encr(EncrId.ChaCha20Poly1305);
            case "des" or "desiv64" or "des-cbc":
                throw new ProposalSyntaxException(token,
                    $"single DES ('{token}' in '{text}') is refused: its 56-bit key was brute-forced in 1998 (EFF DES Cracker) and FreeS/WAN never offered it; use aes128gcm16 or aes128-sha256 (3des only for old peers)");
            case "null" or "null_auth_aes_gmac":
                throw new ProposalSyntaxException(token,
                    $"NULL encryption ('{token}' in '{text}') is refused: it gives no confidentiality, and FreeS/WAN refused it too; use aes128gcm16 or aes128-sha256");
            case "blowfish" or "blowfish128" or "blowfish192" or "blowfish256" or "cast128" or "twofish" or "serpent" or "camellia" or "camellia128" or "camellia192" or "camellia256" or "idea":
                throw new ProposalSyntaxException(token, $"cipher '{token}' in '{text}' is not supported (supported: aes, aes192, aes256, aesNNNctr, aesNNNgcm8/12/16, chacha20poly1305, 3des)");
            case "aes128ccm8" or "aes128ccm12" or "aes128ccm16" or "aes256ccm16" or "aes128gmac" or "aes256gmac":
                throw new ProposalSyntaxException(token, $"'{token}' in '{text}' is not supported (AES-GCM and ChaCha20-Poly1305 are the AEADs FastPath does)");

            // --- integrity (Transform Type 3) ---
            case "md5" or "md5_96":
                if (protocol == ProposalProtocol.Ike)
                    throw new ProposalSyntaxException(token, $"HMAC-MD5 ('{token}' in '{text}') is only accepted in ESP proposals for old peers, not for the IKE SA; use sha256");
                return Transform.Integ(IntegId.HmacMd5_96);
            case "sha" or "sha1" or "sha1_96": return Transform.Integ(IntegId.HmacSha1_96);
            case "sha2" or "sha256" or "sha2_256" or "sha2_256_128": return Transform.Integ(IntegId.HmacSha2_256_128);
            case "sha384" or "sha2_384" or "sha2_384_192": return Transform.Integ(IntegId.HmacSha2_384_192);
            case "sha512" or "sha2_512" or "sha2_512_256": return Transform.Integ(IntegId.HmacSha2_512_256);
            case "aesxcbc" or "aescmac" or "sha256_96" or "md5_128" or "sha1_160":
                throw new ProposalSyntaxException(token, $"integrity algorithm '{token}' in '{text}' is not supported (supported: sha1, sha256, sha384, sha512; md5 for ESP)");

            // --- PRF (Transform Type 2) ---
            case "prfsha1": return Transform.PrfOf(PrfId.HmacSha1);
            case "prfsha256": return Transform.PrfOf(PrfId.HmacSha2_256);
            case "prfsha384": return Transform.PrfOf(PrfId.HmacSha2_384);
            case "prfsha512": return Transform.PrfOf(PrfId.HmacSha2_512);
            case "prfmd5":
                throw new ProposalSyntaxException(token, $"PRF_HMAC_MD5 ('{token}' in '{text}') is refused for key derivation; use prfsha256");
            case "prfaesxcbc" or "prfaescmac":
                throw new ProposalSyntaxException(token, $"PRF '{token}' in '{text}' is not supported (supported: prfsha1, prfsha256, prfsha384, prfsha512)");

            // --- DH / key exchange (Transform Type 4) ---
            case "modp2048": return Transform.Dh(DhGroup.Modp2048);
            case "modp3072": return Transform.Dh(DhGroup.Modp3072);
            case "modp4096": return Transform.Dh(DhGroup.Modp4096);
            case "ecp256": return Transform.Dh(DhGroup.Ecp256);
            case "ecp384": return Transform.Dh(DhGroup.Ecp384);
            case "ecp521": return Transform.Dh(DhGroup.Ecp521);
            case "x25519" or "curve25519": return Transform.Dh(DhGroup.Curve25519);
            case "modp768":
                throw new ProposalSyntaxException(token,
                    $"DH group 1 ('{token}' in '{text}', 768-bit MODP) is refused: 768-bit discrete logs are computable (FreeS/WAN dropped it early); use x25519, ecp256 or modp2048");
            case "modp1024":
                throw new ProposalSyntaxException(token,
                    $"DH group 2 ('{token}' in '{text}', 1024-bit MODP) is not supported: 1024-bit groups fall to nation-state precomputation (Logjam, 2015) and RFC 8247 §2.4 says SHOULD NOT; use modp2048 or better");
            case "modp1536":
                throw new ProposalSyntaxException(token,
                    $"DH group 5 ('{token}' in '{text}', 1536-bit MODP) is not supported: below 2048 bits (RFC 8247 §2.4); use modp2048 or better");
            case "modp6144" or "modp8192" or "ecp192" or "ecp224" or "x448" or "curve448" or "ecp224bp" or "ecp256bp" or "ecp384bp" or "ecp512bp" or "modp1024s160" or "modp2048s224" or "modp2048s256":
                throw new ProposalSyntaxException(token, $"DH group '{token}' in '{text}' is not supported (supported: modp2048, modp3072, modp4096, ecp256, ecp384, ecp521, x25519)");
            case "modpnone":
                throw new ProposalSyntaxException(token, $"'modpnone' in '{text}': leave the DH group out of an ESP proposal for no PFS");

            // --- ESN (Transform Type 5) ---
            case "esn":
                if (protocol == ProposalProtocol.Ike) break;
                return Transform.EsnOf(EsnId.Esn);
            case "noesn":
                if (protocol == ProposalProtocol.Ike) break;
                return Transform.EsnOf(EsnId.NoEsn);
        }
        if (token is "esn" or "noesn")
            throw new ProposalSyntaxException(token, $"'esn'/'noesn' belong to ESP proposals, not to the IKE proposal '{text}'");
        if (TryGcm(token, out var gcm)) return gcm;
        throw new ProposalSyntaxException(token, $"unknown algorithm '{token}' in proposal '{text}'");
    }

    // aes{128,192,256}gcm{8,12,16} and the bit forms gcm{64,96,128}; "aes128gcm" = 16-byte ICV (strongSwan).
    private static bool TryGcm(string token, out Transform t)
    {
        t = default;
        foreach (int bits in new[] { 128, 192, 256 })
        {
            string prefix = "aes" + bits.ToString(System.Globalization.CultureInfo.InvariantCulture) + "gcm";
            if (!token.StartsWith(prefix, StringComparison.Ordinal)) continue;
            EncrId? id = token[prefix.Length..] switch
            {
                "" or "16" or "128" => EncrId.AesGcm16,
                "12" or "96" => EncrId.AesGcm12,
                "8" or "64" => EncrId.AesGcm8,
                _ => null,
            };
            if (id is null) return false;
            if (bits == 192)
                throw new ProposalSyntaxException(token, $"AES-GCM with a 192-bit key ('{token}') is not supported: FastPath's AES-GCM engines take 128- and 256-bit keys; use aes128gcm16 or aes256gcm16");
            t = Transform.Encr(id.Value, bits);
            return true;
        }
        return false;
    }
}
