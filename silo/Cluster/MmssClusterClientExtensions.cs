using Microsoft.Extensions.Configuration;
using Mmss.Silo.Cluster;
using Mmss.Silo.Diagnostics;
using Orleans.Configuration;

namespace Mmss.Silo;

public static class MmssClusterClientExtensions
{
    /// <summary>
    /// An Orleans client (a gateway pod) of the cluster the silos form with <c>UseMmssCluster</c>: it finds their
    /// gateway endpoints in the same PostgreSQL membership table, under the same ClusterId and ServiceId
    /// (section Mmss:Cluster). The settings are checked here; a missing or bad one throws naming it.
    /// </summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">a Mmss:Cluster setting is missing or invalid</exception>
    public static IClientBuilder UseMmssClusterClient(this IClientBuilder client, IConfiguration configuration)
    {
        var cluster = ClusterConfiguration.ReadCluster(configuration, "mmss-gateway");
        client.UseAdoNetClustering(options =>
        {
            options.Invariant = PostgresStorageExtensions.Invariant;
            options.ConnectionString = cluster.ConnectionString;
        });
        client.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = cluster.ClusterId;
            options.ServiceId = cluster.ServiceId;
        });
        client.Services.UseOnDemandEnvironmentStatistics();
        return client;
    }
}
