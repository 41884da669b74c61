using System;
using System.Net;
using FastPath.Ike.Messages;

namespace FastPath.Ike.Engine;

// Error answers to messages the engine cannot process (RFC 7296 §2.5, §2.21.4, §1.5).
//
//   request for an IKE SA we do not know (not IKE_SA_INIT)
//       → ONE unprotected response: the request's SPIs, exchange type and message ID, R flag,
//         N(INVALID_IKE_SPI) (§1.5, §2.21.4: "MUST NOT be cryptographically protected");
//         a response for an unknown SA gets nothing ("MUST NOT respond"), so two engines can never
//         answer each other's answers.
//   IKE_SA_INIT request with an unknown payload type whose critical bit is set
//       → unprotected IKE_SA_INIT response N(UNSUPPORTED_CRITICAL_PAYLOAD, data = the type) (§2.5)
//   request inside SK (or reassembled SKF) of a known SA, authentic, but an inner payload unknown
//   and critical → protected response in the same exchange with that notify; the message ID is
//   consumed like any answered request (the response is cached for retransmissions)
//   responses with such payloads are rejected (counted) without an answer.
//   request with a higher major version than 2 (IKEv3+)
//       → unprotected response with the request's SPIs, exchange type and message ID, our version 2.0 in
//         the header, N(INVALID_MAJOR_VERSION) (§2.5 "MUST drop the message and SHOULD send an
//         unauthenticated notification ... containing the highest (closest) version number it
//         supports", §1.5); a lower major version (IKEv1 to our port) and any response are only dropped.
// Both unprotected answers cost a spoofer nothing to trigger, so they share one token bucket
// (IkeEngineOptions.UnprotectedRepliesPerSecond, burst of the same size); what is over the limit is
// counted and dropped.
public sealed partial class IkeEngine
{
    private double _replyTokens = -1;
    private DateTimeOffset _replyTokensAt;
    private long _invalidIkeSpiSent, _unsupportedCriticalSent, _unprotectedRepliesLimited, _invalidMajorVersionSent;

    /// <summary>Token bucket for unprotected error replies (the engine thread only).</summary>
    private bool TakeUnprotectedReplyToken()
    {
        double rate = _options.UnprotectedRepliesPerSecond;
        if (rate <= 0) return false;
        var now = Now;
        if (_replyTokens < 0)
        {
            _replyTokens = rate;
            _replyTokensAt = now;
        }
        double elapsed = (now - _replyTokensAt).TotalSeconds;
        if (elapsed > 0)
        {
            _replyTokens = Math.Min(rate, _replyTokens + elapsed * rate);
            _replyTokensAt = now;
        }
        if (_replyTokens < 1)
        {
            _unprotectedRepliesLimited++;
            return false;
        }
        _replyTokens -= 1;
        return true;
    }

    /// <summary>§2.21.4: a request for an IKE SA we do not have. Never for responses.</summary>
    private void ReplyInvalidIkeSpi(IkeHeader h, IPEndPoint local, IPEndPoint remote)
    {
        if (h.IsResponse || h.Exchange == ExchangeType.IkeSaInit || !TakeUnprotectedReplyToken()) return;
        // Our role is the opposite of the sender's; the SPIs, exchange and ID are the request's (§1.5).
        var flags = IkeFlags.Response | (h.IsInitiator ? IkeFlags.None : IkeFlags.Initiator);
        var header = IkeHeader.Create(h.InitiatorSpi, h.ResponderSpi, h.Exchange, flags, h.MessageId);
        SendUnprotected(IkeMessageBuilder.Build(header, [new NotifyPayload(NotifyType.InvalidIkeSpi, [])]), local, remote);
        _invalidIkeSpiSent++;
        LogErrorReply("INVALID_IKE_SPI", remote.ToString(), ExchangeName(h.Exchange), h.MessageId);
    }

