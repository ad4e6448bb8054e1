using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Storage;

namespace Mmss.Silo.Cluster;

/// <summary>
/// Grain state in the cluster's PostgreSQL database, in the table and row format of Orleans' ADO.NET provider.
/// Writes are group-committed by <see cref="PostgresDatabase"/> with the mailbox writes: 19,000 terminals dropping off
/// at once were 19,000 transactions one after another through the provider, and a talk-group message's own writes
/// queued behind them for seconds; batched, up to 512 writes share a transaction. Reads and clears go through the
/// provider, tried once more when PostgreSQL dropped the pooled connection under it (after a database restart every
/// idle pooled connection is dead, and the provider would fail one grain call per dead connection: a user grain
/// failing to load is a failed login).
/// </summary>
/// <remarks>
/// A write is serialized at the call, on the grain's turn: the grain may change its state while the write waits for
/// its batch (a user grain writes its session list behind). The version check is the provider's: the statement is its
/// WriteToStorageKey (<c>Sql/002_orleans_storage.sql</c>) with positional parameters, so a stale ETag changes nothing
/// and the grain gets <see cref="InconsistentStateException"/>. A batch whose commit outcome was lost with the connection
/// is settled by the writer before it is sent again, so a write is never applied twice.
/// </remarks>
public sealed class PostgresGrainStorage(
    IGrainStorage provider,
    PostgresDatabase database,
    IGrainStorageSerializer serializer,
    IHasher hasher,
    string serviceId,
    ILogger<PostgresGrainStorage> logger) : IGrainStorage
{
    private const string Write = """
        WITH updated AS (
            UPDATE OrleansStorage
            SET PayloadBinary = $9, Version = Version + 1, ModifiedOn = now()
            WHERE $8 IS NOT NULL
              AND GrainIdHash = $1 AND GrainTypeHash = $2 AND GrainIdN0 = $3 AND GrainIdN1 = $4
              AND ServiceId = $5 AND GrainTypeString = $6 AND GrainIdExtensionString IS NOT DISTINCT FROM $7
              AND Version = $8
            RETURNING Version
        ), inserted AS (
            INSERT INTO OrleansStorage
                (GrainIdHash, GrainTypeHash, GrainIdN0, GrainIdN1, ServiceId, GrainTypeString, GrainIdExtensionString,
                 PayloadBinary, Version)
            SELECT $1, $2, $3, $4, $5, $6, $7, $9, 1
            WHERE $8 IS NULL
            ON CONFLICT DO NOTHING
            RETURNING Version
        )
        SELECT Version::bigint FROM updated
        UNION ALL
        SELECT Version::bigint FROM inserted
        """;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        RetryOnceAsync("read", stateName, grainId, () => provider.ReadStateAsync(stateName, grainId, grainState));

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = AdoNetGrainStateKey.Of(stateName, grainId, hasher);
        int? version = string.IsNullOrWhiteSpace(grainState.ETag) ? null : int.Parse(grainState.ETag, CultureInfo.InvariantCulture);
        var payload = serializer.Serialize(grainState.State).ToArray();
        var written = await database.WriteAsync(Write, parameters =>
        {
            parameters.Add(new NpgsqlParameter<int> { TypedValue = key.GrainIdHash });
            parameters.Add(new NpgsqlParameter<int> { TypedValue = key.GrainTypeHash });
            parameters.Add(new NpgsqlParameter<long> { TypedValue = key.N0 });
            parameters.Add(new NpgsqlParameter<long> { TypedValue = key.N1 });
            parameters.Add(new NpgsqlParameter<string> { TypedValue = serviceId });
            parameters.Add(new NpgsqlParameter<string> { TypedValue = key.GrainType });
            parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)key.Extension ?? DBNull.Value });
            parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = (object?)version ?? DBNull.Value });
            parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = payload });
        }, payload.Length + 128);
        if (written is not { } newVersion)
        {
            // Another activation wrote first (or this one's state was cleared meanwhile): the provider's own answer.
            throw new InconsistentStateException(
                $"Version conflict (WriteState): ServiceId={serviceId} GrainType={stateName} GrainId={grainId} ETag={grainState.ETag}.");
        }
        grainState.ETag = newVersion.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        RetryOnceAsync("clear", stateName, grainId, () => provider.ClearStateAsync(stateName, grainId, grainState));

    private async Task RetryOnceAsync(string operation, string stateName, GrainId grainId, Func<Task> attempt)
    {
        try
        {
            await attempt();
        }
        catch (Exception e) when (IsLostConnection(e))
        {
            logger.LogWarning("Grain storage {Operation} of {StateName} for {GrainId} lost its database connection; retrying on a new one",
                operation, stateName, grainId);
            NpgsqlConnection.ClearAllPools();
            await attempt();
        }
    }

    private static bool IsLostConnection(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException pg:
                    return pg.SqlState is "57P01" or "57P02" or "57P03" || pg.SqlState.StartsWith("08", StringComparison.Ordinal);
                case NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException }:
                    return true;
            }
        }
        return false;
    }
}
