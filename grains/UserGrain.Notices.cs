using Mmss.GrainInterfaces;
using Mmss.Grains.Diagnostics;

namespace Mmss.Grains;

/// <summary>
/// The notices this user gets as an originator (the ACK/FAIL of its MMS). One to a user with a live session is written
/// first and stored only if the gateway has not confirmed writing it within
/// <see cref="MailboxOptions.NoticeConfirmWaitMilliseconds"/>: storing a notice that is then written at once and
/// deleted cost two of the four durable writes of an MMS round trip. The caller's task still completes only once the
/// notice is written or stored, and the answer it relays is recorded on the recipient's side first, so a notice lost
/// with this silo in between is relayed again (<see cref="RelayAgainAsync"/>, <see cref="LoadMailboxAsync"/>).
/// </summary>
public sealed partial class UserGrain
{
    /// <summary>Notices written but not (yet) stored, by the negative sequence number their delivery carries.</summary>
    // Null until first used: an idle terminal's grain holds no empty collections.
    private Dictionary<long, UnstoredNotice>? _unstored;

    /// <summary>
    /// Counts down from the activation's start time in ticks rather than from 0, so that a confirmation of a notice from an
    /// earlier activation (a gateway still holding it across a silo's restart) cannot settle a new notice by number.
    /// </summary>
    private long _lastUnstoredSeq = -time.GetUtcNow().UtcTicks;

    private sealed class UnstoredNotice(MailboxEntry entry)
    {
        public MailboxEntry Entry { get; } = entry;

        public TaskCompletionSource Written { get; } = new();

        /// <summary>Its row's sequence number once stored after the wait; 0 while it is not.</summary>
        public long StoredSeq { get; set; }
    }

    public async Task NotifyAsync(string messageId, string from, IReadOnlyList<KeyValuePair<string, string>> properties, DateTimeOffset expiresAt)
    {
        var entry = new MailboxEntry(0, DeliveryKind.Notice, messageId, from, "chat", null, properties, expiresAt, Answered: false);
        var wait = options.Value.NoticeConfirmWaitMilliseconds;
        if (wait == 0 || LiveSessions().Count == 0)
        {
            await AppendAsync(entry);
            return;
        }
        // Negative, so that it can never be taken for a stored row's sequence number.
        var notice = new UnstoredNotice(entry with { Seq = --_lastUnstoredSeq });
        (_unstored ??= []).Add(notice.Entry.Seq, notice);
        Push(notice.Entry);
        try
        {
            await notice.Written.Task.WaitAsync(TimeSpan.FromMilliseconds(wait), time);
        }
        catch (TimeoutException)
        {
            await StoreUnconfirmedAsync(notice);
        }
    }

    public Task ReceiveAnswerAsync(string messageId, string msgType, string? returnCode) =>
        NotifyAsync(messageId, MmsRules.NoticeSender(msgType), MmsRules.NoticeProperties(msgType, returnCode),
            time.GetUtcNow().AddSeconds(options.Value.TtlSeconds));

    /// <summary>
    /// Not confirmed in time (a slow or dead connection, a terminal slow to acknowledge): stored as any notice, and written
    /// again with the next session's backlog. A confirmation arriving later still removes it.
    /// </summary>
    private async Task StoreUnconfirmedAsync(UnstoredNotice notice)
    {
        var mailbox = await MailboxAsync();
        long seq;
        try
        {
            seq = await store.AppendAsync(Udn, notice.Entry with { Seq = 0 });
        }
        catch
        {
            // The caller's relay fails and is tried again with a notice of its own; this one is owed no more.
            _unstored?.Remove(notice.Entry.Seq);
            throw;
        }
        if (notice.Written.Task.IsCompleted)
        {
            // Confirmed while it was being stored.
            await store.RemoveAsync(Udn, seq);
            return;
        }
        notice.StoredSeq = seq;
        mailbox.Add(notice.Entry with { Seq = seq });
        MmssMetrics.MailboxHolds(mailbox.Count);
    }

    /// <summary>
    /// Settles the unstored notices among <paramref name="seqs"/>; returns the stored rows' sequence numbers in their place
    /// (notices stored after the wait, confirmed under the number they were first written with).
    /// </summary>
    private long[] ConfirmUnstored(long[] seqs)
    {
        if (_unstored is not { Count: > 0 } unstored) return seqs;
        var rows = new List<long>(seqs.Length);
        foreach (var seq in seqs)
        {
            if (seq > 0)
            {
                rows.Add(seq);
                ForgetStoredUnder(seq);
            }
            else if (unstored.Remove(seq, out var notice))
            {
                notice.Written.TrySetResult();
                if (notice.StoredSeq != 0) rows.Add(notice.StoredSeq);
            }
        }
        return rows.ToArray();
    }

    /// <summary>A notice stored after the wait and confirmed under its stored number: its first number settles nothing more.</summary>
    private void ForgetStoredUnder(long storedSeq)
    {
        if (_unstored is null) return;
        foreach (var (seq, notice) in _unstored)
        {
            if (notice.StoredSeq != storedSeq) continue;
            _unstored.Remove(seq);
            return;
        }
    }

    /// <summary>The notices written to a session but neither confirmed nor stored: a new session gets them too.</summary>
    private IEnumerable<Delivery> UnstoredWaiting()
    {
        if (_unstored is null) yield break;
        // Not _unstored.Values: the dictionary would keep that collection object for as long as it lives.
        foreach (var (_, notice) in _unstored)
        {
            if (notice.StoredSeq == 0 && !notice.Written.Task.IsCompleted) yield return notice.Entry.ToDelivery();
        }
    }
}
