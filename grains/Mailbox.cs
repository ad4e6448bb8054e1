using System.Runtime.InteropServices;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>
/// A user's stored entries in memory, indexed so that storing, answering and confirming one entry costs the same
/// whatever the mailbox holds. Answered MMS stay until their TTL (a late ACK "read" or a retry must find them), so
/// they can outnumber the rest by far: only the entries still waiting are kept in order, and an answered MMS whose
/// answer reached its originator is <see cref="Settle">settled</see>: kept as a few numbers that find its row in the
/// store again, not as an entry. Emergency MMS wait in an order of their own, ahead of everything else, so that a login
/// delivers them first however much ordinary mail waits.
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

    /// <summary>
    /// Settled MMS by a hash of their id. An answered MMS stayed in memory a day as an entry with its strings and index
    /// slots — objects that live long enough for the GC to promote them twice, at every round trip; these are plain
    /// numbers in arrays the GC does not scan. The hash only narrows the search: a match is read from the store and
    /// compared there.
    /// </summary>
    private Dictionary<ulong, SettledMms>? _settled;
    // The rare second settled MMS under one hash (the same id from two senders, or a collision).
    private List<SettledMms>? _settledSameHash;

    public Mailbox(IEnumerable<MailboxEntry> entries)
    {
        foreach (var entry in entries) Add(entry);
    }

    /// <summary>Entries and settled MMS.</summary>
    public int Count => (_bySeq?.Count ?? 0) + (_settled?.Count ?? 0) + (_settledSameHash?.Count ?? 0);

    /// <summary>Every entry, in no particular order; settled MMS are not entries.</summary>
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
        if (_settled is { Count: 0 }) _settled = null;
        if (_settledSameHash is { Count: 0 }) _settledSameHash = null;
    }

    /// <summary>
    /// Turns the answered MMS <paramref name="seq"/> into a settled one, if it is still an entry with that answer (a
    /// different answer recorded meanwhile is not settled by the relay of the first). Its row stays in the store.
    /// </summary>
    /// <param name="relayedHere">its answer was relayed to the originator by this activation</param>
    public bool Settle(long seq, string? msgType, string? returnCode, bool relayedHere)
    {
        if (Get(seq) is not { Kind: DeliveryKind.Mms, Answered: true } entry || entry.AnswerMsgType != msgType || entry.AnswerReturnCode != returnCode)
            return false;
        Remove(seq);
        var settled = new SettledMms(IdHash(entry.MessageId), seq, entry.ExpiresAt.ToUnixTimeMilliseconds(), relayedHere);
        if (!(_settled ??= []).TryAdd(settled.IdHash, settled)) (_settledSameHash ??= []).Add(settled);
        return true;
    }

    /// <summary>The settled MMS whose id may be <paramref name="messageId"/>: read each from the store to know.</summary>
    public SettledMms[] SettledUnder(string messageId)
    {
        if (_settled is null) return [];
        var hash = IdHash(messageId);
        if (!_settled.TryGetValue(hash, out var first)) return [];
        if (_settledSameHash is null) return [first];
        return [first, .. _settledSameHash.Where(s => s.IdHash == hash)];
    }

    /// <summary>The settled MMS that expired at <paramref name="now"/>.</summary>
    public List<SettledMms> SettledExpired(DateTimeOffset now)
    {
        var cutoff = now.ToUnixTimeMilliseconds();
        var expired = new List<SettledMms>();
        if (_settled is not null)
        {
            foreach (var (_, settled) in _settled)
            {
                if (settled.ExpiresAtUnixMs <= cutoff) expired.Add(settled);
            }
        }
        if (_settledSameHash is not null) expired.AddRange(_settledSameHash.Where(s => s.ExpiresAtUnixMs <= cutoff));
        return expired;
    }

    /// <summary>Forgets a settled MMS: its row was removed, or it is an entry again (<see cref="Add"/> it then).</summary>
    public void RemoveSettled(SettledMms settled)
    {
        if (_settled is not null && _settled.TryGetValue(settled.IdHash, out var first) && first.Seq == settled.Seq)
        {
            _settled.Remove(settled.IdHash);
            // One of the same hash moves up, so that the dictionary keeps finding it.
            if (_settledSameHash?.FindIndex(s => s.IdHash == settled.IdHash) is >= 0 and var next)
            {
                _settled[settled.IdHash] = _settledSameHash[next];
                _settledSameHash.RemoveAt(next);
            }
            return;
        }
        _settledSameHash?.RemoveAll(s => s.Seq == settled.Seq);
    }

    /// <summary>FNV-1a over the id's UTF-16 units: 64 bits, so that two ids of one mailbox share a hash next to never.</summary>
    private static ulong IdHash(string messageId)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in messageId)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        return hash;
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
