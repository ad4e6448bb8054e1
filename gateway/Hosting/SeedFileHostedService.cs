using Mmss.Gateway.Provisioning;
using Mmss.GrainInterfaces;

namespace Mmss.Gateway.Hosting;

/// <summary>
/// Applies the seed file once the cluster is reachable and before the listeners open (it is registered after Orleans).
/// Gateways of a cluster start together: the one holding the "seed-file" lease applies it, the others go on at once.
/// </summary>
public sealed class SeedFileHostedService(SeedFileApplier applier, IGrainFactory grains, ILogger<SeedFileHostedService> logger) : IHostedService
{
    /// <summary>Long enough to cover a rolling start of every gateway; the seed is idempotent, so a later start may apply it again.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!applier.IsConfigured) return;
        if (!await grains.GetGrain<IClusterLeaseGrain>("seed-file").TryAcquireAsync(ClusterJob.ProcessHolder, Lease))
        {
            logger.LogInformation("The seed file is being applied or was just applied by another gateway; skipped here");
            return;
        }
        await applier.ApplyAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
