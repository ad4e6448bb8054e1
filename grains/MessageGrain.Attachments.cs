using Microsoft.Extensions.Logging;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>Attachments (spec 7.4): which files the sender uploaded for this id, and the check an MMS naming them passes.</summary>
public sealed partial class MessageGrain
{
    private TaskCompletionSource _uploadArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task RecordUploadAsync(string[] fileNames)
    {
        await UpdateStateAsync(s =>
        {
            foreach (var name in fileNames)
            {
                if (!s.Uploads.Contains(name)) s.Uploads.Add(name);
            }
        });
        _uploadArrived.TrySetResult();
        _uploadArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public Task<AttachmentAccess> GetAttachmentAccessAsync()
    {
        IReadOnlyList<string> recipients = state.State.Members ?? (state.State.Recipient is { } r ? [r] : []);
        return Task.FromResult(new AttachmentAccess(state.State.Uploads.ToArray(), recipients,
            state.State.ContentHash is null ? null : state.State.ExpiresAt));
    }

    /// <summary>Null when every named file is here (waiting the grace period for uploads in flight), else what is missing.</summary>
    private async Task<string?> MissingAttachmentAsync(string? attach)
    {
        var names = AttachmentNames.Parse(attach);
        if (names.Count == 0) return null;
        var deadline = time.GetUtcNow().AddSeconds(options.Value.AttachmentGraceSeconds);
        while (true)
        {
            var missing = names.FirstOrDefault(n => !state.State.Uploads.Contains(n));
            if (missing is null) return null;
            var remaining = deadline - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero) return missing;
            logger.LogDebug("MMS {MessageId} from {Sender} waits for attachment {File}", MessageId, Sender, missing);
            try
            {
                await _uploadArrived.Task.WaitAsync(remaining);
            }
            catch (TimeoutException)
            {
            }
        }
    }
}
