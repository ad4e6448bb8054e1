using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces;
using Mmss.Grains.Diagnostics;
using Mmss.Grains.Relay;

namespace Mmss.Grains;

/// <summary>The stored MMS, notices and ordinary messages of the user, one row each.</summary>
public sealed partial class UserGrain
{
    private Mailbox? _mailbox;
    private Task<Mailbox>? _mailboxLoad;

    /// <summary>MMS (sender, id) whose storing failed with its outcome unknown: possibly stored, so looked up before storing again.</summary>
    private HashSet<(string From, string MessageId)>? _maybeStored;

    // Loaded once: NotifyAsync interleaves, so two calls may ask for the mailbox before the first load completes.
    // A failed load is not kept: the next call tries again rather than failing until the grain is collected.
    private Task<Mailbox> MailboxAsync() =>
        _mailboxLoad is { IsFaulted: false, IsCanceled: false } loading ? loading : _mailboxLoad = LoadMailboxAsync();

    private async Task<Mailbox> LoadMailboxAsync()
    {
        var mailbox = _mailbox = new Mailbox(await store.LoadAsync(Udn));
        var recent = RecentAnswers(mailbox).ToArray();
        // The older answers were relayed by an activation before this one (or by none, past recovering): settled at once.
        var recentSeqs = recent.Select(e => e.Seq).ToHashSet();
        var older = mailbox.Entries.Where(e => e is { Kind: DeliveryKind.Mms, Answered: true } && !recentSeqs.Contains(e.Seq)).ToArray();
        foreach (var entry in older) mailbox.Settle(entry.Seq, entry.AnswerMsgType, entry.AnswerReturnCode, relayedHere: false);
        // Not awaited here: relaying may call this grain itself (an MMS to oneself), which waits for this load.
        if (recent.Length > 0) _ = RelayRecentAnswersAgainAsync(recent);
        return mailbox;
    }

    /// <summary>
    /// How far back a new activation relays recorded answers again: shorter than the idle time after which a user grain
    /// is collected (<see cref="UserGrain"/>'s collection age), so an answer this recent means the previous activation
    /// ended otherwise — its silo died, perhaps before relaying it — and long enough for the cluster to declare the silo
    /// dead and for someone (the gateways' resynchronisation, a login, a new message) to call the grain again. An
    /// originator may get such an answer twice (after a rolling restart, say); it never goes without it.
    /// </summary>
    private static readonly TimeSpan AnswerRelayRecovery = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The MMS answered within <see cref="AnswerRelayRecovery"/> and not settled: the answers that may still need relaying
    /// (a settled one's reached its originator).
    /// </summary>
    private IEnumerable<MailboxEntry> RecentAnswers(Mailbox mailbox)
    {
        var cutoff = AnswerRelayCutoff();
        return mailbox.Entries.Where(e => e is { Kind: DeliveryKind.Mms, Answered: true, AnswerMsgType: not null } && e.AnsweredAt >= cutoff);
    }

    /// <summary>Answers recorded since this may not have reached their originators (<see cref="AnswerRelayRecovery"/>).</summary>
    private DateTimeOffset AnswerRelayCutoff() => time.GetUtcNow() - AnswerRelayRecovery;

    private async Task RelayRecentAnswersAgainAsync(IReadOnlyList<MailboxEntry> answered)
    {
        logger.LogInformation("{Udn}: relaying {Count} answers recorded just before this activation again", Udn, answered.Count);
        foreach (var entry in answered)
        {
            try
            {
                await RelayAnswerAsync(entry, entry.AnswerMsgType!, entry.AnswerReturnCode);
            }
            catch (Exception e)
            {
                logger.LogWarning("{Udn}: answer to {MessageId} could not be relayed again: {Reason}", Udn, entry.MessageId, e.Message);
            }
        }
    }

    /// <summary>
    /// To the originator's user grain for a one-to-one MMS, else to the message grain that aggregates the group. A relay
    /// that fails is tried again by this grain (<see cref="RelayAgainAsync"/>): the caller may retry too, but it may not
    /// live to — a gateway retrying a terminal's ACK dies with its process — and the originator would wait for an answer
    /// that is recorded. Once relayed, the MMS is settled (<see cref="Mailbox.Settle"/>).
    /// </summary>
    private async Task RelayAnswerAsync(MailboxEntry mms, string msgType, string? returnCode)
    {
        try
        {
            if (mms.Direct) await NotifyOriginatorAsync(mms, msgType, returnCode);
            else await GrainFactory.Reference<IMessageGrain>(MessageKey.For(mms.From, mms.MessageId)).AnswerAsync(Udn, msgType, returnCode);
        }
        catch
        {
            _relayAgain ??= this.RegisterGrainTimer(RelayAgainAsync, RelayAgainPeriod, RelayAgainPeriod);
            throw;
        }
        _mailbox?.Settle(mms.Seq, msgType, returnCode, relayedHere: true);
    }

