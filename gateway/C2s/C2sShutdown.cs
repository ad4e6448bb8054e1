using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>
/// Before anything stops, readiness goes false and every client stream is closed with system-shutdown (RFC 6120
/// §4.9.3.20). Nothing is lost: what a terminal has not answered or acknowledged stays stored for its next login.
/// </summary>
public sealed class C2sShutdown(ConnectionTracker connections, Hosting.GatewayReadiness readiness, IConfiguration configuration,
    ILogger<C2sShutdown> logger) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        // Readiness first: new connections are refused from now on, and a load balancer polling /health/ready gets
        // Mmss:Shutdown:DrainDelaySeconds to send terminals elsewhere before their streams close.
        readiness.MarkStopping();
        var delay = configuration.GetValue("Mmss:Shutdown:DrainDelaySeconds", 0);
        if (delay > 0)
        {
            logger.LogInformation("Stopping: not ready any more; closing client streams in {Seconds} s", delay);
            await Task.Delay(TimeSpan.FromSeconds(delay), cancellationToken);
        }
        var open = connections.All().ToArray();
        logger.LogInformation("Shutting down: closing {Count} client streams", open.Length);
        try
        {
            await Task.WhenAll(open.Select(c => c.CloseAsync(StreamErrorCondition.SystemShutdown, "the server is shutting down")))
                .WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            logger.LogWarning("Not every client stream could be closed before shutdown went on");
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        readiness.MarkStarted();
        return Task.CompletedTask;
    }
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
