using Microsoft.Extensions.Logging;
using Mmss.Grains;
using Orleans.Serialization;

namespace Mmss.Silo.Storage;

/// <summary>
/// Mailbox rows in the embedded SQLite file: one INSERT, UPDATE or DELETE per stored item. Which rows an owner has is
/// known from <see cref="MailboxOwnerIndex"/>, which every write keeps up to date once it is committed.
/// </summary>
public sealed class SqliteMailboxStore(SqliteDatabase database, Serializer<MailboxEntry> serializer, ILogger<SqliteMailboxStore> logger)
    : IMailboxStore
{
    private const string Insert = "INSERT INTO mailbox (owner, expires_at, entry) VALUES ($o, $x, $e) RETURNING seq";
    private const string Delete = "DELETE FROM mailbox WHERE seq = $s AND owner = $o";
    private const string SelectOne = "SELECT entry FROM mailbox WHERE seq = $s AND owner = $o";

    private readonly MailboxOwnerIndex _owners = new();
    private readonly Lock _loading = new();
    private Task? _ownersLoaded;

    public Task<long> AppendAsync(string owner, MailboxEntry entry) =>
        OwnersLoaded() is { IsCompletedSuccessfully: true } ? Append(owner, entry) : AppendAfterLoadAsync(owner, entry);

    private async Task<long> AppendAfterLoadAsync(string owner, MailboxEntry entry)
    {
        await OwnersLoaded();
        return await Append(owner, entry);
    }

    private Task<long> Append(string owner, MailboxEntry entry) => database.RunAsync(Insert,
        command =>
        {
            command.Set("$o", owner);
            command.Set("$x", entry.ExpiresAt.ToUnixTimeMilliseconds());
            command.Set("$e", serializer.SerializeToArray(entry));
            return (long)command.ExecuteScalar()!;
        },
        committed: seq => _owners.Add(owner, seq));

    public Task UpdateAsync(string owner, MailboxEntry entry) => database.RunAsync(
        "UPDATE mailbox SET expires_at = $x, entry = $e WHERE seq = $s AND owner = $o",
        command =>
        {
            command.Set("$o", owner);
            command.Set("$s", entry.Seq);
            command.Set("$x", entry.ExpiresAt.ToUnixTimeMilliseconds());
            command.Set("$e", serializer.SerializeToArray(entry));
            return command.ExecuteNonQuery();
        });

    public Task RemoveAsync(string owner, long seq) =>
        OwnersLoaded() is { IsCompletedSuccessfully: true } ? Remove(owner, seq) : RemoveAfterLoadAsync(owner, seq);

    private async Task RemoveAfterLoadAsync(string owner, long seq)
    {
        await OwnersLoaded();
        await Remove(owner, seq);
    }

    private Task Remove(string owner, long seq) => database.RunAsync(Delete,
        command =>
        {
            command.Set("$o", owner);
            command.Set("$s", seq);
            return command.ExecuteNonQuery();
        },
        committed: deleted =>
        {
            if (deleted > 0) _owners.Remove(owner, seq);
        });

    public async Task<IReadOnlyList<MailboxEntry>> LoadAsync(string owner)
    {
        await OwnersLoaded();
        var seqs = _owners.SeqsOf(owner);
        // Most activations: a terminal with nothing waiting costs no read at all.
        if (seqs.Length == 0) return [];
        return await database.ReadAsync<IReadOnlyList<MailboxEntry>>(SelectOne,
            command =>
            {
                var entries = new List<MailboxEntry>(seqs.Length);
                foreach (var seq in seqs)
                {
                    command.Set("$s", seq);
                    command.Set("$o", owner);
                    // Gone since the index was read (removed meanwhile): as a query a moment later would have found.
                    if (command.ExecuteScalar() is byte[] entry) entries.Add(serializer.Deserialize(entry)! with { Seq = seq });
                }
                return entries;
            });
    }

    public Task<MailboxEntry?> FindAsync(string owner, long seq) => database.ReadAsync(SelectOne,
        command =>
        {
            command.Set("$s", seq);
            command.Set("$o", owner);
            return command.ExecuteScalar() is byte[] entry ? serializer.Deserialize(entry)! with { Seq = seq } : null;
        });

    public Task<IReadOnlyList<string>> FindOwnersWithExpiredAsync(DateTimeOffset now, int limit) => database.ReadAsync<IReadOnlyList<string>>(
        "SELECT DISTINCT owner FROM mailbox WHERE expires_at <= $n LIMIT $l",
        command =>
        {
            command.Set("$n", now.ToUnixTimeMilliseconds());
            command.Set("$l", limit);
            using var reader = command.ExecuteReader();
            var owners = new List<string>();
            while (reader.Read()) owners.Add(reader.GetString(0));
            return owners;
        });

    /// <summary>
    /// The index, read from the file once, by the writer, as one of its operations: every write queued after it (all of
    /// them wait for this) is applied to it in commit order. A failed read is tried again by the next caller.
    /// </summary>
    private Task OwnersLoaded()
    {
        var loaded = Volatile.Read(ref _ownersLoaded);
        if (loaded is { IsCompletedSuccessfully: true }) return loaded;
        lock (_loading)
        {
            if (_ownersLoaded is null || _ownersLoaded.IsFaulted || _ownersLoaded.IsCanceled) _ownersLoaded = LoadOwnersAsync();
            return _ownersLoaded;
        }
    }

    /// <remarks>A task without a result: the one kept in <see cref="_ownersLoaded"/> must not keep the rows read alive.</remarks>
    private async Task LoadOwnersAsync()
    {
        var startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        var rows = await database.RunAsync("SELECT owner, seq FROM mailbox",
            command =>
            {
                using var reader = command.ExecuteReader();
                var read = new List<(string, long)>();
                while (reader.Read()) read.Add((reader.GetString(0), reader.GetInt64(1)));
                return read;
            },
            committed: read => _owners.Load(read));
        logger.LogInformation("Mailbox index: {Rows} rows of {Owners} owners read in {Milliseconds} ms", rows.Count,
            _owners.OwnerCount, System.Diagnostics.Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds);
    }
}
