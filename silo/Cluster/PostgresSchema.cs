using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Mmss.Silo.Cluster;

/// <summary>
/// The cluster database's tables, created by the project's own numbered SQL migrations (Orleans ships no PostgreSQL
/// scripts in its packages). Applying is idempotent and serialized across processes by an advisory lock, so every silo
/// can run it at start and two silos starting together do not both create the same table.
/// </summary>
public static class PostgresSchema
{
    /// <summary>Session advisory lock held while migrating: "MMSS" in ASCII. Nothing else in the database may use it.</summary>
    public const long AdvisoryLockKey = 0x4D4D5353;

    private const string ResourcePrefix = "Mmss.Silo.Sql.";

    private static readonly Lazy<IReadOnlyList<Migration>> All = new(Load);

    /// <summary>Every migration shipped in this build, in the order they apply.</summary>
    public static IReadOnlyList<Migration> Migrations => All.Value;

    /// <summary>
    /// <see cref="MigrateAsync"/>, waiting up to <paramref name="wait"/> for a database that does not accept connections
    /// yet (a PostgreSQL pod starting beside the silos): a hook Job or an init container then succeeds once, instead of
    /// failing and being restarted until it does.
    /// </summary>
    public static async Task<int> MigrateWhenReachableAsync(string connectionString, TimeSpan wait, ILogger logger,
        CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + wait;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                return await MigrateAsync(connectionString, logger, cancellationToken);
            }
            catch (Exception e) when (IsUnreachable(e) && DateTime.UtcNow + delay < deadline)
            {
                logger.LogWarning("Cluster database not reachable yet ({Reason}); trying again in {Delay} ms", e.Message, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>No connection (refused, reset, DNS) or a server still starting or shutting down: worth waiting for.</summary>
    private static bool IsUnreachable(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState is "57P03" or "57P01" or "57P02" || pg.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException { InnerException: System.Net.Sockets.SocketException or IOException or TimeoutException } => true,
        System.Net.Sockets.SocketException => true,
        _ => false,
    };

    /// <summary>Applies the migrations the database lacks, each in its own transaction; returns how many it applied.</summary>
    /// <remarks>The database itself must exist and the connecting role must be allowed to create tables in it.</remarks>
    public static async Task<int> MigrateAsync(string connectionString, ILogger logger, CancellationToken cancellationToken = default)
    {
        // Unpooled: the advisory lock belongs to the session, and a dropped connection must take it along.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, null, "SELECT pg_advisory_lock(" + AdvisoryLockKey.ToString(CultureInfo.InvariantCulture) + ")",
            cancellationToken, timeoutSeconds: 300);
        await ExecuteAsync(connection, null,
            "CREATE TABLE IF NOT EXISTS mmss_schema_version (version integer PRIMARY KEY, name text NOT NULL, " +
            "applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken);

        var applied = new HashSet<int>();
        await using (var command = new NpgsqlCommand("SELECT version FROM mmss_schema_version", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) applied.Add(reader.GetInt32(0));
        }

        var count = 0;
        foreach (var migration in Migrations.Where(m => !applied.Contains(m.Version)))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken, timeoutSeconds: 300);
            await using (var record = new NpgsqlCommand("INSERT INTO mmss_schema_version (version, name) VALUES ($1, $2)", connection, transaction))
            {
                record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
                record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Name });
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Applied schema migration {Version} ({Name})", migration.Version, migration.Name);
            count++;
        }
        var latest = Migrations.Count == 0 ? 0 : Migrations[^1].Version;
        if (count == 0) logger.LogInformation("Schema is up to date at version {Version}", latest);
        else logger.LogInformation("Schema migrated to version {Version} ({Count} applied)", latest, count);
        // Closing the unpooled connection releases the lock even if this fails.
        await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock(" + AdvisoryLockKey.ToString(CultureInfo.InvariantCulture) + ")",
            CancellationToken.None);
        return count;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        CancellationToken cancellationToken, int timeoutSeconds = 30)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = timeoutSeconds };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static IReadOnlyList<Migration> Load()
    {
        var assembly = typeof(PostgresSchema).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var name = Path.GetFileNameWithoutExtension(resource[ResourcePrefix.Length..]);
            var separator = name.IndexOf('_');
            if (separator <= 0 || !int.TryParse(name.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                throw new InvalidOperationException($"Migration resource {resource} does not start with its number (NNN_name.sql)");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(version, name, reader.ReadToEnd()));
        }
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < migrations.Count; i++)
        {
            if (migrations[i].Version == migrations[i - 1].Version)
                throw new InvalidOperationException($"Two migrations numbered {migrations[i].Version}: {migrations[i - 1].Name}, {migrations[i].Name}");
        }
        return migrations;
    }

    /// <param name="Name">the file name without extension, e.g. 003_mmss_mailbox</param>
    public sealed record Migration(int Version, string Name, string Sql);
}
