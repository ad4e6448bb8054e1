using System.Collections.Concurrent;
using Mmss.GrainInterfaces;

namespace Mmss.Grains.Tests;

/// <summary>Stands in for a gateway: records what grains push to each session, and lets tests wait for it.</summary>
public sealed class RecordingObserver : ISessionObserver
{
    private readonly ConcurrentDictionary<string, BlockingCollection<Delivery>> _bySession = new();

    public Task DeliverAsync(string sessionId, Delivery[] deliveries)
    {
        var queue = _bySession.GetOrAdd(sessionId, _ => new BlockingCollection<Delivery>());
        foreach (var delivery in deliveries) queue.Add(delivery);
        return Task.CompletedTask;
    }

    public async Task<Delivery> NextAsync(string sessionId, TimeSpan? timeout = null)
    {
        var queue = _bySession.GetOrAdd(sessionId, _ => new BlockingCollection<Delivery>());
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            if (queue.TryTake(out var delivery)) return delivery;
            await Task.Delay(10);
        }
        throw new TimeoutException($"nothing pushed to {sessionId}");
    }

    private readonly ConcurrentDictionary<string, BlockingCollection<PresenceUpdate>> _presenceBySession = new();

    public Task PresenceAsync(string sessionId, PresenceUpdate[] presences)
    {
        var queue = _presenceBySession.GetOrAdd(sessionId, _ => new BlockingCollection<PresenceUpdate>());
        foreach (var presence in presences) queue.Add(presence);
        return Task.CompletedTask;
    }

    /// <summary>The next presence pushed to the session that matches, skipping others.</summary>
    public async Task<PresenceUpdate> NextPresenceAsync(string sessionId, Func<PresenceUpdate, bool> match, TimeSpan? timeout = null)
    {
        var queue = _presenceBySession.GetOrAdd(sessionId, _ => new BlockingCollection<PresenceUpdate>());
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            if (queue.TryTake(out var presence))
            {
                if (match(presence)) return presence;
                continue;
            }
            await Task.Delay(10);
        }
        throw new TimeoutException($"no matching presence pushed to {sessionId}");
    }

    /// <summary>Every presence pushed to the session so far, taken.</summary>
    public PresenceUpdate[] TakePresences(string sessionId)
    {
        var queue = _presenceBySession.GetOrAdd(sessionId, _ => new BlockingCollection<PresenceUpdate>());
        var taken = new List<PresenceUpdate>();
        while (queue.TryTake(out var presence)) taken.Add(presence);
        return taken.ToArray();
    }

    public bool IsEmpty(string sessionId) => !_bySession.TryGetValue(sessionId, out var queue) || queue.Count == 0;
}
