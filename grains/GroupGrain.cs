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
        var before = state.State.Members ?? [];
        state.State.Name = name;
        state.State.Members = members.Distinct(StringComparer.Ordinal).ToList();
        await state.WriteStateAsync();
        // The group is the truth; each member's index follows its changes (written after the group, so a failure here
        // leaves an index behind, never a group without its members).
        await UpdateMembershipsAsync(joined: state.State.Members.Except(before, StringComparer.Ordinal),
            left: before.Except(state.State.Members, StringComparer.Ordinal));
        return created;
    }

    public async Task<bool> RemoveAsync()
    {
        if (state.State.Members is not { } members) return false;
        await state.ClearStateAsync();
        await UpdateMembershipsAsync(joined: [], left: members);
        return true;
    }

    /// <summary>Calls in flight at once: a 100,000-member group is provisioned without flooding the silo's queues.</summary>
    private const int MembershipBatch = 1000;

    private async Task UpdateMembershipsAsync(IEnumerable<string> joined, IEnumerable<string> left)
    {
        var gdn = this.GetPrimaryKeyString();
        var changes = joined.Select(udn => (Udn: udn, Join: true)).Concat(left.Select(udn => (Udn: udn, Join: false)));
        foreach (var batch in changes.Chunk(MembershipBatch))
        {
            await Task.WhenAll(batch.Select(change => change.Join
                ? GrainFactory.GetGrain<IMembershipGrain>(change.Udn).JoinAsync(gdn)
                : GrainFactory.GetGrain<IMembershipGrain>(change.Udn).LeaveAsync(gdn)));
        }
    }
}
