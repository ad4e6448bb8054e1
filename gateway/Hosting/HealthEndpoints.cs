using Mmss.Gateway.Messaging;

namespace Mmss.Gateway.Hosting;

/// <summary>
/// Probes for orchestrators: /health/live is 200 while the process runs; /health/ready is 200 only while the gateway
/// can serve terminals (see <see cref="GatewayReadiness"/>), else 503. /health is kept for earlier scripts.
/// </summary>
public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this WebApplication app)
    {
        app.MapGet("/health", () => Results.Ok(new { status = "ok" }));
        app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
        app.MapGet("/health/ready", (GatewayReadiness readiness, GatewayRegistration registration) =>
            readiness.IsReady(registration.ContactWindow)
                ? Results.Ok(new { status = "ready" })
                : Results.Json(new { status = readiness.IsStopping ? "stopping" : "not ready" }, statusCode: StatusCodes.Status503ServiceUnavailable));
    }
}
