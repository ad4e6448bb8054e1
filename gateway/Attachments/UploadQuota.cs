using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Mmss.Gateway.Attachments;

/// <summary>Bytes uploaded per user per UTC day, counted as they stream (per gateway process).</summary>
public sealed class UploadQuota(IOptions<AttachmentOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (DateOnly Day, long Bytes)> _used = new(StringComparer.Ordinal);

    public long Remaining(string udn)
    {
        var today = Today();
        var used = _used.TryGetValue(udn, out var entry) && entry.Day == today ? entry.Bytes : 0;
        return Math.Max(0, options.Value.MaxDailyBytesPerUser - used);
    }

    public void Add(string udn, long bytes)
    {
        var today = Today();
        _used.AddOrUpdate(udn, (today, bytes), (_, entry) => entry.Day == today ? (today, entry.Bytes + bytes) : (today, bytes));
    }

    private DateOnly Today() => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
}
