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

    public bool IsEmpty(string sessionId) => !_bySession.TryGetValue(sessionId, out var queue) || queue.Count == 0;
}
