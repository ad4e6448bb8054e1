using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Mmss.Silo.Events;

public enum MmssEventKind
{
    Presence,
    Submitted,
    Stored,
    Delivered,
    Answered,
    Expired,
    GroupResult,
    AttachmentUploaded,
    AttachmentDownloaded,
    AuthenticationFailed,
    AuthenticationThrottled,
    RelayedOut,
    RelayedIn,
}

/// <summary>One queued event: identifiers and outcomes only, never message content.</summary>
public sealed record MmssEvent(MmssEventKind Kind, DateTimeOffset Timestamp)
{
    public string? Udn { get; init; }
    public bool Online { get; init; }
    public string? GatewayId { get; init; }
    public string? SessionId { get; init; }
    public string? Address { get; init; }
    public int Sessions { get; init; }
    public string? Sender { get; init; }
    public string? MessageId { get; init; }
    public string? Recipient { get; init; }
    public bool ToGroup { get; init; }
    public string? MsgType { get; init; }
    public string? ReturnCode { get; init; }
    public int Delivered { get; init; }
    public int Failed { get; init; }
    public int Pending { get; init; }
    public bool WindowClosed { get; init; }
    public bool Emergency { get; init; }
    public string? File { get; init; }
    public long Bytes { get; init; }
    public string? Mechanism { get; init; }
    public string? Condition { get; init; }
    public string? Peer { get; init; }

    /// <summary>Presence is retained: a subscriber learns every user's last known state at once.</summary>
    public bool Retain => Kind == MmssEventKind.Presence;

    /// <summary>
    /// mmss/{domain}/presence/{udn}, mmss/{domain}/messages/{sender}/{id}/{event}, mmss/{domain}/groups/{gdn}/{id}/result,
    /// mmss/{domain}/auth/{udn}/{event} (udn "_" when unknown). Identifiers are escaped so that none adds a level or a
    /// wildcard ('%', '/', '+', '#' as %XX).
    /// </summary>
    public string Topic(string domain) => Kind switch
    {
        MmssEventKind.Presence => $"mmss/{domain}/presence/{Escape(Udn)}",
        MmssEventKind.GroupResult => $"mmss/{domain}/groups/{Escape(Recipient)}/{Escape(MessageId)}/result",
        MmssEventKind.AuthenticationFailed or MmssEventKind.AuthenticationThrottled => $"mmss/{domain}/auth/{Escape(Udn)}/{TypeName}",
        _ => $"mmss/{domain}/messages/{Escape(Sender)}/{Escape(MessageId)}/{TypeName}",
    };

    public string TypeName => Kind switch
    {
        MmssEventKind.Presence => "presence",
        MmssEventKind.Submitted => "submitted",
        MmssEventKind.Stored => "stored",
        MmssEventKind.Delivered => "delivered",
        MmssEventKind.Answered => "answered",
        MmssEventKind.Expired => "expired",
        MmssEventKind.GroupResult => "result",
        MmssEventKind.AttachmentUploaded => "attachment-uploaded",
        MmssEventKind.AttachmentDownloaded => "attachment-downloaded",
        MmssEventKind.AuthenticationFailed => "failed",
        MmssEventKind.AuthenticationThrottled => "throttled",
        MmssEventKind.RelayedOut => "relayed-out",
        MmssEventKind.RelayedIn => "relayed-in",
        _ => "unknown",
    };

    /// <summary>The document's "type": the topic's last level, unless that says too little on its own.</summary>
    private string JsonType => Kind switch
    {
        MmssEventKind.GroupResult => "groupResult",
        MmssEventKind.AttachmentUploaded => "attachmentUploaded",
        MmssEventKind.AttachmentDownloaded => "attachmentDownloaded",
        MmssEventKind.AuthenticationFailed => "authFailed",
        MmssEventKind.AuthenticationThrottled => "authThrottled",
        MmssEventKind.RelayedOut => "relayedOut",
        MmssEventKind.RelayedIn => "relayedIn",
        _ => TypeName,
    };

    public static string Escape(string? segment)
    {
        if (string.IsNullOrEmpty(segment)) return "_";
        if (segment.AsSpan().IndexOfAny("%/+#\0") < 0) return segment;
        var escaped = new StringBuilder(segment.Length + 8);
        foreach (var c in segment)
        {
            escaped.Append(c switch
            {
                '%' => "%25",
                '/' => "%2F",
                '+' => "%2B",
                '#' => "%23",
                '\0' => "%00",
                _ => c.ToString(),
            });
        }
        return escaped.ToString();
    }

    /// <summary>The small JSON document published: type, timestamp (UTC ISO-8601), domain, identifiers, outcome.</summary>
    public byte[] Json(string domain)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", JsonType);
            json.WriteString("timestamp", Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("domain", domain);
            switch (Kind)
            {
                case MmssEventKind.Presence:
                    json.WriteString("udn", Udn);
                    json.WriteString("status", Online ? "online" : "offline");
                    json.WriteString("gatewayId", GatewayId);
                    json.WriteString("sessionId", SessionId);
                    json.WriteString("address", Address);
                    json.WriteNumber("sessions", Sessions);
                    break;
                case MmssEventKind.GroupResult:
                    json.WriteString("sender", Sender);
                    json.WriteString("id", MessageId);
                    json.WriteString("gdn", Recipient);
                    json.WriteString("outcome", MsgType == "2" ? "ACK" : "FAIL");
                    json.WriteString("msgType", MsgType);
                    json.WriteString("returnCode", ReturnCode);
                    json.WriteNumber("delivered", Delivered);
                    json.WriteNumber("failed", Failed);
                    json.WriteNumber("pending", Pending);
                    json.WriteBoolean("windowClosed", WindowClosed);
                    break;
                case MmssEventKind.AttachmentUploaded or MmssEventKind.AttachmentDownloaded:
                    json.WriteString("sender", Sender);
                    json.WriteString("id", MessageId);
                    json.WriteString("file", File);
                    json.WriteNumber("bytes", Bytes);
                    json.WriteString("address", Address);
                    break;
                case MmssEventKind.AuthenticationFailed or MmssEventKind.AuthenticationThrottled:
                    json.WriteString("udn", Udn);
                    json.WriteString("address", Address);
                    if (Kind == MmssEventKind.AuthenticationFailed)
                    {
                        json.WriteString("mechanism", Mechanism);
                        json.WriteString("condition", Condition);
                    }
                    break;
                default:
                    json.WriteString("sender", Sender);
                    json.WriteString("id", MessageId);
                    json.WriteString(ToGroup ? "group" : "recipient", Recipient);
                    if (Kind == MmssEventKind.Delivered) json.WriteNumber("sessions", Sessions);
                    if (Peer is not null) json.WriteString("peer", Peer);
                    // Only on emergencies: ordinary documents stay as they were.
                    if (Emergency) json.WriteBoolean("emergency", true);
                    if (Kind is MmssEventKind.Answered or MmssEventKind.Expired)
                    {
                        json.WriteString("outcome", MsgType == "2" ? "ACK" : "FAIL");
                        json.WriteString("msgType", MsgType);
                        if (ReturnCode is null) json.WriteNull("returnCode");
                        else json.WriteString("returnCode", ReturnCode);
                    }
                    break;
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
