using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>
/// One MMS, keyed "sender/messageId": submitted once whatever the retries, answered by its recipient, relayed to
/// its originator, or expired.
/// </summary>
public sealed class MessageGrain(
    [PersistentState("message", StorageNames.Default)] IPersistentState<MessageState> state,
    IOptions<MailboxOptions> options,
    TimeProvider time,
    ILogger<MessageGrain> logger) : Grain, IMessageGrain
{
    private string Sender => this.GetPrimaryKeyString()[..this.GetPrimaryKeyString().IndexOf('/')];

    private string MessageId => this.GetPrimaryKeyString()[(this.GetPrimaryKeyString().IndexOf('/') + 1)..];

    public async Task<SubmitOutcome> SubmitAsync(MmsSubmission submission)
    {
        if (MmsRules.Validate(submission) is { } malformed) return SubmitOutcome.Failed(FailCode.Malformed, malformed);
        var hash = MmsRules.ContentHash(submission);
        if (state.State.ContentHash is { } known)
        {
            if (!known.AsSpan().SequenceEqual(hash))
                return SubmitOutcome.Failed(FailCode.DuplicateIdDifferentContent, "this id was already used for another message");
            if (state.State.AnswerMsgType is { } answered)
            {
                // A terminal retrying after a lost ACK gets the answer again, never a second delivery.
                await NotifySenderAsync(answered, state.State.AnswerReturnCode);
                return SubmitOutcome.Stored("duplicate of an answered message; answer sent again");
            }
            return SubmitOutcome.Stored("duplicate of a stored message");
        }

        var expiresAt = time.GetUtcNow().AddSeconds(options.Value.TtlSeconds);
        var recipient = GrainFactory.GetGrain<IUserGrain>(submission.Recipient);
        if (!await recipient.AcceptMmsAsync(Sender, submission, expiresAt))
            return SubmitOutcome.Failed(FailCode.RecipientUnknown, $"recipient {submission.Recipient} is unknown");
        state.State.Recipient = submission.Recipient;
        state.State.ContentHash = hash;
        state.State.ExpiresAt = expiresAt;
        await state.WriteStateAsync();
        return SubmitOutcome.Stored("stored for the recipient");
    }

    public async Task AnswerAsync(string recipient, string msgType, string? returnCode)
    {
        if (state.State.AnswerMsgType == msgType && state.State.AnswerReturnCode == returnCode) return;
        await NotifySenderAsync(msgType, returnCode);
        state.State.Recipient ??= recipient;
        state.State.AnswerMsgType = msgType;
        state.State.AnswerReturnCode = returnCode;
        await state.WriteStateAsync();
    }

    public async Task ExpireAsync(string recipient)
    {
        if (state.State.AnswerMsgType is not null || state.State.Expired) return;
        logger.LogInformation("MMS {MessageId} from {Sender} to {Recipient} expired: FAIL 5", MessageId, Sender, recipient);
        await NotifySenderAsync(MmsRules.FailType, FailCode.Expired.ToString(System.Globalization.CultureInfo.InvariantCulture));
        state.State.Expired = true;
        await state.WriteStateAsync();
    }

    private Task NotifySenderAsync(string msgType, string? returnCode) =>
        GrainFactory.GetGrain<IUserGrain>(Sender).NotifyAsync(MessageId, MmsRules.NoticeSender(msgType),
            MmsRules.NoticeProperties(msgType, returnCode), time.GetUtcNow().AddSeconds(options.Value.TtlSeconds));
}
