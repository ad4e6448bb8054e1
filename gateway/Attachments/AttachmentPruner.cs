using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;

namespace Mmss.Gateway.Attachments;

/// <summary>Removes attachments once their message's life (the mailbox TTL) plus the retention period is over.</summary>
public sealed class AttachmentPruner(IAttachmentStore store, IOptions<AttachmentOptions> options, IConfiguration configuration,
    IGrainFactory grains, TimeProvider time, ILogger<AttachmentPruner> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        try
        {
            do
            {
                try
                {
                    // Every gateway of a cluster shares the store: one of them prunes.
                    if (!await ClusterJob.IsMineAsync(grains, "attachment-pruning", ClusterJob.ProcessHolder, Period)) continue;
                    // The message's life is the mailbox TTL (Mmss:Mailbox:TtlSeconds, read here so the gateway needs no grain types).
                    var ttl = TimeSpan.FromSeconds(configuration.GetValue("Mmss:Mailbox:TtlSeconds", 7 * 24 * 3600));
                    var cutoff = time.GetUtcNow() - ttl - TimeSpan.FromDays(options.Value.RetentionDays);
                    var removed = await store.PruneAsync(cutoff, stoppingToken);
                    if (removed > 0) logger.LogInformation("Pruned {Count} attachments stored before {Cutoff}", removed, cutoff);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Attachment pruning failed; retrying in an hour");
                }
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
