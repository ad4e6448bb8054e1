using Microsoft.Extensions.Options;

namespace Mmss.Gateway.Attachments;

/// <summary>Removes attachments once their message's life (the mailbox TTL) plus the retention period is over.</summary>
public sealed class AttachmentPruner(IAttachmentStore store, IOptions<AttachmentOptions> options, IConfiguration configuration,
    TimeProvider time, ILogger<AttachmentPruner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
        try
        {
            do
            {
                try
                {
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
