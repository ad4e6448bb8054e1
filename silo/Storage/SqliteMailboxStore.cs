using Mmss.Grains;
using Orleans.Serialization;

namespace Mmss.Silo.Storage;

/// <summary>Mailbox rows in the embedded SQLite file: one INSERT, UPDATE or DELETE per stored item.</summary>
public sealed class SqliteMailboxStore(SqliteDatabase database, Serializer<MailboxEntry> serializer) : IMailboxStore
{
    public Task<long> AppendAsync(string owner, MailboxEntry entry) => database.RunAsync(
        "INSERT INTO mailbox (owner, expires_at, entry) VALUES ($o, $x, $e) RETURNING seq",
        command =>
        {
            command.Set("$o", owner);
            command.Set("$x", entry.ExpiresAt.ToUnixTimeMilliseconds());
            command.Set("$e", serializer.SerializeToArray(entry));
            return (long)command.ExecuteScalar()!;
        });

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

    public Task RemoveAsync(string owner, long seq) => database.RunAsync(
        "DELETE FROM mailbox WHERE seq = $s AND owner = $o",
        command =>
        {
            command.Set("$o", owner);
            command.Set("$s", seq);
            return command.ExecuteNonQuery();
        });

    public Task<IReadOnlyList<MailboxEntry>> LoadAsync(string owner) => database.ReadAsync<IReadOnlyList<MailboxEntry>>(
        "SELECT seq, entry FROM mailbox WHERE owner = $o ORDER BY seq",
        command =>
        {
            command.Set("$o", owner);
            using var reader = command.ExecuteReader();
            var entries = new List<MailboxEntry>();
            while (reader.Read())
            {
                entries.Add(serializer.Deserialize((byte[])reader.GetValue(1))! with { Seq = reader.GetInt64(0) });
            }
            return entries;
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
}
