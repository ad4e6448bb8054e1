namespace Mmss.Grains.Tests;

/// <summary>The mailbox store in memory, shared by every silo of the in-process test cluster, counting its writes.</summary>
public sealed class InMemoryMailboxStore : IMailboxStore
{
    public static readonly InMemoryMailboxStore Shared = new();

    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, (string Owner, MailboxEntry Entry)> _rows = [];
    private readonly HashSet<string> _failNextLoad = [];
    private long _nextSeq;

    public int Writes { get; private set; }

    /// <summary>The owner's next load throws, as a database that is briefly unreachable would.</summary>
    public void FailNextLoad(string owner)
    {
        lock (_lock) _failNextLoad.Add(owner);
    }

    public Task<long> AppendAsync(string owner, MailboxEntry entry)
    {
        lock (_lock)
        {
            Writes++;
            var seq = ++_nextSeq;
            _rows[seq] = (owner, entry with { Seq = seq });
            return Task.FromResult(seq);
        }
    }

    public Task UpdateAsync(string owner, MailboxEntry entry)
    {
        lock (_lock)
        {
            Writes++;
            if (_rows.TryGetValue(entry.Seq, out var row) && row.Owner == owner) _rows[entry.Seq] = (owner, entry);
            return Task.CompletedTask;
        }
    }

    public Task RemoveAsync(string owner, long seq)
    {
        lock (_lock)
        {
            Writes++;
            if (_rows.TryGetValue(seq, out var row) && row.Owner == owner) _rows.Remove(seq);
            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<MailboxEntry>> LoadAsync(string owner)
    {
        lock (_lock)
        {
            if (_failNextLoad.Remove(owner)) return Task.FromException<IReadOnlyList<MailboxEntry>>(new IOException("mailbox store unreachable"));
            return Task.FromResult<IReadOnlyList<MailboxEntry>>(_rows.Values.Where(r => r.Owner == owner).Select(r => r.Entry).ToList());
        }
    }

    public Task<IReadOnlyList<string>> FindOwnersWithExpiredAsync(DateTimeOffset now, int limit)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<string>>(_rows.Values.Where(r => r.Entry.ExpiresAt <= now).Select(r => r.Owner).Distinct().Take(limit).ToList());
        }
    }
}
