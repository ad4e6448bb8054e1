using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Mmss.Bench;

/// <summary>
/// Scenario 5 (MMSS only): N users each upload F files of M MB over HTTP (spec 7.4.1, multipart), all at once, then
/// download them all back; MB/s both ways. Requests carry HTTP Basic credentials, which every access policy but
/// "Open" accepts.
/// </summary>
public sealed class AttachmentScenario(BenchOptions options)
{
    public async Task<BenchResult> RunAsync()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{options.Host}:{options.HttpPort}/"), Timeout = TimeSpan.FromMinutes(10) };
        var file = new byte[options.FileMegabytes * 1024 * 1024];
        Random.Shared.NextBytes(file);
        var users = Enumerable.Range(0, options.Connections).Select(options.User).ToArray();
        var totalMegabytes = (double)options.Connections * options.Files * options.FileMegabytes;

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(users.Select(user => UploadAsync(http, user, file)));
        var upload = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var downloaded = await Task.WhenAll(users.SelectMany(user =>
            Enumerable.Range(0, options.Files).Select(i => DownloadAsync(http, user, $"f{i}.bin"))));
        var download = clock.Elapsed.TotalSeconds;
        if (downloaded.Any(n => n != file.Length)) throw new InvalidOperationException("a download came back with another length than uploaded");

        return new BenchResult
        {
            Label = options.Label, Scenario = "attachments", Connections = options.Connections,
            UploadMegabytesPerSecond = totalMegabytes / upload, DownloadMegabytesPerSecond = totalMegabytes / download,
        };
    }

    private async Task UploadAsync(HttpClient http, string user, byte[] file)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(user), "userid");
        form.Add(new StringContent(MessageId(user)), "msgid");
        for (var i = 0; i < options.Files; i++)
        {
            var content = new ByteArrayContent(file);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(content, $"attatchment-{i + 1}", $"f{i}.bin");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "attachment") { Content = form };
        request.Headers.Authorization = Basic(user);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"upload by {user}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<long> DownloadAsync(HttpClient http, string user, string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"attachment?userid={user}&msgid={MessageId(user)}&file={name}");
        request.Headers.Authorization = Basic(user);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"download of {name} by {user}: {(int)response.StatusCode}");
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0) total += read;
        return total;
    }

    private static string MessageId(string user) => $"{BenchOptions.RunNonce}-{user}";

    private AuthenticationHeaderValue Basic(string user) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{options.Password}")));
}
