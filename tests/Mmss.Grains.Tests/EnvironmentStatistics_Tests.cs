using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mmss.Silo;
using Mmss.Silo.Diagnostics;
using Orleans.Statistics;

namespace Mmss.Grains.Tests;

/// <summary>
/// The CPU and memory figures Orleans reads, measured on demand instead of by Orleans' event-counter listener. (Orleans'
/// test cluster puts a provider of its own in every silo, so the registrations are checked on host builders.)
/// </summary>
public sealed class EnvironmentStatistics_Tests
{
    [Fact]
    public void A_silo_and_a_cluster_client_measure_on_demand()
    {
        var silo = Host.CreateApplicationBuilder();
        silo.UseOrleans(s => s.UseLocalhostClustering().AddMmssGrainServices());
        AssertOnlyOnDemand(silo.Services);

        var client = Host.CreateApplicationBuilder();
        client.Configuration["Mmss:Cluster:ConnectionString"] = "Host=127.0.0.1;Database=mmss;Username=mmss";
        client.UseOrleansClient(c => c.UseMmssClusterClient(client.Configuration));
        AssertOnlyOnDemand(client.Services);
    }

    private static void AssertOnlyOnDemand(IServiceCollection services)
    {
        var provider = Assert.Single(services, d => d.ServiceType == typeof(IEnvironmentStatisticsProvider));
        Assert.Equal(typeof(OnDemandEnvironmentStatistics), provider.ImplementationType);
    }

    [Fact]
    public void A_busy_thread_shows_as_CPU_use_and_the_memory_figures_add_up()
    {
        var statistics = new OnDemandEnvironmentStatistics();
        var busy = Stopwatch.StartNew();
        while (busy.Elapsed < TimeSpan.FromMilliseconds(700)) { }
        var measured = statistics.GetEnvironmentStatistics();

        // One thread of Environment.ProcessorCount cores busy for the whole interval (other tests may add to it).
        Assert.InRange(measured.RawCpuUsagePercentage, 100f / Environment.ProcessorCount / 2, 100f);
        Assert.Equal(measured.RawCpuUsagePercentage, measured.FilteredCpuUsagePercentage);
        Assert.True(measured.RawMemoryUsageBytes > 0);
        Assert.True(measured.MaximumAvailableMemoryBytes >= measured.RawMemoryUsageBytes);
        Assert.Equal(measured.MaximumAvailableMemoryBytes, measured.RawMemoryUsageBytes + measured.RawAvailableMemoryBytes);
        Assert.InRange(measured.MemoryUsagePercentage, 0f, 100f);
    }

    [Fact]
    public void A_rise_counts_at_once_and_a_fall_gradually()
    {
        Assert.Equal(80f, OnDemandEnvironmentStatistics.Smoothed(10f, 80f));
        var falling = OnDemandEnvironmentStatistics.Smoothed(80f, 10f);
        Assert.InRange(falling, 10.5f, 79.5f);
        var later = OnDemandEnvironmentStatistics.Smoothed(falling, 10f);
        Assert.InRange(later, 10f, falling - 0.5f);
    }
}
