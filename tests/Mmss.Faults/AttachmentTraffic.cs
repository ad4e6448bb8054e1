using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Mmss.Integration.Tests.Cluster;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Faults;

/// <summary>
/// The attachments of the workload (spec 7.4): one MMS in <see cref="Every"/> carries a file, which its terminal first
/// uploads with <c>POST /attachment</c> through a gateway (HTTP Basic as the sender); the MMS names it only when the
/// upload was accepted, and goes without it otherwise, as a handset would rather than hold the message back. Every
/// upload's outcome is kept, and recipients download the files again to compare them byte for byte.
/// </summary>
public sealed class AttachmentTraffic(MmssCluster cluster) : IDisposable
{
    /// <summary>One MMS in this many carries an attachment.</summary>
    public const int Every = 3;

    private readonly ConcurrentQueue<Upload> _uploads = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(90) };
    private int _nextGateway;

    public IReadOnlyCollection<Upload> Uploads => _uploads;

    public bool Carries(int sequence) => sequence % Every == 0;

    /// <summary>Uploads a file of a few KiB for the MMS <paramref name="id"/>; its name once the gateway answered 200, else null.</summary>
    public async Task<string?> UploadAsync(string sender, string id, IReadOnlyList<string> recipients)
    {
        var file = $"photo-{id}.jpg";
        var content = new byte[Random.Shared.Next(1024, 64 * 1024)];
        Random.Shared.NextBytes(content);
        var gateway = RunningGateway();
        var request = SpecMultipart.Request(gateway.HttpPort, SpecMultipart.Body(sender, id, (file, content)));
        request.Headers.Authorization = Basic(sender);
        var started = DateTime.UtcNow;
        int status;
        string answer;
        try
        {
            using var response = await _http.SendAsync(request);
            status = (int)response.StatusCode;
            answer = await response.Content.ReadAsStringAsync();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // No answer at all (a hang ends in the client's timeout): recorded as status 0.
            status = 0;
            answer = e.GetType().Name + ": " + e.Message;
        }
        finally
        {
            request.Dispose();
        }
        var upload = new Upload(id, sender, recipients, file, content, gateway.ToString(), started, DateTime.UtcNow - started, status, Shorten(answer));
        _uploads.Enqueue(upload);
        return status == 200 ? file : null;
    }

    /// <summary>A recipient's <c>GET /attachment</c> of an accepted upload: the status and whether the bytes are the ones sent.</summary>
    public async Task<Download> DownloadAsync(Upload upload)
    {
        var recipient = upload.Recipients[0];
        var gateway = RunningGateway();
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"http://127.0.0.1:{gateway.HttpPort}/attachment?userid={upload.Sender}&msgid={Uri.EscapeDataString(upload.Id)}&file={Uri.EscapeDataString(upload.File)}");
        request.Headers.Authorization = Basic(recipient);
        var started = DateTime.UtcNow;
        try
        {
            using var response = await _http.SendAsync(request);
            var body = await response.Content.ReadAsByteArrayAsync();
            var same = response.IsSuccessStatusCode && body.AsSpan().SequenceEqual(upload.Content);
            return new Download(upload, (int)response.StatusCode, same, DateTime.UtcNow - started,
                response.IsSuccessStatusCode ? "" : Shorten(Encoding.UTF8.GetString(body)));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return new Download(upload, 0, false, DateTime.UtcNow - started, e.GetType().Name + ": " + e.Message);
        }
    }

    private GatewayNode RunningGateway()
    {
        var gateways = cluster.Gateways;
        var start = Interlocked.Increment(ref _nextGateway);
        for (var i = 0; i < gateways.Count; i++)
        {
            var gateway = gateways[(start + i) % gateways.Count];
            if (gateway.Process.IsRunning) return gateway;
        }
        return gateways[start % gateways.Count];
    }

    private static AuthenticationHeaderValue Basic(string udn) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{udn}:{Population.Password}")));

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    public void Dispose() => _http.Dispose();

    /// <summary>One upload and how the gateway answered it (<see cref="Status"/> 0: no answer).</summary>
    public sealed record Upload(string Id, string Sender, IReadOnlyList<string> Recipients, string File, byte[] Content, string Gateway,
        DateTime Started, TimeSpan Took, int Status, string Answer);

    public sealed record Download(Upload Upload, int Status, bool SameBytes, TimeSpan Took, string Answer);
}
