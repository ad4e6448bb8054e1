using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;

namespace Mmss.Gateway.Attachments;

/// <summary>
/// The daily upload allowance, counted by the user's <see cref="IUploadAllowanceGrain"/> so that every gateway of the
/// cluster draws on the same allowance.
/// </summary>
public sealed class UploadQuota(IOptions<AttachmentOptions> options, IGrainFactory grains)
{
    public async Task<long> RemainingAsync(string udn) =>
        Math.Max(0, options.Value.MaxDailyBytesPerUser - await grains.GetGrain<IUploadAllowanceGrain>(udn).UsedTodayAsync());

    public Task AddAsync(string udn, long bytes) =>
        bytes > 0 ? grains.GetGrain<IUploadAllowanceGrain>(udn).AddAsync(bytes) : Task.CompletedTask;
}
