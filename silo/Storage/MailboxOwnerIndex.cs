namespace Mmss.Silo.Storage;

/// <summary>
/// Which mailbox rows each owner has in the embedded SQLite file, kept in memory by the file's one writer instead of
/// in an index on (owner, seq). Such an index put one scattered leaf page per recipient into every commit's WAL
/// frames (three of four frames of a commit in the W=5 benchmark's pattern), while the only query it served is an
/// owner's mailbox loaded when its grain activates. Embedded mode is one process and one writer, so nothing else
/// changes the file behind it; it is rebuilt from the file when the store is first used.
/// </summary>
public sealed class MailboxOwnerIndex
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<long>> _seqsByOwner = new(StringComparer.Ordinal);

    public int OwnerCount
    {
        get
        {
            lock (_lock) return _seqsByOwner.Count;
        }
    }

    public void Load(IEnumerable<(string Owner, long Seq)> rows)
    {
        lock (_lock)
        {
            _seqsByOwner.Clear();
            foreach (var (owner, seq) in rows) AddLocked(owner, seq);
        }
    }

    public void Add(string owner, long seq)
    {
        lock (_lock) AddLocked(owner, seq);
    }

    public void Remove(string owner, long seq)
    {
        lock (_lock)
        {
            if (!_seqsByOwner.TryGetValue(owner, out var seqs) || !seqs.Remove(seq)) return;
            // An owner whose rows are all gone (most terminals, most of the time) holds nothing here.
            if (seqs.Count == 0) _seqsByOwner.Remove(owner);
        }
    }

    /// <summary>The owner's rows' sequence numbers, oldest first.</summary>
    public long[] SeqsOf(string owner)
    {
        long[] seqs;
        lock (_lock)
        {
            if (!_seqsByOwner.TryGetValue(owner, out var set)) return [];
            seqs = [.. set];
        }
        Array.Sort(seqs);
        return seqs;
    }

    private void AddLocked(string owner, long seq)
    {
        if (!_seqsByOwner.TryGetValue(owner, out var seqs)) _seqsByOwner[owner] = seqs = [];
        seqs.Add(seq);
    }
}
