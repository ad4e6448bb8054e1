using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Mmss.Silo.Cluster;

/// <summary>
/// Reads and checks the cluster-mode settings once, before anything starts, so that a bad value stops the process
/// with a message naming the setting instead of surfacing later as a connection or membership failure.
/// </summary>
public static class ClusterConfiguration
{
    /// <summary>The cluster options, every problem listed in one exception.</summary>
    /// <param name="applicationName">shown in pg_stat_activity unless the connection string names one</param>
    /// <exception cref="OptionsValidationException">a setting is missing or invalid</exception>
    public static MmssClusterOptions ReadCluster(IConfiguration configuration, string applicationName)
    {
        var options = configuration.GetSection(MmssClusterOptions.Section).Get<MmssClusterOptions>() ?? new MmssClusterOptions();
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            problems.Add($"{MmssClusterOptions.Section}:{nameof(MmssClusterOptions.ConnectionString)} is required in cluster mode");
        }
        else
        {
            try
            {
                options.ConnectionString = PostgresConnectionString.Normalize(options.ConnectionString, applicationName);
            }
            catch (ArgumentException e)
            {
                problems.Add($"{MmssClusterOptions.Section}:{nameof(MmssClusterOptions.ConnectionString)} is not a valid Npgsql connection string: {e.Message}");
            }
        }
        if (string.IsNullOrWhiteSpace(options.ClusterId))
            problems.Add($"{MmssClusterOptions.Section}:{nameof(MmssClusterOptions.ClusterId)} must not be empty");
        if (string.IsNullOrWhiteSpace(options.ServiceId))
            problems.Add($"{MmssClusterOptions.Section}:{nameof(MmssClusterOptions.ServiceId)} must not be empty");
        if (options.StartupWaitSeconds is < 0 or > 3600)
            problems.Add($"{MmssClusterOptions.Section}:{nameof(MmssClusterOptions.StartupWaitSeconds)} must be between 0 and 3600");
        if (problems.Count > 0) throw new OptionsValidationException(MmssClusterOptions.Section, typeof(MmssClusterOptions), problems);
        return options;
    }

    /// <summary>The silo's ports and the address it advertises.</summary>
    /// <exception cref="OptionsValidationException">a port is out of range or the address is not an IP</exception>
    public static (OrleansEndpointOptions Endpoints, IPAddress Advertised) ReadEndpoints(IConfiguration configuration)
    {
        var endpoints = configuration.GetSection(OrleansEndpointOptions.Section).Get<OrleansEndpointOptions>() ?? new OrleansEndpointOptions();
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(endpoints, new ValidationContext(endpoints), results, validateAllProperties: true);
        var problems = results.Select(r => $"{OrleansEndpointOptions.Section}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}").ToList();
        if (endpoints.SiloPort == endpoints.GatewayPort)
            problems.Add($"{OrleansEndpointOptions.Section}:SiloPort and GatewayPort must differ (both {endpoints.SiloPort})");
        IPAddress advertised = IPAddress.Loopback;
        try
        {
            advertised = endpoints.ResolveAdvertisedAddress();
        }
        catch (FormatException e)
        {
            problems.Add(e.Message);
        }
        if (problems.Count > 0) throw new OptionsValidationException(OrleansEndpointOptions.Section, typeof(OrleansEndpointOptions), problems);
        return (endpoints, advertised);
    }
}
