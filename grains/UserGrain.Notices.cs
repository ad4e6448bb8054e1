using Mmss.GrainInterfaces;
using Mmss.Grains.Diagnostics;

namespace Mmss.Grains;

/// <summary>
/// The notices this user gets as an originator (the ACK/FAIL of its MMS) and the ordinary messages sent to it. One to a
/// user with a live session is written first and stored only if the gateway has not confirmed writing it within
/// <see cref="MailboxOptions.NoticeConfirmWaitMilliseconds"/>: storing what is then written at once and deleted cost two
/// of the four durable writes of an MMS round trip, and all four of a chat message and its reply. The caller's task
/// still completes only once it is written or stored, so nothing acknowledged is lost with this silo: an ordinary
/// message's sender hears of it no earlier (its gateway counts the message handled only then), and the answer a notice
/// relays is recorded on the recipient's side first and relayed again (<see cref="RelayAgainAsync"/>,
/// <see cref="LoadMailboxAsync"/>).
/// </summary>
public sealed partial class UserGrain
{
    /// <summary>Notices and ordinary messages written but not (yet) stored, by the negative sequence number their delivery carries.</summary>
    // Null until first used: an idle terminal's grain holds no empty collections.
    private Dictionary<long, UnstoredDelivery>? _unstored;

    /// <summary>
    /// Counts down from the activation's start time in ticks rather than from 0, so that a confirmation of a delivery from an
    /// earlier activation (a gateway still holding it across a silo's restart) cannot settle a new one by number.
    /// </summary>
    private long _lastUnstoredSeq = -time.GetUtcNow().UtcTicks;

    private sealed class UnstoredDelivery(MailboxEntry entry)
    {
        public MailboxEntry Entry { get; } = entry;

        public TaskCompletionSource Written { get; } = new();

        /// <summary>Its row's sequence number once stored after the wait; 0 while it is not.</summary>
        public long StoredSeq { get; set; }

        /// <summary>Its storing after the wait, once begun (by its own wait's end or by a later one's).</summary>
        public Task? Storing { get; set; }
    }

    public Task NotifyAsync(string messageId, string from, IReadOnlyList<KeyValuePair<string, string>> properties, DateTimeOffset expiresAt) =>
        WriteOrStoreAsync(new MailboxEntry(0, DeliveryKind.Notice, messageId, from, "chat", null, properties, expiresAt, Answered: false));

    /// <summary>
    /// Completes once <paramref name="entry"/> (a notice or an ordinary message, done once written) is written to a live
    /// session and confirmed, or stored: at once without a live session, after the wait when no confirmation came.
    /// </summary>
    private async Task WriteOrStoreAsync(MailboxEntry entry)
    {
        var wait = options.Value.NoticeConfirmWaitMilliseconds;
        if (wait == 0 || LiveSessions().Count == 0)
        {
            await AppendAsync(entry);
            return;
        }
        // Negative, so that it can never be taken for a stored row's sequence number.
        var unstored = new UnstoredDelivery(entry with { Seq = --_lastUnstoredSeq });
        (_unstored ??= []).Add(unstored.Entry.Seq, unstored);
        Push(unstored.Entry);
        try
        {
            await unstored.Written.Task.WaitAsync(TimeSpan.FromMilliseconds(wait), time);
        }
        catch (TimeoutException)
        {
            await StoreUnconfirmedAsync(unstored);
        }
    }

    public Task ReceiveAnswerAsync(string messageId, string msgType, string? returnCode) =>
        NotifyAsync(messageId, MmsRules.NoticeSender(msgType), MmsRules.NoticeProperties(msgType, returnCode),
            time.GetUtcNow().AddSeconds(options.Value.TtlSeconds));

    /// <summary>
    /// Not confirmed in time (a slow or dead connection, a terminal slow to acknowledge): stored, and written again with
    /// the next session's backlog. A confirmation arriving later still removes it. Stored in the order they were written
    /// (their numbers count down), so that a backlog gives them in that order too: the end of one wait stores those
    /// written before it first.
    /// </summary>
    private async Task StoreUnconfirmedAsync(UnstoredDelivery delivery)
    {
        var mailbox = await MailboxAsync();
        if (_unstored is null) return;
        foreach (var waiting in _unstored.Select(p => p.Value).Where(d => d.Entry.Seq >= delivery.Entry.Seq).OrderByDescending(d => d.Entry.Seq))
        {
            if (waiting.Storing is null && !waiting.Written.Task.IsCompleted) waiting.Storing = StoreAsync(mailbox, waiting);
        }
        if (delivery.Storing is { } storing) await storing;
    }

    private async Task StoreAsync(Mailbox mailbox, UnstoredDelivery delivery)
    {
        long seq;
        try
        {
            seq = await store.AppendAsync(Udn, delivery.Entry with { Seq = 0 });
        }
        catch
        {
            // The caller fails (a relay is tried again with a notice of its own, an ordinary message's sender gets an
            // error); this one is owed no more.
            _unstored?.Remove(delivery.Entry.Seq);
            throw;
        }
        if (delivery.Written.Task.IsCompleted)
        {
            // Confirmed while it was being stored.
            await store.RemoveAsync(Udn, seq);
            return;
        }
        delivery.StoredSeq = seq;
        mailbox.Add(delivery.Entry with { Seq = seq });
        MmssMetrics.MailboxHolds(mailbox.Count);
    }

    /// <summary>
    /// Settles the unstored deliveries among <paramref name="seqs"/>; returns the stored rows' sequence numbers in their
    /// place (those stored after the wait, confirmed under the number they were first written with).
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
            else if (unstored.Remove(seq, out var delivery))
            {
                delivery.Written.TrySetResult();
                if (delivery.StoredSeq != 0) rows.Add(delivery.StoredSeq);
            }
        }
        return rows.ToArray();
    }

    /// <summary>A delivery stored after the wait and confirmed under its stored number: its first number settles nothing more.</summary>
    private void ForgetStoredUnder(long storedSeq)
    {
        if (_unstored is null) return;
        foreach (var (seq, delivery) in _unstored)
        {
            if (delivery.StoredSeq != storedSeq) continue;
            _unstored.Remove(seq);
            return;
        }
    }

    /// <summary>What was written to a session but neither confirmed nor stored: a new session gets it too.</summary>
    private IEnumerable<Delivery> UnstoredWaiting()
    {
        if (_unstored is null) yield break;
        // Not _unstored.Values: the dictionary would keep that collection object for as long as it lives.
        foreach (var (_, delivery) in _unstored)
        {
            if (delivery.StoredSeq == 0 && !delivery.Written.Task.IsCompleted) yield return delivery.Entry.ToDelivery();
        }
    }
}
