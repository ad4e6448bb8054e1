using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces.Peers;

namespace Mmss.Grains.Relay;

/// <summary>
/// The peers defined at run time, stored, and the processes routing by them. A change is written, then pushed to every
/// listening process (each push bounded by <see cref="PushTimeout"/>), and only then answered: when the admin API says
/// done, every live process routes by the new table. A process that missed a push (starting, or slow) catches up at its
/// next poll (<see cref="RelayOptions.PeerRefreshSeconds"/>); one that stops polling for three periods is forgotten.
/// </summary>
public sealed class PeerDirectoryGrain(
    [PersistentState("peers", StorageNames.Default)] IPersistentState<PeerDirectoryState> state,
    IOptions<RelayOptions> options,
    TimeProvider time,
    ILogger<PeerDirectoryGrain> logger) : Grain, IPeerDirectoryGrain
{
    private static readonly TimeSpan PushTimeout = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, (IPeerDirectoryObserver Listener, DateTimeOffset RenewedAt)> _listeners = new(StringComparer.Ordinal);

    public Task<PeerDirectorySnapshot> GetAsync() => Task.FromResult(Snapshot());

    public Task<PeerDirectorySnapshot?> ListenAsync(string processId, IPeerDirectoryObserver listener, long knownVersion)
    {
        _listeners[processId] = (listener, time.GetUtcNow());
        return Task.FromResult(knownVersion == state.State.Version ? null : Snapshot());
    }

    public Task StopListeningAsync(string processId)
    {
        _listeners.Remove(processId);
        return Task.CompletedTask;
    }

    public async Task<PeerPutOutcome> PutAsync(PeerRecord peer)
    {
        var domain = peer.Domain.Trim().ToLowerInvariant();
        var errors = new List<string>();
        if (PeerDefinition.Compile(peer, $"peer {domain}", configured: false, errors) is not { } candidate)
            return new PeerPutOutcome(false, string.Join("; ", errors));
        // The stored peers are the authority on overlaps among themselves: two gateways defining peers at once cannot
        // both pass. (Configured peers and our own domains are each process's configuration: the gateway checks those.)
        var others = state.State.Peers.Values.Where(p => p.Domain != domain)
            .Select(p => PeerDefinition.Compile(p, p.Domain, configured: false, [])).OfType<Peer>();
        var clash = PeerDefinition.Clashes(candidate, others, [], $"peer {domain}").FirstOrDefault();
        if (clash is not null) return new PeerPutOutcome(false, clash);
        var created = !state.State.Peers.ContainsKey(domain);
        state.State.Peers[domain] = peer with { Domain = domain };
        await CommitAsync();
        logger.LogInformation("Peer {Peer} {Action} (directory version {Version})", candidate, created ? "created" : "replaced", state.State.Version);
        return new PeerPutOutcome(created, null);
    }

    public async Task<bool> RemoveAsync(string domain)
    {
        domain = domain.Trim().ToLowerInvariant();
        if (!state.State.Peers.Remove(domain)) return false;
        await CommitAsync();
        logger.LogInformation("Peer {Peer} removed (directory version {Version})", domain, state.State.Version);
        // Every process has stopped routing to it (pushed above): what its link still queues can be settled now.
        await GrainFactory.GetGrain<IPeerLinkGrain>(domain).PeerRemovedAsync();
        return true;
    }

    private PeerDirectorySnapshot Snapshot() => new(state.State.Version, state.State.Peers.Values.ToArray());

    private async Task CommitAsync()
    {
        state.State.Version++;
        await state.WriteStateAsync();
        var snapshot = Snapshot();
        var forgetBefore = time.GetUtcNow().AddSeconds(-3 * options.Value.PeerRefreshSeconds);
        foreach (var stale in _listeners.Where(l => l.Value.RenewedAt < forgetBefore).Select(l => l.Key).ToArray()) _listeners.Remove(stale);
        await Task.WhenAll(_listeners.ToArray().Select(async listener =>
        {
            try
            {
                await listener.Value.Listener.PeersChangedAsync(snapshot).WaitAsync(PushTimeout);
            }
            catch (Exception e)
            {
                // It catches up at its next poll, which also registers it again.
                _listeners.Remove(listener.Key);
                logger.LogWarning("Process {Process} was not told of peer directory version {Version}: {Reason}", listener.Key, snapshot.Version, e.Message);
            }
        }));
    }
}