    /// <summary>§2.5: an IKE_SA_INIT request carrying an unknown critical payload (the parse failed on it).</summary>
    private bool ReplyUnsupportedCriticalSaInit(byte[] bytes, ParseError error, IPEndPoint local, IPEndPoint remote)
    {
        if (error.Code != ParseErrorCode.UnsupportedCriticalPayload || !IkeHeader.TryRead(bytes, out var h, out _)) return false;
        if (h.Exchange != ExchangeType.IkeSaInit || h.IsResponse || !h.IsInitiator || h.ResponderSpi != 0 || h.MessageId != 0) return false;
        if (!TakeUnprotectedReplyToken()) return true;
        SendStateless(h, local, remote, new NotifyPayload(NotifyType.UnsupportedCriticalPayload, [error.PayloadType]));
        _unsupportedCriticalSent++;
        LogErrorReply("UNSUPPORTED_CRITICAL_PAYLOAD", remote.ToString(), "IKE_SA_INIT", 0);
        return true;
    }

    /// <summary>§2.5, §1.5: a request from a newer IKE (major version above 2). The header is read by hand: a future
    /// version keeps the SPIs, exchange type, flags and message ID where IKEv2 has them (§2.5 requires that much of it
    /// to be able to answer at all); anything shorter than an IKEv2 header is just dropped.</summary>
    private bool ReplyInvalidMajorVersion(byte[] bytes, ParseError error, IPEndPoint local, IPEndPoint remote)
    {
        if (error.Code != ParseErrorCode.InvalidMajorVersion || bytes.Length < IkeHeader.Size) return false;
        int major = bytes[17] >> 4;
        var flags = (IkeFlags)bytes[19];
        if (major <= 2 || flags.HasFlag(IkeFlags.Response)) return true; // IKEv1 / a response: dropped, counted as invalid
        if (!TakeUnprotectedReplyToken()) return true;
        ulong spiI = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
        ulong spiR = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(8));
        var exchange = (ExchangeType)bytes[18];
        uint messageId = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(20));
        var header = IkeHeader.Create(spiI, spiR, exchange, IkeFlags.Response | (flags.HasFlag(IkeFlags.Initiator) ? IkeFlags.None : IkeFlags.Initiator), messageId);
        SendUnprotected(IkeMessageBuilder.Build(header, [new NotifyPayload(NotifyType.InvalidMajorVersion, [])]), local, remote);
        _invalidMajorVersionSent++;
        LogErrorReply("INVALID_MAJOR_VERSION", remote.ToString(), ExchangeName(exchange), messageId);
        return true;
    }

    /// <summary>§2.5 inside SK: the authentic request of a known SA named a critical payload type we do not know.</summary>
    private void ReplyUnsupportedCritical(IkeSa sa, IkeHeader h, byte payloadType)
    {
        SendResponse(sa, h.Exchange, h.MessageId, [new NotifyPayload(NotifyType.UnsupportedCriticalPayload, [payloadType])]);
        _unsupportedCriticalSent++;
        LogErrorReply("UNSUPPORTED_CRITICAL_PAYLOAD", sa.Remote.ToString(), ExchangeName(h.Exchange), h.MessageId);
    }

    private void SendUnprotected(byte[] message, IPEndPoint local, IPEndPoint remote)
    {
        _messagesOut++;
        try { _transport.Send(message, local, remote); }
#pragma warning disable CA1031 // a lost datagram
        catch (Exception e) { LogSendFailed(remote.ToString(), e.Message); }
#pragma warning restore CA1031
    }

    /// <summary>Error replies sent and suppressed, for tests and metrics.</summary>
    internal (long InvalidIkeSpi, long UnsupportedCritical, long Limited) ErrorReplyCounters =>
        Invoke(() => (_invalidIkeSpiSent, _unsupportedCriticalSent, _unprotectedRepliesLimited));

    /// <summary>INVALID_MAJOR_VERSION answers sent (§2.5), for tests and metrics.</summary>
    internal long InvalidMajorVersionSent => Invoke(() => _invalidMajorVersionSent);
}
