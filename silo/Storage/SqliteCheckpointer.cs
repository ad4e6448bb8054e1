using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Mmss.Silo.Storage;

/// <summary>
/// Copies committed WAL pages back into the database file on a connection and thread of its own, shortly after writes.
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on the writer: that batch's callers
/// and every write queued behind it waited for thousands of page copies and an fsync of the database file (at W=1 in the
/// benchmark, some 6 ms of the p99). A passive checkpoint here takes no lock the writer needs, so when the writer's own
/// checkpoint comes round it finds most pages already copied and restarts the WAL after copying the rest.
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    private readonly Func<SqliteConnection> _open;
    private readonly TimeSpan _delay;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _written = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;
    private int _pending;

    public SqliteCheckpointer(Func<SqliteConnection> open, TimeSpan delay, ILogger logger)
    {
        _open = open;
        _delay = delay;
        _logger = logger;
        // A thread of its own: a checkpoint blocks for as long as its copies and fsync take, which a thread-pool
        // thread should not; at rest it sleeps on the semaphore, with no timer.
        _thread = new Thread(Run) { IsBackground = true, Name = "SQLite checkpointer" };
        _thread.Start();
    }

    /// <summary>A commit landed: a checkpoint follows within the delay (one for all the commits until it starts).</summary>
    public void Written()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 0) _written.Release();
    }

    private void Run()
    {
        SqliteConnection? connection = null;
        try
        {
            while (true)
            {
                _written.Wait(_stopping.Token);
                if (_stopping.Token.WaitHandle.WaitOne(_delay)) return;
                // Commits from here on ask for the next checkpoint: this one may not reach their frames.
                Volatile.Write(ref _pending, 0);
                try
                {
                    connection ??= _open();
                    using var command = connection.CreateCommand();
                    command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                    command.ExecuteNonQuery();
                }
                catch (Exception e)
                {
                    // Nothing is lost: the pages stay in the WAL and the writer's own checkpoint copies them. Caught whatever
                    // it is: an exception leaving this thread would end the process.
                    _logger.LogWarning("SQLite background checkpoint failed: {Reason}", e.Message);
                    connection?.Dispose();
                    connection = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            connection?.Dispose();
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _thread.Join();
        _stopping.Dispose();
        _written.Dispose();
    }
}
