using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Mmss.Grains;
using Orleans.Serialization;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace Mmss.Silo.Cluster;

public static class PostgresStorageExtensions
{
    /// <summary>ADO.NET invariant name under which Orleans loads Npgsql.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// Grain state in the table of Orleans' ADO.NET provider (<see cref="PostgresGrainStorage"/>) and mailbox rows
    /// through <see cref="PostgresMailboxStore"/>, both in the database <paramref name="connectionString"/> names; the
    /// schema is brought up to date when the silo starts.
    /// Needs no ADO.NET clustering, so a TestingHost cluster can use it as is.
    /// </summary>
    public static ISiloBuilder AddPostgresStorage(this ISiloBuilder silo, string name, string connectionString)
    {
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services =>
            new PostgresSchemaMigrator(connectionString, services.GetRequiredService<ILogger<PostgresSchemaMigrator>>()));
        // Orleans' provider under an inner name, wrapped under the public one (the inner registration keeps its own
        // lifecycle participation, where it initializes). Both sides of the wrapper address and encode rows alike: the
        // same hasher and the same serializer.
        var adoNetName = name + ".adonet";
        var hasher = new OrleansDefaultHasher();
        silo.Services.AddAdoNetGrainStorage(adoNetName, options => options.Configure<Serializer>((storage, serializer) =>
        {
            storage.Invariant = Invariant;
            storage.ConnectionString = connectionString;
            storage.HashPicker = new StorageHasherPicker([hasher]);
            // The binary serializer, as in the embedded SQLite storage: grain state holds grain references, which
            // Orleans' serializer writes and JSON would not.
            storage.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            // A cleared state leaves no row behind (see DeleteStorageKey in 002_orleans_storage.sql).
            storage.DeleteStateOnClear = true;
        }));
        silo.Services.AddGrainStorage(name, (services, _) => new PostgresGrainStorage(
            services.GetRequiredKeyedService<IGrainStorage>(adoNetName),
            services.GetRequiredService<PostgresDatabase>(),
            new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()),
            hasher,
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            services.GetRequiredService<ILogger<PostgresGrainStorage>>()));
        silo.Services.AddPostgresMailboxStore(connectionString);
        // A grain call failing on storage must reach its caller as the database's error, not as a codec failure.
        silo.Services.Configure<ExceptionSerializationOptions>(options => options.SupportedNamespacePrefixes.Add("Npgsql"));
        return silo;
    }

    /// <summary>The mailbox store on PostgreSQL; the mailbox table must exist (<see cref="PostgresSchema.MigrateAsync"/>).</summary>
    public static IServiceCollection AddPostgresMailboxStore(this IServiceCollection services, string connectionString)
    {
        // The retry clock stays the system's even where the grains get a shifted one (tests): waits must really pass.
        services.AddSingleton(provider => new PostgresDatabase(connectionString, provider.GetRequiredService<ILogger<PostgresDatabase>>()));
        services.AddSingleton<IMailboxStore, PostgresMailboxStore>();
        return services;
    }
}
