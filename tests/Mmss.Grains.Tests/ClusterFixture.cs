using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces.Peers;
using Mmss.Grains.Relay;
using Mmss.Silo;
using Mmss.Silo.Cluster;
using Mmss.Silo.Storage;
using Mmss.Tests.Infrastructure;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Mmss.Grains.Tests;

/// <summary>
/// A two-silo in-process Orleans cluster with the real grains on a real storage provider, both silos sharing its
/// database. Each silo's grain storage and mailbox store are the provider's own, decorated so that tests can count
/// writes and fail a mailbox load (<see cref="Storage"/>); each fixture has its own clock (<see cref="Time"/>), so
/// the provider collections may run side by side.
/// </summary>
public abstract class ClusterFixture : IAsyncLifetime
{
    // The test cluster builds its silos from a configurator type: the silos find their fixture through this key.
    private const string FixtureKey = "MmssTests:Fixture";
    private static readonly ConcurrentDictionary<string, ClusterFixture> Fixtures = new();

    private readonly string _id = Guid.NewGuid().ToString("N");

    public TestCluster Cluster { get; private set; } = null!;

    /// <summary>The cluster's clock; a test may shift it ahead, and must shift it back.</summary>
    public ShiftableTimeProvider Time { get; } = new();

    /// <summary>Writes counted and loads failed on every silo of this cluster.</summary>
    public StorageTap Storage { get; } = new();

    /// <summary>The mailbox store as the grains of the primary silo use it.</summary>
    public IMailboxStore Mailbox => Cluster.GetSiloServiceProvider(Cluster.Primary!.SiloAddress).GetRequiredService<IMailboxStore>();

    /// <summary>Makes the database ready (created, schema in place) before any silo starts.</summary>
    protected abstract Task CreateStorageAsync();

    /// <summary>Registers the provider's grain storage (named <see cref="StorageNames.Default"/>) and mailbox store.</summary>
    protected abstract void AddStorage(ISiloBuilder silo);

    /// <summary>Where the grains take the gateways' sessions to live: other processes (cluster mode) unless a fixture says otherwise.</summary>
    protected virtual SessionDurability SessionDurability => SessionDurability.Cluster;

    /// <summary>Deletes what <see cref="CreateStorageAsync"/> made, once the silos have stopped.</summary>
    protected virtual Task DeleteStorageAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        await CreateStorageAsync();
        Fixtures[_id] = this;
        var builder = new TestClusterBuilder(2);
        builder.Properties[FixtureKey] = _id;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        foreach (var silo in Cluster.Silos) CheckStorage(Cluster.GetSiloServiceProvider(silo.SiloAddress));
    }

    /// <summary>The provider's storage and mailbox store, as the provider names them: what each silo must run on.</summary>
    protected abstract (string GrainStorage, string MailboxStore) ProviderTypes { get; }

    /// <summary>Fails the fixture, rather than letting tests pass on something else, unless the silo runs on the provider's storage.</summary>
    private void CheckStorage(IServiceProvider silo)
    {
        var storage = silo.GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);
        var mailbox = silo.GetRequiredService<IMailboxStore>();
        var actual = ((storage as CountingGrainStorage)?.Inner.GetType().Name, (mailbox as TappedMailboxStore)?.Inner.GetType().Name);
        if (actual != ProviderTypes)
            throw new InvalidOperationException($"the silo runs on {storage.GetType().Name}/{mailbox.GetType().Name} ({actual}), not {ProviderTypes}");
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
        }
        finally
        {
            Fixtures.TryRemove(_id, out _);
            await DeleteStorageAsync();
        }
    }

    public const int NoticeConfirmWaitMilliseconds = 2000;

    private void Configure(ISiloBuilder silo)
    {
        AddStorage(silo);
        Storage.Decorate(silo.Services, StorageNames.Default);
        silo.Services.AddSingleton<TimeProvider>(Time);
        silo.Services.AddOptions<MailboxOptions>().Configure(o =>
        {
            o.RedeliverAfterSeconds = 3600;
            o.ExpirySweepSeconds = 3600;
            o.GroupAggregationSeconds = 4;
            o.EmergencyRedeliverAfterSeconds = 1;
            o.EmergencyGroupAggregationSeconds = 1;
            // Long enough for a test's observer to confirm a notice however busy the machine; a notice nobody confirms
            // delays its sender's caller by this much.
            o.NoticeConfirmWaitMilliseconds = NoticeConfirmWaitMilliseconds;
        });
        // Peer domains for the relay's tests; registered first, so the configuration's (empty) table is not used.
        silo.Services.AddSingleton(new PeerTable(PeerLink_Tests.Peers));
        silo.Services.AddOptions<RelayOptions>().Configure(o =>
        {
            o.GiveUpSeconds = PeerLink_Tests.GiveUpSeconds;
            o.MaxRetrySeconds = 1;
            o.CarrierTimeoutSeconds = 2;
        });
        silo.Services.AddSingleton(SessionDurability);
        silo.AddMmssGrainServices();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            var id = silo.Configuration[FixtureKey] ?? throw new InvalidOperationException($"the silo's configuration has no {FixtureKey}");
            Fixtures[id].Configure(silo);
        }
    }
}

