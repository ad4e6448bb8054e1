using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Mmss.Silo.Storage;

/// <summary>
/// The embedded mode's one SQLite file and its one connection. SQLite has a single writer, so one connection behind
/// one lock is both the simplest and the fastest arrangement; grain state and mailbox rows share it.
/// </summary>
public sealed class SqliteDatabase(SqliteGrainStorageOptions options, ILogger<SqliteDatabase> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _connection;

    /// <summary>Runs <paramref name="work"/> with the connection, one caller at a time.</summary>
    public async Task<T> RunAsync<T>(Func<SqliteConnection, Task<T>> work)
    {
        await _gate.WaitAsync();
        try
        {
            return await work(Connection());
        }
        finally
        {
            _gate.Release();
        }
    }

    private SqliteConnection Connection()
    {
        if (_connection is not null) return _connection;
        var path = Path.GetFullPath(options.DatabasePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using (var command = connection.CreateCommand())
        {
            var synchronous = options.Synchronous.Equals("NORMAL", StringComparison.OrdinalIgnoreCase) ? "NORMAL" : "FULL";
            command.CommandText =
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + synchronous + "; PRAGMA busy_timeout=5000;" +
                "CREATE TABLE IF NOT EXISTS grain_state (state_name TEXT NOT NULL, grain_id TEXT NOT NULL, " +
                "etag INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (state_name, grain_id)) WITHOUT ROWID;" +
                "CREATE TABLE IF NOT EXISTS mailbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, " +
                "expires_at INTEGER NOT NULL, entry BLOB NOT NULL);" +
                "CREATE INDEX IF NOT EXISTS mailbox_owner ON mailbox (owner, seq);" +
                "CREATE INDEX IF NOT EXISTS mailbox_expiry ON mailbox (expires_at);";
            command.ExecuteNonQuery();
        }
        logger.LogInformation("SQLite database {Path} opened (synchronous={Synchronous})", path, options.Synchronous);
        return _connection = connection;
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _gate.Dispose();
    }
}