    /// <summary>
    /// Relays a recorded answer without holding up the answering terminal: the originator's grain completes only once its
    /// notice is written or stored, which can take <see cref="MailboxOptions.NoticeConfirmWaitMilliseconds"/> (a slow link,
    /// a terminal slow to acknowledge, an MMS to oneself whose answer waits behind itself). Recorded first, the answer is
    /// this grain's to relay from here: a failure arms <see cref="RelayAgainAsync"/>, an activation lost in between
    /// leaves it to the next one (<see cref="LoadMailboxAsync"/>).
    /// </summary>
    private void RelayAnswerBehind(MailboxEntry mms, string msgType, string? returnCode) => _ = RelayAnswerLoggedAsync(mms, msgType, returnCode);

    private async Task RelayAnswerLoggedAsync(MailboxEntry mms, string msgType, string? returnCode)
    {
        try
        {
            await RelayAnswerAsync(mms, msgType, returnCode);
        }
        catch (Exception e)
        {
            logger.LogWarning("{Udn}: answer {MsgType} to {MessageId} not relayed yet, retrying: {Reason}", Udn, msgType, mms.MessageId, e.Message);
        }
    }

    private IGrainTimer? _relayAgain;

    private static readonly TimeSpan RelayAgainPeriod = TimeSpan.FromSeconds(5);

    /// <summary>Relays the recorded answers not relayed yet (within <see cref="AnswerRelayRecovery"/>) until none is left.</summary>
    private async Task RelayAgainAsync(CancellationToken cancellationToken)
    {
        var unrelayed = _mailbox is null ? [] : RecentAnswers(_mailbox).ToArray();
        foreach (var entry in unrelayed)
        {
            try
            {
                await RelayAnswerAsync(entry, entry.AnswerMsgType!, entry.AnswerReturnCode);
                logger.LogInformation("{Udn}: answer {MsgType} to {MessageId} relayed after a retry", Udn, entry.AnswerMsgType, entry.MessageId);
            }
            catch (Exception e)
            {
                logger.LogDebug("{Udn}: answer to {MessageId} still not relayed: {Reason}", Udn, entry.MessageId, e.Message);
                return;
            }
        }
        _relayAgain?.Dispose();
        _relayAgain = null;
    }

    public async Task<SubmitOutcome?> SubmitMmsAsync(MmsSubmission submission)
    {
        using var logScope = logScopes.ForMessage(logger, submission.Sender, submission.MessageId);
        if (state.State.Credentials is null) return null;
        if (MmsRules.Validate(submission) is { } malformed) return SubmitOutcome.Failed(FailCode.Malformed, malformed);
        var hash = MmsRules.ContentHash(submission);
        var mailbox = await MailboxAsync();
        if (await FindMmsAsync(mailbox, submission.Sender, submission.MessageId) is { } known)
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
        // An MMS from another domain's user that is a copy of a group MMS there: its answer goes back marked with the group.
        var origin = peers.FindByUdn(submission.Sender);
        var remoteGroup = submission.MsgGroup is not null && origin is not null ? submission.MsgGroup : null;
        await AppendAsync(new MailboxEntry(0, DeliveryKind.Mms, submission.MessageId, submission.Sender, MmsRules.SharedStanzaType(submission.StanzaType),
            submission.Payload, null, expiresAt, Answered: false, Direct: true, ContentHash: hash, Group: remoteGroup,
            Emergency: submission.Emergency), submitted: true);
        if (origin is not null) events.Relayed(submission.Sender, submission.MessageId, Udn, origin.Domain, outbound: false);
        return SubmitOutcome.Stored("stored for the recipient");
    }

