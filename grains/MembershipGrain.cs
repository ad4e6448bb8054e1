using Mmss.GrainInterfaces;

namespace Mmss.Grains;

public sealed class MembershipGrain([PersistentState("membership", StorageNames.Default)] IPersistentState<MembershipState> state)
    : Grain, IMembershipGrain
{
    public Task<string[]> GetGroupsAsync() => Task.FromResult(state.State.Groups.ToArray());

    public async Task JoinAsync(string gdn)
    {
        var index = state.State.Groups.BinarySearch(gdn, StringComparer.Ordinal);
        if (index >= 0) return;
        state.State.Groups.Insert(~index, gdn);
        await state.WriteStateAsync();
    }

    public async Task LeaveAsync(string gdn)
    {
        if (!state.State.Groups.Remove(gdn)) return;
        if (state.State.Groups.Count == 0) await state.ClearStateAsync();
        else await state.WriteStateAsync();
    }
}
