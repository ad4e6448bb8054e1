using Microsoft.Extensions.Configuration;

namespace Mmss.Silo;

/// <summary>The cluster deployment's shared database and identity (section Mmss:Cluster).</summary>
public sealed class MmssClusterOptions
{
    public const string Section = "Mmss:Cluster";

    /// <summary>
    /// Npgsql connection string of the PostgreSQL database holding membership, grain state and mailboxes. The database
    /// must exist; its tables are created by the silo (or <c>migrate</c>).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Silos and gateways with the same ClusterId form one cluster.</summary>
    public string ClusterId { get; set; } = "mmss";

    /// <summary>Scopes stored grain state; keep it across deployments or the state is no longer found.</summary>
    public string ServiceId { get; set; } = "mmss";

    /// <summary>How long a starting silo (or <c>migrate</c>) waits for the database to accept connections.</summary>
    public int StartupWaitSeconds { get; set; } = 60;

    /// <summary>Whether the configuration asks for cluster mode, i.e. names a cluster database.</summary>
    public static bool IsConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[Section + ":" + nameof(ConnectionString)]);
}
