using System.Data.Common;
using Npgsql;

namespace Mmss.Silo.Cluster;

/// <summary>Settings every cluster connection gets unless the operator's connection string says otherwise.</summary>
public static class PostgresConnectionString
{
    /// <summary>
    /// Per pool, when the connection string sets none. A silo has two pools (Orleans' membership and grain state;
    /// the mailbox store), so with Npgsql's own default of 100 two silos already exceed PostgreSQL's default
    /// max_connections of 100 under load ("too many clients"); a busy pool makes callers wait for a connection instead.
    /// </summary>
    public const int DefaultMaxPoolSize = 20;

    /// <summary>Statements Npgsql prepares automatically per connection, when the connection string sets none.</summary>
    public const int DefaultMaxAutoPrepare = 32;

    /// <exception cref="ArgumentException">not a valid Npgsql connection string</exception>
    public static string Normalize(string connectionString, string applicationName)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // Membership times are timestamptz; a fixed session zone keeps any conversion the server makes independent of
        // the server's configured zone.
        if (string.IsNullOrEmpty(builder.Timezone)) builder.Timezone = "UTC";
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = applicationName;
        if (!SetsMaxPoolSize(connectionString)) builder.MaxPoolSize = DefaultMaxPoolSize;
        // The same few statements run millions of times (mailbox rows, grain state, membership): prepared once per
        // connection, PostgreSQL stops parsing and planning each of them again.
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        return builder.ConnectionString;
    }

    private static bool SetsMaxPoolSize(string connectionString)
    {
        var raw = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return raw.Keys.Cast<string>().Any(key => key.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant() is "maxpoolsize" or "maximumpoolsize");
    }
}
