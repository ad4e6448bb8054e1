using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Mmss.Silo.Storage;

/// <summary>
/// The embedded mode's one SQLite file, written by one loop with group commit: every operation waiting when the loop
/// comes round runs in one transaction, and one fsync makes them all durable. Each caller's task completes only
/// after that commit, so nothing is acknowledged before it is on disk, and a thousand concurrent writes cost a
/// handful of fsyncs instead of a thousand. Statements are prepared once per connection and kept: parsing the same
/// few SQL texts again for every operation was a measurable share of the server's CPU under load.
/// </summary>
public sealed class SqliteDatabase : IAsyncDisposable
{
    private const int MaxBatch = 512;

    private readonly SqliteGrainStorageOptions _options;
    private readonly ILogger<SqliteDatabase> _logger;
    private readonly Channel<IWork> _queue = Channel.CreateUnbounded<IWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lazy<Task> _writer;
    private readonly Lazy<string> _schema;
    private readonly SemaphoreSlim _readGate = new(1, 1);
    private SqliteConnection? _connection;
    private SqliteConnection? _readConnection;
    private SqliteCheckpointer? _checkpointer;
    private readonly Dictionary<string, SqliteCommand> _writeStatements = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SqliteCommand> _readStatements = new(StringComparer.Ordinal);

