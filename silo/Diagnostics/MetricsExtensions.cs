using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Mmss.Grains.Diagnostics;
using OpenTelemetry.Metrics;

namespace Mmss.Silo.Diagnostics;

/// <summary>OpenTelemetry metrics exported in Prometheus text format at <c>/metrics</c>, for the gateway and the silo.</summary>
public static class MetricsExtensions
{
    public const string Path = "/metrics";

    private const int MaxSeriesPerInstrument = 200;

    /// <summary>
    /// The meters collected: the MMSS's own (<see cref="MmssMetrics"/>, <see cref="SiloMetrics"/>, and those named in
    /// <paramref name="meters"/>), Orleans' (<c>Microsoft.Orleans</c>: grain calls, activations, messaging) and the .NET
    /// runtime's (<c>System.Runtime</c>: GC, thread pool, exceptions).
    /// </summary>
    public static IServiceCollection AddMmssMetrics(this IServiceCollection services, MetricsOptions options, params string[] meters)
    {
        if (!options.Enabled) return services;
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(MmssMetrics.MeterName, SiloMetrics.MeterName, "Microsoft.Orleans", "System.Runtime")
            .AddMeter(meters)
            // Every tag here takes a handful of values (listeners, mechanisms, codes): the SDK's default of 2,000 series
            // per instrument, each preallocated, cost some 23 MB across Orleans', the runtime's and our instruments.
            .AddView(_ => new MetricStreamConfiguration { CardinalityLimit = MaxSeriesPerInstrument })
            // Each scrape collects afresh: a scraper polls every few seconds, and a cached answer would hide what just happened.
            .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary><c>/metrics</c>, on <paramref name="port"/> only when it is not 0.</summary>
    public static IEndpointRouteBuilder MapMmssMetrics(this IEndpointRouteBuilder endpoints, MetricsOptions options, int port = 0)
    {
        if (!options.Enabled) return endpoints;
        var endpoint = endpoints.MapPrometheusScrapingEndpoint(Path);
        if (port != 0) endpoint.RequireHost($"*:{port}");
        return endpoints;
    }
}
