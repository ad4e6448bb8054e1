using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        silo.AddSqliteStorage(StorageNames.Default, storage);
        silo.AddMmssGrainServices();
        return silo;
    }

    /// <summary>What the grains need whatever the storage: options, the clock, the expiry sweep.</summary>
    public static ISiloBuilder AddMmssGrainServices(this ISiloBuilder silo)
    {
        silo.Services.AddOptions<MailboxOptions>().BindConfiguration(MailboxOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddHostedService<MailboxExpirySweeper>();
        return silo;
    }
}
