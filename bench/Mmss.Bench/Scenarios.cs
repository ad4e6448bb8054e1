using System.Diagnostics;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;

namespace Mmss.Bench;

public sealed class Scenarios(BenchOptions options)
{
    private readonly Terminals _terminals = new(options);
    private readonly ServerProcess _server = new(options.ServerPids);

    public async Task<BenchResult> RunAsync()
    {
        if (options.Register) await _terminals.RegisterAllAsync(options.Connections);
        return options.Scenario switch
        {
            "register" => new BenchResult { Label = options.Label, Scenario = "register", Connections = options.Connections },
            "login" => await LoginStormAsync(),
            "roundtrip" => await RoundTripAsync(),
            "idle" => await IdleAsync(),
            "group" => await new GroupScenario(options, _terminals).RunAsync(),
            "attachments" => await new AttachmentScenario(options).RunAsync(),
            "abuse" => await new AbuseScenario(options, _terminals).RunAsync(),
            _ => throw new ArgumentException($"unknown scenario {options.Scenario}"),
        };
    }

    /// <summary>
    /// Scenario 1: N logins (TLS if asked, SASL, bind) with bounded concurrency, measured after waves of the same logins
    /// for the warm-up time: a server's first logins pay its start-up (the .NET servers' JIT compiling the login path
    /// on first use and again, optimized, after ~30 calls), which is not the rate it logs terminals in at.
    /// </summary>
    private async Task<BenchResult> LoginStormAsync()
    {
        var warmup = Stopwatch.StartNew();
        while (warmup.Elapsed.TotalSeconds < options.WarmupSeconds)
        {
            var (warm, _) = await _terminals.LoginAllAsync(options.Connections);
            await Task.WhenAll(warm.Select(c => c.DisposeAsync().AsTask()));
        }
        var clock = Stopwatch.StartNew();
        var (clients, times) = await _terminals.LoginAllAsync(options.Connections);
        var elapsed = clock.Elapsed.TotalSeconds;
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        return new BenchResult
        {
            Label = options.Label, Scenario = $"login-{options.Mechanism}", Connections = options.Connections, Seconds = elapsed,
            LoginsPerSecond = options.Connections / elapsed, LoginP50Ms = Percentiles.Of(times, 50), LoginP99Ms = Percentiles.Of(times, 99),
        };
    }

