namespace Mmss.GrainInterfaces;

/// <summary>A talk-group, keyed by GDN.</summary>
public interface IGroupGrain : IGrainWithStringKey
{
    Task<GroupProfile?> GetAsync();

    /// <summary>Creates or replaces the group; returns true when it did not exist before.</summary>
    Task<bool> SetAsync(string name, IReadOnlyList<string> members);

    Task<bool> RemoveAsync();
}
