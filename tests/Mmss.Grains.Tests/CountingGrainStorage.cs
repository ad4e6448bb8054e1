using Orleans.Storage;

namespace Mmss.Grains.Tests;

/// <summary>
/// Wraps a silo's real grain storage provider, counting its writes and clears into the fixture's
/// <see cref="StorageTap"/> so that tests can state what a message costs, and failing a grain's next write when the tap says so. Forwards the silo lifecycle to the provider
/// (the ADO.NET provider initializes there).
/// </summary>
public sealed class CountingGrainStorage(IGrainStorage inner, StorageTap tap) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The provider decorated.</summary>
    public IGrainStorage Inner => inner;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = grainId.Key.ToString();
        if (tap.TakeGrainWriteFailure(key)) throw new IOException("grain storage unreachable");
        tap.CountGrainWrite(key);
        await inner.WriteStateAsync(stateName, grainId, grainState);
        tap.CountGrainWriteOf(key);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        tap.CountGrainWrite(grainId.Key.ToString());
        return inner.ClearStateAsync(stateName, grainId, grainState);
    }

    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);
}
