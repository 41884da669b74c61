using System;
using FastPath.Ike.Messages;

namespace FastPath.Ike.Exchanges;

// Exchange collisions (RFC 7296 §2.8.1, §2.8.2, §2.25), as pure functions.
//
// Simultaneous rekey of the same CHILD_SA (§2.8.1) or of the IKE SA (§2.8.2): both exchanges complete,
// so two new SAs exist. Each was created with two nonces (its request's Ni and its response's Nr).
// "The SA created with the lowest of the four nonces" is redundant and is deleted by the endpoint
// that created it, i.e. the initiator of the exchange that made it; the other one survives and
// replaces the old SA. Nonces compare as octet strings: byte by byte, unsigned, and a nonce that is
// a prefix of a longer one is the lower (memcmp over the common length, then length; strongSwan's
// chunk_compare). Both ends see the same four nonces with the roles swapped, so they always agree.
//
// Admission of a request while one of our own is outstanding (§2.25.1, §2.25.2):
//   peer rekeys a CHILD_SA we are closing            -> TEMPORARY_FAILURE
//   peer rekeys a CHILD_SA we are rekeying           -> answer normally (then Resolve)
//   peer rekeys an unknown CHILD_SA                  -> CHILD_SA_NOT_FOUND (ProcessRequest)
//   peer creates/rekeys a CHILD_SA while we rekey or close the IKE SA -> TEMPORARY_FAILURE
//   peer rekeys the IKE SA while we create/rekey/close a CHILD_SA     -> TEMPORARY_FAILURE
//   peer rekeys the IKE SA while we close it                          -> TEMPORARY_FAILURE
//   peer rekeys the IKE SA while we rekey it                          -> answer normally (then Resolve)

/// <summary>Which of two simultaneously created SAs survives (§2.8.1).</summary>
/// <param name="OursSurvives">True: the SA of our own exchange (our request, the peer's response) survives;
/// false: the one of the peer's exchange (its request, our response).</param>
/// <param name="LocalMustDelete">True when we created the loser (ours lost) and must send its Delete; when the peer's
/// SA loses, the peer deletes it and we wait for that Delete.</param>
public readonly record struct RekeyCollisionResult(bool OursSurvives, bool LocalMustDelete)
{
    public bool PeersSurvives => !OursSurvives;
}

/// <summary>Collision rules of RFC 7296 §2.8.1/§2.8.2/§2.25.</summary>
public static class RekeyCollision
{
    /// <summary>Compares nonces as octet strings (unsigned bytes, then length).</summary>
    public static int CompareNonces(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => a.SequenceCompareTo(b);

    /// <summary>Resolves a simultaneous rekey. <paramref name="ourRequestNonce"/>/<paramref name="peerResponseNonce"/> made our
    /// SA; <paramref name="peerRequestNonce"/>/<paramref name="ourResponseNonce"/> made the peer's. The SA holding the lowest of
    /// the four loses; it is deleted by its creator. Equal lowest nonces in both pairs (a broken RNG) resolve for the
    /// exchange whose other nonce is lower to lose, and if all compare equal the IKE SA must be torn down (throws).</summary>
    public static RekeyCollisionResult Resolve(ReadOnlySpan<byte> ourRequestNonce, ReadOnlySpan<byte> peerResponseNonce,
        ReadOnlySpan<byte> peerRequestNonce, ReadOnlySpan<byte> ourResponseNonce)
    {
        ReadOnlySpan<byte> oursMin = Min(ourRequestNonce, peerResponseNonce), oursMax = Max(ourRequestNonce, peerResponseNonce);
        ReadOnlySpan<byte> theirsMin = Min(peerRequestNonce, ourResponseNonce), theirsMax = Max(peerRequestNonce, ourResponseNonce);
        int c = CompareNonces(oursMin, theirsMin);
        if (c == 0) c = CompareNonces(oursMax, theirsMax);
        if (c == 0) throw new InvalidOperationException("both rekeys used the same nonces: the RNG is broken, close the IKE SA");
        bool oursLoses = c < 0;
        return new RekeyCollisionResult(OursSurvives: !oursLoses, LocalMustDelete: oursLoses);
    }

    private static ReadOnlySpan<byte> Min(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => CompareNonces(a, b) <= 0 ? a : b;
    private static ReadOnlySpan<byte> Max(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => CompareNonces(a, b) <= 0 ? b : a;

    /// <summary>Whether a CREATE_CHILD_SA request of <paramref name="kind"/> may proceed given our own exchanges in flight
    /// (§2.25); the error to answer, or null. <paramref name="rekeyedOutboundSpi"/> is REKEY_SA's SPI (child rekeys).</summary>
    public static NotifyType? Admit(CreateChildSaKind kind, CreateChildSaResponderState state, uint rekeyedOutboundSpi)
    {
        ArgumentNullException.ThrowIfNull(state);
        switch (kind)
        {
            case CreateChildSaKind.IkeRekey:
                // A simultaneous IKE rekey is answered (§2.8.2); a child exchange or an IKE delete of ours is not compatible.
                if (state.ChildExchangeInProgress || state.IkeDeleteInProgress) return NotifyType.TemporaryFailure;
                return null;
            case CreateChildSaKind.ChildRekey:
                if (state.IkeRekeyInProgress || state.IkeDeleteInProgress) return NotifyType.TemporaryFailure;
                if (state.IsChildClosing(rekeyedOutboundSpi)) return NotifyType.TemporaryFailure;
                return null; // rekeying the same child ourselves: answer as usual, Resolve afterwards (§2.25.1)
            default:
                if (state.IkeRekeyInProgress || state.IkeDeleteInProgress) return NotifyType.TemporaryFailure;
                return null;
        }
    }
}
