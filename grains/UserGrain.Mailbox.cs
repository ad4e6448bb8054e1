using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>The stored MMS, notices and ordinary messages of the user, one row each.</summary>
public sealed partial class UserGrain
{
    private Mailbox? _mailbox;

    private async ValueTask<Mailbox> MailboxAsync() => _mailbox ??= new Mailbox(await store.LoadAsync(Udn));

    public async Task<bool> AcceptMmsAsync(string sender, MmsSubmission submission, DateTimeOffset expiresAt,
        IReadOnlyList<KeyValuePair<string, string>>? addedProperties = null)
    {
        if (state.State.Credentials is null) return false;
        var mailbox = await MailboxAsync();
        // A message grain that resumes a fan-out after a crash must not store a second copy.
        if (mailbox.ContainsMms(sender, submission.MessageId)) return true;
        await AppendAsync(new MailboxEntry(0, DeliveryKind.Mms, submission.MessageId, sender, submission.StanzaType,
            submission.Payload, addedProperties, expiresAt, Answered: false));
        return true;
    }

    public async Task<bool> AnswerAsync(string messageId, string msgType, string? returnCode)
    {
        var mailbox = await MailboxAsync();
        if (mailbox.FindMmsToAnswer(messageId) is not { } entry) return false;
        // The originator's notice is stored before the MMS is marked answered: a crash in between re-sends the
        // MMS (and the terminal answers again) rather than losing the answer.
        await GrainFactory.GetGrain<IMessageGrain>(MessageKey.For(entry.From, messageId)).AnswerAsync(Udn, msgType, returnCode);
        if (!entry.Answered)
        {
            var answered = entry with { Answered = true, Payload = null };
            await store.UpdateAsync(Udn, answered);
            mailbox.Replace(answered);
            _lastPushed.Remove(entry.Seq);
        }
        return true;
    }

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
                await GrainFactory.GetGrain<IMessageGrain>(MessageKey.For(entry.From, entry.MessageId)).ExpireAsync(Udn);
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
