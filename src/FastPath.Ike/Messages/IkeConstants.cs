namespace FastPath.Ike.Messages;

// IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" numbers used on the wire (RFC 7296 §3,
// RFC 7383, RFC 5723, RFC 7619, ...). Only numbers; meaning lives with the code that uses them.

/// <summary>Exchange types (RFC 7296 §3.1).</summary>
public enum ExchangeType : byte
{
    IkeSaInit = 34,
    IkeAuth = 35,
    CreateChildSa = 36,
    Informational = 37,
    IkeSessionResume = 38, // RFC 5723
    GsaAuth = 39,
    GsaRegistration = 40,
    GsaRekey = 41,
    IkeIntermediate = 43, // RFC 9242
    IkeFollowupKe = 44, // RFC 9370
}

/// <summary>Flags of the IKE header (RFC 7296 §3.1): bits 3 (I), 4 (V), 5 (R); the others are reserved.</summary>
[System.Flags]
public enum IkeFlags : byte
{
    None = 0,
    Initiator = 0x08,
    Version = 0x10,
    Response = 0x20,
}

/// <summary>Payload types (RFC 7296 §3.2, RFC 7383 §2.5).</summary>
public enum PayloadType : byte
{
    None = 0,
    SecurityAssociation = 33,
    KeyExchange = 34,
    IdInitiator = 35,
    IdResponder = 36,
    Certificate = 37,
    CertificateRequest = 38,
    Authentication = 39,
    Nonce = 40,
    Notify = 41,
    Delete = 42,
    VendorId = 43,
    TsInitiator = 44,
    TsResponder = 45,
    Encrypted = 46,
    Configuration = 47,
    Eap = 48,
    EncryptedFragment = 53,
}

/// <summary>Security protocol identifiers (RFC 7296 §3.3.1).</summary>
public enum ProtocolId : byte
{
    None = 0,
    Ike = 1,
    Ah = 2,
    Esp = 3,
}

/// <summary>Transform types (RFC 7296 §3.3.2; RFC 9370 additional key exchanges 6..12).</summary>
public enum TransformType : byte
{
    Encryption = 1,
    Prf = 2,
    Integrity = 3,
    KeyExchange = 4, // "Diffie-Hellman group" in RFC 7296
    ExtendedSequenceNumbers = 5,
}

/// <summary>Identification types (RFC 7296 §3.5, RFC 7619 ID_NULL).</summary>
public enum IdType : byte
{
    Ipv4Addr = 1,
    Fqdn = 2,
    Rfc822Addr = 3,
    Ipv6Addr = 5,
    DerAsn1Dn = 9,
    DerAsn1Gn = 10,
    KeyId = 11,
    FcName = 12,
    Null = 13,
}

/// <summary>Certificate encodings (RFC 7296 §3.6).</summary>
public enum CertEncoding : byte
{
    Pkcs7X509 = 1,
    Pgp = 2,
    DnsSignedKey = 3,
    X509Signature = 4,
    Kerberos = 6,
    Crl = 7,
    Arl = 8,
    SpkiCert = 9,
    X509Attribute = 10,
    RawRsaKey = 11, // deprecated by RFC 7670
    HashUrlX509Cert = 12,
    HashUrlX509Bundle = 13,
    OcspContent = 14, // RFC 4806
    RawPublicKey = 15, // RFC 7670
}

/// <summary>Authentication methods (RFC 7296 §3.8, RFC 7427, RFC 4754).</summary>
public enum AuthMethod : byte
{
    RsaDigitalSignature = 1,
    SharedKeyMic = 2,
    DssDigitalSignature = 3,
    EcdsaSha256P256 = 9,
    EcdsaSha384P384 = 10,
    EcdsaSha512P521 = 11,
    GenericSecurePassword = 12,
    Null = 13,
    DigitalSignature = 14,
}

/// <summary>Traffic selector types (RFC 7296 §3.13.1).</summary>
public enum TsType : byte
{
    Ipv4AddrRange = 7,
    Ipv6AddrRange = 8,
}

/// <summary>Configuration payload types (RFC 7296 §3.15).</summary>
public enum CfgType : byte
{
    Request = 1,
    Reply = 2,
    Set = 3,
    Ack = 4,
}

