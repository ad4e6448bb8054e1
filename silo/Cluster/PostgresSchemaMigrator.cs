using Microsoft.Extensions.Logging;

namespace Mmss.Silo.Cluster;

/// <summary>
/// Brings the schema up to date before any storage provider reads its queries, so that a silo configured with
/// PostgreSQL storage (a test cluster, say) needs no separate migration step.
/// </summary>
internal sealed class PostgresSchemaMigrator(string connectionString, ILogger<PostgresSchemaMigrator> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaMigrator), ServiceLifecycleStage.First,
            cancellationToken => PostgresSchema.MigrateAsync(connectionString, logger, cancellationToken));
}
