using System;

namespace FastPath.Ike;

// The seam between the message layer (Messages/: builds and parses the Encrypted payload, RFC 7296
// §3.14, and Encrypted Fragment payloads, RFC 7383 §2.5) and the IKE SA crypto (Crypto/: the
// negotiated encryption + integrity, or the AEAD of RFC 5282). The message layer knows where the
// payload sits in the message; the cipher knows IV, padding, ICV and keys.
//
// Layout of the payload body that Seal writes and Open reads (after the 4-byte generic payload
// header): IV | ciphertext(inner payloads | padding | pad length) | ICV.
// - CBC + HMAC (RFC 7296 §3.14): the ICV is the truncated HMAC over the whole message from the IKE
//   header up to the ICV (associated data = everything before the IV, IV and ciphertext included).
// - AEAD (RFC 5282 §5.1): 8-byte explicit IV; the associated data is the IKE header through the end
//   of the Encrypted payload header (for fragments: the Encrypted Fragment payload header).

/// <summary>Protection of Encrypted (SK) payloads for one direction of one IKE SA.</summary>
public interface ISkCipher
{
    /// <summary>Bytes of IV in front of the ciphertext.</summary>
    int IvLength { get; }

    /// <summary>Bytes of ICV after the ciphertext.</summary>
    int IcvLength { get; }

    /// <summary>Length of the payload body (IV + padded ciphertext + ICV) that <see cref="Seal"/> writes
    /// for <paramref name="plaintextLength"/> bytes of inner payloads.</summary>
    int SealedLength(int plaintextLength);

    /// <summary>Encrypts <paramref name="plaintext"/> (the inner payloads) into <paramref name="body"/>
    /// (exactly <see cref="SealedLength"/> bytes). <paramref name="message"/> is the whole message being
    /// built, with its IKE header and the Encrypted payload header already final (lengths included);
    /// <paramref name="bodyOffset"/> is where <paramref name="body"/> starts inside it. The integrity
    /// (or AEAD tag) covers what RFC 7296 §3.14 / RFC 5282 §5.1 say.</summary>
    void Seal(Span<byte> message, int bodyOffset, ReadOnlySpan<byte> plaintext);

    /// <summary>Verifies and decrypts the payload body at <paramref name="bodyOffset"/> of length
    /// <paramref name="bodyLength"/> inside <paramref name="message"/> (the message as received).
    /// On success writes the inner payloads (padding removed) to <paramref name="plaintext"/> and returns
    /// their length; returns -1 when the ICV does not verify or the padding/lengths are invalid.
    /// Never throws on bad input.</summary>
    int Open(ReadOnlySpan<byte> message, int bodyOffset, int bodyLength, Span<byte> plaintext);
}
