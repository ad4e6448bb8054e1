using Microsoft.Extensions.Logging.Abstractions;
using Mmss.Silo.Storage;

namespace Mmss.Grains.Tests;

public sealed class SqliteDatabase_Tests : IAsyncLifetime
{
    private const string Delete = "DELETE FROM mailbox WHERE seq = $s AND owner = $o";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "mmss-sqlite-" + Guid.NewGuid().ToString("N"));
    private SqliteDatabase _database = null!;

    public Task InitializeAsync()
    {
        _database = new SqliteDatabase(new SqliteGrainStorageOptions { DatabasePath = Path.Combine(_directory, "mmss.db") },
            NullLogger<SqliteDatabase>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_kept_statement_fails_an_operation_that_leaves_a_parameter_unset_instead_of_reusing_the_last_value()
    {
        var deleted = await _database.RunAsync(Delete, command =>
        {
            command.Set("$s", 1L);
            command.Set("$o", "alice");
            return command.ExecuteNonQuery();
        });
        Assert.Equal(0, deleted);

        var forgotten = _database.RunAsync(Delete, command =>
        {
            command.Set("$s", 1L);
            return command.ExecuteNonQuery();
        });
        await Assert.ThrowsAsync<InvalidOperationException>(() => forgotten);

        var again = await _database.RunAsync("INSERT INTO mailbox (owner, expires_at, entry) VALUES ($o, $x, $e) RETURNING seq", command =>
        {
            command.Set("$o", "bob");
            command.Set("$x", 0L);
            command.Set("$e", new byte[] { 1 });
            return (long)command.ExecuteScalar()!;
        });
        var removed = await _database.RunAsync(Delete, command =>
        {
            command.Set("$s", again);
            command.Set("$o", "bob");
            return command.ExecuteNonQuery();
        });
        Assert.Equal(1, removed);
    }

    [Fact]
    public async Task Committed_pages_reach_the_database_file_without_waiting_for_the_writers_own_checkpoint()
    {
        var file = new FileInfo(Path.Combine(_directory, "mmss.db"));
        // 64 KiB of rows: far below the writer's automatic checkpoint (16,000 pages), which would copy them only then.
        await _database.RunAsync("INSERT INTO mailbox (owner, expires_at, entry) VALUES ($o, $x, $e) RETURNING seq", command =>
        {
            command.Set("$o", "carol");
            command.Set("$x", 0L);
            command.Set("$e", new byte[64 * 1024]);
            return (long)command.ExecuteScalar()!;
        });
        file.Refresh();
        var beforeCheckpoint = file.Length;
        Assert.True(beforeCheckpoint < 64 * 1024, $"the rows were in the database file at their commit ({beforeCheckpoint} bytes)");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            file.Refresh();
            if (file.Length >= 64 * 1024) break;
            Assert.True(DateTime.UtcNow < deadline, $"no checkpoint copied the committed pages within 10 s (file: {file.Length} bytes)");
            await Task.Delay(50);
        }
    }
}
