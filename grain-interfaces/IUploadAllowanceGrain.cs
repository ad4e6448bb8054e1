namespace Mmss.GrainInterfaces;

/// <summary>Bytes a user (UDN) uploaded today (UTC), counted across every gateway and kept across restarts.</summary>
public interface IUploadAllowanceGrain : IGrainWithStringKey
{
    [Orleans.Concurrency.ReadOnly]
    Task<long> UsedTodayAsync();

    Task AddAsync(long bytes);
}
