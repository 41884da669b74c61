using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FastPath.Ike.Crypto;
using FastPath.Ike.Engine;
using FastPath.Ike.Messages;

using AuthMethod = FastPath.Ike.Messages.AuthMethod;
using CryptoAuthMethod = FastPath.Ike.Crypto.AuthMethod;

namespace FastPath.Ike.Exchanges;

// The AUTH part of IKE_AUTH (RFC 7296 §2.15, §3.8; RFC 7427) for the engine:
//   Sign    our AUTH payload: PSK (method 2) or, for a private key, RFC 7427 Digital Signature
//           (method 14) when the peer announced SIGNATURE_HASH_ALGORITHMS with a hash our key can
//           use, else the classic method of the key type (1 = RSA/SHA-1, 9/10/11 = ECDSA, §3.8 and
//           RFC 4754); Ed25519 only exists as method 14 (RFC 8420).
//   Verify  the peer's AUTH: method 2 against the PSK; signature methods against the raw public key
//           configured for the peer, or the end-entity certificate from its CERT payloads after it
//           validates against the trusted CAs (CertificateValidator) and names the peer's identity
//           (ID_DER_ASN1_DN = subject; FQDN / RFC822 / IP = a subjectAltName entry).
//   CertReq our CERTREQ: SHA-1 of each trusted CA's SubjectPublicKeyInfo (§3.7).
// Hash algorithm numbers of SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4, IANA): 1 SHA1, 2 SHA2-256,
// 3 SHA2-384, 4 SHA2-512, 5 Identity (EdDSA).
/// <summary>AUTH payload construction and verification.</summary>
public static class AuthPayloads
{
    public const ushort HashSha1 = 1, HashSha256 = 2, HashSha384 = 3, HashSha512 = 4, HashIdentity = 5;

    /// <summary>What we announce: SHA2-256/384/512 and Identity.</summary>
    public static NotifyPayload SignatureHashAlgorithms()
    {
        ushort[] ids = [HashSha256, HashSha384, HashSha512, HashIdentity];
        var b = new byte[ids.Length * 2];
        for (int i = 0; i < ids.Length; i++) { b[2 * i] = (byte)(ids[i] >> 8); b[2 * i + 1] = (byte)ids[i]; }
        return new NotifyPayload(NotifyType.SignatureHashAlgorithms, b);
    }

    public static List<ushort> ParseHashAlgorithms(byte[] data)
    {
        var l = new List<ushort>();
        for (int i = 0; i + 1 < data.Length; i += 2) l.Add((ushort)(data[i] << 8 | data[i + 1]));
        return l;
    }

    /// <summary>The body of an ID payload after the generic header (RestOfIDPayload of §2.15).</summary>
    public static byte[] IdBody(IdPayload id)
    {
        var b = new byte[id.BodyLength];
        id.WriteBody(b);
        return b;
    }

    private enum KeyKind { Rsa, Ecdsa, Ed25519 }

    private static KeyKind KindOf(IkePrivateKey key, out int ecBits)
    {
        using var pub = key.PublicKey;
        ecBits = pub.EcdsaKeyBits;
        if (ecBits > 0) return KeyKind.Ecdsa;
        try
        {
            key.Sign(SignatureScheme.Ed25519, [0], ecdsaDer: false);
            return KeyKind.Ed25519;
        }
        catch (InvalidOperationException)
        {
            return KeyKind.Rsa;
        }
    }

