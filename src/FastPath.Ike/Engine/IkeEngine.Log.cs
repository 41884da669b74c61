using System;
using Microsoft.Extensions.Logging;

namespace FastPath.Ike.Engine;

// Log lines in the classic pluto shape ("NAME" #SERIAL: what happened), one [LoggerMessage] per
// event so the hot ones cost no formatting when the level is off. Keys appear only with
// IkeEngineOptions.LogSensitive, at Debug.
public sealed partial class IkeEngine
{
    [LoggerMessage(1, LogLevel.Information, "\"{Connection}\" #{Serial}: initiating IKEv2 connection (keying try {Try})")]
    private partial void LogInitiating(string connection, int serial, int @try);

    [LoggerMessage(2, LogLevel.Information, "\"{Connection}\" #{Serial}: IKE SA established {{auth={Auth} cipher={Cipher} integ={Integ} prf={Prf} group={Group}}} peer {PeerId} at {Remote}")]
    private partial void LogIkeEstablished(string connection, int serial, string auth, string cipher, string integ, string prf, string group, string peerId, string remote);

    [LoggerMessage(3, LogLevel.Information, "\"{Connection}\" #{Serial}: IPsec SA established {Mode} mode {{{Esp}=>0x{Outbound:x8} <0x{Inbound:x8} xfrm={Xfrm}}} {LocalTs} === {RemoteTs}")]
    private partial void LogChildEstablished(string connection, int serial, string mode, string esp, uint outbound, uint inbound, string xfrm, string localTs, string remoteTs);

    [LoggerMessage(4, LogLevel.Information, "\"{Connection}\" #{Serial}: responding to IKE_SA_INIT from {Remote} with {Suite}")]
    private partial void LogResponding(string connection, int serial, string remote, string suite);

    [LoggerMessage(5, LogLevel.Information, "\"{Connection}\" #{Serial}: sending IKE_AUTH as {Id} ({Method})")]
    private partial void LogAuthenticating(string connection, int serial, string id, string method);

    [LoggerMessage(6, LogLevel.Warning, "\"{Connection}\" #{Serial}: AUTHENTICATION_FAILED for peer {PeerId}: {Reason}")]
    private partial void LogAuthFailed(string connection, int serial, string peerId, string reason);

    [LoggerMessage(7, LogLevel.Warning, "\"{Connection}\" #{Serial}: peer sent AUTHENTICATION_FAILED")]
    private partial void LogAuthFailedByPeer(string connection, int serial);

    [LoggerMessage(8, LogLevel.Warning, "\"{Connection}\" #{Serial}: CHILD_SA not established, IKE SA kept: {Reason}")]
    private partial void LogChildFailed(string connection, int serial, string reason);

    [LoggerMessage(9, LogLevel.Warning, "\"{Connection}\" #{Serial}: refusing CHILD_SA with {Notify}: {Detail}")]
    private partial void LogChildRefused(string connection, int serial, string notify, string detail);

    [LoggerMessage(10, LogLevel.Information, "\"{Connection}\" #{Serial}: deleting IKE SA ({Reason})")]
    private partial void LogDeletingIke(string connection, int serial, string reason);

    [LoggerMessage(11, LogLevel.Information, "\"{Connection}\" #{Serial}: IKE SA deleted: {Reason}")]
    private partial void LogIkeSaDeleted(string connection, int serial, string reason);

    [LoggerMessage(12, LogLevel.Information, "\"{Connection}\" #{Serial}: IPsec SA deleted {{ESP=>0x{Outbound:x8} <0x{Inbound:x8}}}: {Reason}")]
    private partial void LogChildDeleted(string connection, int serial, uint inbound, uint outbound, string reason);

    [LoggerMessage(13, LogLevel.Information, "\"{Connection}\" #{Serial}: peer deleted the IKE SA")]
    private partial void LogPeerDeletedIke(string connection, int serial);

    [LoggerMessage(14, LogLevel.Debug, "\"{Connection}\" #{Serial}: DPD: sending liveness check")]
    private partial void LogDpdProbe(string connection, int serial);

    [LoggerMessage(15, LogLevel.Warning, "\"{Connection}\" #{Serial}: peer is dead ({Reason}), dpdaction={Action}")]
    private partial void LogDeadPeer(string connection, int serial, string reason, string action);

    [LoggerMessage(16, LogLevel.Debug, "\"{Connection}\" #{Serial}: retransmitting {Exchange} request {MessageId} (retransmission {Count})")]
    private partial void LogRetransmit(string connection, int serial, string exchange, uint messageId, int count);

    [LoggerMessage(17, LogLevel.Warning, "\"{Connection}\" #{Serial}: {Exchange} request {MessageId} timed out after {Count} retransmissions")]
    private partial void LogExchangeTimeout(string connection, int serial, string exchange, uint messageId, int count);

