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
    // Null until first used: an idle terminal's grain keeps its mailbox loaded, and should hold no empty collections.
    // The others index only what _bySeq holds, so it is not null while they hold anything.
    private Dictionary<long, MailboxEntry>? _bySeq;
    private SortedSet<long>? _waiting;
    private SortedSet<long>? _waitingEmergency;
    // Answered MMS stay for a day, so this index holds one id per MMS a user received that day: one sequence number
    // inline, a list only for the rare id two senders both used (a List and its array per id were ~90 bytes per MMS
    // kept alive long enough for the GC to promote, at every round trip).
    private Dictionary<string, SeqsOfId>? _mmsByMessageId;

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

    public int Count => _bySeq?.Count ?? 0;

    /// <summary>Every entry, in no particular order.</summary>
    // Not _bySeq.Values: the dictionary would keep that collection object for as long as it lives.
    public IEnumerable<MailboxEntry> Entries
    {
        get
        {
            if (_bySeq is null) yield break;
            foreach (var (_, entry) in _bySeq) yield return entry;
        }
    }

    /// <summary>
    /// The entries not yet answered (MMS) or confirmed written (notices, ordinary messages): emergency MMS first, then the
    /// rest, each oldest first.
    /// </summary>
    public IEnumerable<MailboxEntry> Waiting
    {
        get
        {
            if (_waitingEmergency is not null)
            {
                foreach (var seq in _waitingEmergency) yield return _bySeq![seq];
            }
            if (_waiting is not null)
            {
                foreach (var seq in _waiting) yield return _bySeq![seq];
            }
        }
    }

    /// <summary>Whether an emergency MMS waits for its answer.</summary>
    public bool EmergencyWaiting => _waitingEmergency is { Count: > 0 };

    private SortedSet<long> WaitingSet(MailboxEntry entry) => entry.Emergency ? _waitingEmergency ??= [] : _waiting ??= [];

    private SortedSet<long>? WaitingSetIfAny(MailboxEntry entry) => entry.Emergency ? _waitingEmergency : _waiting;

    public void Add(MailboxEntry entry)
    {
        (_bySeq ??= [])[entry.Seq] = entry;
        if (!entry.Answered) WaitingSet(entry).Add(entry.Seq);
        if (entry.Kind != DeliveryKind.Mms) return;
        ref var seqs = ref CollectionsMarshal.GetValueRefOrAddDefault(_mmsByMessageId ??= new(StringComparer.Ordinal), entry.MessageId, out var known);
        if (!known) seqs.First = entry.Seq;
        else (seqs.Later ??= []).Add(entry.Seq);
    }

    public MailboxEntry? Get(long seq) => _bySeq?.GetValueOrDefault(seq);

    /// <summary>Replaces an entry with a changed copy of itself (same sequence number).</summary>
    public void Replace(MailboxEntry entry)
    {
        (_bySeq ??= [])[entry.Seq] = entry;
        if (entry.Answered) WaitingSetIfAny(entry)?.Remove(entry.Seq);
        else WaitingSet(entry).Add(entry.Seq);
    }

    public void Remove(long seq)
    {
        if (_bySeq is null || !_bySeq.Remove(seq, out var entry)) return;
        WaitingSetIfAny(entry)?.Remove(seq);
        if (entry.Kind != DeliveryKind.Mms) return;
        var byId = _mmsByMessageId!;
        ref var seqs = ref CollectionsMarshal.GetValueRefOrNullRef(byId, entry.MessageId);
        if (seqs.Later is not { Count: > 0 } later)
        {
            byId.Remove(entry.MessageId);
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

    /// <summary>
    /// Lets go of the collections emptied, arrays and all, so that a mailbox whose last entry expired costs what an
    /// unused one does. Not done at each removal: a notice or ordinary message is stored and removed at each delivery,
    /// and the dictionary would be allocated again for every one.
    /// </summary>
    public void ReleaseEmpty()
    {
        if (_bySeq is { Count: 0 }) _bySeq = null;
        if (_waiting is { Count: 0 }) _waiting = null;
        if (_waitingEmergency is { Count: 0 }) _waitingEmergency = null;
        if (_mmsByMessageId is { Count: 0 }) _mmsByMessageId = null;
    }

    /// <summary>The MMS this sender sent under this id, if stored.</summary>
    public MailboxEntry? FindMms(string from, string messageId)
    {
        if (_mmsByMessageId is null || !_mmsByMessageId.TryGetValue(messageId, out var seqs)) return null;
        var bySeq = _bySeq!;
        if (bySeq[seqs.First].From == from) return bySeq[seqs.First];
        // Not `seqs.Later ?? []`: that allocates an empty list at each call.
        if (seqs.Later is not { } later) return null;
        foreach (var seq in later)
        {
            if (bySeq[seq].From == from) return bySeq[seq];
        }
        return null;
    }

    /// <summary>
    /// The MMS an answer with this id is meant for: ids are the senders', so should two senders have used the same id,
    /// the oldest unanswered one; when all are answered, the newest.
    /// </summary>
    public MailboxEntry? FindMmsToAnswer(string messageId)
    {
        if (_mmsByMessageId is null || !_mmsByMessageId.TryGetValue(messageId, out var seqs)) return null;
        var bySeq = _bySeq!;
        if (!bySeq[seqs.First].Answered) return bySeq[seqs.First];
        if (seqs.Later is { } later)
        {
            foreach (var seq in later)
            {
                if (!bySeq[seq].Answered) return bySeq[seq];
            }
        }
        return bySeq[seqs.Newest];
    }
}
