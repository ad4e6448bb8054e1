using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces;
using Npgsql;

namespace Mmss.Silo.Cluster;

/// <summary>
/// The cluster's mailbox database, written by one loop with group commit: every write waiting when the loop comes
/// round goes into one transaction, sent as one batch, and one commit (one WAL flush) makes them all durable. A caller's
/// task completes only after that commit, so nothing is acknowledged before it is on disk, and a thousand concurrent
/// writes cost a handful of commits instead of a thousand.
/// </summary>
/// <remarks>
/// <para>The commit is a separate round trip from the statements on purpose: until COMMIT is sent, a lost connection
/// means nothing was written and the whole batch can simply run again on a new one; a connection lost during COMMIT
/// is settled by asking the server whether the batch's transaction id committed. So a restarted PostgreSQL costs the
/// callers a short wait, never a duplicate row or a false failure; only a database that stays unreachable for
/// <see cref="RetryWindow"/> fails them, and then every later batch fails at once until it is reachable again.</para>
/// <para>A statement the server rejects fails its own caller only: the transaction is rolled back and the rest runs again.</para>
/// <para>Reads do not queue behind writes: they take a pooled connection of their own and see every committed batch.</para>
/// </remarks>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private const int MaxBatch = 512;
    private const long MaxBatchBytes = 16L << 20;
    private static readonly TimeSpan RetryWindow = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<PostgresDatabase> _logger;
    private readonly TimeProvider _time;
    private readonly Channel<Write> _queue = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lazy<Task> _writer;
    private NpgsqlConnection? _connection;
    private bool _unreachable;
    private long _commits;

    public PostgresDatabase(string connectionString, ILogger<PostgresDatabase> logger, TimeProvider? time = null)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _writer = new Lazy<Task>(() => Task.Run(WriteLoopAsync), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Transactions the writer has committed: with group commit, far fewer than the writes it was given.</summary>
    public long CommittedBatches => Interlocked.Read(ref _commits);

    /// <summary>
    /// Queues one write statement for the next batch; completes after its commit with the first column of the
    /// statement's first row (a RETURNING value), or null when it returned no row.
    /// </summary>
    /// <param name="sql">
    /// one statement with positional parameters ($1, $2, ...) that returns rows (a RETURNING clause, even when the
    /// caller needs no value): results are matched to callers by their order
    /// </param>
    /// <param name="bind">adds the parameters; may run more than once if the batch has to be sent again</param>
    /// <param name="approximateBytes">size of the parameters, to keep one batch's memory bounded</param>
    public Task<long?> WriteAsync(string sql, Action<NpgsqlParameterCollection> bind, int approximateBytes)
    {
        _ = _writer.Value;
        var write = new Write(sql, bind, approximateBytes);
        if (!_queue.Writer.TryWrite(write)) throw new ObjectDisposedException(nameof(PostgresDatabase));
        return write.Task;
    }

    /// <summary>Runs a query on a pooled connection; retried once on a fresh connection if the pooled one was dead.</summary>
    public async Task<T> ReadAsync<T>(string sql, Action<NpgsqlParameterCollection> bind, Func<NpgsqlDataReader, Task<T>> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var command = _dataSource.CreateCommand(sql);
                bind(command.Parameters);
                await using var reader = await command.ExecuteReaderAsync();
                return await read(reader);
            }
            catch (Exception e) when (attempt == 1 && IsConnectionLoss(e))
            {
                // After a server restart every idle pooled connection is dead; drop them all, not one per failed read.
                _logger.LogWarning(e, "PostgreSQL read failed on a lost connection; retrying on a new one");
                _dataSource.Clear();
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Write>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            long bytes = 0;
            while (batch.Count < MaxBatch && bytes < MaxBatchBytes && _queue.Reader.TryRead(out var write))
            {
                batch.Add(write);
                bytes += write.ApproximateBytes;
            }
            try
            {
                await CommitAsync(batch);
            }
            catch (Exception e)
            {
                // CommitAsync settles every caller itself; this only keeps the loop alive whatever happens.
                _logger.LogError(e, "PostgreSQL writer failed unexpectedly on a batch of {Count} writes", batch.Count);
                foreach (var write in batch) write.Fail(e);
            }
        }
    }

    private async Task CommitAsync(List<Write> batch)
    {
        var deadline = _time.GetUtcNow() + RetryWindow;
        var backoff = TimeSpan.FromMilliseconds(100);
        long? undecided = null;
        long?[]? results = null;
        while (batch.Count > 0)
        {
            Exception failure;
            try
            {
                if (undecided is { } xid)
                {
                    var status = await TransactionStatusAsync(xid);
                    if (status == "committed")
                    {
                        _logger.LogInformation("Batch of {Count} writes (transaction {Xid}) had committed before the connection was lost", batch.Count, xid);
                        Complete(batch, results!);
                        return;
                    }
                    if (status == "in progress") throw new TimeoutException($"transaction {xid} is still in progress on a lost connection");
                    undecided = null;
                    results = null;
                }

                var connection = _connection ??= await _dataSource.OpenConnectionAsync();
                _unreachable = false;
                var startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                await using var transaction = await connection.BeginTransactionAsync();
                var (values, id) = await ExecuteAsync(connection, transaction, batch);
                (results, undecided) = (values, id);
                await transaction.CommitAsync();
                Diagnostics.SiloMetrics.Committed(Diagnostics.SiloMetrics.Postgres, batch.Count, startedAt);
                Complete(batch, results);
                return;
            }
            catch (PostgresException e) when (undecided is null && e.BatchCommand is not null && !IsConnectionLoss(e))
            {
                // The server rejected one statement and rolled the transaction back; the connection is still usable.
                var index = batch.FindIndex(write => ReferenceEquals(write.Statement, e.BatchCommand));
                if (index < 0)
                {
                    failure = e;
                }
                else
                {
                    _logger.LogError(e, "PostgreSQL rejected one write of a batch of {Count}; the others are sent again", batch.Count);
                    batch[index].Fail(e);
                    batch.RemoveAt(index);
                    continue;
                }
            }
            catch (Exception e)
            {
                failure = e;
            }

            await DropConnectionAsync();
            if (_unreachable || _time.GetUtcNow() + backoff > deadline)
            {
                // Later batches fail at once while the database stays down, instead of each waiting out the window.
                _unreachable = true;
                _logger.LogError(failure, "PostgreSQL unavailable; {Count} writes failed{Outcome}", batch.Count,
                    undecided is null ? "" : $" (transaction {undecided} outcome unknown)");
                // A commit whose outcome is unknown may have stored every write of the batch: its callers must not take
                // the failure for "nothing stored" (a sender answered FAIL 9 for an MMS its recipients then get).
                if (undecided is not null)
                    failure = new StorageOutcomeUnknownException($"PostgreSQL was lost while transaction {undecided} committed; it may be stored", failure);
                foreach (var write in batch) write.Fail(failure);
                return;
            }
            _logger.LogWarning(failure, "PostgreSQL batch of {Count} writes interrupted ({Phase}); retrying in {Backoff} ms",
                batch.Count, undecided is null ? "not committed" : "commit outcome unknown", (int)backoff.TotalMilliseconds);
            await Task.Delay(backoff, _time);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    /// <summary>Sends the writes and the transaction id as one batch; reads each write's result.</summary>
    private static async Task<(long?[] Results, long Xid)> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<Write> batch)
    {
        await using var command = new NpgsqlBatch(connection, transaction);
        foreach (var write in batch)
        {
            var statement = new NpgsqlBatchCommand(write.Sql);
            write.Bind(statement.Parameters);
            write.Statement = statement;
            command.BatchCommands.Add(statement);
        }
        command.BatchCommands.Add(new NpgsqlBatchCommand("SELECT txid_current()"));

        var results = new long?[batch.Count];
        await using var reader = await command.ExecuteReaderAsync();
        for (var i = 0; i < batch.Count; i++)
        {
            if (await reader.ReadAsync() && !reader.IsDBNull(0)) results[i] = reader.GetInt64(0);
            while (await reader.ReadAsync())
            {
            }
            await reader.NextResultAsync();
        }
        await reader.ReadAsync();
        return (results, reader.GetInt64(0));
    }

    private async Task<string?> TransactionStatusAsync(long xid)
    {
        await using var command = _dataSource.CreateCommand("SELECT txid_status($1)");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = xid });
        return await command.ExecuteScalarAsync() as string;
    }

    private void Complete(List<Write> batch, long?[] results)
    {
        Interlocked.Increment(ref _commits);
        for (var i = 0; i < batch.Count; i++) batch[i].Complete(results[i]);
    }

    private async Task DropConnectionAsync()
    {
        if (_connection is null) return;
        try
        {
            await _connection.DisposeAsync();
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "Closing a broken PostgreSQL connection failed");
        }
        _connection = null;
        _dataSource.Clear();
    }

    /// <summary>The connection is gone (server restart, network), as opposed to a statement the server refused.</summary>
    private static bool IsConnectionLoss(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57P", StringComparison.Ordinal)
            || pg.Severity is "FATAL" or "PANIC",
        NpgsqlException => true,
        _ => false,
    };

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_writer.IsValueCreated) await _writer.Value;
        if (_connection is not null) await _connection.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    private sealed class Write(string sql, Action<NpgsqlParameterCollection> bind, int approximateBytes)
    {
        // Completed on the writer's thread: the callers are grains, whose continuations are queued to their activation
        // (see SqliteDatabase), so a completion costs no thread wake-up of its own.
        private readonly TaskCompletionSource<long?> _completion = new();

        public string Sql => sql;
        /// <summary>This write's statement in the batch last sent, to tell which write a server error names.</summary>
        public NpgsqlBatchCommand? Statement { get; set; }
        public int ApproximateBytes => approximateBytes;
        public Task<long?> Task => _completion.Task;

        public void Bind(NpgsqlParameterCollection parameters) => bind(parameters);
        public void Complete(long? result) => _completion.TrySetResult(result);
        public void Fail(Exception error) => _completion.TrySetException(error);
    }
}
