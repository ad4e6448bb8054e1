namespace Mmss.GrainInterfaces;

/// <summary>
/// The talk groups one UDN belongs to, keyed by UDN: the reverse of a group's member list, kept by the group grains
/// so that a roster (the groups a terminal can reach) costs one call, not a scan of every group.
/// </summary>
public interface IMembershipGrain : IGrainWithStringKey
{
    [Orleans.Concurrency.ReadOnly]
    Task<string[]> GetGroupsAsync();

    Task JoinAsync(string gdn);

    Task LeaveAsync(string gdn);
}
