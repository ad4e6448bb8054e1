using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Mmss.Silo.Storage;

/// <summary>
/// Grain state in one SQLite file, for the embedded mode. Each state is a row keyed by (state name, grain id)
/// with an integer version as its ETag: a write whose ETag is stale changes nothing and throws
/// <see cref="InconsistentStateException"/>, as Orleans expects of a storage provider.
/// </summary>
public sealed class SqliteGrainStorage(string name, SqliteDatabase database, IGrainStorageSerializer serializer,
    ILogger<SqliteGrainStorage> logger) : IGrainStorage
{
    private const string Select = "SELECT etag, payload FROM grain_state WHERE state_name = $s AND grain_id = $g";
    private const string Insert = "INSERT INTO grain_state (state_name, grain_id, etag, payload) VALUES ($s, $g, 1, $p) ON CONFLICT DO NOTHING";
    private const string Update = "UPDATE grain_state SET etag = $n, payload = $p WHERE state_name = $s AND grain_id = $g AND etag = $e";
    private const string Delete = "DELETE FROM grain_state WHERE state_name = $s AND grain_id = $g AND etag = $e";

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => database.ReadAsync(Select, command =>
    {
        command.Set("$s", stateName);
        command.Set("$g", grainId.ToString());
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return true;
        }
        var etag = reader.GetInt64(0);
        var payload = (byte[])reader.GetValue(1);
        grainState.State = serializer.Deserialize<T>(new BinaryData(payload));
        grainState.ETag = etag.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        return true;
    });

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = serializer.Serialize(grainState.State).ToArray();
        var next = grainState.ETag is null ? 1 : ParseEtag(grainState.ETag) + 1;
        await database.RunAsync(grainState.ETag is null ? Insert : Update, command =>
        {
            if (grainState.ETag is not null)
            {
                command.Set("$e", next - 1);
                command.Set("$n", next);
            }
            command.Set("$s", stateName);
            command.Set("$g", grainId.ToString());
            command.Set("$p", payload);
            if (command.ExecuteNonQuery() != 1) throw Conflict("write", stateName, grainId, grainState.ETag);
            grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
            return true;
        });
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => database.RunAsync(Delete, command =>
    {
        if (grainState.ETag is not null)
        {
            command.Set("$s", stateName);
            command.Set("$g", grainId.ToString());
            command.Set("$e", ParseEtag(grainState.ETag));
            if (command.ExecuteNonQuery() != 1) throw Conflict("clear", stateName, grainId, grainState.ETag);
        }
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return true;
    });

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
}
