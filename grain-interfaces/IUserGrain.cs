namespace Mmss.GrainInterfaces;

/// <summary>A user (UE or DC), keyed by UDN.</summary>
public interface IUserGrain : IGrainWithStringKey, IUserPresence
{
    /// <summary>The provisioned profile, or null when this UDN is not provisioned.</summary>
    Task<UserProfile?> GetProfileAsync();

    /// <summary>Creates or replaces the user; returns true when it did not exist before.</summary>
    Task<bool> ProvisionAsync(string name, StoredCredentials credentials);

    /// <summary>Creates the user only if it does not exist; false, with nothing changed, when it does.</summary>
    Task<bool> CreateAsync(string name, StoredCredentials credentials);

    /// <summary>Allows or forbids the user to send emergency MMS (Priority=emergency); false when not provisioned.</summary>
    Task<bool> SetEmergencyAsync(bool allowed);

    /// <summary>Whether this user is provisioned and allowed to send emergency MMS.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<bool> MaySendEmergencyAsync();

    /// <summary>Renames the user without touching credentials; false when not provisioned.</summary>
    Task<bool> RenameAsync(string name);

    /// <summary>Deprovisions the user; false when it was not provisioned.</summary>
    Task<bool> RemoveAsync();

    /// <summary>A terminal session bound; returns what waits for it (MMS, notices, ordinary messages), in order.</summary>
    Task<Delivery[]> AttachSessionAsync(SessionHandle session);

    Task DetachSessionAsync(string sessionId);

    /// <summary>
    /// The gateway's view and the grain's may have diverged (the gateway was counted gone, or the silo holding this
    /// grain died): makes sure the session is attached and, if it was not or this activation is new, pushes everything
    /// waiting to it again through its observer. Cheap when nothing diverged: no write, no push.
    /// </summary>
    Task ResyncSessionAsync(SessionHandle session);

    /// <summary>Whether a live session of this user comes from <paramref name="address"/> (attachment access by session).</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<bool> HasLiveSessionFromAsync(string address);

    /// <summary>
    /// The gateway wrote these to the session (and, with XEP-0198, the terminal acknowledged them). One-way: the gateway
    /// waits for nothing, and a confirmation lost with a silo leaves the items stored, to be written again. Interleaves:
    /// a notice's <see cref="NotifyAsync"/> waits for it.
    /// </summary>
    [Orleans.Concurrency.OneWay]
    [Orleans.Concurrency.AlwaysInterleave]
    Task ConfirmWrittenAsync([Immutable] long[] seqs);

    /// <summary>
    /// An MMS without attachments sent to this user: validated, deduplicated by (sender, id) and stored here; the
    /// answer goes straight to the sender's user grain. Null when this UDN is not a user (a group, or unknown).
    /// </summary>
    Task<SubmitOutcome?> SubmitMmsAsync(MmsSubmission submission);

    /// <summary>From the message grain: store an MMS for this user and push it to the live sessions.</summary>
    /// <param name="addedProperties">Jive properties the MMSS adds to the copy (MsgGroup on group messages).</param>
    Task<MmsAcceptance> AcceptMmsAsync(string sender, MmsSubmission submission, DateTimeOffset expiresAt,
        [Immutable] IReadOnlyList<KeyValuePair<string, string>>? addedProperties = null);

    /// <summary>
    /// This user answered an MMS with ACK/FAIL; false when no MMS with that id was delivered to it. Completes once the
    /// answer is recorded: relaying it to the originator is this grain's from then on.
    /// </summary>
    Task<bool> AnswerAsync(string messageId, string msgType, string? returnCode);

    /// <summary>
    /// An ACK/FAIL for this user as originator, from a message grain or from the recipient's user grain. Interleaves:
    /// two users answering each other's MMS at the same moment would otherwise each wait for the other. Completes once the
    /// notice is written to a live session or stored.
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task NotifyAsync(string messageId, string from, [Immutable] IReadOnlyList<KeyValuePair<string, string>> properties, DateTimeOffset expiresAt);

    /// <summary>
    /// An ordinary message for this user; false when the user does not exist. Completes once the message is stored, or
    /// written to a live session and confirmed (<see cref="ConfirmWrittenAsync"/>) in time, which stores nothing.
    /// Interleaves, as <see cref="NotifyAsync"/> does: the wait for a terminal's acknowledgement must not hold up this
    /// user's other calls (an MMS to it, its own answers).
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<bool> DeliverPlainAsync(PlainMessage message);

    /// <summary>
    /// The answer to an MMS this user sent to a user of another domain, relayed back by that domain's MMSS: stored and
    /// written as the notice from ACK/FAIL (spec 7.5.2), exactly as a local recipient's answer.
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task ReceiveAnswerAsync(string messageId, string msgType, string? returnCode);

    /// <summary>Drops what is past its TTL; expired MMS are reported to their originators.</summary>
    Task ExpireAsync();
}