    [LoggerMessage(18, LogLevel.Debug, "\"{Connection}\" #{Serial}: retransmitted request {MessageId}: resending our response")]
    private partial void LogResendResponse(string connection, int serial, uint messageId);

    [LoggerMessage(19, LogLevel.Debug, "\"{Connection}\" #{Serial}: ignoring response {MessageId} (no such request outstanding)")]
    private partial void LogStaleResponse(string connection, int serial, uint messageId);

    [LoggerMessage(20, LogLevel.Debug, "message from {Remote} dropped: {Error}")]
    private partial void LogInvalidMessage(string remote, string error);

    [LoggerMessage(21, LogLevel.Debug, "{Exchange} from {Remote} for unknown IKE SA {SpiI:x16}/{SpiR:x16} ignored")]
    private partial void LogUnknownSpi(string remote, string exchange, ulong spiI, ulong spiR);

    [LoggerMessage(22, LogLevel.Debug, "\"{Connection}\" #{Serial}: message {MessageId} does not decrypt/verify, ignored: {Error}")]
    private partial void LogDecryptFailed(string connection, int serial, uint messageId, string error);

    [LoggerMessage(23, LogLevel.Debug, "\"{Connection}\" #{Serial}: message {MessageId} reassembled from {Total} fragments")]
    private partial void LogReassembled(string connection, int serial, uint messageId, int total);

    [LoggerMessage(24, LogLevel.Debug, "\"{Connection}\" #{Serial}: {Exchange} of {Length} bytes sent as {Count} fragments (RFC 7383)")]
    private partial void LogFragmented(string connection, int serial, string exchange, int length, int count);

    [LoggerMessage(25, LogLevel.Debug, "sending to {Remote} failed: {Error}")]
    private partial void LogSendFailed(string remote, string error);

    [LoggerMessage(26, LogLevel.Information, "\"{Connection}\" #{Serial}: NAT detected (local {Local}, remote {RemoteNat}) or forced: floating to {Remote}")]
    private partial void LogFloat(string connection, int serial, bool local, bool remoteNat, string remote);

    [LoggerMessage(27, LogLevel.Information, "\"{Connection}\" #{Serial}: responder asks for a COOKIE, resending IKE_SA_INIT with it")]
    private partial void LogCookieReceived(string connection, int serial);

    [LoggerMessage(28, LogLevel.Information, "\"{Connection}\" #{Serial}: INVALID_KE_PAYLOAD: retrying with {To} instead of {From}")]
    private partial void LogInvalidKe(string connection, int serial, string from, string to);

    [LoggerMessage(29, LogLevel.Information, "IKE_SA_INIT from {Remote} with KE group {Group}: answering INVALID_KE_PAYLOAD, asking for {AskFor}")]
    private partial void LogAskInvalidKe(string remote, ushort group, string askFor);

    [LoggerMessage(30, LogLevel.Warning, "IKE_SA_INIT from {Remote}: NO_PROPOSAL_CHOSEN for {Offered}")]
    private partial void LogNoProposal(string remote, string offered);

    [LoggerMessage(31, LogLevel.Warning, "IKE_SA_INIT from {Remote} to {Local}: no connection matches")]
    private partial void LogNoConnection(string remote, string local);

    [LoggerMessage(32, LogLevel.Warning, "\"{Connection}\" #{Serial}: protocol error: {Error}")]
    private partial void LogProtocolError(string connection, int serial, string error);

    [LoggerMessage(33, LogLevel.Error, "\"{Connection}\": {Error}")]
    private partial void LogConfigError(string connection, string error);

    [LoggerMessage(34, LogLevel.Information, "\"{Connection}\": keying try {Try} in {Seconds} s")]
    private partial void LogKeyingRetry(string connection, int @try, double seconds);

    [LoggerMessage(35, LogLevel.Warning, "\"{Connection}\": giving up after {Tries} keying tries")]
    private partial void LogKeyingGaveUp(string connection, int tries);

    [LoggerMessage(36, LogLevel.Information, "\"{Connection}\" #{Serial}: restarting the connection")]
    private partial void LogRestart(string connection, int serial);

    [LoggerMessage(37, LogLevel.Debug, "\"{Connection}\": already connecting (#{Serial})")]
    private partial void LogAlreadyConnecting(string connection, int serial);

    [LoggerMessage(38, LogLevel.Debug, "\"{Connection}\": already up")]
    private partial void LogAlreadyUp(string connection);

    [LoggerMessage(39, LogLevel.Information, "\"{Connection}\": acquire for {TsI} === {TsR}")]
    private partial void LogAcquire(string connection, string tsI, string tsR);

