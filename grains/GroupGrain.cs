using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

public sealed class GroupGrain([PersistentState("group", StorageNames.Default)] IPersistentState<GroupState> state, ILogger<GroupGrain> logger)
    : Grain, IGroupGrain
{
    public Task<GroupProfile?> GetAsync() =>
        Task.FromResult(state.State.Members is { } members
            ? new GroupProfile(this.GetPrimaryKeyString(), state.State.Name ?? string.Empty, members.ToArray())
            : null);

    public Task<string[]?> GetMembersUpToAsync(int limit) =>
        Task.FromResult(state.State.Members is { } members && members.Count <= limit ? members.ToArray() : null);

    public async Task<bool> SetAsync(string name, IReadOnlyList<string> members)
    {
        var created = state.State.Members is null;
        var before = state.State.Members ?? [];
        var indexed = state.State.MembersIndexed || created;
        if (created) state.State.MembersIndexed = true;
        state.State.Name = name;
        state.State.Members = members.Distinct(StringComparer.Ordinal).ToList();
        await state.WriteStateAsync();
        // The group is the truth; each member's index follows its changes (written after the group, so a failure here
        // leaves an index behind, never a group without its members). A group stored before the index existed has
        // every member registered (joining is idempotent).
        await UpdateMembershipsAsync(joined: indexed ? state.State.Members.Except(before, StringComparer.Ordinal) : state.State.Members,
            left: before.Except(state.State.Members, StringComparer.Ordinal));
        if (!state.State.MembersIndexed) await MarkIndexedAsync();
        return created;
    }

    public async Task<bool> RemoveAsync()
    {
        if (state.State.Members is not { } members) return false;
        await state.ClearStateAsync();
        await UpdateMembershipsAsync(joined: [], left: members);
        return true;
    }

    /// <summary>
    /// Backfill of the membership index (rosters and presence read it) for a group provisioned before it existed: once,
    /// at the first activation that finds the group not marked indexed. A failure leaves the mark off for the next one.
    /// </summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Members is not { } members || state.State.MembersIndexed) return;
        try
        {
            await UpdateMembershipsAsync(joined: members, left: []);
            await MarkIndexedAsync();
            logger.LogInformation("Group {Gdn}: {Count} members registered in the membership index", this.GetPrimaryKeyString(), members.Count);
        }
        catch (Exception e)
        {
            logger.LogWarning("Group {Gdn}: the membership index could not be completed; retried at the next activation: {Reason}",
                this.GetPrimaryKeyString(), e.Message);
        }
    }

    private async Task MarkIndexedAsync()
    {
        state.State.MembersIndexed = true;
        await state.WriteStateAsync();
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
