using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>Before anything stops, every client stream is closed with system-shutdown (RFC 6120 §4.9.3.20).</summary>
public sealed class C2sShutdown(ConnectionTracker connections, ILogger<C2sShutdown> logger) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var open = connections.Snapshot().ToArray();
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
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
