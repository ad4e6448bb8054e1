using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mmss.Grains;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace Mmss.Silo.Storage;

public static class SqliteGrainStorageExtensions
{
    /// <summary>Grain state and mailbox rows in one SQLite file.</summary>
    public static ISiloBuilder AddSqliteStorage(this ISiloBuilder builder, string name, SqliteGrainStorageOptions options)
    {
        builder.Services.AddSingleton(services => new SqliteDatabase(options, services.GetRequiredService<ILogger<SqliteDatabase>>()));
        builder.Services.AddSingleton<IMailboxStore, SqliteMailboxStore>();
        builder.Services.AddGrainStorage(name, (services, providerName) => new SqliteGrainStorage(
            providerName,
            services.GetRequiredService<SqliteDatabase>(),
            new OrleansGrainStorageSerializer(services.GetRequiredService<Orleans.Serialization.Serializer>()),
            services.GetRequiredService<ILogger<SqliteGrainStorage>>()));
        return builder;
    }
}
