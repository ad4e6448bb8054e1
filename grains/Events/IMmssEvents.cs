namespace Mmss.Grains.Events;

/// <summary>
/// The platform's events (issue #14), raised by the grain that owns each fact — the user grain for presence and for
/// what happens to a copy in its mailbox, the message grain for submissions it handles and group results — so that
/// each fact is raised once in the cluster, never by gateways. Raising is a non-blocking enqueue: an implementation
/// never blocks, never throws, and never makes a grain call wait for a broker. Never carries message content.
/// </summary>
public interface IMmssEvents
{
    /// <summary>A session of <paramref name="udn"/> came or went; <paramref name="liveSessions"/> counts what remains.</summary>
    void Presence(string udn, bool online, string gatewayId, string? sessionId, string? address, int liveSessions);

    /// <summary>
    /// An MMS was accepted for a recipient (one-to-one) or a group (<paramref name="group"/> true);
    /// <paramref name="emergency"/> when it carries Priority=emergency.
    /// </summary>
    void Submitted(string sender, string messageId, string recipient, bool group, bool emergency = false);

    /// <summary>A copy of an MMS was stored for a recipient with no live session.</summary>
    void Stored(string sender, string messageId, string recipient);

    /// <summary>A copy of an MMS was pushed to the recipient's live sessions.</summary>
    void Delivered(string sender, string messageId, string recipient, int sessions);

    /// <summary>The recipient answered an MMS with ACK (MsgType 2) or FAIL (MsgType 3).</summary>
    void Answered(string sender, string messageId, string recipient, string msgType, string? returnCode);

    /// <summary>An MMS stayed unanswered past its TTL: FAIL 5 goes to its sender.</summary>
    void Expired(string sender, string messageId, string recipient);

    /// <summary>A group MMS's one answer to its sender, and how its members stood at that moment.</summary>
    void GroupResult(string sender, string messageId, string gdn, string msgType, string returnCode,
        int delivered, int failed, int pending, bool windowClosed);

    /// <summary>
    /// An MMS crossed to or from a peer domain: accepted by <paramref name="peer"/>'s MMSS for its user
    /// (<paramref name="outbound"/>), or accepted here from a user of <paramref name="peer"/>.
    /// </summary>
    void Relayed(string sender, string messageId, string recipient, string peer, bool outbound);

    // Facts only a gateway sees, handed to the silo by IGatewayEventsGrain.

    /// <summary>A file of an MMS was uploaded (spec 7.4.1) from <paramref name="address"/>.</summary>
    void AttachmentUploaded(string sender, string messageId, string file, long bytes, string address);

    /// <summary>A file of an MMS was downloaded (spec 7.4.2), <paramref name="bytes"/> of it, by <paramref name="address"/>.</summary>
    void AttachmentDownloaded(string sender, string messageId, string file, long bytes, string address);

    /// <summary>A SASL authentication failed; <paramref name="udn"/> is null when the client named no known user.</summary>
    void AuthenticationFailed(string? udn, string address, string mechanism, string condition);

    /// <summary>An authentication was refused with temporary-auth-failure: too many recent failures for the user or address.</summary>
    void AuthenticationThrottled(string? udn, string address);
}

/// <summary>The default when events are not enabled: raising costs nothing.</summary>
public sealed class NullMmssEvents : IMmssEvents
{
    public static readonly NullMmssEvents Instance = new();

    public void Presence(string udn, bool online, string gatewayId, string? sessionId, string? address, int liveSessions) { }
    public void Submitted(string sender, string messageId, string recipient, bool group, bool emergency = false) { }
    public void Stored(string sender, string messageId, string recipient) { }
    public void Delivered(string sender, string messageId, string recipient, int sessions) { }
    public void Answered(string sender, string messageId, string recipient, string msgType, string? returnCode) { }
    public void Expired(string sender, string messageId, string recipient) { }
    public void GroupResult(string sender, string messageId, string gdn, string msgType, string returnCode,
        int delivered, int failed, int pending, bool windowClosed) { }
    public void Relayed(string sender, string messageId, string recipient, string peer, bool outbound) { }
    public void AttachmentUploaded(string sender, string messageId, string file, long bytes, string address) { }
    public void AttachmentDownloaded(string sender, string messageId, string file, long bytes, string address) { }
    public void AuthenticationFailed(string? udn, string address, string mechanism, string condition) { }
    public void AuthenticationThrottled(string? udn, string address) { }
}
