using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;
using Mmss.Grains.Diagnostics;
using Mmss.GrainInterfaces.Peers;
using Mmss.Grains.Relay;
using Mmss.Grains.Events;

namespace Mmss.Grains;

/// <summary>
/// One MMS, keyed "sender/messageId": submitted once whatever the retries, answered by its recipient, relayed to
/// its originator, or expired. Group messages (the other part of this class) fan out and aggregate.
/// There is one per message, so idle ones are collected after minutes rather than Orleans' default quarter hour:
/// at thousands of messages a second the default would keep millions of finished messages in memory.
/// </summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed partial class MessageGrain(
    [PersistentState("message", StorageNames.Default)] IPersistentState<MessageState> state,
    IMailboxStore store,
    IOptions<MailboxOptions> options,
    TimeProvider time,
    IMmssEvents events,
    PeerTable peers,
    LogScopes logScopes,
    ILogger<MessageGrain> logger) : Grain, IMessageGrain
{
    // AnswerAsync interleaves; every change of the persisted state goes through this gate so writes never overlap.
    private readonly SemaphoreSlim _stateGate = new(1, 1);

    private string Sender => this.GetPrimaryKeyString()[..this.GetPrimaryKeyString().IndexOf('/')];

    private string MessageId => this.GetPrimaryKeyString()[(this.GetPrimaryKeyString().IndexOf('/') + 1)..];

    public async Task<SubmitOutcome> SubmitAsync(MmsSubmission submission)
    {
        using var logScope = logScopes.ForMessage(logger, Sender, MessageId);
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
            if (state.State.Group is not null && await FinishOnResubmissionAsync() is { } finished) return finished;
            return SubmitOutcome.Stored("duplicate of a stored message");
        }

        if (await MissingAttachmentAsync(submission.Attach) is { } missing)
            return SubmitOutcome.Failed(FailCode.AttachmentMissing, $"attachment '{missing}' was not uploaded for this message");

        var expiresAt = time.GetUtcNow().AddSeconds(options.Value.TtlSeconds);
        var recipient = GrainFactory.User(submission.Recipient);
        if (await recipient.AcceptMmsAsync(Sender, submission, expiresAt) != MmsAcceptance.Unknown)
        {
            try
            {
                await UpdateStateAsync(s =>
                {
                    s.Recipient = submission.Recipient;
                    s.ContentHash = hash;
                    s.ExpiresAt = expiresAt;
                });
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The recipient has it (and may have read it): the sender must not hear it failed. Written again later.
                _stateOwed = true;
                ArmFinisher();
                logger.LogWarning(e, "MMS {MessageId} from {Sender}: stored for {Recipient}, its own state not written yet; tried again",
                    MessageId, Sender, submission.Recipient);
            }
            // Raised here, not by the recipient's grain, on this path: only now is it known the recipient is a user.
            events.Submitted(Sender, MessageId, submission.Recipient, group: false, submission.Emergency);
            if (peers.FindByUdn(Sender) is { } origin) events.Relayed(Sender, MessageId, submission.Recipient, origin.Domain, outbound: false);
            MmssMetrics.Submitted(group: false);
            return SubmitOutcome.Stored("stored for the recipient");
        }
        if (await GrainFactory.Reference<IGroupGrain>(submission.Recipient).GetAsync() is { } group)
        {
            return await SubmitToGroupAsync(submission, group, hash, expiresAt);
        }
        return SubmitOutcome.Failed(FailCode.RecipientUnknown, $"recipient {submission.Recipient} is unknown");
    }

    public async Task AnswerAsync(string recipient, string msgType, string? returnCode)
    {
        using var logScope = logScopes.ForMessage(logger, recipient, MessageId);
        if (state.State.Group is not null)
        {
            await MemberAnsweredAsync(recipient, msgType, returnCode);
            return;
        }
        await _stateGate.WaitAsync();
        try
        {
            if (state.State.AnswerMsgType == msgType && state.State.AnswerReturnCode == returnCode) return;
            await NotifySenderAsync(msgType, returnCode);
            state.State.Recipient ??= recipient;
            state.State.AnswerMsgType = msgType;
            state.State.AnswerReturnCode = returnCode;
            await state.WriteStateAsync();
        }
        finally
        {
            _stateGate.Release();
        }
    }

    public async Task ExpireAsync(string recipient)
    {
        if (state.State.Group is not null)
        {
            await MemberAnsweredAsync(recipient, MmsRules.FailType, MmsRules.ExpiredReturnCode);
            return;
        }
        if (state.State.AnswerMsgType is not null || state.State.Expired) return;
        logger.LogInformation("MMS {MessageId} from {Sender} to {Recipient} expired: FAIL 5", MessageId, Sender, recipient);
        await NotifySenderAsync(MmsRules.FailType, MmsRules.ExpiredReturnCode);
        await UpdateStateAsync(s => s.Expired = true);
    }

    private async Task UpdateStateAsync(Action<MessageState> change)
    {
        await _stateGate.WaitAsync();
        try
        {
            change(state.State);
            await state.WriteStateAsync();
        }
        finally
        {
            _stateGate.Release();
        }
    }

    /// <summary>The answer (for a group: the aggregated one) to the sender, here or at its home MMSS.</summary>
    private Task NotifySenderAsync(string msgType, string? returnCode) =>
        AnswerRoute.ToOriginatorAsync(GrainFactory, peers, Sender, MessageId, state.State.Recipient ?? "", msgType, returnCode, group: null,
            time.GetUtcNow().AddSeconds(options.Value.TtlSeconds));

    private Task NotifySenderAsync(string from, IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        if (peers.FindByUdn(Sender) is not null)
        {
            // Reports (MsgType 101) stay within the domain: the relay carries MMS and their answers only.
            logger.LogInformation("Group MMS {MessageId}: no report for {Sender}, a user of another domain", MessageId, Sender);
            return Task.CompletedTask;
        }
        return GrainFactory.User(Sender).NotifyAsync(MessageId, from, properties, time.GetUtcNow().AddSeconds(options.Value.TtlSeconds));
    }
}
