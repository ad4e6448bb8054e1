namespace Mmss.Grains.Tests;

/// <summary>The mailbox store in memory, shared by every silo of the in-process test cluster, counting its writes.</summary>
public sealed class InMemoryMailboxStore : IMailboxStore
{
    public static readonly InMemoryMailboxStore Shared = new();

    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, (string Owner, MailboxEntry Entry)> _rows = [];
    private long _nextSeq;

    public int Writes { get; private set; }

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
