using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Serialization;
using Orleans.Storage;

namespace Mmss.Silo.Cluster;

/// <summary>
/// Orleans' ADO.NET grain storage, tried once more when PostgreSQL dropped the pooled connection under it: after a
/// database restart every idle pooled connection is dead, and the provider would fail one grain call per dead
/// connection (a user grain failing to load is a failed login). The pool is cleared first, so the retry gets a new
/// connection. A statement PostgreSQL refused is not retried.
/// </summary>
public sealed class ReconnectingGrainStorage(IGrainStorage inner, DeepCopier copier, ILogger<ReconnectingGrainStorage> logger) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        RetryOnceAsync("read", stateName, grainId, () => inner.ReadStateAsync(stateName, grainId, grainState));

    /// <remarks>
    /// The provider serializes the state only once it has a connection, on another thread, while the grain goes on and may
    /// change it (a user grain writes its session list behind): it is given a copy taken now. A write whose connection
    /// was lost may have committed: then the retry's version check fails, and the grain gets InconsistentStateException
    /// and reloads, as after any lost race. Nothing is written twice.
    /// </remarks>
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var snapshot = new GrainState<T>(copier.Copy(grainState.State), grainState.ETag) { RecordExists = grainState.RecordExists };
        await RetryOnceAsync("write", stateName, grainId, () => inner.WriteStateAsync(stateName, grainId, snapshot));
        grainState.ETag = snapshot.ETag;
        grainState.RecordExists = snapshot.RecordExists;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        RetryOnceAsync("clear", stateName, grainId, () => inner.ClearStateAsync(stateName, grainId, grainState));

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
