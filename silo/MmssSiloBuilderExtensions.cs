using Mmss.Silo.Relay;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Mmss.Grains;
using Mmss.Grains.Diagnostics;
using Mmss.Grains.Events;
using Mmss.Silo.Cluster;
using Mmss.Silo.Diagnostics;
using Mmss.Silo.Events;
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
        // The one silo owns the whole grain directory, so a cache of grain locations would only copy it: about 230 bytes
        // for every grain ever activated (an idle terminal's user grain and its throttle grain) and ~19 MB reserved at start.
        silo.Configure<GrainDirectoryOptions>(directory => directory.CachingStrategy = GrainDirectoryOptions.CachingStrategyType.None);
        // One silo: there is no other silo to publish its load to, nor to probe (see CoarseTimerTimeProvider).
        silo.Configure<DeploymentLoadPublisherOptions>(o => o.DeploymentLoadPublisherRefreshTime = TimeSpan.FromSeconds(30));
        silo.Services.AddKeyedSingleton<TimeProvider>(TimeProviderNames.Membership, new CoarseTimerTimeProvider(CoarseTimerTimeProvider.EmbeddedMinimumPeriod));
        silo.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = "mmss";
            cluster.ServiceId = "mmss";
        });
        silo.AddSqliteStorage(StorageNames.Default, storage);
        silo.AddMmssEvents(configuration, embeddedMode: true);
        silo.Services.AddSingleton(SessionDurability.ProcessLocal);
        silo.AddMmssGrainServices();
        return silo;
    }

    /// <summary>
    /// The cluster configuration: membership, grain state and mailboxes in one PostgreSQL database (section
    /// Mmss:Cluster), silo and gateway ports on every interface with <c>Mmss:Orleans:AdvertisedAddress</c> published to
    /// the others. The schema is applied at the first stage of the silo's lifecycle (see
    /// <see cref="PostgresStorageExtensions.AddPostgresStorage"/>), ahead of membership and storage.
    /// </summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">a setting is missing or invalid; the message names it</exception>
    public static ISiloBuilder UseMmssCluster(this ISiloBuilder silo, IConfiguration configuration)
    {
        var cluster = ClusterConfiguration.ReadCluster(configuration, "mmss-silo");
        var (endpoints, advertised) = ClusterConfiguration.ReadEndpoints(configuration);
        silo.UseAdoNetClustering(options =>
        {
            options.Invariant = PostgresStorageExtensions.Invariant;
            options.ConnectionString = cluster.ConnectionString;
        });
        silo.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = cluster.ClusterId;
            options.ServiceId = cluster.ServiceId;
        });
        silo.ConfigureEndpoints(advertised, endpoints.SiloPort, endpoints.GatewayPort, listenOnAnyHostAddress: true);
        silo.AddPostgresStorage(StorageNames.Default, cluster.ConnectionString!);
        silo.AddMmssEvents(configuration, embeddedMode: false);
        silo.AddMmssGrainServices();
        return silo;
    }

    /// <summary>What the grains need whatever the storage: options, the clock, the expiry sweep.</summary>
    public static ISiloBuilder AddMmssGrainServices(this ISiloBuilder silo)
    {
        // Unless the process's log format said whether scopes are written (AddMmssLogFormat), they are pushed.
        silo.Services.TryAddSingleton(new LogScopes(written: true));
        silo.Services.AddOptions<MailboxOptions>().BindConfiguration(MailboxOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        silo.Services.AddOptions<PresenceOptions>().BindConfiguration(PresenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        silo.Services.AddMmssPeers(silo.Configuration);
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.UseOnDemandEnvironmentStatistics();
        // Events are off unless UseMmssEmbedded/UseMmssCluster enabled them (Mmss:Mqtt) before this.
        silo.Services.TryAddSingleton<IMmssEvents>(NullMmssEvents.Instance);
        // Unless UseMmssEmbedded said the gateway runs in this process.
        silo.Services.TryAddSingleton(SessionDurability.Cluster);
        silo.Services.AddHostedService<MailboxExpirySweeper>();
        silo.Services.TryAddSingleton<GatewayLiveness>();
        silo.Services.TryAddSingleton<PresenceWatch>();
        silo.Services.AddHostedService<GatewayLivenessRefresher>();
        return silo;
    }
}
