using System.Diagnostics.Metrics;

namespace Mmss.Gateway.Diagnostics;

/// <summary>
/// The gateway's instruments (meter <c>Mmss.Gateway</c>): connections, logins, stanzas, refusals and attachment bytes
/// of this process. Tag values are constants — listener names, SASL mechanism and condition names, stanza names — so a
/// stanza's count allocates nothing.
/// </summary>
public static class GatewayMetrics
{
    public const string MeterName = "Mmss.Gateway";

    public const string ListenerStartTls = "c2s", ListenerDirectTls = "c2s-tls", ListenerWebSocket = "websocket";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> ConnectionsOpened = Meter.CreateCounter<long>("mmss.gateway.connections", "{connection}",
        "Client connections accepted, by listener");
    private static readonly UpDownCounter<long> ConnectionsActive = Meter.CreateUpDownCounter<long>("mmss.gateway.connections.active", "{connection}",
        "Client connections open now, by listener and whether TLS protects them");
    private static readonly Counter<long> TlsEstablished = Meter.CreateCounter<long>("mmss.gateway.tls.established", "{connection}",
        "TLS handshakes completed (STARTTLS or direct TLS), by listener");
    private static readonly Counter<long> Logins = Meter.CreateCounter<long>("mmss.gateway.logins", "{login}",
        "Successful SASL authentications, by mechanism");
    private static readonly Counter<long> LoginFailures = Meter.CreateCounter<long>("mmss.gateway.login.failures", "{failure}",
        "Failed SASL authentications that count towards throttling, by mechanism and SASL condition");
    private static readonly Counter<long> Throttled = Meter.CreateCounter<long>("mmss.gateway.login.throttled", "{refusal}",
        "Authentications refused with temporary-auth-failure, by what was throttled (user or address)");
    private static readonly Counter<long> HttpLimited = Meter.CreateCounter<long>("mmss.gateway.http.limited", "{request}",
        "HTTP requests answered 429 because their source address made too many refused requests (Mmss:Http:MaxRefusalsPerAddress)");
    private static readonly Counter<long> StanzasReceived = Meter.CreateCounter<long>("mmss.gateway.stanzas.received", "{stanza}",
        "Stanzas received from terminals, by kind");
    private static readonly Counter<long> StanzasSent = Meter.CreateCounter<long>("mmss.gateway.stanzas.sent", "{stanza}",
        "Stanzas written to terminals (deliveries, notices, answers to iq)");
    private static readonly Counter<long> MmsRefused = Meter.CreateCounter<long>("mmss.gateway.mms.refused", "{message}",
        "MMS answered at once with FAIL (unknown recipient, malformed, storage down...), by code");
    private static readonly Counter<long> AttachmentUploaded = Meter.CreateCounter<long>("mmss.gateway.attachment.uploaded", "By",
        "Attachment bytes received (POST /attachment)");
    private static readonly Counter<long> AttachmentDownloaded = Meter.CreateCounter<long>("mmss.gateway.attachment.downloaded", "By",
        "Attachment bytes sent (GET /attachment)");

    private static readonly KeyValuePair<string, object?> TlsOn = new("tls", "true"), TlsOff = new("tls", "false");
    private static readonly KeyValuePair<string, object?> ByUser = new("scope", "user"), ByAddress = new("scope", "address");
    private static readonly KeyValuePair<string, object?> Message = new("kind", "message"), Iq = new("kind", "iq"),
        Presence = new("kind", "presence"), Other = new("kind", "other");

    private static KeyValuePair<string, object?> Listener(string listener) => new("listener", listener);

    public static void ConnectionOpened(string listener, bool secure)
    {
        ConnectionsOpened.Add(1, Listener(listener));
        ConnectionsActive.Add(1, Listener(listener), secure ? TlsOn : TlsOff);
    }

    public static void ConnectionSecured(string listener)
    {
        TlsEstablished.Add(1, Listener(listener));
        ConnectionsActive.Add(-1, Listener(listener), TlsOff);
        ConnectionsActive.Add(1, Listener(listener), TlsOn);
    }

    public static void ConnectionClosed(string listener, bool secure) => ConnectionsActive.Add(-1, Listener(listener), secure ? TlsOn : TlsOff);

    /// <param name="mechanism">the mechanism object's constant name, never the client's string</param>
    public static void LoggedIn(string mechanism) => Logins.Add(1, new KeyValuePair<string, object?>("mechanism", mechanism));

    public static void LoginFailed(string mechanism, string condition) =>
        LoginFailures.Add(1, new KeyValuePair<string, object?>("mechanism", mechanism), new KeyValuePair<string, object?>("condition", condition));

    public static void LoginThrottled(bool user) => Throttled.Add(1, user ? ByUser : ByAddress);

    public static void HttpRequestLimited() => HttpLimited.Add(1);

    public static void StanzaReceived(string name) => StanzasReceived.Add(1, name switch
    {
        "message" => Message,
        "iq" => Iq,
        "presence" => Presence,
        _ => Other,
    });

    public static void StanzaSent(int count = 1) => StanzasSent.Add(count);

    public static void MmsRefusedAtOnce(int failCode) => MmsRefused.Add(1, Grains.Diagnostics.MmssMetrics.ReturnCodeTag(
        failCode switch { >= 1 and <= 9 => CodeText[failCode], 255 => "255", _ => "other" }));

    private static readonly string[] CodeText = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    public static void AttachmentBytesUploaded(long bytes) => AttachmentUploaded.Add(bytes);

    public static void AttachmentBytesDownloaded(long bytes) => AttachmentDownloaded.Add(bytes);
}
