using Mmss.GrainInterfaces;

namespace Mmss.Gateway.Messaging;

/// <summary>
/// Creates this gateway's observer reference and keeps its directory entry fresh on a timer (GPSTracker's
/// HubListUpdater pattern), every third of Mmss:Mailbox:GatewayExpirySeconds — the same setting after which the silos
/// count a silent gateway gone. Started before the listeners, so that no session binds without it.
/// </summary>
public sealed class GatewayRegistration(IGrainFactory grains, GatewayIdentity identity, SessionObserver observer,
    SessionResync resync, Hosting.GatewayReadiness readiness, IConfiguration configuration, ILogger<GatewayRegistration> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _refreshLoop;

    public ISessionObserver Reference { get; private set; } = null!;

    /// <summary>The setting is the grains' (Mmss:Mailbox); read here by name so that the gateway needs no grain types.</summary>
    private TimeSpan RefreshPeriod =>
        TimeSpan.FromSeconds(Math.Max(1, configuration.GetValue("Mmss:Mailbox:GatewayExpirySeconds", 30) / 3.0));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Reference = grains.CreateObjectReference<ISessionObserver>(observer);
        await Directory.RefreshAsync(identity.Id);
        readiness.ClusterReached();
        logger.LogInformation("Gateway {GatewayId} registered", identity.Id);
        _refreshLoop = RefreshLoopAsync(_stopping.Token);
    }

    private TimeSpan RefreshTimeout => RefreshPeriod > TimeSpan.FromSeconds(5) ? RefreshPeriod : TimeSpan.FromSeconds(5);

    /// <summary>Readiness holds while the last refresh is at most two periods old (one refresh may fail).</summary>
    public TimeSpan ContactWindow => RefreshPeriod * 2.5;

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
                    // Bounded: a call to a directory whose silo just died waits for Orleans' response timeout (30 s),
                    // and the refreshes that would find it back elsewhere wait behind it. An abandoned refresh is harmless.
                    var wasLive = await Directory.RefreshAsync(identity.Id).WaitAsync(RefreshTimeout, cancellationToken);
                    readiness.ClusterReached();
                    if (!wasLive)
                    {
                        logger.LogWarning("Gateway {GatewayId} had been counted gone; its sessions are resynchronised", identity.Id);
                        resync.Request("this gateway had been counted gone");
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("Gateway {GatewayId} could not refresh its directory entry: {Reason}", identity.Id, e.Message);
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
