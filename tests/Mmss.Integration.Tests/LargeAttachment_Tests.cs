using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Mmss.Integration.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Mmss.Integration.Tests;

/// <summary>A 200 MB attachment streams through the server in both directions without the server's memory growing with it.</summary>
public sealed class LargeAttachment_Tests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long FileBytes = 200L * 1024 * 1024;
    private readonly EmbeddedServer _server = new(new Dictionary<string, string>
    {
        ["Mmss__Attachments__MaxFileBytes"] = (300L * 1024 * 1024).ToString(),
        ["Mmss__Attachments__AccessPolicy"] = "Credentials",
    });

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        await _server.ProvisionUserAsync("6951", "pw");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>The multipart body of spec 7.4.1 around a generated file, produced as it is sent.</summary>
    private sealed class GeneratedUpload(long length, IncrementalHash hash) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var head = SpecMultipart.Body("6951", "big-200", ("big.bin", []));
            var split = Encoding.ASCII.GetString(head).LastIndexOf("\r\n--", StringComparison.Ordinal);
            await stream.WriteAsync(head.AsMemory(0, split));
            var chunk = new byte[64 * 1024];
            var random = new Random(42);
            for (long sent = 0; sent < length; sent += chunk.Length)
            {
                random.NextBytes(chunk);
                var size = (int)Math.Min(chunk.Length, length - sent);
                hash.AppendData(chunk, 0, size);
                await stream.WriteAsync(chunk.AsMemory(0, size));
            }
            await stream.WriteAsync(head.AsMemory(split));
        }

        protected override bool TryComputeLength(out long length) { length = 0; return false; }
    }

    private long ServerRss()
    {
        foreach (var line in File.ReadLines($"/proc/{_server.ProcessId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        throw new InvalidOperationException("no VmRSS");
    }

    [Fact]
    public async Task Upload_and_download_of_200_mb_keep_the_server_memory_flat()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        var auth = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("6951:pw")));
        var before = ServerRss();
        long peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ServerRss());
                await Task.Delay(20);
            }
        });

        using var sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var upload = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{_server.HttpPort}/attachment") { Content = new GeneratedUpload(FileBytes, sent) };
        upload.Content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={SpecMultipart.Boundary}");
        upload.Headers.Authorization = auth;
        var uploaded = await http.SendAsync(upload);
        Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);

        var download = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_server.HttpPort}/attachment?userid=6951&msgid=big-200&file=big.bin");
        download.Headers.Authorization = auth;
        using var response = await http.SendAsync(download, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(FileBytes, response.Content.Headers.ContentLength);
        using var received = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var body = await response.Content.ReadAsStreamAsync())
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0) received.AppendData(buffer, 0, read);
        }
        await sampling.CancelAsync();
        await sampler;

        Assert.Equal(sent.GetHashAndReset(), received.GetHashAndReset());
        var growth = peak - before;
        output.WriteLine($"server RSS before {before / 1048576} MiB, peak {peak / 1048576} MiB during 200 MiB up and down");
        Assert.True(growth < 64L * 1024 * 1024, $"server memory grew by {growth / 1048576} MiB while streaming 200 MiB");
    }
}