    public async Task<MmsAcceptance> AcceptMmsAsync(string sender, MmsSubmission submission, DateTimeOffset expiresAt,
        IReadOnlyList<KeyValuePair<string, string>>? addedProperties = null)
    {
        if (state.State.Credentials is null) return MmsAcceptance.Unknown;
        var mailbox = await MailboxAsync();
        // A message grain that resumes a fan-out after a crash must not store a second copy.
        if (await FindMmsAsync(mailbox, sender, submission.MessageId) is null)
        {
            await AppendAsync(new MailboxEntry(0, DeliveryKind.Mms, submission.MessageId, sender, MmsRules.SharedStanzaType(submission.StanzaType),
                submission.Payload, addedProperties, expiresAt, Answered: false, Emergency: submission.Emergency));
        }
        return LiveSessions().Count > 0 ? MmsAcceptance.Online : MmsAcceptance.StoredOffline;
    }

    public async Task<bool> AnswerAsync(string messageId, string msgType, string? returnCode)
    {
        using var logScope = logScopes.ForMessage(logger, Udn, messageId);
        var mailbox = await MailboxAsync();
        var entry = mailbox.FindMmsToAnswer(messageId);
        SettledMms? settled = null;
        // All answered: the newest of them, which may be settled.
        if (entry is null or { Answered: true } && await FindSettledAsync(mailbox, messageId, from: null, after: entry?.Seq ?? 0) is { } found)
            (entry, settled) = found;
        if (entry is null) return false;
        msgType = MmsRules.Shared(msgType);
        returnCode = MmsRules.Shared(returnCode);
        if (entry.Answered && entry.AnswerMsgType == msgType && entry.AnswerReturnCode == returnCode)
        {
            // The same answer again: the terminal's first crossed a redelivery, or the gateway retries one it could not
            // see recorded. Relayed unless this activation already did (a settled MMS's answer reached its originator);
            // the message grain counts a member's answer once anyway.
            if (!entry.Direct || settled is not { RelayedHere: true }) RelayAnswerBehind(entry, msgType, returnCode);
            return true;
        }
        if (settled is { } changed)
        {
            // A different answer (a read report after the delivery ACK, say): an entry again until it is relayed.
            mailbox.RemoveSettled(changed);
            mailbox.Add(entry);
        }
        // Recorded before it is relayed, so the MMS is never written to the terminal again once answered; an activation
        // dying in between leaves a recent AnsweredAt, which the next activation relays again (LoadMailboxAsync).
        var answered = entry with
        {
            Answered = true, Payload = null, AnswerMsgType = msgType, AnswerReturnCode = returnCode,
            AnsweredAt = time.GetUtcNow(), ExpiresAt = entry.Answered ? entry.ExpiresAt : AnsweredExpiry(entry),
        };
        await store.UpdateAsync(Udn, answered);
        mailbox.Replace(answered);
        _lastPushed?.Remove(entry.Seq);
        _deliveredRaised?.Remove(entry.Seq);
        events.Answered(entry.From, messageId, Udn, msgType, returnCode);
        MmssMetrics.Answered(msgType, returnCode);
        // An MMS's expiry is set at its storing (the TTL after it), which tells when it was stored.
        if (!entry.Answered) MmssMetrics.AnsweredAfter(answered.AnsweredAt!.Value - entry.ExpiresAt.AddSeconds(-options.Value.TtlSeconds));
        RelayAnswerBehind(answered, msgType, returnCode);
        return true;
    }

    private DateTimeOffset AnsweredExpiry(MailboxEntry entry)
    {
        var retained = time.GetUtcNow().AddSeconds(options.Value.AnsweredRetentionSeconds);
        return retained < entry.ExpiresAt ? retained : entry.ExpiresAt;
    }

    private Task NotifyOriginatorAsync(MailboxEntry mms, string msgType, string? returnCode) =>
        AnswerRoute.ToOriginatorAsync(GrainFactory, peers, mms.From, mms.MessageId, Udn, msgType, returnCode, mms.Group,
            time.GetUtcNow().AddSeconds(options.Value.TtlSeconds));

    public async Task<bool> DeliverPlainAsync(PlainMessage message)
    {
        if (state.State.Credentials is null) return false;
        var expiresAt = time.GetUtcNow().AddSeconds(options.Value.TtlSeconds);
        await WriteOrStoreAsync(new MailboxEntry(0, DeliveryKind.Plain, message.MessageId ?? string.Empty, message.From, message.StanzaType,
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
                events.Expired(entry.From, entry.MessageId, Udn);
                MmssMetrics.Expired();
                if (entry.Direct) await NotifyOriginatorAsync(entry, MmsRules.FailType, MmsRules.ExpiredReturnCode);
                else await GrainFactory.Reference<IMessageGrain>(MessageKey.For(entry.From, entry.MessageId)).ExpireAsync(Udn);
            }
            await store.RemoveAsync(Udn, entry.Seq);
            mailbox.Remove(entry.Seq);
            _lastPushed?.Remove(entry.Seq);
            _deliveredRaised?.Remove(entry.Seq);
        }
        foreach (var settled in mailbox.SettledExpired(now))
        {
            await store.RemoveAsync(Udn, settled.Seq);
            mailbox.RemoveSettled(settled);
        }
        ReleaseEmptyCollections(mailbox);
    }

