using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace Mmss.Silo.Storage;

public static class SqliteGrainStorageExtensions
{
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder builder, string name, SqliteGrainStorageOptions options)
    {
        builder.Services.AddGrainStorage(name, (services, providerName) => new SqliteGrainStorage(
            providerName,
            options,
            new OrleansGrainStorageSerializer(services.GetRequiredService<Orleans.Serialization.Serializer>()),
            services.GetRequiredService<ILogger<SqliteGrainStorage>>()));
        return builder;
    }
}
