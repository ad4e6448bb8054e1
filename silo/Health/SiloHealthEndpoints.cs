using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Mmss.Silo.Health;

public static class SiloHealthEndpoints
{
    /// <summary>
    /// <c>/health/live</c> answers 200 while the process serves HTTP at all (a failing liveness probe restarts the pod);
    /// <c>/health/ready</c> answers 200 only while this silo is Active in the cluster — not while it joins, nor once it
    /// has begun shutting down — and 503 otherwise.
    /// </summary>
    public static IEndpointRouteBuilder MapSiloHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
        endpoints.MapGet("/health/ready", (IServiceProvider services) =>
        {
            var oracle = services.GetService<ISiloStatusOracle>();
            var status = oracle?.CurrentStatus ?? SiloStatus.None;
            var body = new { status = status.ToString(), silo = oracle?.SiloAddress?.ToString() };
            return status == SiloStatus.Active ? Results.Ok(body) : Results.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        return endpoints;
    }
}
