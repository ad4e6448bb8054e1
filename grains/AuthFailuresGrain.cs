using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>
/// Failure times in memory: a throttle that forgets when its silo dies lets an attacker start a new window, which costs
/// less than a durable write for every failed login.
/// </summary>
public sealed class AuthFailuresGrain(TimeProvider time) : Grain, IAuthFailuresGrain
{
    /// <summary>Only the count up to a limit matters; more entries carry no information.</summary>
    private const int MaxKept = 10_000;

    private readonly Queue<DateTimeOffset> _failures = new();

    public Task<int> CountAsync(int windowSeconds)
    {
        Trim(windowSeconds);
        // Every login asks, nearly always of a grain with nothing to remember: kept until collection, those activations
        // were some 2 KB of memory per connected terminal.
        if (_failures.Count == 0) DeactivateOnIdle();
        return Task.FromResult(_failures.Count);
    }

    public Task RecordAsync(int windowSeconds)
    {
        _failures.Enqueue(time.GetUtcNow());
        while (_failures.Count > MaxKept) _failures.Dequeue();
        Trim(windowSeconds);
        return Task.CompletedTask;
    }

    private void Trim(int windowSeconds)
    {
        var cutoff = time.GetUtcNow().AddSeconds(-windowSeconds);
        while (_failures.Count > 0 && _failures.Peek() < cutoff) _failures.Dequeue();
    }
}
