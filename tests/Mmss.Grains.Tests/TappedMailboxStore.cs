using Mmss.GrainInterfaces;

namespace Mmss.Grains.Tests;

/// <summary>
/// Wraps a silo's real mailbox store: counts its writes into the fixture's <see cref="StorageTap"/> and fails an
/// owner's load or append, holds or loses an append's outcome, when the tap says so, as a database that is briefly
/// unreachable would.
/// </summary>
public sealed class TappedMailboxStore(IMailboxStore inner, StorageTap tap, bool ownsInner) : IMailboxStore, IAsyncDisposable
{
    /// <summary>The store decorated.</summary>
    public IMailboxStore Inner => inner;

    public async Task<long> AppendAsync(string owner, MailboxEntry entry)
    {
        if (tap.TakeAppendFailure(owner)) throw new IOException("mailbox store unreachable");
        tap.CountMailboxWrite(owner);
        var seq = await inner.AppendAsync(owner, entry);
        await tap.WaitWhileAppendsHeldAsync(owner);
        if (tap.TakeLostAppendOutcome(owner)) throw new StorageOutcomeUnknownException("the database went away while the write committed");
        return seq;
    }

    public Task UpdateAsync(string owner, MailboxEntry entry)
    {
        tap.CountMailboxWrite(owner);
        return inner.UpdateAsync(owner, entry);
    }

    public Task RemoveAsync(string owner, long seq)
    {
        tap.CountMailboxWrite(owner);
        return inner.RemoveAsync(owner, seq);
    }

    public Task<IReadOnlyList<MailboxEntry>> LoadAsync(string owner) =>
        tap.TakeLoadFailure(owner)
            ? Task.FromException<IReadOnlyList<MailboxEntry>>(new IOException("mailbox store unreachable"))
            : inner.LoadAsync(owner);

    public Task<MailboxEntry?> FindAsync(string owner, long seq) => inner.FindAsync(owner, seq);

    public Task<IReadOnlyList<string>> FindOwnersWithExpiredAsync(DateTimeOffset now, int limit) =>
        inner.FindOwnersWithExpiredAsync(now, limit);

    /// <summary>Disposes the store if this silo's container created it (the container now disposes the wrapper instead).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!ownsInner) return;
        if (inner is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync();
        else if (inner is IDisposable disposable) disposable.Dispose();
    }
}
