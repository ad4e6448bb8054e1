using Mmss.Grains;
using Orleans.Serialization;

namespace Mmss.Silo.Storage;

/// <summary>Mailbox rows in the embedded SQLite file: one INSERT, UPDATE or DELETE per stored item.</summary>
public sealed class SqliteMailboxStore(SqliteDatabase database, Serializer<MailboxEntry> serializer) : IMailboxStore
{
    public Task<long> AppendAsync(string owner, MailboxEntry entry) => database.RunAsync(async connection =>
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO mailbox (owner, expires_at, entry) VALUES ($o, $x, $e) RETURNING seq";
        command.Parameters.AddWithValue("$o", owner);
        command.Parameters.AddWithValue("$x", entry.ExpiresAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$e", serializer.SerializeToArray(entry));
        return (long)(await command.ExecuteScalarAsync())!;
    });

    public Task UpdateAsync(string owner, MailboxEntry entry) => database.RunAsync(async connection =>
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE mailbox SET expires_at = $x, entry = $e WHERE seq = $s AND owner = $o";
        command.Parameters.AddWithValue("$o", owner);
        command.Parameters.AddWithValue("$s", entry.Seq);
        command.Parameters.AddWithValue("$x", entry.ExpiresAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$e", serializer.SerializeToArray(entry));
        return await command.ExecuteNonQueryAsync();
    });

    public Task RemoveAsync(string owner, long seq) => database.RunAsync(async connection =>
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM mailbox WHERE seq = $s AND owner = $o";
        command.Parameters.AddWithValue("$o", owner);
        command.Parameters.AddWithValue("$s", seq);
        return await command.ExecuteNonQueryAsync();
    });

    public Task<IReadOnlyList<MailboxEntry>> LoadAsync(string owner) => database.RunAsync<IReadOnlyList<MailboxEntry>>(async connection =>
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, entry FROM mailbox WHERE owner = $o ORDER BY seq";
        command.Parameters.AddWithValue("$o", owner);
        await using var reader = await command.ExecuteReaderAsync();
        var entries = new List<MailboxEntry>();
        while (await reader.ReadAsync())
        {
            entries.Add(serializer.Deserialize((byte[])reader.GetValue(1))! with { Seq = reader.GetInt64(0) });
        }
        return entries;
    });

    public Task<IReadOnlyList<string>> FindOwnersWithExpiredAsync(DateTimeOffset now, int limit) => database.RunAsync<IReadOnlyList<string>>(async connection =>
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT owner FROM mailbox WHERE expires_at <= $n LIMIT $l";
        command.Parameters.AddWithValue("$n", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$l", limit);
        await using var reader = await command.ExecuteReaderAsync();
        var owners = new List<string>();
        while (await reader.ReadAsync()) owners.Add(reader.GetString(0));
        return owners;
    });
}
