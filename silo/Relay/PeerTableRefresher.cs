using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces.Peers;
using Mmss.Grains.Relay;

namespace Mmss.Silo.Relay;

/// <summary>
/// Keeps this process's <see cref="PeerTable"/> equal to the cluster's peer directory: listens for the changes the
/// directory pushes, and polls it every <see cref="RelayOptions.PeerRefreshSeconds"/> with the version it holds (which
/// also renews the listener, and catches up a push that was lost). Until the first copy arrives (the cluster is still
/// starting) the table holds the configured peers only; attempts are then repeated every second.
/// </summary>
public sealed class PeerTableRefresher(PeerTable table, IGrainFactory grains, IOptions<RelayOptions> options, ILogger<PeerTableRefresher> logger)
    : BackgroundService, IPeerDirectoryObserver
{
    private readonly string _processId = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private IPeerDirectoryObserver? _reference;

    private IPeerDirectoryGrain Directory => grains.GetGrain<IPeerDirectoryGrain>(0);

    public Task PeersChangedAsync(PeerDirectorySnapshot snapshot)
    {
        Apply(snapshot);
        return Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(options.Value.PeerRefreshSeconds);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _reference ??= grains.CreateObjectReference<IPeerDirectoryObserver>(this);
                if (await Directory.ListenAsync(_processId, _reference, table.Version) is { } snapshot) Apply(snapshot);
                failures = 0;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Quietly while the cluster starts; then every failure (the table stays as it was).
                if (++failures > 10 || table.Version >= 0) logger.LogWarning("Could not read the peer directory; keeping the last known peers: {Reason}", e.Message);
            }
            try
            {
                await Task.Delay(table.Version < 0 ? TimeSpan.FromSeconds(1) : period, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Apply(PeerDirectorySnapshot snapshot)
    {
        var before = table.Version;
        foreach (var skipped in table.Apply(snapshot)) logger.LogWarning("Peer directory entry left out: {Reason}", skipped);
        if (table.Version != before)
            logger.LogInformation("Peer table at directory version {Version}: {Peers}", table.Version,
                table.IsEmpty ? "no peers" : string.Join("; ", table.All));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_reference is null) return;
        try
        {
            await Directory.StopListeningAsync(_processId).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
        }
        catch (Exception e)
        {
            logger.LogDebug("Peer directory not told of this process's stop: {Reason}", e.Message);
        }
        grains.DeleteObjectReference<IPeerDirectoryObserver>(_reference);
    }
}