    /// <summary>
    /// Drops the collections left empty, with their arrays: a user's MMS expire a day after the last, so an idle user's
    /// grain ends up holding none. Here rather than at each removal: most of them empty at every answer or confirmation,
    /// and would be allocated again at the next message.
    /// </summary>
    private void ReleaseEmptyCollections(Mailbox mailbox)
    {
        mailbox.ReleaseEmpty();
        if (_lastPushed is { Count: 0 }) _lastPushed = null;
        if (_deliveredRaised is { Count: 0 }) _deliveredRaised = null;
        if (_unstored is { Count: 0 }) _unstored = null;
    }

    /// <summary>
    /// The MMS stored under this sender and id: in memory, settled (read from the store), or in the store when an earlier
    /// attempt to store it came back with its outcome unknown (it may have committed, and is then added and pushed as if
    /// just stored).
    /// </summary>
    private async ValueTask<MailboxEntry?> FindMmsAsync(Mailbox mailbox, string from, string messageId)
    {
        if (mailbox.FindMms(from, messageId) is { } known) return known;
        if (await FindSettledAsync(mailbox, messageId, from, after: 0) is { } settled) return settled.Entry;
        if (_maybeStored is null || !_maybeStored.Contains((from, messageId))) return null;
        var stored = (await store.LoadAsync(Udn)).FirstOrDefault(e => e.Kind == DeliveryKind.Mms && e.From == from && e.MessageId == messageId);
        _maybeStored.Remove((from, messageId));
        if (stored is null || mailbox.FindMms(from, messageId) is not null) return mailbox.FindMms(from, messageId);
        logger.LogInformation("{Udn}: MMS {MessageId} from {From}, whose storing had an unknown outcome, was stored", Udn, messageId, from);
        mailbox.Add(stored);
        Push(stored);
        return stored;
    }

    /// <summary>
    /// The newest settled MMS with this id (and sender, if given) stored after <paramref name="after"/>, read from the
    /// store: the mailbox knows only a hash of its id. Costs no read for an id no settled MMS may have.
    /// </summary>
    private async ValueTask<(MailboxEntry Entry, SettledMms Settled)?> FindSettledAsync(Mailbox mailbox, string messageId, string? from, long after)
    {
        var candidates = mailbox.SettledUnder(messageId);
        if (candidates.Length == 0) return null;
        foreach (var settled in candidates.Where(s => s.Seq > after).OrderByDescending(s => s.Seq))
        {
            if (await store.FindAsync(Udn, settled.Seq) is { Kind: DeliveryKind.Mms } entry && entry.MessageId == messageId && (from is null || entry.From == from))
                return (entry, settled);
        }
        return null;
    }

    /// <param name="submitted">a one-to-one MMS submitted straight to this grain: its "submitted" event is raised here,
    /// once it is stored and ahead of its "delivered" or "stored" event</param>
    private async Task AppendAsync(MailboxEntry entry, bool submitted = false)
    {
        var mailbox = await MailboxAsync();
        long seq;
        try
        {
            seq = await store.AppendAsync(Udn, entry);
        }
        catch (StorageOutcomeUnknownException) when (entry.Kind == DeliveryKind.Mms)
        {
            (_maybeStored ??= []).Add((entry.From, entry.MessageId));
            throw;
        }
        var stored = entry with { Seq = seq };
        mailbox.Add(stored);
        MmssMetrics.MailboxHolds(mailbox.Count);
        if (submitted)
        {
            events.Submitted(entry.From, entry.MessageId, Udn, group: false, entry.Emergency);
            MmssMetrics.Submitted(group: false);
        }
        Push(stored);
        if (stored.Kind == DeliveryKind.Mms && LiveSessions().Count == 0) events.Stored(entry.From, entry.MessageId, Udn);
        if (stored.Kind == DeliveryKind.Mms && LiveSessions().Count == 0) MmssMetrics.Stored();
    }
}
