using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;
using Mmss.Grains;

namespace Mmss.Silo;

/// <summary>
/// Finds mailboxes holding expired entries and has their user grains expire them (FAIL 5 to originators). It reads
/// the store, not grains, so users who never log in again are swept too. One silo of the cluster sweeps at a time.
/// </summary>
public sealed class MailboxExpirySweeper(IMailboxStore store, IGrainFactory grains, IOptions<MailboxOptions> options,
    TimeProvider time, ILogger<MailboxExpirySweeper> logger) : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(options.Value.ExpirySweepSeconds);
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (!await ClusterJob.IsMineAsync(grains, "mailbox-expiry", ClusterJob.ProcessHolder, period)) continue;
                    var owners = await store.FindOwnersWithExpiredAsync(time.GetUtcNow(), BatchSize);
                    foreach (var owner in owners)
                    {
                        if (owner.StartsWith(MessageKey.OutcomeOwnerPrefix, StringComparison.Ordinal))
                            await grains.GetGrain<IMessageGrain>(owner[MessageKey.OutcomeOwnerPrefix.Length..]).SweepAsync();
                        else
                            await grains.GetGrain<IUserGrain>(owner).ExpireAsync();
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Expiry sweep failed; retrying at the next tick");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
