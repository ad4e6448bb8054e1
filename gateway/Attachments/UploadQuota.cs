using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;

namespace Mmss.Gateway.Attachments;

/// <summary>
/// The daily upload allowance, counted by the user's <see cref="IUploadAllowanceGrain"/> so that every gateway of the
/// cluster draws on the same allowance. An emergency upload (by a user allowed to send emergencies) is exempt: it is
/// neither refused for the allowance nor counted against it, so an emergency never waits for tomorrow's allowance.
/// </summary>
public sealed class UploadQuota(IOptions<AttachmentOptions> options, IGrainFactory grains)
{
    public async Task<long> RemainingAsync(string udn, bool emergency = false) =>
        emergency
            ? long.MaxValue
            : Math.Max(0, options.Value.MaxDailyBytesPerUser - await grains.GetGrain<IUploadAllowanceGrain>(udn).UsedTodayAsync());

    public Task AddAsync(string udn, long bytes, bool emergency = false) =>
        bytes > 0 && !emergency ? grains.GetGrain<IUploadAllowanceGrain>(udn).AddAsync(bytes) : Task.CompletedTask;
}