    /// <summary>Our AUTH payload over <paramref name="signedOctets"/>.</summary>
    public static AuthPayload Sign(IkeConnection c, IkeSaKeys keys, IReadOnlyList<ushort> peerHashes, byte[] signedOctets)
    {
        if (c.LocalAuth == IkeAuthKind.Psk)
        {
            byte[] psk = c.LocalCredentials.Psk ?? c.RemoteCredentials.Psk ?? throw new InvalidOperationException($"\"{c.Name}\": no PSK for authby=secret");
            return new AuthPayload(AuthMethod.SharedKeyMic, IkeAuth.PskAuth(keys.Prf, psk, signedOctets));
        }
        var key = c.LocalCredentials.PrivateKey ?? throw new InvalidOperationException($"\"{c.Name}\": no private key for authby=pubkey");
        var kind = KindOf(key, out int bits);
        bool has(ushort h) => peerHashes.Contains(h);
        switch (kind)
        {
            case KeyKind.Ed25519:
                return new AuthPayload(AuthMethod.DigitalSignature, IkeAuth.SignDigitalSignature(key, SignatureScheme.Ed25519, signedOctets));
            case KeyKind.Ecdsa:
                {
                    var (scheme, hash, classic) = bits switch
                    {
                        256 => (SignatureScheme.EcdsaSha256, HashSha256, AuthMethod.EcdsaSha256P256),
                        384 => (SignatureScheme.EcdsaSha384, HashSha384, AuthMethod.EcdsaSha384P384),
                        _ => (SignatureScheme.EcdsaSha512, HashSha512, AuthMethod.EcdsaSha512P521),
                    };
                    return has(hash)
                        ? new AuthPayload(AuthMethod.DigitalSignature, IkeAuth.SignDigitalSignature(key, scheme, signedOctets))
                        : new AuthPayload(classic, IkeAuth.SignClassic(key, (CryptoAuthMethod)(byte)classic, signedOctets));
                }
            default:
                {
                    if (has(HashSha256)) return new AuthPayload(AuthMethod.DigitalSignature, IkeAuth.SignDigitalSignature(key, SignatureScheme.RsaPkcs1Sha256, signedOctets));
                    if (has(HashSha384)) return new AuthPayload(AuthMethod.DigitalSignature, IkeAuth.SignDigitalSignature(key, SignatureScheme.RsaPkcs1Sha384, signedOctets));
                    if (has(HashSha512)) return new AuthPayload(AuthMethod.DigitalSignature, IkeAuth.SignDigitalSignature(key, SignatureScheme.RsaPkcs1Sha512, signedOctets));
                    return new AuthPayload(AuthMethod.RsaDigitalSignature, IkeAuth.SignClassic(key, CryptoAuthMethod.RsaSignature, signedOctets));
                }
        }
    }

    /// <summary>The CERT payloads we send (end entity first, then intermediates), none without a certificate.</summary>
    public static List<IkePayload> Certs(IkeConnection c)
    {
        var l = new List<IkePayload>();
        if (c.LocalAuth != IkeAuthKind.PublicKey || c.LocalCredentials.Certificate is null) return l;
        l.Add(new CertPayload(CertEncoding.X509Signature, c.LocalCredentials.Certificate.RawData));
        if (c.LocalCredentials.Intermediates is not null)
            foreach (var i in c.LocalCredentials.Intermediates) l.Add(new CertPayload(CertEncoding.X509Signature, i.RawData));
        return l;
    }

    /// <summary>Our CERTREQ when the peer authenticates with a certificate (empty authority list without trusted CAs).</summary>
    public static CertReqPayload? CertReq(IkeConnection c)
    {
        if (c.RemoteAuth != IkeAuthKind.PublicKey) return null;
        var cas = c.RemoteCredentials.TrustedCas;
        if (cas is null || cas.Count == 0) return c.RemoteCredentials.PublicKey is null ? new CertReqPayload(CertEncoding.X509Signature, []) : null;
        var b = new byte[20 * cas.Count];
        for (int i = 0; i < cas.Count; i++)
            SHA1.HashData(cas[i].PublicKey.ExportSubjectPublicKeyInfo()).CopyTo(b, 20 * i);
        return new CertReqPayload(CertEncoding.X509Signature, b);
    }

