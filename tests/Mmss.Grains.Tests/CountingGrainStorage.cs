using System.Collections.Concurrent;
using Orleans.Storage;

namespace Mmss.Grains.Tests;

/// <summary>Grain state in memory with ETag checks, counting writes so tests can state what a message costs.</summary>
public sealed class CountingGrainStorage : IGrainStorage
{
    public static readonly CountingGrainStorage Shared = new();

    private readonly ConcurrentDictionary<string, (object State, long Version)> _states = new();
    private int _writes;

    public int Writes => Volatile.Read(ref _writes);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_states.TryGetValue(Key(stateName, grainId), out var stored))
        {
            grainState.State = (T)stored.State;
            grainState.ETag = stored.Version.ToString();
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Interlocked.Increment(ref _writes);
        var key = Key(stateName, grainId);
        var expected = grainState.ETag is null ? 0 : long.Parse(grainState.ETag);
        var current = _states.TryGetValue(key, out var stored) ? stored.Version : 0;
        if (current != expected) throw new InconsistentStateException($"stale ETag for {key}");
        _states[key] = (grainState.State!, current + 1);
        grainState.ETag = (current + 1).ToString();
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Interlocked.Increment(ref _writes);
        _states.TryRemove(Key(stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
        return Task.CompletedTask;
    }

    private static string Key(string stateName, GrainId grainId) => stateName + "|" + grainId;
}