    /// <summary>
    /// Scenario 4: hold N authenticated connections (with --tls true: STARTTLS first, as real terminals do); the server's
    /// memory per connection and its CPU at rest.
    /// </summary>
    private async Task<BenchResult> IdleAsync()
    {
        var before = _server.MemoryBytes();
        var (clients, _) = await _terminals.LoginAllAsync(options.Connections);
        await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds));
        var cpuStart = _server.CpuSecondsByProcess();
        await Task.Delay(TimeSpan.FromSeconds(options.Seconds));
        var cpuByProcess = _server.CpuSecondsByProcess().ToDictionary(p => p.Key, p => 100 * (p.Value - cpuStart.GetValueOrDefault(p.Key)) / options.Seconds);
        var after = _server.MemoryBytes();
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        return new BenchResult
        {
            Label = options.Label, Scenario = options.Tls ? "idle-tls" : "idle", Connections = options.Connections, Seconds = options.Seconds,
            RssPerConnectionBytes = (after - before) / (double)options.Connections,
            IdleCpuPercent = _server.IsMeasured ? cpuByProcess.Values.Sum() : null, IdleCpuPercentByProcess = _server.IsMeasured ? cpuByProcess : null,
        };
    }

    /// <summary>
    /// Scenario 2: N/2 sender/receiver pairs; each sender keeps W messages in flight, each receiver answers each one
    /// (MMSS: ACK to ACK@domain, relayed by the server; XMPP peers: a chat message straight back).
    /// </summary>
    private async Task<BenchResult> RoundTripAsync()
    {
        var clients = options.Relayed
            ? await _terminals.LoginPairsAcrossDomainsAsync(options.Connections)
            : (await _terminals.LoginAllAsync(options.Connections)).Clients;
        var pairs = options.Connections / 2;
        var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var warmup = TimeSpan.FromSeconds(options.WarmupSeconds);
        var end = warmup + TimeSpan.FromSeconds(options.Seconds);
        var latencies = new List<double>[pairs];
        var completed = new long[pairs];
        IReadOnlyDictionary<string, double> cpuAtStart = new Dictionary<string, double>();
        var cpuTimer = Task.Run(async () =>
        {
            await Task.Delay(warmup);
            cpuAtStart = _server.CpuSecondsByProcess();
        });

        var tasks = new List<Task>();
        for (var p = 0; p < pairs; p++)
        {
            var pair = p;
            latencies[pair] = [];
            var sender = clients[2 * pair];
            var receiver = clients[2 * pair + 1];
            tasks.Add(AnswerAsync(receiver, options.User(2 * pair), stop.Token));
            var receiverUser = options.Relayed ? options.PeerUser(2 * pair + 1) : options.User(2 * pair + 1);
            tasks.Add(SendAsync(pair, sender, receiverUser, clock, warmup, end, latencies[pair], completed, stop.Token));
        }
        await Task.Delay(end);
        var cpuAtEnd = _server.CpuSecondsByProcess();
        await cpuTimer;
        var cpuByProcess = cpuAtEnd.ToDictionary(p => p.Key, p => p.Value - cpuAtStart.GetValueOrDefault(p.Key));
        await stop.CancelAsync();
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        await Task.WhenAll(tasks.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));

        var all = latencies.SelectMany(l => l).ToList();
        all.Sort();
        var roundTrips = completed.Sum();
        return new BenchResult
        {
            Label = options.Label, Scenario = options.Relayed ? $"relayed-roundtrip-w{options.Window}" : $"roundtrip-w{options.Window}", Connections = options.Connections, Window = options.Window,
            Seconds = options.Seconds, RoundTripsPerSecond = roundTrips / options.Seconds,
            P50Ms = Percentiles.Of(all, 50), P99Ms = Percentiles.Of(all, 99), P999Ms = Percentiles.Of(all, 99.9),
            ServerCpuMsPerRoundTrip = !_server.IsMeasured || roundTrips == 0 ? null : 1000 * cpuByProcess.Values.Sum() / roundTrips,
            ServerCpuMsPerRoundTripByProcess = !_server.IsMeasured || roundTrips == 0 ? null
                : cpuByProcess.ToDictionary(p => p.Key, p => 1000 * p.Value / roundTrips),
        };
    }

    private string Outgoing(string id, string to) => options.Mode == "mmss"
        ? BenchStanzas.Mms(id, to, options.Domain)
        : $"<message id='{id}' to='{to}@{options.Domain}' type='chat'><body>load</body></message>";

    private async Task SendAsync(int pair, XmppClient sender, string receiver, Stopwatch clock, TimeSpan warmup, TimeSpan end,
        List<double> latencies, long[] completed, CancellationToken stop)
    {
        var sentAt = new Dictionary<string, long>();
        var sequence = 0;
        // Ids unique across runs against one server: a repeated id is a retry to the MMSS, answered without delivery.
        var run = BenchOptions.RunNonce;
        try
        {
            for (var i = 0; i < options.Window; i++)
            {
                var id = $"{run}-{pair}-{sequence++}";
                sentAt[id] = Stopwatch.GetTimestamp();
                await sender.SendRawAsync(Outgoing(id, receiver));
            }
            while (!stop.IsCancellationRequested)
            {
                var answer = await sender.ReadAsync(TimeSpan.FromSeconds(120));
                if (answer is null) return;
                if (answer.Name != "message" || answer.Attribute("id") is not { } answered || !sentAt.Remove(answered, out var started)) continue;
                var now = clock.Elapsed;
                if (now >= warmup && now < end)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    completed[pair]++;
                }
                if (now >= end) continue;
                var id = $"{run}-{pair}-{sequence++}";
                sentAt[id] = Stopwatch.GetTimestamp();
                await sender.SendRawAsync(Outgoing(id, receiver));
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task AnswerAsync(XmppClient receiver, string sender, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var message = await receiver.ReadAsync(TimeSpan.FromSeconds(120));
                if (message is null) return;
                if (message.Name != "message" || message.Attribute("id") is not { } id) continue;
                await receiver.SendRawAsync(options.Mode == "mmss"
                    ? BenchStanzas.Ack(id, options.Relayed ? options.PeerDomain : options.Domain)
                    : $"<message id='{id}' to='{sender}@{options.Domain}' type='chat'><body>ack</body></message>");
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
        }
    }
}
