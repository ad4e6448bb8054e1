using Mmss.GrainInterfaces;

namespace Mmss.Grains;

public sealed class GroupGrain([PersistentState("group", StorageNames.Default)] IPersistentState<GroupState> state) : Grain, IGroupGrain
{
    public Task<GroupProfile?> GetAsync() =>
        Task.FromResult(state.State.Members is { } members
            ? new GroupProfile(this.GetPrimaryKeyString(), state.State.Name ?? string.Empty, members.ToArray())
            : null);

    public async Task<bool> SetAsync(string name, IReadOnlyList<string> members)
    {
        var created = state.State.Members is null;
        state.State.Name = name;
        state.State.Members = members.Distinct(StringComparer.Ordinal).ToList();
        await state.WriteStateAsync();
        return created;
    }

    public async Task<bool> RemoveAsync()
    {
        if (state.State.Members is null) return false;
        await state.ClearStateAsync();
        return true;
    }
}
