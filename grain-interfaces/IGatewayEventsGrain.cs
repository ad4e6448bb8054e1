using Orleans.Concurrency;

namespace Mmss.GrainInterfaces;

/// <summary>
/// How facts only a gateway sees — an attachment's transfer, a refused login — reach the event feed, which the silos
/// publish (issue #14): a stateless worker next to the caller hands each to the silo's events once, as the gateway saw
/// it once. One-way: the gateway never waits for it, and events never hold up a transfer or a login.
/// </summary>
public interface IGatewayEventsGrain : IGrainWithIntegerKey
{
    [OneWay]
    Task AttachmentUploadedAsync(string sender, string messageId, string file, long bytes, string address);

    [OneWay]
    Task AttachmentDownloadedAsync(string sender, string messageId, string file, long bytes, string address);

    [OneWay]
    Task AuthenticationFailedAsync(string? udn, string address, string mechanism, string condition);

    [OneWay]
    Task AuthenticationThrottledAsync(string? udn, string address);
}
