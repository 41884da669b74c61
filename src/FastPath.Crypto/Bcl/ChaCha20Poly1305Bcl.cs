using System;
using System.Security.Cryptography;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Bcl;

/// <summary>ChaCha20-Poly1305 (RFC 8439) on System.Security.Cryptography (OpenSSL). 16-byte tags only,
/// as RFC 7634 requires for ESP.</summary>
internal sealed class ChaCha20Poly1305Bcl : AeadCipher
{
    private readonly System.Security.Cryptography.ChaCha20Poly1305 _aead;

    public ChaCha20Poly1305Bcl(ReadOnlySpan<byte> key)
    {
        if (key.Length != 32) ThrowHelper.KeySize(key.Length, "32");
        if (!System.Security.Cryptography.ChaCha20Poly1305.IsSupported) ThrowHelper.PlatformNotSupported("the BCL has no ChaCha20-Poly1305 here");
        _aead = new System.Security.Cryptography.ChaCha20Poly1305(key);
    }

    public override int KeySize => 32;
    public override int MinTagSize => 16;

    public override void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext,
        Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, plaintext.Length, ciphertext.Length, tag.Length);
        _aead.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
    }

    public override bool Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag,
        Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        CheckArguments(nonce, ciphertext.Length, plaintext.Length, tag.Length);
        try
        {
            _aead.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            plaintext.Clear();
            return false;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _aead.Dispose();
    }
}
