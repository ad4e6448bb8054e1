using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;
using Mmss.Grains;

namespace Mmss.Silo;

/// <summary>
/// Copies the directory's gone gateways into this silo's <see cref="GatewayLiveness"/> every quarter of the expiry
/// period: a gateway killed with -9 counts as offline on every silo at most 1.25 × Mmss:Mailbox:GatewayExpirySeconds later.
/// </summary>
public sealed class GatewayLivenessRefresher(GatewayLiveness liveness, IGrainFactory grains, IOptions<MailboxOptions> options,
    TimeProvider time, ILogger<GatewayLivenessRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, options.Value.GatewayExpirySeconds / 4.0));
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var readStartedAt = time.GetTimestamp();
                    liveness.Update(await grains.GetGrain<IGatewayDirectoryGrain>(0).GetGoneGatewaysAsync(), readStartedAt);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("Could not read the gateway directory; keeping the last known gateways: {Reason}", e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