/// <summary>Configuration attribute types (RFC 7296 §3.15.1 and later IANA entries).</summary>
public enum CfgAttributeType : ushort
{
    InternalIp4Address = 1,
    InternalIp4Netmask = 2,
    InternalIp4Dns = 3,
    InternalIp4Nbns = 4,
    InternalIp4Dhcp = 6,
    ApplicationVersion = 7,
    InternalIp6Address = 8,
    InternalIp6Dns = 10,
    InternalIp6Dhcp = 12,
    InternalIp4Subnet = 13,
    SupportedAttributes = 14,
    InternalIp6Subnet = 15,
    Mip6HomePrefix = 16,
    InternalIp6Link = 17,
    InternalIp6Prefix = 18,
    HomeAgentAddress = 19,
    P_CSCF_Ip4Address = 20,
    P_CSCF_Ip6Address = 21,
    InternalDnsDomain = 25,
    InternalDnssecTa = 26,
}

/// <summary>Notify message types (RFC 7296 §3.10.1 and the IANA registry; the set strongSwan 5.9
/// sends or understands). Error types are below 16384, status types from 16384.</summary>
public enum NotifyType : ushort
{
    // Errors.
    UnsupportedCriticalPayload = 1,
    InvalidIkeSpi = 4,
    InvalidMajorVersion = 5,
    InvalidSyntax = 7,
    InvalidMessageId = 9,
    InvalidSpi = 11,
    NoProposalChosen = 14,
    InvalidKePayload = 17,
    AuthenticationFailed = 24,
    SinglePairRequired = 34,
    NoAdditionalSas = 35,
    InternalAddressFailure = 36,
    FailedCpRequired = 37,
    TsUnacceptable = 38,
    InvalidSelectors = 39,
    UnacceptableAddresses = 40,
    UnexpectedNatDetected = 41,
    UseAssignedHoA = 42,
    TemporaryFailure = 43,
    ChildSaNotFound = 44,
    InvalidGroupId = 45,
    AuthorizationFailed = 46,
    StateNotFound = 47, // RFC 9242 era (IKE_INTERMEDIATE)
    // Status.
    InitialContact = 16384,
    SetWindowSize = 16385,
    AdditionalTsPossible = 16386,
    IpcompSupported = 16387,
    NatDetectionSourceIp = 16388,
    NatDetectionDestinationIp = 16389,
    Cookie = 16390,
    UseTransportMode = 16391,
    HttpCertLookupSupported = 16392,
    RekeySa = 16393,
    EspTfcPaddingNotSupported = 16394,
    NonFirstFragmentsAlso = 16395,
    MobikeSupported = 16396,
    AdditionalIp4Address = 16397,
    AdditionalIp6Address = 16398,
    NoAdditionalAddresses = 16399,
    UpdateSaAddresses = 16400,
    Cookie2 = 16401,
    NoNatsAllowed = 16402,
    AuthLifetime = 16403,
    MultipleAuthSupported = 16404,
    AnotherAuthFollows = 16405,
    RedirectSupported = 16406,
    Redirect = 16407,
    RedirectedFrom = 16408,
    TicketLtOpaque = 16409,
    TicketRequest = 16410,
    TicketAck = 16411,
    TicketNack = 16412,
    TicketOpaque = 16413,
    LinkId = 16414,
    UseWespMode = 16415,
    RohcSupported = 16416,
    EapOnlyAuthentication = 16417,
    ChildlessIkev2Supported = 16418,
    QuickCrashDetection = 16419,
    Ikev2MessageIdSyncSupported = 16420,
    IpsecReplayCounterSyncSupported = 16421,
    Ikev2MessageIdSync = 16422,
    IpsecReplayCounterSync = 16423,
    SecurePasswordMethods = 16424,
    PskPersist = 16425,
    PskConfirm = 16426,
    ErxSupported = 16427,
    IfomCapability = 16428,
    SenderRequestId = 16429,
    Ikev2FragmentationSupported = 16430,
    SignatureHashAlgorithms = 16431,
    CloneIkeSaSupported = 16432,
    CloneIkeSa = 16433,
    Puzzle = 16434,
    UsePpk = 16435,
    PpkIdentity = 16436,
    NoPpkAuth = 16437,
    IntermediateExchangeSupported = 16438,
    Ip4Allowed = 16439,
    Ip6Allowed = 16440,
    AdditionalKeyExchange = 16441,
    UseAggFrag = 16442,
}