/// <summary>
/// The embedded mode's storage: grain state and mailbox rows in one SQLite file (a temporary one), with its one writer
/// and one mailbox store shared by both silos, as the one process of embedded mode has them: the store knows which
/// rows each owner has from the writes it committed (<see cref="MailboxOwnerIndex"/>), so a second writer on the file
/// would go unseen by it.
/// </summary>
public class SqliteClusterFixture : ClusterFixture
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "mmss-grains-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Lock _sharing = new();
    private SqliteDatabase? _database;
    private SqliteMailboxStore? _mailbox;

    private SqliteMailboxStore MailboxStore(IServiceProvider silo)
    {
        lock (_sharing)
        {
            return _mailbox ??= new SqliteMailboxStore(_database!, silo.GetRequiredService<Orleans.Serialization.Serializer<MailboxEntry>>(),
                silo.GetRequiredService<ILogger<SqliteMailboxStore>>());
        }
    }

    protected override Task CreateStorageAsync()
    {
        Directory.CreateDirectory(_directory);
        _database = new SqliteDatabase(new SqliteGrainStorageOptions { DatabasePath = Path.Combine(_directory, "mmss.db") },
            NullLogger<SqliteDatabase>.Instance);
        return Task.CompletedTask;
    }

    protected override (string GrainStorage, string MailboxStore) ProviderTypes => (nameof(SqliteGrainStorage), nameof(SqliteMailboxStore));

    protected override void AddStorage(ISiloBuilder silo)
    {
        silo.AddSqliteStorage(StorageNames.Default, new SqliteGrainStorageOptions { DatabasePath = Path.Combine(_directory, "mmss.db") });
        // Registered after the provider's own, so that these are the ones resolved; an instance, so that no silo disposes it.
        silo.Services.AddSingleton(_database!);
        silo.Services.AddSingleton<IMailboxStore>(MailboxStore);
    }

    protected override async Task DeleteStorageAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SqliteCluster : ICollectionFixture<SqliteClusterFixture>
{
    public const string Name = "two-silo cluster on SQLite";
}

/// <summary>
/// The cluster mode's storage: grain state through Orleans' ADO.NET provider and mailbox rows through
/// <see cref="PostgresMailboxStore"/>, in a fresh database of the test assembly's PostgreSQL server.
/// </summary>
public sealed class PostgresClusterFixture : ClusterFixture
{
    private string _connectionString = "";

    protected override async Task CreateStorageAsync()
    {
        var server = await PostgresServer.SharedAsync();
        var database = await server.CreateDatabaseAsync("mmss_grains_" + Guid.NewGuid().ToString("N")[..12]);
        _connectionString = PostgresConnectionString.Normalize(database, "mmss-grain-tests");
        await PostgresSchema.MigrateAsync(_connectionString, NullLogger.Instance);
    }

    protected override (string GrainStorage, string MailboxStore) ProviderTypes => (nameof(PostgresGrainStorage), nameof(PostgresMailboxStore));

    protected override void AddStorage(ISiloBuilder silo) => silo.AddPostgresStorage(StorageNames.Default, _connectionString);
}

[CollectionDefinition(Name)]
public sealed class PostgresCluster : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "two-silo cluster on PostgreSQL";
}
