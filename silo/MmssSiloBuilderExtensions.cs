using Microsoft.Extensions.Configuration;
using Mmss.Grains;
using Mmss.Silo.Storage;
using Orleans.Configuration;

namespace Mmss.Silo;

public static class MmssSiloBuilderExtensions
{
    /// <summary>
    /// The single-process configuration: localhost clustering and durable grain state in SQLite under the data directory.
    /// </summary>
    public static ISiloBuilder UseMmssEmbedded(this ISiloBuilder silo, IConfiguration configuration, string dataDirectory)
    {
        var endpoints = configuration.GetSection(OrleansEndpointOptions.Section).Get<OrleansEndpointOptions>() ?? new OrleansEndpointOptions();
        var storage = configuration.GetSection("Mmss:Storage").Get<SqliteGrainStorageOptions>() ?? new SqliteGrainStorageOptions();
        storage.DatabasePath = Path.Combine(dataDirectory, "mmss.db");
        var problems = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(storage, new(storage), problems, validateAllProperties: true))
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException("Mmss:Storage", typeof(SqliteGrainStorageOptions),
                problems.Select(p => p.ErrorMessage ?? "invalid"));
        }
        silo.UseLocalhostClustering(endpoints.SiloPort, endpoints.GatewayPort);
        silo.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = "mmss";
            cluster.ServiceId = "mmss";
        });
        silo.AddSqliteGrainStorage(StorageNames.Default, storage);
        return silo;
    }
}
