using System.Collections.Concurrent;
using System.Threading.Channels;
using Mmss.Gateway.Hosting;
using Mmss.Gateway.Messaging;
using Mmss.Gateway.S2s;
using Mmss.GrainInterfaces.Peers;

namespace Mmss.Gateway.Relay;

/// <summary>
/// This gateway's offer to carry peer links: every peer link grain knows it (re-announced periodically, which also wakes
/// a link grain whose silo died) and hands it batches to send. Batches for one peer go out one after another over the
/// server-to-server link; each is confirmed to the grain once the peer acknowledged it, or reported failed.
/// </summary>
public sealed class PeerLinkCarrier(
    IGrainFactory grains,
    PeerTable peers,
    S2sOutbound outbound,
    GatewayIdentity gateway,
    ServedDomains domains,
    AttachmentHandover attachments,
    PeerLinkResilience resilience,
    Microsoft.Extensions.Options.IOptions<S2sOptions> s2s,
    ILogger<PeerLinkCarrier> logger) : IPeerLinkObserver, IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan AnnouncePeriod = TimeSpan.FromSeconds(20);

    private readonly ConcurrentDictionary<string, Channel<RelayItem[]>> _queues = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _workers = [];
    private readonly SemaphoreSlim _announceNow = new(0, 1);
    private IPeerLinkObserver? _reference;
    private Task? _announcer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!s2s.Value.Enabled)
        {
            // Dialback needs our listener: the peer verifies us by connecting back to it.
            WarnIfPeersWithoutLinks();
            peers.Changed += WarnIfPeersWithoutLinks;
            return Task.CompletedTask;
        }
        _reference = grains.CreateObjectReference<IPeerLinkObserver>(this);
        // A peer added at run time gets a carrier at once, not at the next round.
        peers.Changed += AnnounceNow;
        _announcer = AnnounceAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private void WarnIfPeersWithoutLinks()
    {
        if (!peers.IsEmpty)
            logger.LogWarning("{Count} peers are defined but server-to-server links are off (Mmss:S2s:Enabled): nothing is relayed", peers.All.Count);
    }

    private void AnnounceNow()
    {
        try
        {
            _announceNow.Release();
        }
        catch (SemaphoreFullException)
        {
            // A round is already due.
        }
    }

    private async Task AnnounceAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            foreach (var peer in peers.All)
            {
                try
                {
                    await grains.GetGrain<IPeerLinkGrain>(peer.Domain).AttachCarrierAsync(gateway.Id, _reference!);
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    logger.LogWarning("Could not offer to carry the link to {Peer}: {Reason}", peer.Domain, e.Message);
                }
            }
            try
            {
                await _announceNow.WaitAsync(AnnouncePeriod, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public Task SendAsync(string peerDomain, RelayItem[] items)
    {
        var queue = _queues.GetOrAdd(peerDomain, domain =>
        {
            var channel = Channel.CreateUnbounded<RelayItem[]>(new UnboundedChannelOptions { SingleReader = true });
            lock (_workers) _workers.Add(Task.Run(() => CarryAsync(domain, channel.Reader, _stopping.Token)));
            return channel;
        });
        queue.Writer.TryWrite(items);
        return Task.CompletedTask;
    }

    private async Task CarryAsync(string domain, ChannelReader<RelayItem[]> batches, CancellationToken stopping)
    {
        var link = grains.GetGrain<IPeerLinkGrain>(domain);
        await foreach (var items in batches.ReadAllAsync(stopping))
        {
            var seqs = items.Select(i => i.Seq).ToArray();
            try
            {
                var peer = peers.FindByDomain(domain) ?? throw new S2sLinkException($"{domain} is no longer a peer");
                var stanzas = items.Select(i => RelayStanzas.Render(i, domains.Default, peer.Domain)).ToArray();
                await resilience.For(domain).ExecuteAsync(async token =>
                {
                    // Seed 6.5: the attachments first, then the MMS that names them.
                    foreach (var item in items) await attachments.HandOverAsync(peer, item, token);
                    await outbound.SendAsync(peer, stanzas, token);
                }, stopping);
                await link.SentAsync(seqs);
                logger.LogDebug("Link to {Peer}: {Count} items accepted", domain, items.Length);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogInformation("Link to {Peer}: {Count} items not accepted: {Reason}", domain, items.Length, e.Message);
                try
                {
                    await link.SendFailedAsync(seqs, e.Message);
                }
                catch (Exception report)
                {
                    // The grain hands the batch out again after its carrier timeout.
                    logger.LogWarning("Link to {Peer}: the failure could not be reported: {Reason}", domain, report.Message);
                }
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        peers.Changed -= AnnounceNow;
        peers.Changed -= WarnIfPeersWithoutLinks;
        await _stopping.CancelAsync();
        foreach (var queue in _queues.Values) queue.Writer.TryComplete();
        Task[] workers;
        lock (_workers) workers = [.. _workers];
        try
        {
            await Task.WhenAll(workers.Append(_announcer ?? Task.CompletedTask)).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        if (_reference is not null) grains.DeleteObjectReference<IPeerLinkObserver>(_reference);
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        _announceNow.Dispose();
        return ValueTask.CompletedTask;
    }
}
