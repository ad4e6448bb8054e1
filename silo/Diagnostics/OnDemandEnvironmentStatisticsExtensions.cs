using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Statistics;

namespace Mmss.Silo.Diagnostics;

public static class OnDemandEnvironmentStatisticsExtensions
{
    /// <summary>Replaces Orleans' event-counter-based provider (silo and client register one each).</summary>
    public static IServiceCollection UseOnDemandEnvironmentStatistics(this IServiceCollection services)
    {
        services.Replace(ServiceDescriptor.Singleton<IEnvironmentStatisticsProvider, OnDemandEnvironmentStatistics>());
        return services;
    }
}
