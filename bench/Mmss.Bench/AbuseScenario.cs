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

/// <summary>
/// Floods and abuse (issue 17): while legitimate terminals run a measured MMS → ACK workload (<see cref="MeasuredWorkload"/>),
/// attack the server one attack at a time and record, per attack, the terminals' latency and failures and the answers
/// the attack got. A quiet baseline comes first. Users: prefix0..N-1 are the terminals, prefixN the fast sender,
/// prefixN+1 the target of the wrong-password logins, all provisioned with the bench password; the server's limits (MaxConnections, LoginTimeoutSeconds,
/// MaxStanzasPerSecond) are the caller's to set low enough for the attacks to reach them.
/// </summary>
public sealed class AbuseScenario(BenchOptions options, Terminals terminals)
{
    public static readonly string[] AllAttacks =
        ["connection-flood", "slowloris", "bad-logins-one-address", "bad-logins-many-addresses", "fast-sender", "oversize-stanza", "nested-stanza",
         "stalled-upload", "huge-range-download", "forged-userid-upload", "admin-without-token"];

    /// <summary>What one attack sent and what it was answered, counted by answer.</summary>
    private sealed class Tally
    {
        public long Attempts;
        public readonly ConcurrentDictionary<string, long> Answers = new();
        public double? AttackerRate;

        public void Answer(string answer) => Answers.AddOrUpdate(answer, 1, (_, n) => n + 1);
    }

