namespace FastPath.Ike.Messages;

// The error model of the message layer: bad input never throws. Every parse entry point returns a
// result that is either a value or a ParseError naming what was wrong and where (byte offset from
// the start of the IKE header, or of the decrypted inner payloads for errors inside SK). The
// exchange layer maps codes to its reaction: InvalidMajorVersion -> INVALID_MAJOR_VERSION notify
// (RFC 7296 §2.5), UnsupportedCriticalPayload -> UNSUPPORTED_CRITICAL_PAYLOAD with the type
// (§2.5, §3.2), everything else -> drop (or INVALID_SYNTAX once the SA is authenticated, §3.10.1).

/// <summary>Why a message (or part of it) was rejected.</summary>
public enum ParseErrorCode
{
    None = 0,
    /// <summary>Fewer bytes than the structure needs (header, payload header, fixed fields).</summary>
    Truncated,
    /// <summary>A length field disagrees with its container (too small, too large, leftover bytes).</summary>
    BadLength,
    /// <summary>Bytes after the last payload / the message length, or inside a payload after its items.</summary>
    TrailingData,
    /// <summary>IKE major version is not 2 (RFC 7296 §2.5: answer INVALID_MAJOR_VERSION).</summary>
    InvalidMajorVersion,
    /// <summary>Unknown payload type with the critical bit set (answer UNSUPPORTED_CRITICAL_PAYLOAD).</summary>
    UnsupportedCriticalPayload,
    /// <summary>A field value outside what the RFC allows (sizes, counts, ordering, enum values).</summary>
    InvalidValue,
    /// <summary>Payloads in a place where they are not allowed (e.g. anything after SK, SK inside SK).</summary>
    BadPayloadChain,
    /// <summary>The Encrypted payload did not verify or decrypt (ICV, padding).</summary>
    DecryptFailed,
}

/// <summary>A parse failure: what, where (byte offset), and a human-readable reason. For
/// <see cref="ParseErrorCode.UnsupportedCriticalPayload"/>, <see cref="PayloadType"/> is the offending type.</summary>
public readonly record struct ParseError(ParseErrorCode Code, int Offset, string Reason, byte PayloadType = 0)
{
    public override string ToString() => $"{Code} at {Offset}: {Reason}";
}

/// <summary>Either a value or a <see cref="ParseError"/>.</summary>
public readonly struct ParseResult<T> where T : class
{
    private ParseResult(T? value, ParseError error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }
    public ParseError Error { get; }
    public bool Ok => Value is not null;

    public static ParseResult<T> Success(T value) => new(value, default);
    public static ParseResult<T> Fail(ParseError error) => new(null, error);
    public static ParseResult<T> Fail(ParseErrorCode code, int offset, string reason, byte payloadType = 0) =>
        new(null, new ParseError(code, offset, reason, payloadType));
}
