using Mmss.Gateway.Provisioning;

namespace Mmss.Gateway.Hosting;

/// <summary>Applies the seed file once the silo is up and before the listeners open (it is registered after Orleans).</summary>
public sealed class SeedFileHostedService(SeedFileApplier applier) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => applier.ApplyAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