    /// <summary>Checks the peer's AUTH. <paramref name="inner"/> holds its CERT payloads; <paramref name="error"/> says why not.</summary>
    public static bool Verify(IkeConnection c, IkeSaKeys keys, AuthPayload auth, IkeIdentity peerId, IReadOnlyList<IkePayload> inner,
        byte[] signedOctets, DateTime now, out string error)
    {
        if (c.RemoteAuth == IkeAuthKind.Psk)
        {
            if (auth.Method != AuthMethod.SharedKeyMic) { error = $"peer used AUTH method {IkeIana.Name((CryptoAuthMethod)(byte)auth.Method)}, PSK expected"; return false; }
            byte[]? psk = c.RemoteCredentials.Psk ?? c.LocalCredentials.Psk;
            if (psk is null) { error = "no PSK configured for the peer"; return false; }
            if (!IkeAuth.VerifyPskAuth(keys.Prf, psk, signedOctets, auth.Data)) { error = "PSK AUTH value does not match (wrong pre-shared key?)"; return false; }
            error = "";
            return true;
        }
        if (auth.Method is AuthMethod.SharedKeyMic or AuthMethod.Null or AuthMethod.GenericSecurePassword or AuthMethod.DssDigitalSignature)
        {
            error = $"peer used AUTH method {IkeIana.Name((CryptoAuthMethod)(byte)auth.Method)}, a signature expected";
            return false;
        }
        IkePublicKey? key = null;
        bool dispose = false;
        try
        {
            if (c.RemoteCredentials.PublicKey is not null && c.RemoteCredentials.TrustedCas is null)
            {
                key = c.RemoteCredentials.PublicKey;
            }
            else
            {
                var certs = inner.OfType<CertPayload>().Where(p => p.Encoding == CertEncoding.X509Signature).ToList();
                if (certs.Count == 0)
                {
                    if (c.RemoteCredentials.PublicKey is not null) key = c.RemoteCredentials.PublicKey;
                    else { error = "peer sent no certificate"; return false; }
                }
                else
                {
                    X509Certificate2 ee;
                    var chain = new X509Certificate2Collection();
                    try
                    {
                        ee = X509CertificateLoader.LoadCertificate(certs[0].Data);
                        foreach (var x in certs.Skip(1)) chain.Add(X509CertificateLoader.LoadCertificate(x.Data));
                    }
                    catch (CryptographicException e) { error = "peer certificate does not parse: " + e.Message; return false; }
                    using (ee)
                    {
                        if (c.RemoteCredentials.TrustedCas is null || c.RemoteCredentials.TrustedCas.Count == 0) { error = "no trusted CA configured for the peer's certificate"; return false; }
                        if (!CertificateValidator.Validate(ee, c.RemoteCredentials.TrustedCas, chain, now, out error)) return false;
                        if (!CertificateNames(ee, peerId)) { error = $"certificate '{ee.Subject}' does not name the peer identity {peerId}"; return false; }
                        try { key = IkePublicKey.FromCertificate(ee); dispose = true; }
                        catch (CryptographicException e) { error = "certificate key: " + e.Message; return false; }
                    }
                }
            }
            return auth.Method == AuthMethod.DigitalSignature
                ? IkeAuth.VerifyDigitalSignature(key, auth.Data, signedOctets, out error)
                : IkeAuth.VerifyClassic(key, (CryptoAuthMethod)(byte)auth.Method, auth.Data, signedOctets, out error);
        }
        finally
        {
            if (dispose) key?.Dispose();
        }
    }

    /// <summary>True when the certificate names <paramref name="id"/>: subject DN, or a subjectAltName DNS / e-mail / IP entry.</summary>
    public static bool CertificateNames(X509Certificate2 cert, IkeIdentity id)
    {
        switch (id.Type)
        {
            case IdType.DerAsn1Dn:
                return cert.SubjectName.RawData.AsSpan().SequenceEqual(id.Data)
                    || string.Equals(cert.SubjectName.Name, new X500DistinguishedName(id.Data).Name, StringComparison.OrdinalIgnoreCase);
            case IdType.Fqdn or IdType.Rfc822Addr or IdType.Ipv4Addr or IdType.Ipv6Addr:
                foreach (var ext in cert.Extensions)
                {
                    if (ext is not X509SubjectAlternativeNameExtension san) continue;
                    if (id.Type == IdType.Fqdn)
                    {
                        string name = System.Text.Encoding.ASCII.GetString(id.Data);
                        if (san.EnumerateDnsNames().Any(d => string.Equals(d, name, StringComparison.OrdinalIgnoreCase))) return true;
                    }
                    else if (id.Type == IdType.Rfc822Addr)
                    {
                        // .NET has no e-mail enumerator: match the IA5String bytes inside the extension.
                        if (ext.RawData.AsSpan().IndexOf(id.Data) >= 0) return true;
                    }
                    else
                    {
                        var ip = new IPAddress(id.Data);
                        if (san.EnumerateIPAddresses().Any(a => a.Equals(ip))) return true;
                    }
                }
                return false;
            case IdType.KeyId:
                return false;
            default:
                return false;
        }
    }
}
