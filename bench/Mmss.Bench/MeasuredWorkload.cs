using System.Diagnostics;
using Mmss.Protocol.Client;

namespace Mmss.Bench;

/// <summary>
/// The legitimate terminals of the abuse scenario: pairs doing MMS → ACK round trips one at a time, at most
/// --terminal-rate a second per sender, without end, each
/// completion and each failure stamped with its time, so that any window (a quiet baseline, an attack) can be measured
/// afterwards. A failure is a FAIL answer, no answer within <see cref="AnswerTimeout"/>, or a lost connection.
/// </summary>
public sealed class MeasuredWorkload(BenchOptions options, XmppClient[] clients)
{
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(10);

    private readonly List<(long At, double Ms)> _roundTrips = [];
    private readonly List<long> _errors = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    public void Start()
    {
        for (var pair = 0; pair < clients.Length / 2; pair++)
        {
            _loops.Add(SendAsync(pair, clients[2 * pair], options.User(2 * pair + 1)));
            _loops.Add(AnswerAsync(clients[2 * pair + 1]));
        }
    }

    /// <summary>The round trips completed and the failures between two timestamps; latencies sorted.</summary>
    public (List<double> Latencies, long Errors) Window(long from, long to)
    {
        lock (_roundTrips)
        {
            var latencies = _roundTrips.Where(r => r.At >= from && r.At < to).Select(r => r.Ms).ToList();
            latencies.Sort();
            return (latencies, _errors.Count(at => at >= from && at < to));
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        await Task.WhenAll(_loops.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    private void Error()
    {
        lock (_roundTrips) _errors.Add(Stopwatch.GetTimestamp());
    }

    private async Task SendAsync(int pair, XmppClient sender, string receiver)
    {
        var sequence = 0;
        var interval = TimeSpan.FromSeconds(1 / options.TerminalRate);
        while (!_stop.IsCancellationRequested)
        {
            var id = $"{BenchOptions.RunNonce}-legit-{pair}-{sequence++}";
            var started = Stopwatch.GetTimestamp();
            var pace = Task.Delay(interval);
            try
            {
                await sender.SendRawAsync(BenchStanzas.Mms(id, receiver, options.Domain));
                var answer = await sender.ReadUntilAsync(e => e.Name == "message" && e.Attribute("id") == id, AnswerTimeout);
                var now = Stopwatch.GetTimestamp();
                if (answer.Attribute("from")?.StartsWith("FAIL@", StringComparison.Ordinal) == true) Error();
                else lock (_roundTrips) _roundTrips.Add((now, Stopwatch.GetElapsedTime(started, now).TotalMilliseconds));
            }
            catch (TimeoutException)
            {
                Error();
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                Error();
                return;
            }
            catch (Exception)
            {
                return;
            }
            await pace;
        }
    }

    private async Task AnswerAsync(XmppClient receiver)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var message = await receiver.ReadAsync(TimeSpan.FromMinutes(10));
                if (message is null)
                {
                    if (!_stop.IsCancellationRequested) Error();
                    return;
                }
                if (message.Name != "message" || message.Attribute("id") is not { } id) continue;
                await receiver.SendRawAsync(BenchStanzas.Ack(id, options.Domain));
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                Error();
                return;
            }
            catch (Exception)
            {
                return;
            }
        }
    }
}
