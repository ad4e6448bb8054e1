using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>The stored MMS, notices and ordinary messages of the user, one row each.</summary>
public sealed partial class UserGrain
{
    private Mailbox? _mailbox;
    private Task<Mailbox>? _mailboxLoad;

    // Loaded once: NotifyAsync interleaves, so two calls may ask for the mailbox before the first load completes.
    // A failed load is not kept: the next call tries again rather than failing until the grain is collected.
    private Task<Mailbox> MailboxAsync() =>
        _mailboxLoad is { IsFaulted: false, IsCanceled: false } loading ? loading : _mailboxLoad = LoadMailboxAsync();

    private async Task<Mailbox> LoadMailboxAsync() => _mailbox = new Mailbox(await store.LoadAsync(Udn));

    public async Task<SubmitOutcome?> SubmitMmsAsync(MmsSubmission submission)
    {
        if (state.State.Credentials is null) return null;
        if (MmsRules.Validate(submission) is { } malformed) return SubmitOutcome.Failed(FailCode.Malformed, malformed);
        var hash = MmsRules.ContentHash(submission);
        var mailbox = await MailboxAsync();
        if (mailbox.FindMms(submission.Sender, submission.MessageId) is { } known)
        {
            if (!known.Direct || known.ContentHash is null || !known.ContentHash.AsSpan().SequenceEqual(hash))
                return SubmitOutcome.Failed(FailCode.DuplicateIdDifferentContent, "this id was already used for another message");
            if (known.AnswerMsgType is { } answered)
            {
                // A terminal retrying after a lost ACK gets the answer again, never a second delivery.
                await NotifyOriginatorAsync(known, answered, known.AnswerReturnCode);
                return SubmitOutcome.Stored("duplicate of an answered message; answer sent again");
            }
            return SubmitOutcome.Stored("duplicate of a stored message");
        }
        var expiresAt = time.GetUtcNow().AddSeconds(options.Value.TtlSeconds);
        await AppendAsync(new MailboxEntry(0, DeliveryKind.Mms, submission.MessageId, submission.Sender, submission.StanzaType,
            submission.Payload, null, expiresAt, Answered: false, Direct: true, ContentHash: hash));
        return SubmitOutcome.Stored("stored for the recipient");
    }

    public async Task<MmsAcceptance> AcceptMmsAsync(string sender, MmsSubmission submission, DateTimeOffset expiresAt,
        IReadOnlyList<KeyValuePair<string, string>>? addedProperties = null)
    {
        if (state.State.Credentials is null) return MmsAcceptance.Unknown;
        var mailbox = await MailboxAsync();
        // A message grain that resumes a fan-out after a crash must not store a second copy.
        if (mailbox.FindMms(sender, submission.MessageId) is null)
        {
            await AppendAsync(new MailboxEntry(0, DeliveryKind.Mms, submission.MessageId, sender, submission.StanzaType,
                submission.Payload, addedProperties, expiresAt, Answered: false));
        }
        return LiveSessions().Count > 0 ? MmsAcceptance.Online : MmsAcceptance.StoredOffline;
    }

    public async Task<bool> AnswerAsync(string messageId, string msgType, string? returnCode)
    {
        var mailbox = await MailboxAsync();
        if (mailbox.FindMmsToAnswer(messageId) is not { } entry) return false;
        if (entry.Direct)
        {
            await AnswerDirectAsync(mailbox, entry, msgType, returnCode);
            return true;
        }
        // The originator's notice is stored before the MMS is marked answered: a crash in between re-sends the
        // MMS (and the terminal answers again) rather than losing the answer.
        await GrainFactory.GetGrain<IMessageGrain>(MessageKey.For(entry.From, messageId)).AnswerAsync(Udn, msgType, returnCode);
        if (!entry.Answered)
        {
            var answered = entry with { Answered = true, Payload = null, ExpiresAt = AnsweredExpiry(entry) };
            await store.UpdateAsync(Udn, answered);
            mailbox.Replace(answered);
            _lastPushed.Remove(entry.Seq);
        }
        return true;
    }

    private async Task AnswerDirectAsync(Mailbox mailbox, MailboxEntry entry, string msgType, string? returnCode)
    {
        if (entry.Answered && entry.AnswerMsgType == msgType && entry.AnswerReturnCode == returnCode) return;
        // As through a message grain: the notice is stored before the MMS is marked answered.
        await NotifyOriginatorAsync(entry, msgType, returnCode);
        var answered = entry with
        {
            Answered = true, Payload = null, AnswerMsgType = msgType, AnswerReturnCode = returnCode, ExpiresAt = AnsweredExpiry(entry),
        };
        await store.UpdateAsync(Udn, answered);
        mailbox.Replace(answered);
        _lastPushed.Remove(entry.Seq);
    }

    private DateTimeOffset AnsweredExpiry(MailboxEntry entry)
    {
        var retained = time.GetUtcNow().AddSeconds(options.Value.AnsweredRetentionSeconds);
        return retained < entry.ExpiresAt ? retained : entry.ExpiresAt;
    }

    private Task NotifyOriginatorAsync(MailboxEntry mms, string msgType, string? returnCode) =>
        GrainFactory.User(mms.From).RelayAnswerAsync(mms.MessageId, msgType, returnCode, time.GetUtcNow().AddSeconds(options.Value.TtlSeconds));

    public Task NotifyAsync(string messageId, string from, IReadOnlyList<KeyValuePair<string, string>> properties, DateTimeOffset expiresAt) =>
        AppendAsync(new MailboxEntry(0, DeliveryKind.Notice, messageId, from, "chat", null, properties, expiresAt, Answered: false));

    public async Task<bool> DeliverPlainAsync(PlainMessage message)
    {
        if (state.State.Credentials is null) return false;
        var expiresAt = time.GetUtcNow().AddSeconds(options.Value.TtlSeconds);
        await AppendAsync(new MailboxEntry(0, DeliveryKind.Plain, message.MessageId ?? string.Empty, message.From, message.StanzaType,
            message.Payload, null, expiresAt, Answered: false));
        return true;
    }

    public async Task ExpireAsync()
    {
        var mailbox = await MailboxAsync();
        var now = time.GetUtcNow();
        foreach (var entry in mailbox.Entries.Where(e => e.ExpiresAt <= now).ToArray())
        {
            if (entry.Kind == DeliveryKind.Mms && !entry.Answered)
            {
                logger.LogInformation("{Udn}: MMS {MessageId} from {Sender} expired undelivered", Udn, entry.MessageId, entry.From);
                if (entry.Direct) await NotifyOriginatorAsync(entry, MmsRules.FailType, MmsRules.ExpiredReturnCode);
                else await GrainFactory.GetGrain<IMessageGrain>(MessageKey.For(entry.From, entry.MessageId)).ExpireAsync(Udn);
            }
            await store.RemoveAsync(Udn, entry.Seq);
            mailbox.Remove(entry.Seq);
            _lastPushed.Remove(entry.Seq);
        }
    }

    private async Task AppendAsync(MailboxEntry entry)
    {
        var mailbox = await MailboxAsync();
        var seq = await store.AppendAsync(Udn, entry);
        var stored = entry with { Seq = seq };
        mailbox.Add(stored);
        Push(stored);
    }
}
