using System.Net.Http.Headers;
using System.Text;
using Mmss.Gateway.Attachments;
using Mmss.GrainInterfaces;
using Mmss.GrainInterfaces.Peers;

namespace Mmss.Gateway.Relay;

/// <summary>
/// Seed 6.5: before an MMS naming attachments is relayed, the attachments are POSTed to the peer's own attachment
/// endpoint (spec 7.4.1's form, the same fields a terminal sends), authenticated as this domain with the pair's shared
/// secret; the recipient then downloads them from its own MMSS. A file missing here is not sent: the peer then refuses
/// the MMS with FAIL 3, which reaches the originator like any answer.
/// </summary>
public sealed class AttachmentHandover(IAttachmentStore store, Hosting.ServedDomains domains, ILogger<AttachmentHandover> logger) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(10) };

    public async Task HandOverAsync(Peer peer, RelayItem item, CancellationToken cancellationToken)
    {
        if (item.Kind != DeliveryKind.Mms || string.IsNullOrWhiteSpace(item.Attach)) return;
        if (peer.HttpAddress is null) throw new InvalidOperationException($"peer {peer.Domain} has no HttpAddress for attachments");
        var files = item.Attach.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(item.From), "userid");
        form.Add(new StringContent(item.MessageId), "msgid");
        var index = 0;
        foreach (var file in files)
        {
            var key = new AttachmentKey(item.From, item.MessageId, file);
            if (await store.GetLengthAsync(key, cancellationToken) is not { } length)
            {
                logger.LogWarning("MMS {MessageId} from {Sender}: attachment {File} was never uploaded; relayed without it", item.MessageId, item.From, file);
                continue;
            }
            form.Add(new StoredFileContent(store, key, length), $"attatchment-{++index}", file);
        }
        if (index == 0) return;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(peer.HttpAddress, "attachment")) { Content = form };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(domains.Default + ":" + peer.Secret)));
        using var response = await _http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var reason = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"{peer.Domain} refused the attachments of {item.MessageId}: {(int)response.StatusCode} {reason}");
        }
        logger.LogInformation("MMS {MessageId} from {Sender}: {Count} attachments handed to {Peer}", item.MessageId, item.From, index, peer.Domain);
    }

    /// <summary>A stored file streamed from the store into the request, never held in memory whole.</summary>
    private sealed class StoredFileContent(IAttachmentStore store, AttachmentKey key, long length) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            store.CopyToAsync(key, 0, length, stream, CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken) =>
            store.CopyToAsync(key, 0, length, stream, cancellationToken);

        protected override bool TryComputeLength(out long size)
        {
            size = length;
            return true;
        }
    }

    public void Dispose() => _http.Dispose();
}
