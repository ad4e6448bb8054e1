using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Mmss.Protocol.Client;
using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xml;

namespace Mmss.Bench;

/// <summary>The attacks over HTTP: stalled uploads, huge ranges, forged uploads, the admin API without its token.</summary>
public sealed partial class AbuseScenario
{
    /// <summary>
    /// Uploads that send their headers and a first field, then nothing: Kestrel's minimum request body rate should end
    /// each (a few seconds' grace). The phase lasts until all are answered (at most --slowloris-seconds).
    /// </summary>
    private async Task StalledUploadsAsync(Tally tally, DateTime end)
    {
        var give = TimeSpan.FromSeconds(options.SlowlorisSeconds);
        await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            Interlocked.Increment(ref tally.Attempts);
            tally.Answer(await AnswerOf(async () =>
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(options.Host, options.HttpPort);
                var stream = tcp.GetStream();
                var received = ReadAllAsync(stream);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(
                    $"POST /attachment HTTP/1.1\r\nHost: {options.Host}\r\nContent-Type: multipart/form-data; boundary=stall\r\n" +
                    $"Content-Length: 10000000\r\n\r\n--stall\r\nContent-Disposition: form-data; name=\"userid\"\r\n\r\n{options.User(0)}\r\n--stall\r\n"));
                if (await Task.WhenAny(received, Task.Delay(give)) != received) return "still open";
                var text = await received;
                return text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? text.Substring(9, 3) : "closed without a response";
            }));
        }));
    }

    /// <summary>
    /// A 1 MiB attachment uploaded by terminal 0 (HTTP Basic), then downloaded until the phase ends with a range far past
    /// its end (answered 206 with the file's real length, nothing more) and one starting past it (416).
    /// </summary>
    private async Task HugeRangesAsync(Tally tally, DateTime end)
    {
        var user = options.User(0);
        var messageId = $"{BenchOptions.RunNonce}-range";
        using var http = new HttpClient { BaseAddress = new Uri($"http://{options.Host}:{options.HttpPort}/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{options.Password}")));
        using (var upload = Upload(user, messageId, new byte[1 << 20]))
            (await http.PostAsync("attachment", upload)).EnsureSuccessStatusCode();
        var url = $"attachment?userid={user}&msgid={messageId}&file=range.bin";
        await RepeatAsync(tally, end, async () =>
        {
            var pastTheEnd = Interlocked.Increment(ref _rangeCalls) % 2 == 0;
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Range = pastTheEnd ? new RangeHeaderValue(long.MaxValue - 1, null) : new RangeHeaderValue(0, long.MaxValue - 1);
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsByteArrayAsync();
            var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return status == "206" && body.Length != 1 << 20 ? $"206 with {body.Length} bytes" : status;
        });
    }

    private static MultipartFormDataContent Upload(string user, string messageId, byte[] file)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(user), "userid" },
            { new StringContent(messageId), "msgid" },
            { new StringContent(DateTime.UtcNow.ToString("O")), "date" },
            { new ByteArrayContent(file), "attatchment-0", "range.bin" },
        };
        return form;
    }

    /// <summary>An upload naming terminal 0 (logged in from another address), from 127.0.0.77, without credentials: 403.</summary>
    private async Task<string> ForgedUploadAsync()
    {
        using var form = Upload(options.User(0), $"{BenchOptions.RunNonce}-forged", new byte[1024]);
        using var response = await ForgedSource.PostAsync($"http://{options.Host}:{options.HttpPort}/attachment", form);
        return ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static readonly HttpClient ForgedSource = new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellation) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(new IPAddress([127, 0, 0, 77]), 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellation);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });

    private static readonly HttpClient Http = new();
    private int _adminCalls;
    private int _rangeCalls;

    /// <summary>The admin API without a token and with a wrong one, alternately.</summary>
    private async Task<string> AdminWithoutTokenAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{options.Host}:{options.HttpPort}/admin/users/{options.User(0)}");
        if (Interlocked.Increment(ref _adminCalls) % 2 == 0) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-" + options.AdminToken);
        using var response = await Http.SendAsync(request);
        return ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
