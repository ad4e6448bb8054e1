using Mmss.Grains;
using Npgsql;
using Orleans.Serialization;

namespace Mmss.Silo.Cluster;

/// <summary>
/// Mailbox rows in the cluster's PostgreSQL database: one INSERT, UPDATE or DELETE per stored item, group-committed by
/// <see cref="PostgresDatabase"/>, entries serialized exactly as the embedded SQLite store does.
/// </summary>
public sealed class PostgresMailboxStore(PostgresDatabase database, Serializer<MailboxEntry> serializer) : IMailboxStore
{
    // Every write returns a row so that the batch's results line up with its callers (see PostgresDatabase.WriteAsync).
    private const string Insert = "INSERT INTO mailbox (owner, expires_at, entry) VALUES ($1, $2, $3) RETURNING seq";
    private const string Update = "UPDATE mailbox SET expires_at = $3, entry = $4 WHERE seq = $1 AND owner = $2 RETURNING seq";
    private const string Delete = "DELETE FROM mailbox WHERE seq = $1 AND owner = $2 RETURNING seq";
    private const string Select = "SELECT seq, entry FROM mailbox WHERE owner = $1 ORDER BY seq";
    private const string SelectOne = "SELECT entry FROM mailbox WHERE seq = $1 AND owner = $2";
    private const string Expired = "SELECT DISTINCT owner FROM mailbox WHERE expires_at <= $1 LIMIT $2";

    public async Task<long> AppendAsync(string owner, MailboxEntry entry)
    {
        var expiresAt = entry.ExpiresAt.ToUnixTimeMilliseconds();
        var bytes = serializer.SerializeToArray(entry);
        var seq = await database.WriteAsync(Insert, parameters =>
        {
            parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
            parameters.Add(new NpgsqlParameter<long> { TypedValue = expiresAt });
            parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = bytes });
        }, bytes.Length + owner.Length);
        return seq ?? throw new InvalidOperationException("INSERT into mailbox returned no sequence number");
    }

    public Task UpdateAsync(string owner, MailboxEntry entry)
    {
        var seq = entry.Seq;
        var expiresAt = entry.ExpiresAt.ToUnixTimeMilliseconds();
        var bytes = serializer.SerializeToArray(entry);
        return database.WriteAsync(Update, parameters =>
        {
            parameters.Add(new NpgsqlParameter<long> { TypedValue = seq });
            parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
            parameters.Add(new NpgsqlParameter<long> { TypedValue = expiresAt });
            parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = bytes });
        }, bytes.Length + owner.Length);
    }

    public Task RemoveAsync(string owner, long seq) => database.WriteAsync(Delete, parameters =>
    {
        parameters.Add(new NpgsqlParameter<long> { TypedValue = seq });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
    }, owner.Length + 8);

    public Task<IReadOnlyList<MailboxEntry>> LoadAsync(string owner) => database.ReadAsync<IReadOnlyList<MailboxEntry>>(Select,
        parameters => parameters.Add(new NpgsqlParameter<string> { TypedValue = owner }),
        async reader =>
        {
            var entries = new List<MailboxEntry>();
            while (await reader.ReadAsync())
            {
                entries.Add(serializer.Deserialize(reader.GetFieldValue<byte[]>(1))! with { Seq = reader.GetInt64(0) });
            }
            return entries;
        });

    public Task<MailboxEntry?> FindAsync(string owner, long seq) => database.ReadAsync(SelectOne,
        parameters =>
        {
            parameters.Add(new NpgsqlParameter<long> { TypedValue = seq });
            parameters.Add(new NpgsqlParameter<string> { TypedValue = owner });
        },
        async reader => await reader.ReadAsync() ? serializer.Deserialize(reader.GetFieldValue<byte[]>(0))! with { Seq = seq } : null);

    public Task<IReadOnlyList<string>> FindOwnersWithExpiredAsync(DateTimeOffset now, int limit) => database.ReadAsync<IReadOnlyList<string>>(Expired,
        parameters =>
        {
            parameters.Add(new NpgsqlParameter<long> { TypedValue = now.ToUnixTimeMilliseconds() });
            parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        },
        async reader =>
        {
            var owners = new List<string>();
            while (await reader.ReadAsync()) owners.Add(reader.GetString(0));
            return owners;
        });
}