    public async Task<BenchResult> RunAsync()
    {
        var (clients, _) = await terminals.LoginAllAsync(options.Connections - options.Connections % 2);
        var attacks = options.Attacks ?? AllAttacks;
        // Logged in with the terminals, before any attack: the bad logins may get the loopback address throttled.
        var fastSender = attacks.Contains("fast-sender") ? await terminals.LoginAsync(options.User(options.Connections)) : null;
        var workload = new MeasuredWorkload(options, clients);
        workload.Start();
        await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds));
        var results = new List<AttackResult> { await PhaseAsync(workload, "baseline", (_, _) => Task.Delay(TimeSpan.FromSeconds(options.Seconds))) };
        foreach (var attack in attacks)
        {
            results.Add(await PhaseAsync(workload, attack, attack switch
            {
                "connection-flood" => ConnectionFloodAsync,
                "slowloris" => SlowlorisAsync,
                "bad-logins-one-address" => (t, _) => BadLoginsAsync(t, [options.SourceAddresses[0]], thenTheRightOne: false),
                "bad-logins-many-addresses" => (t, _) => BadLoginsAsync(t,
                    Enumerable.Range(2, 100).Select(i => new IPAddress([127, 0, 0, (byte)i])).ToArray(), thenTheRightOne: true),
                "fast-sender" => (t, end) => FastSenderAsync(t, end, fastSender!),
                "oversize-stanza" => (t, end) => RepeatAsync(t, end, OversizeStanzaAsync),
                "nested-stanza" => (t, end) => RepeatAsync(t, end, NestedStanzaAsync),
                "stalled-upload" => StalledUploadsAsync,
                "huge-range-download" => HugeRangesAsync,
                "forged-userid-upload" => (t, end) => RepeatAsync(t, end, ForgedUploadAsync),
                "admin-without-token" => (t, end) => RepeatAsync(t, end, AdminWithoutTokenAsync),
                _ => throw new ArgumentException($"unknown attack {attack}"),
            }));
        }
        await workload.StopAsync();
        return new BenchResult
        {
            Label = options.Label, Scenario = "abuse", Connections = options.Connections, Window = 1, Seconds = options.Seconds,
            P50Ms = results[0].P50Ms, P99Ms = results[0].P99Ms, Attacks = results,
        };
    }

    /// <summary>
    /// Runs one attack (given the tally and the time it should stop at, which those that end by themselves may pass) and
    /// measures the workload meanwhile.
    /// </summary>
    private async Task<AttackResult> PhaseAsync(MeasuredWorkload workload, string name, Func<Tally, DateTime, Task> attack)
    {
        var tally = new Tally();
        var start = Stopwatch.GetTimestamp();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(options.Seconds);
        await attack(tally, until);
        // Every phase lasts at least --seconds, so that each has round trips enough to measure.
        var rest = until - DateTime.UtcNow;
        if (rest > TimeSpan.Zero) await Task.Delay(rest);
        var end = Stopwatch.GetTimestamp();
        var (latencies, errors) = workload.Window(start, end);
        return new AttackResult
        {
            Attack = name, Seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds, RoundTrips = latencies.Count,
            P50Ms = latencies.Count == 0 ? null : Percentiles.Of(latencies, 50), P99Ms = latencies.Count == 0 ? null : Percentiles.Of(latencies, 99),
            Errors = errors, Attempts = tally.Attempts, Answers = new Dictionary<string, long>(tally.Answers), AttackerStanzasPerSecond = tally.AttackerRate,
        };
    }

    /// <summary>Two attackers repeating one attempt until the phase ends.</summary>
    private static Task RepeatAsync(Tally tally, DateTime end, Func<Task<string>> attempt) =>
        Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            while (DateTime.UtcNow < end)
            {
                Interlocked.Increment(ref tally.Attempts);
                tally.Answer(await AnswerOf(attempt));
            }
        }));

    private static async Task<string> AnswerOf(Func<Task<string>> attempt)
    {
        try
        {
            return await attempt();
        }
        catch (Exception e)
        {
            return "client error: " + e.GetType().Name;
        }
    }

    /// <summary>The condition of a stream error or SASL failure (its first child), or what else the element is.</summary>
    private static string Condition(XmlElement? answer) => answer switch
    {
        null => "closed without a stream error",
        { Name: "error" or "failure" } => answer.FirstElement()?.Name ?? answer.Name,
        _ => answer.Name,
    };

    /// <summary>More connections than the server's MaxConnections at once, held until the phase ends.</summary>
    private async Task ConnectionFloodAsync(Tally tally, DateTime end)
    {
        var held = new ConcurrentBag<XmppClient>();
        await Parallel.ForEachAsync(Enumerable.Range(0, options.FloodConnections), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, _) =>
        {
            Interlocked.Increment(ref tally.Attempts);
            tally.Answer(await AnswerOf(async () =>
            {
                var client = await XmppClient.ConnectAsync(options.Host, options.Port);
                held.Add(client);
                await client.OpenStreamAsync(options.Domain);
                return client.Features?.Name == "features" ? "accepted" : Condition(client.Features);
            }));
        });
        var rest = end - DateTime.UtcNow;
        if (rest > TimeSpan.Zero) await Task.Delay(rest);
        // Closed cleanly and waited for: the server counts a connection until it has closed its side, and the next
        // attack must not meet the limit this one reached.
        await Task.WhenAll(held.Select(async client =>
        {
            try
            {
                await client.SendRawAsync("</stream:stream>");
                while (await client.ReadAsync(TimeSpan.FromSeconds(10)) is not null)
                {
                }
            }
            catch (Exception e) when (e is IOException or TimeoutException or SocketException or ObjectDisposedException)
            {
            }
            await client.DisposeAsync();
        }));
    }

    /// <summary>
    /// Connections that open a stream and trickle a stanza a byte at a time, never finishing it; the server's login timeout
    /// should end each with connection-timeout. The phase lasts until all are ended (at most --slowloris-seconds).
    /// </summary>
    private async Task SlowlorisAsync(Tally tally, DateTime end)
    {
        var give = DateTime.UtcNow + TimeSpan.FromSeconds(options.SlowlorisSeconds);
        var opening = Encoding.UTF8.GetBytes(
            $"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='{options.Domain}'>");
        await Task.WhenAll(Enumerable.Range(0, Math.Min(20, options.FloodConnections)).Select(async _ =>
        {
            Interlocked.Increment(ref tally.Attempts);
            tally.Answer(await AnswerOf(async () =>
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(options.Host, options.Port);
                var stream = tcp.GetStream();
                var received = ReadAllAsync(stream);
                await stream.WriteAsync(opening);
                var trickle = Encoding.UTF8.GetBytes("<iq type='get' id='slow'><query xmlns='jabber:iq:auth'><username>" + new string('s', 100_000));
                for (var i = 0; i < trickle.Length && !received.IsCompleted && DateTime.UtcNow < give; i++)
                {
                    try
                    {
                        await stream.WriteAsync(trickle.AsMemory(i, 1));
                    }
                    catch (IOException)
                    {
                        break;
                    }
                    await Task.WhenAny(received, Task.Delay(200));
                }
                if (!received.IsCompleted) return "still open";
                var text = await received;
                return text.Contains("<connection-timeout", StringComparison.Ordinal) ? "connection-timeout" : "closed without connection-timeout";
            }));
        }));
    }

    private static async Task<string> ReadAllAsync(Stream stream)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0) text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        catch (IOException)
        {
        }
        return text.ToString();
    }

    /// <summary>
    /// --bad-logins PLAIN logins with a wrong password for one UDN (prefixN+1, not a terminal), spread over the addresses;
    /// then, if asked, one with the right password: a user whose password is being guessed is locked for the window.
    /// </summary>
    private async Task BadLoginsAsync(Tally tally, IPAddress[] sources, bool thenTheRightOne)
    {
        var victim = options.User(options.Connections + 1);
        async Task<string> LoginAsync(IPAddress source, string password)
        {
            await using var client = await XmppClient.ConnectAsync(options.Host, options.Port, localAddress: source);
            await client.OpenStreamAsync(options.Domain);
            if (options.Tls) await client.StartTlsAsync(options.Domain);
            return Condition(await client.AuthenticateAsync(new PlainClient(victim, password), options.Domain));
        }
        await Parallel.ForEachAsync(Enumerable.Range(0, options.BadLogins), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            Interlocked.Increment(ref tally.Attempts);
            tally.Answer(await AnswerOf(() => LoginAsync(sources[i % sources.Length], "wrong-" + options.Password)));
        });
        if (!thenTheRightOne) return;
        Interlocked.Increment(ref tally.Attempts);
        // From an address that made no attempt: what refuses it is the user's count, not the address's.
        tally.Answer("right password: " + await AnswerOf(() => LoginAsync(new IPAddress([127, 0, 0, 250]), options.Password)));
    }

    /// <summary>
    /// One terminal sending MMS as fast as it can (to a UDN nobody has, so each is answered at once) and reading what comes
    /// back: the rate it achieves is the rate the server held it to.
    /// </summary>
    private async Task FastSenderAsync(Tally tally, DateTime end, XmppClient client)
    {
        await using var _ = client;
        var answered = 0L;
        var reading = Task.Run(async () =>
        {
            while (true)
            {
                var answer = await client.ReadAsync(TimeSpan.FromSeconds(options.Seconds + 30));
                if (answer is null || answer.Name == "error")
                {
                    tally.Answer(Condition(answer));
                    return;
                }
                if (answer.Name != "message") continue;
                Interlocked.Increment(ref answered);
                tally.Answer(answer.Attribute("from")?.Split('@')[0] ?? "message");
            }
        });
        var clock = Stopwatch.StartNew();
        try
        {
            // A batch per write: the point is to outrun the server, not to measure the client's syscalls.
            var batch = new StringBuilder();
            while (DateTime.UtcNow < end && !reading.IsCompleted)
            {
                batch.Clear();
                for (var i = 0; i < 50; i++) batch.Append(BenchStanzas.Mms($"{BenchOptions.RunNonce}-fast-{tally.Attempts++}", "nobody-here", options.Domain));
                await client.SendRawAsync(batch.ToString()).WaitAsync(end - DateTime.UtcNow + TimeSpan.FromSeconds(1));
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException or SocketException)
        {
            // Held back (a write that waited past the phase's end) or cut: the answers tell which.
        }
        tally.AttackerRate = Interlocked.Read(ref answered) / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Before authentication, a stanza just past MaxStanzaBytes.</summary>
    private async Task<string> OversizeStanzaAsync()
    {
        await using var client = await XmppClient.ConnectAsync(options.Host, options.Port);
        await client.OpenStreamAsync(options.Domain);
        await client.SendRawAsync($"<message to='x@{options.Domain}'><body>{new string('a', options.MaxStanzaBytes + 1024)}</body></message>");
        return Condition(await client.ReadAsync());
    }

    /// <summary>Before authentication, a small stanza nested 1,000 elements deep.</summary>
    private async Task<string> NestedStanzaAsync()
    {
        const int depth = 1000;
        await using var client = await XmppClient.ConnectAsync(options.Host, options.Port);
        await client.OpenStreamAsync(options.Domain);
        await client.SendRawAsync("<message>" + string.Concat(Enumerable.Repeat("<a>", depth)) + string.Concat(Enumerable.Repeat("</a>", depth)) + "</message>");
        return Condition(await client.ReadAsync());
    }

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
