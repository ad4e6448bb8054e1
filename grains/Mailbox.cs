using System.Runtime.InteropServices;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>
/// A user's stored entries in memory, indexed so that storing, answering and confirming one entry costs the same
/// whatever the mailbox holds. Answered MMS stay until their TTL (a late ACK "read" or a retry must find them), so
/// they can outnumber the rest by far: only the entries still waiting are kept in order. Emergency MMS wait in an order
/// of their own, ahead of everything else, so that a login delivers them first however much ordinary mail waits.
/// </summary>
public sealed class Mailbox
{
    private readonly Dictionary<long, MailboxEntry> _bySeq = [];
    private readonly SortedSet<long> _waiting = [];
    private readonly SortedSet<long> _waitingEmergency = [];
    // Answered MMS stay for a day, so this index holds one id per MMS a user received that day: one sequence number
    // inline, a list only for the rare id two senders both used (a List and its array per id were ~90 bytes per MMS
    // kept alive long enough for the GC to promote, at every round trip).
    private readonly Dictionary<string, SeqsOfId> _mmsByMessageId = new(StringComparer.Ordinal);

    /// <summary>The sequence numbers of the MMS stored under one id, oldest first.</summary>
    private struct SeqsOfId
    {
        public long First;
        public List<long>? Later;

        public readonly long Newest => Later is { Count: > 0 } later ? later[^1] : First;
    }

    public Mailbox(IEnumerable<MailboxEntry> entries)
    {
        foreach (var entry in entries) Add(entry);
    }

    public int Count => _bySeq.Count;

    /// <summary>Every entry, in no particular order.</summary>
    public IEnumerable<MailboxEntry> Entries => _bySeq.Values;

    /// <summary>
    /// The entries not yet answered (MMS) or confirmed written (notices, ordinary messages): emergency MMS first, then the
    /// rest, each oldest first.
    /// </summary>
    public IEnumerable<MailboxEntry> Waiting => _waitingEmergency.Concat(_waiting).Select(seq => _bySeq[seq]);

    /// <summary>Whether an emergency MMS waits for its answer.</summary>
    public bool EmergencyWaiting => _waitingEmergency.Count > 0;

    private SortedSet<long> WaitingSet(MailboxEntry entry) => entry.Emergency ? _waitingEmergency : _waiting;

    public void Add(MailboxEntry entry)
    {
        _bySeq[entry.Seq] = entry;
        if (!entry.Answered) WaitingSet(entry).Add(entry.Seq);
        if (entry.Kind != DeliveryKind.Mms) return;
        ref var seqs = ref CollectionsMarshal.GetValueRefOrAddDefault(_mmsByMessageId, entry.MessageId, out var known);
        if (!known) seqs.First = entry.Seq;
        else (seqs.Later ??= []).Add(entry.Seq);
    }

    public MailboxEntry? Get(long seq) => _bySeq.GetValueOrDefault(seq);

    /// <summary>Replaces an entry with a changed copy of itself (same sequence number).</summary>
    public void Replace(MailboxEntry entry)
    {
        _bySeq[entry.Seq] = entry;
        if (entry.Answered) WaitingSet(entry).Remove(entry.Seq);
        else WaitingSet(entry).Add(entry.Seq);
    }

    public void Remove(long seq)
    {
        if (!_bySeq.Remove(seq, out var entry)) return;
        WaitingSet(entry).Remove(seq);
        if (entry.Kind != DeliveryKind.Mms) return;
        ref var seqs = ref CollectionsMarshal.GetValueRefOrNullRef(_mmsByMessageId, entry.MessageId);
        if (seqs.Later is not { Count: > 0 } later)
        {
            _mmsByMessageId.Remove(entry.MessageId);
        }
        else if (seqs.First == seq)
        {
            seqs.First = later[0];
            later.RemoveAt(0);
        }
        else
        {
            later.Remove(seq);
        }
    }

    /// <summary>The MMS this sender sent under this id, if stored.</summary>
    public MailboxEntry? FindMms(string from, string messageId)
    {
        if (!_mmsByMessageId.TryGetValue(messageId, out var seqs)) return null;
        if (_bySeq[seqs.First].From == from) return _bySeq[seqs.First];
        foreach (var seq in seqs.Later ?? [])
        {
            if (_bySeq[seq].From == from) return _bySeq[seq];
        }
        return null;
    }

    /// <summary>
    /// The MMS an answer with this id is meant for: ids are the senders', so should two senders have used the same id,
    /// the oldest unanswered one; when all are answered, the newest.
    /// </summary>
    public MailboxEntry? FindMmsToAnswer(string messageId)
    {
        if (!_mmsByMessageId.TryGetValue(messageId, out var seqs)) return null;
        if (!_bySeq[seqs.First].Answered) return _bySeq[seqs.First];
        foreach (var seq in seqs.Later ?? [])
        {
            if (!_bySeq[seq].Answered) return _bySeq[seq];
        }
        return _bySeq[seqs.Newest];
    }
}
