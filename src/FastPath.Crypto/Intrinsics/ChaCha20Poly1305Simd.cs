using System;
using FastPath.Crypto.Internal;

namespace FastPath.Crypto.Intrinsics;

// PLACEHOLDER: replaced by the real implementation.
internal sealed class ChaCha20Poly1305Simd : AeadCipher
{
    public ChaCha20Poly1305Simd(ReadOnlySpan<byte> key) => ThrowHelper.PlatformNotSupported("ChaCha20Poly1305Simd is not implemented yet");
    public override int KeySize => 0;
    public override void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> associatedData) { }
    public override bool Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData) => false;
}
