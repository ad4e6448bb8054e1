namespace Mmss.Grains;

/// <summary>
/// Mailbox rows, one per stored item, so that storing or removing one costs one row write whatever the mailbox
/// holds. SQLite in embedded mode; PostgreSQL in a cluster.
/// </summary>
public interface IMailboxStore
{
    /// <summary>Stores the entry and returns its sequence number, which orders the owner's mailbox.</summary>
    Task<long> AppendAsync(string owner, MailboxEntry entry);

    Task UpdateAsync(string owner, MailboxEntry entry);

    Task RemoveAsync(string owner, long seq);

    /// <summary>The owner's entries in sequence order.</summary>
    Task<IReadOnlyList<MailboxEntry>> LoadAsync(string owner);

    /// <summary>The owner's entry <paramref name="seq"/>, or null if it has none under that number.</summary>
    Task<MailboxEntry?> FindAsync(string owner, long seq);

    /// <summary>Owners having at least one entry that expired before <paramref name="now"/>.</summary>
    Task<IReadOnlyList<string>> FindOwnersWithExpiredAsync(DateTimeOffset now, int limit);
}
