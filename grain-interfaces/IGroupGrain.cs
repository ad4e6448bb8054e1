namespace Mmss.GrainInterfaces;

/// <summary>A talk-group, keyed by GDN.</summary>
public interface IGroupGrain : IGrainWithStringKey
{
    Task<GroupProfile?> GetAsync();

    /// <summary>The members, when the group exists and has at most <paramref name="limit"/> of them; else null.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<string[]?> GetMembersUpToAsync(int limit);

    /// <summary>Creates or replaces the group; returns true when it did not exist before.</summary>
    Task<bool> SetAsync(string name, [Immutable] IReadOnlyList<string> members);

    Task<bool> RemoveAsync();
}
