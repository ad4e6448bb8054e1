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
public sealed class GatewayLivenessRefresher(GatewayLiveness liveness, PresenceWatch presence, IGrainFactory grains,
    IOptions<MailboxOptions> options, TimeProvider time, ILogger<GatewayLivenessRefresher> logger) : BackgroundService
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
                    var newlyGone = liveness.Update(await grains.GetGrain<IGatewayDirectoryGrain>(0).GetGoneGatewaysAsync(), readStartedAt);
                    foreach (var gatewayId in newlyGone) await EndAnnouncedSessionsAsync(gatewayId);
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

    /// <summary>The users of this silo with presence announced through a gateway now gone; a few at a time, never failing the loop.</summary>
    private async Task EndAnnouncedSessionsAsync(string gatewayId)
    {
        var users = presence.TakeUsersOf(gatewayId);
        if (users.Count == 0) return;
        logger.LogInformation("Gateway {Gateway} counted gone: ending the announced sessions of {Count} users", gatewayId, users.Count);
        foreach (var batch in users.Chunk(64))
        {
            await Task.WhenAll(batch.Select(async udn =>
            {
                try
                {
                    await grains.User(udn).EndSessionsOfGoneGatewaysAsync();
                }
                catch (Exception e)
                {
                    logger.LogInformation("{Udn}: sessions on gone gateway {Gateway} could not be ended now: {Reason}", udn, gatewayId, e.Message);
                }
            }));
        }
    }
}