    [LoggerMessage(40, LogLevel.Information, "\"{Connection}\" #{Serial}: {Reason}")]
    private partial void LogChildExpired(string connection, int serial, string reason);

    [LoggerMessage(41, LogLevel.Information, "\"{Connection}\" #{Serial}: replaced by #{NewSerial} ({Why})")]
    private partial void LogReplaced(string connection, int serial, int newSerial, string why);

    [LoggerMessage(42, LogLevel.Error, "\"{Connection}\" #{Serial}: the dataplane refused the CHILD_SA: {Error}")]
    private partial void LogInstallFailed(string connection, int serial, string error);

    [LoggerMessage(43, LogLevel.Warning, "\"{Connection}\" #{Serial}: CREATE_CHILD_SA ({What}) failed: {Detail}")]
    private partial void LogCreateChildFailed(string connection, int serial, string what, string detail);

    [LoggerMessage(48, LogLevel.Information, "\"{Connection}\" #{Serial}: rekeyed as #{NewSerial} {{ESP=>0x{Outbound:x8} <0x{Inbound:x8}}} ({Role})")]
    private partial void LogChildRekeyed(string connection, int serial, int newSerial, uint inbound, uint outbound, string role);

    [LoggerMessage(49, LogLevel.Information, "\"{Connection}\" #{Serial}: rekeying CHILD_SA (inbound 0x{Spi:x8})")]
    private partial void LogRekeying(string connection, int serial, uint spi);

    [LoggerMessage(50, LogLevel.Information, "\"{Connection}\" #{Serial}: rekeying IKE SA")]
    private partial void LogRekeyingIke(string connection, int serial);

    [LoggerMessage(51, LogLevel.Information, "\"{Connection}\" #{Serial}: IKE SA rekeyed as #{NewSerial} with {Suite}; CHILD_SAs moved")]
    private partial void LogIkeRekeyed(string connection, int serial, int newSerial, string suite);

    [LoggerMessage(52, LogLevel.Information, "\"{Connection}\" #{Serial}: simultaneous rekey (RFC 7296 §2.8.1): {What}")]
    private partial void LogCollision(string connection, int serial, string what);

    [LoggerMessage(44, LogLevel.Debug, "connection \"{Connection}\" added")]
    private partial void LogConnectionAdded(string connection);

    [LoggerMessage(45, LogLevel.Error, "IKE engine: internal error")]
    private partial void LogInternalError(Exception e);

    [LoggerMessage(46, LogLevel.Debug, "\"{Connection}\" #{Serial}: SK_d={SkD} SK_ei={SkEi} SK_er={SkEr} SK_ai={SkAi} SK_ar={SkAr} SK_pi={SkPi} SK_pr={SkPr}")]
    private partial void LogIkeKeys(string connection, int serial, string skD, string skEi, string skEr, string skAi, string skAr, string skPi, string skPr);

    [LoggerMessage(47, LogLevel.Debug, "\"{Connection}\" #{Serial}: ESP keys in {InEncr}/{InInteg} out {OutEncr}/{OutInteg}")]
    private partial void LogChildKeys(string connection, int serial, string inEncr, string inInteg, string outEncr, string outInteg);

    /// <summary>The RFC's name of an exchange (IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL).</summary>
    private static string ExchangeName(Messages.ExchangeType e) => e switch
    {
        Messages.ExchangeType.IkeSaInit => "IKE_SA_INIT",
        Messages.ExchangeType.IkeAuth => "IKE_AUTH",
        Messages.ExchangeType.CreateChildSa => "CREATE_CHILD_SA",
        Messages.ExchangeType.Informational => "INFORMATIONAL",
        _ => "EXCHANGE_" + ((byte)e).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private void LogSensitiveKeys(IkeSa sa)
    {
        if (!_options.LogSensitive || sa.Keys is null) return;
        var m = sa.Keys.Material;
        LogIkeKeys(sa.Connection.Name, sa.Serial, Convert.ToHexStringLower(m.SkD), Convert.ToHexStringLower(m.SkEi), Convert.ToHexStringLower(m.SkEr),
            Convert.ToHexStringLower(m.SkAi), Convert.ToHexStringLower(m.SkAr), Convert.ToHexStringLower(m.SkPi), Convert.ToHexStringLower(m.SkPr));
    }

    [LoggerMessage(53, LogLevel.Debug, "{Notify} sent to {Remote} in answer to {Exchange} request {MessageId}")]
    private partial void LogErrorReply(string notify, string remote, string exchange, uint messageId);

    [LoggerMessage(54, LogLevel.Information, "\"{Connection}\" #{Serial}: simultaneous IKE SA rekey (RFC 7296 §2.8.2): {What}")]
    private partial void LogIkeCollision(string connection, int serial, string what);
}
