using Mmss.GrainInterfaces;

namespace Mmss.Gateway.Diagnostics;

/// <summary>
/// The facts only this gateway sees, handed to the silos' event feed (<see cref="IGatewayEventsGrain"/>, one-way): an
/// attachment's transfer, a refused login. Never waits and never throws: an unreachable cluster loses the event, not the
/// transfer or the login.
/// </summary>
public sealed class GatewayEvents(IGrainFactory grains, ILogger<GatewayEvents> logger)
{
    public void AttachmentUploaded(string sender, string messageId, string file, long bytes, string address) =>
        Send(sink => sink.AttachmentUploadedAsync(sender, messageId, file, bytes, address));

    public void AttachmentDownloaded(string sender, string messageId, string file, long bytes, string address) =>
        Send(sink => sink.AttachmentDownloadedAsync(sender, messageId, file, bytes, address));

    public void AuthenticationFailed(string? udn, string address, string mechanism, string condition) =>
        Send(sink => sink.AuthenticationFailedAsync(udn, address, mechanism, condition));

    public void AuthenticationThrottled(string? udn, string address) =>
        Send(sink => sink.AuthenticationThrottledAsync(udn, address));

    private void Send(Func<IGatewayEventsGrain, Task> raise)
    {
        try
        {
            var sent = raise(grains.GetGrain<IGatewayEventsGrain>(0));
            if (!sent.IsCompletedSuccessfully) _ = ObserveAsync(sent);
        }
        catch (Exception e)
        {
            logger.LogDebug("An event could not be handed to the cluster: {Reason}", e.Message);
        }
    }

    private async Task ObserveAsync(Task sent)
    {
        try
        {
            await sent;
        }
        catch (Exception e)
        {
            logger.LogDebug("An event could not be handed to the cluster: {Reason}", e.Message);
        }
    }
}
