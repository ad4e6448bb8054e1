using Mmss.GrainInterfaces;
using Mmss.Grains.Events;
using Orleans.Concurrency;

namespace Mmss.Grains;

/// <summary>Raises the gateways' facts through this silo's events; any activation will do.</summary>
[StatelessWorker]
public sealed class GatewayEventsGrain(IMmssEvents events) : Grain, IGatewayEventsGrain
{
    public Task AttachmentUploadedAsync(string sender, string messageId, string file, long bytes, string address)
    {
        events.AttachmentUploaded(sender, messageId, file, bytes, address);
        return Task.CompletedTask;
    }

    public Task AttachmentDownloadedAsync(string sender, string messageId, string file, long bytes, string address)
    {
        events.AttachmentDownloaded(sender, messageId, file, bytes, address);
        return Task.CompletedTask;
    }

    public Task AuthenticationFailedAsync(string? udn, string address, string mechanism, string condition)
    {
        events.AuthenticationFailed(udn, address, mechanism, condition);
        return Task.CompletedTask;
    }

    public Task AuthenticationThrottledAsync(string? udn, string address)
    {
        events.AuthenticationThrottled(udn, address);
        return Task.CompletedTask;
    }
}
