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

/// <summary>The attacks over XMPP streams: connections, slow and bad logins, floods of stanzas, oversize and deep ones.</summary>
public sealed partial class AbuseScenario
{
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
}
