using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Integration.Tests;

/// <summary>The S3 attachment store against a real S3-protocol server, including its outages.</summary>
public sealed class S3Attachment_Tests : IAsyncLifetime
{
    private readonly S3Server _s3 = new();
    private EmbeddedServer _server = null!;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(120) };

    public async Task InitializeAsync()
    {
        await _s3.StartAsync();
        _server = new EmbeddedServer(new Dictionary<string, string>
        {
            ["Mmss__Attachments__Store"] = "S3",
            ["Mmss__Attachments__S3__Endpoint"] = _s3.Endpoint,
            ["Mmss__Attachments__S3__Bucket"] = "mmss-test",
            ["Mmss__Attachments__S3__AccessKey"] = S3Server.AccessKey,
            ["Mmss__Attachments__S3__SecretKey"] = S3Server.SecretKey,
            ["Mmss__Attachments__AccessPolicy"] = "Credentials",
        });
        await _server.StartAsync();
        await _server.ProvisionUserAsync("6901", "pw");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _s3.DisposeAsync();
    }

    private static AuthenticationHeaderValue Auth => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("6901:pw")));

    private Task<HttpResponseMessage> UploadAsync(string messageId, string name, byte[] content)
    {
        var request = SpecMultipart.Request(_server.HttpPort, SpecMultipart.Body("6901", messageId, (name, content)));
        request.Headers.Authorization = Auth;
        return Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> DownloadAsync(string messageId, string name, string? range = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get,
            $"http://127.0.0.1:{_server.HttpPort}/attachment?userid=6901&msgid={Uri.EscapeDataString(messageId)}&file={Uri.EscapeDataString(name)}");
        request.Headers.Authorization = Auth;
        if (range is not null) request.Headers.TryAddWithoutValidation("Range", range);
        return Http.SendAsync(request);
    }

    [Fact]
    public async Task Upload_and_download_through_s3_with_the_bucket_created_on_first_use()
    {
        var content = RandomNumberGenerator.GetBytes(6 * 1024 * 1024 + 123);
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync("s3-1", "视频.mp4", content)).StatusCode);
        var download = await DownloadAsync("s3-1", "视频.mp4");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("视频.mp4", download.Content.Headers.ContentDisposition!.FileNameStar);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await download.Content.ReadAsByteArrayAsync()));
        var partial = await DownloadAsync("s3-1", "视频.mp4", "bytes=1000-1999");
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(content[1000..2000], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await DownloadAsync("s3-1", "other.mp4")).StatusCode);
    }

    [Fact]
    public async Task Upload_is_retried_while_s3_restarts_and_succeeds()
    {
        await UploadAsync("warm-1", "a.bin", [1]);
        await _s3.StopAsync();
        var upload = UploadAsync("retry-1", "b.bin", Encoding.UTF8.GetBytes("survives an outage"));
        // Restart once an attempt has failed and a retry is scheduled; a later retry then reaches it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!_server.Output.Contains("retrying") && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Contains("retrying", _server.Output);
        await _s3.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await upload).StatusCode);
        Assert.Equal("survives an outage", await (await DownloadAsync("retry-1", "b.bin")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Store_that_stays_down_gives_503_with_retry_after_and_nothing_half_written()
    {
        await _s3.StopAsync();
        var refused = await UploadAsync("down-1", "c.bin", [1, 2, 3]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains("unavailable", await refused.Content.ReadAsStringAsync());
        // When to try again: the circuit's break, after which the store is tried anew.
        Assert.Equal(TimeSpan.FromSeconds(10), refused.Headers.RetryAfter?.Delta);
        await _s3.StartAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await DownloadAsync("down-1", "c.bin")).StatusCode);
    }
}
