using Mmss.GrainInterfaces;

namespace Mmss.Gateway.Messaging;

/// <summary>
/// Creates this gateway's observer reference and keeps its directory entry fresh on a timer (GPSTracker's
/// HubListUpdater pattern). Started before the listeners, so that no session binds without it.
/// </summary>
public sealed class GatewayRegistration(IGrainFactory grains, GatewayIdentity identity, SessionObserver observer,
    ILogger<GatewayRegistration> logger) : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan RefreshPeriod = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _refreshLoop;

    public ISessionObserver Reference { get; private set; } = null!;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Reference = grains.CreateObjectReference<ISessionObserver>(observer);
        await Directory.RefreshAsync(identity.Id);
        logger.LogInformation("Gateway {GatewayId} registered", identity.Id);
        _refreshLoop = RefreshLoopAsync(_stopping.Token);
    }

    private IGatewayDirectoryGrain Directory => grains.GetGrain<IGatewayDirectoryGrain>(0);

    private async Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(RefreshPeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await Directory.RefreshAsync(identity.Id);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Gateway {GatewayId} could not refresh its directory entry", identity.Id);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_refreshLoop is not null) await _refreshLoop;
        try
        {
            await Directory.RemoveAsync(identity.Id);
        }
        catch (Exception e)
        {
            logger.LogDebug("Gateway {GatewayId} could not leave the directory: {Reason}", identity.Id, e.Message);
        }
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }
}