    public SqliteDatabase(SqliteGrainStorageOptions options, ILogger<SqliteDatabase> logger)
    {
        _options = options;
        _logger = logger;
        _writer = new Lazy<Task>(() =>
        {
            _checkpointer = new SqliteCheckpointer(Open, CheckpointDelay, logger);
            return Task.Run(WriteLoopAsync);
        }, LazyThreadSafetyMode.ExecutionAndPublication);
        _schema = new Lazy<string>(CreateSchema, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// Runs a read on its own connection, beside the writer: in WAL mode it sees every committed batch and never
    /// waits for the next fsync, which a read queued behind writes would.
    /// </summary>
    public async Task<T> ReadAsync<T>(string sql, Func<SqliteCommand, T> work)
    {
        await _readGate.WaitAsync();
        try
        {
            _readConnection ??= Open();
            return work(Statement(_readStatements, _readConnection, null, sql));
        }
        finally
        {
            _readGate.Release();
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> with the prepared statement for <paramref name="sql"/>, bound to the current batch's
    /// transaction; completes after the commit. <paramref name="committed"/>, if given, runs on the writer after the
    /// commit and before the caller learns of it, in the order the operations ran: what a cache of the file must learn.
    /// </summary>
    public Task<T> RunAsync<T>(string sql, Func<SqliteCommand, T> work, Action<T>? committed = null)
    {
        _ = _writer.Value;
        var item = new Work<T>(sql, work, committed);
        if (!_queue.Writer.TryWrite(item)) throw new ObjectDisposedException(nameof(SqliteDatabase));
        return item.Task;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<IWork>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                var connection = Connection();
                var startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                using var transaction = connection.BeginTransaction();
                foreach (var item in batch) item.Run(Statement(_writeStatements, connection, transaction, item.Sql));
                transaction.Commit();
                Diagnostics.SiloMetrics.Committed(Diagnostics.SiloMetrics.Sqlite, batch.Count, startedAt);
                foreach (var item in batch) item.Complete();
                _checkpointer!.Written();
            }
            catch (Exception e)
            {
                _logger.LogError(e, "SQLite batch of {Count} operations failed; none was committed", batch.Count);
                foreach (var item in batch) item.Fail(e);
            }
        }
    }

    private SqliteConnection Connection() => _connection ??= Open();

    /// <summary>The connection's prepared command for this SQL, its parameters unset for the next use.</summary>
    private static SqliteCommand Statement(Dictionary<string, SqliteCommand> statements, SqliteConnection connection,
        SqliteTransaction? transaction, string sql)
    {
        if (!statements.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            statements[sql] = command;
        }
        // Kept, not cleared (see SqliteCommandExtensions.Set); unset, so that a parameter the next operation forgets fails it.
        // By index: the collection's enumerator is boxed, an allocation per operation.
        var parameters = command.Parameters;
        for (var i = 0; i < parameters.Count; i++) parameters[i].Value = null;
        command.Transaction = transaction;
        return command;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _schema.Value, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        var synchronous = _options.Synchronous.Equals("NORMAL", StringComparison.OrdinalIgnoreCase) ? "NORMAL" : "FULL";
        command.CommandText = "PRAGMA synchronous=" + synchronous + "; PRAGMA busy_timeout=5000; PRAGMA wal_autocheckpoint=" +
            WalAutoCheckpointPages + ";";
        command.ExecuteNonQuery();
        return connection;
    }

    /// <summary>
    /// The page size of a new file. Each commit writes every page it changed to the WAL whole, and the pages a batch
    /// changes are mostly scattered leaves of the owner index (one per recipient), so the bytes written, checksummed and
    /// checkpointed per commit grow with the page size, not with the rows: at W=5 in the benchmark 1 KiB pages with the
    /// checkpoint below took about 8% less CPU per round trip than SQLite's 4 KiB default. An existing file keeps the
    /// size it was made with (changing it needs a VACUUM outside WAL mode).
    /// </summary>
    private const int PageSize = 1024;

    /// <summary>
    /// WAL pages before an automatic checkpoint (16 MiB at <see cref="PageSize"/>; SQLite's default is 1,000): a hot page
    /// rewritten by many commits is copied back to the database once per checkpoint, so fewer checkpoints copy less.
    /// </summary>
    private const int WalAutoCheckpointPages = 16_000;

    /// <summary>
    /// From a commit to the background checkpoint that copies its pages (<see cref="SqliteCheckpointer"/>). Shorter
    /// copies a page rewritten by many commits more often; longer leaves more for the writer's own checkpoint to copy.
    /// </summary>
    private static readonly TimeSpan CheckpointDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>Creates the file, WAL mode and the tables once; returns the file's path.</summary>
    private string CreateSchema()
    {
        var path = Path.GetFullPath(_options.DatabasePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            "PRAGMA page_size=" + PageSize + ";" +
            "PRAGMA journal_mode=WAL;" +
            "CREATE TABLE IF NOT EXISTS grain_state (state_name TEXT NOT NULL, grain_id TEXT NOT NULL, " +
            "etag INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (state_name, grain_id)) WITHOUT ROWID;" +
            "CREATE TABLE IF NOT EXISTS mailbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, " +
            "expires_at INTEGER NOT NULL, entry BLOB NOT NULL);" +
            // Which rows an owner has is kept in memory (MailboxOwnerIndex); files made before that lose their index.
            "DROP INDEX IF EXISTS mailbox_owner;" +
            "CREATE INDEX IF NOT EXISTS mailbox_expiry ON mailbox (expires_at);";
        command.ExecuteNonQuery();
        _logger.LogInformation("SQLite database {Path} opened (synchronous={Synchronous})", path, _options.Synchronous);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_writer.IsValueCreated) await _writer.Value;
        _checkpointer?.Dispose();
        foreach (var command in _writeStatements.Values.Concat(_readStatements.Values)) command.Dispose();
        _connection?.Dispose();
        _readConnection?.Dispose();
    }

    private interface IWork
    {
        string Sql { get; }

        void Run(SqliteCommand command);
        void Complete();
        void Fail(Exception error);
    }

    private sealed class Work<T>(string sql, Func<SqliteCommand, T> work, Action<T>? committed) : IWork
    {
        public string Sql => sql;

        // Completed on the writer's thread without a hop of its own: the callers are grains, whose continuations go to
        // their activation's queue rather than run here. Posting each completion to the thread pool first cost a
        // thread wake-up per operation, four per MMS round trip.
        private readonly TaskCompletionSource<T> _completion = new();
        private T? _result;
        private Exception? _error;

        public Task<T> Task => _completion.Task;

        public void Run(SqliteCommand command)
        {
            try
            {
                _result = work(command);
            }
            catch (Exception e)
            {
                // One operation's failure (an ETag conflict, say) fails that caller only; the batch still commits.
                _error = e;
            }
        }

        public void Complete()
        {
            if (_error is not null)
            {
                _completion.TrySetException(_error);
                return;
            }
            try
            {
                committed?.Invoke(_result!);
            }
            catch (Exception e)
            {
                // Only a fault of the cache's own: the caller hears of it rather than the loop, which would fail the whole batch.
                _completion.TrySetException(e);
                return;
            }
            _completion.TrySetResult(_result!);
        }

        public void Fail(Exception error) => _completion.TrySetException(_error ?? error);
    }
}
