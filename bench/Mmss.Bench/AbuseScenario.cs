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
public sealed partial class AbuseScenario(BenchOptions options, Terminals terminals)
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
}
