namespace Mmss.GrainInterfaces;

/// <summary>One MMS's life, keyed "senderUdn/messageId": idempotent submit, the recipient's answer, expiry.</summary>
public interface IMessageGrain : IGrainWithStringKey
{
    Task<SubmitOutcome> SubmitAsync(MmsSubmission submission);

    /// <summary>
    /// The recipient answered ACK (MsgType 2) or FAIL (MsgType 3): relayed to the originator, or, for a group
    /// message, counted towards the one aggregated answer. Interleaves, so that thousands of member answers are
    /// stored concurrently rather than one after another.
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task AnswerAsync(string recipient, string msgType, string? returnCode);

    /// <summary>
    /// The sender uploaded these files for this message id (spec 7.4.1). Interleaves, so that a submit waiting for an
    /// upload still in flight sees it arrive.
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task RecordUploadAsync([Immutable] string[] fileNames);

    /// <summary>Who may download this message's attachments: its sender and its recipients (group members included).</summary>
    Task<AttachmentAccess> GetAttachmentAccessAsync();

    /// <summary>Late housekeeping from the expiry sweep: aggregate if still owed, send the last report, drop member rows.</summary>
    Task SweepAsync();

    /// <summary>The recipient never took the message within its TTL: FAIL 5 to the originator.</summary>
    Task ExpireAsync(string recipient);
}

public static class MessageKey
{
    /// <summary>Mailbox-store owner of a group message's member answers.</summary>
    public const string OutcomeOwnerPrefix = "message:";

    public static string For(string sender, string messageId) => sender + "/" + messageId;
}
