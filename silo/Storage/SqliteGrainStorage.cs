using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Mmss.Silo.Storage;

/// <summary>
/// Grain state in one SQLite file, for the embedded mode. Each state is a row keyed by (state name, grain id)
/// with an integer version as its ETag: a write whose ETag is stale changes nothing and throws
/// <see cref="InconsistentStateException"/>, as Orleans expects of a storage provider.
/// </summary>
public sealed class SqliteGrainStorage(string name, SqliteGrainStorageOptions options, IGrainStorageSerializer serializer,
    ILogger<SqliteGrainStorage> logger) : IGrainStorage, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqliteConnection? _connection;

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await _gate.WaitAsync();
        try
        {
            await using var command = Connection().CreateCommand();
            command.CommandText = "SELECT etag, payload FROM grain_state WHERE state_name = $s AND grain_id = $g";
            command.Parameters.AddWithValue("$s", stateName);
            command.Parameters.AddWithValue("$g", grainId.ToString());
            await using var reader = await command.ExecuteReaderAsync();
            if (!await reader.ReadAsync())
            {
                grainState.State = Activator.CreateInstance<T>();
                grainState.ETag = null;
                grainState.RecordExists = false;
                return;
            }
            var etag = reader.GetInt64(0);
            var payload = (byte[])reader.GetValue(1);
            grainState.State = serializer.Deserialize<T>(new BinaryData(payload));
            grainState.ETag = etag.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = serializer.Serialize(grainState.State).ToArray();
        await _gate.WaitAsync();
        try
        {
            await using var command = Connection().CreateCommand();
            long next;
            if (grainState.ETag is null)
            {
                next = 1;
                command.CommandText = "INSERT INTO grain_state (state_name, grain_id, etag, payload) VALUES ($s, $g, 1, $p) ON CONFLICT DO NOTHING";
            }
            else
            {
                next = ParseEtag(grainState.ETag) + 1;
                command.CommandText = "UPDATE grain_state SET etag = $n, payload = $p WHERE state_name = $s AND grain_id = $g AND etag = $e";
                command.Parameters.AddWithValue("$e", next - 1);
                command.Parameters.AddWithValue("$n", next);
            }
            command.Parameters.AddWithValue("$s", stateName);
            command.Parameters.AddWithValue("$g", grainId.ToString());
            command.Parameters.AddWithValue("$p", payload);
            if (await command.ExecuteNonQueryAsync() != 1) throw Conflict("write", stateName, grainId, grainState.ETag);
            grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await _gate.WaitAsync();
        try
        {
            if (grainState.ETag is not null)
            {
                await using var command = Connection().CreateCommand();
                command.CommandText = "DELETE FROM grain_state WHERE state_name = $s AND grain_id = $g AND etag = $e";
                command.Parameters.AddWithValue("$s", stateName);
                command.Parameters.AddWithValue("$g", grainId.ToString());
                command.Parameters.AddWithValue("$e", ParseEtag(grainState.ETag));
                if (await command.ExecuteNonQueryAsync() != 1) throw Conflict("clear", stateName, grainId, grainState.ETag);
            }
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
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
                "etag INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (state_name, grain_id)) WITHOUT ROWID;";
            command.ExecuteNonQuery();
        }
        logger.LogInformation("Grain storage {Provider} opened {Path} (synchronous={Synchronous})", name, path, options.Synchronous);
        return _connection = connection;
    }

    private static long ParseEtag(string etag) =>
        long.TryParse(etag, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InconsistentStateException($"ETag '{etag}' was not written by this storage");

    private InconsistentStateException Conflict(string operation, string stateName, GrainId grainId, string? etag)
    {
        logger.LogWarning("Storage {Provider}: {Operation} of {StateName} for {GrainId} lost an ETag race (expected {ETag})",
            name, operation, stateName, grainId, etag ?? "none");
        return new InconsistentStateException($"{operation} of {stateName} for {grainId}: stored version is not {etag ?? "absent"}", "unknown", etag ?? "none");
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _gate.Dispose();
    }
}
