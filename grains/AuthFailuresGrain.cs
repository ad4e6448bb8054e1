using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>
/// Failure times of the keys of one partition, in memory: a throttle that forgets when its silo dies lets an attacker
/// start a new window, which costs less than a durable write for every failed login. Keys with nothing left in their
/// window are dropped when asked about; a flood of failures from ever more keys is bounded by <see cref="MaxKeys"/>.
/// </summary>
public sealed class AuthFailuresGrain(TimeProvider time) : Grain, IAuthFailuresGrain
{
    /// <summary>Only the count up to a limit matters; more entries carry no information.</summary>
    private const int MaxKeptPerKey = 1_000;

    /// <summary>
    /// Keys held at most (per partition): a full table drops the keys whose window has passed, then the older half of the
    /// rest, so an attacker needs more keys than all partitions hold to be forgotten early, which defeats any per-key limit already.
    /// </summary>
    private const int MaxKeys = 20_000;

    private readonly Dictionary<string, Queue<DateTimeOffset>> _failures = new(StringComparer.Ordinal);

    public Task<int> CountAsync(string key, int windowSeconds)
    {
        if (!_failures.TryGetValue(key, out var times)) return Task.FromResult(0);
        Trim(times, windowSeconds);
        if (times.Count == 0) _failures.Remove(key);
        return Task.FromResult(times.Count);
    }

    public Task RecordAsync(string key, int windowSeconds)
    {
        if (!_failures.TryGetValue(key, out var times))
        {
            if (_failures.Count >= MaxKeys) MakeRoom(windowSeconds);
            _failures[key] = times = new Queue<DateTimeOffset>();
        }
        times.Enqueue(time.GetUtcNow());
        while (times.Count > MaxKeptPerKey) times.Dequeue();
        Trim(times, windowSeconds);
        // Idle collection must not forget failures still in their window.
        DelayDeactivation(TimeSpan.FromSeconds(windowSeconds));
        return Task.CompletedTask;
    }

    private void MakeRoom(int windowSeconds)
    {
        foreach (var (key, times) in _failures)
        {
            Trim(times, windowSeconds);
            if (times.Count == 0) _failures.Remove(key);
        }
        if (_failures.Count < MaxKeys) return;
        var oldest = _failures.OrderBy(f => f.Value.Last()).Take(_failures.Count - MaxKeys / 2).Select(f => f.Key).ToList();
        foreach (var key in oldest) _failures.Remove(key);
    }

    private void Trim(Queue<DateTimeOffset> times, int windowSeconds)
    {
        var cutoff = time.GetUtcNow().AddSeconds(-windowSeconds);
        while (times.Count > 0 && times.Peek() < cutoff) times.Dequeue();
    }
}
