using Mmss.GrainInterfaces;

namespace Mmss.Grains;

public sealed class UploadAllowanceGrain(
    [PersistentState("uploads", StorageNames.Default)] IPersistentState<UploadAllowanceState> state,
    TimeProvider time) : Grain, IUploadAllowanceGrain
{
    public Task<long> UsedTodayAsync() => Task.FromResult(state.State.Day == Today() ? state.State.Bytes : 0);

    public async Task AddAsync(long bytes)
    {
        var today = Today();
        if (state.State.Day != today) (state.State.Day, state.State.Bytes) = (today, 0);
        state.State.Bytes += bytes;
        await state.WriteStateAsync();
    }

    private DateOnly Today() => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
}
