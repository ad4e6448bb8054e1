using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.C2s;

/// <summary>
/// Counts failed authentications per UDN and per source address in a sliding window; past the limit further
/// attempts are refused with temporary-auth-failure until the window has passed. Per gateway process.
/// </summary>
public sealed class AuthThrottle(IOptions<C2sOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Failures> _byUser = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Failures> _byAddress = new(StringComparer.Ordinal);

    private sealed class Failures
    {
        public readonly Queue<long> Times = new();
    }

    public bool IsAddressBlocked(string address) => Count(_byAddress, address) >= options.Value.MaxAuthFailuresPerAddress;

    public bool IsUserBlocked(string udn) => Count(_byUser, udn) >= options.Value.MaxAuthFailuresPerUser;

    public void RecordFailure(string address, string? udn)
    {
        Add(_byAddress, address);
        if (udn is not null) Add(_byUser, udn);
    }

    /// <summary>Drops entries whose window has passed, so that the maps do not grow without bound.</summary>
    public void Prune()
    {
        foreach (var map in new[] { _byUser, _byAddress })
        {
            foreach (var key in map.Keys)
            {
                if (Count(map, key) == 0) map.TryRemove(key, out _);
            }
        }
    }

    private int Count(ConcurrentDictionary<string, Failures> map, string key)
    {
        if (!map.TryGetValue(key, out var failures)) return 0;
        var cutoff = time.GetTimestamp() - (long)(options.Value.AuthFailureWindowSeconds * (double)time.TimestampFrequency);
        lock (failures)
        {
            while (failures.Times.Count > 0 && failures.Times.Peek() < cutoff) failures.Times.Dequeue();
            return failures.Times.Count;
        }
    }

    private void Add(ConcurrentDictionary<string, Failures> map, string key)
    {
        var failures = map.GetOrAdd(key, _ => new Failures());
        lock (failures)
        {
            failures.Times.Enqueue(time.GetTimestamp());
            // Only the count up to the limit matters; older entries beyond it carry no information.
            while (failures.Times.Count > 100_000) failures.Times.Dequeue();
        }
    }
}
