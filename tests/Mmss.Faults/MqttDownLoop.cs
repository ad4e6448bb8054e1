using System.Globalization;
using Mmss.Integration.Tests.Cluster;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Faults;

/// <summary>
/// The external MQTT broker the silos publish events to (a real Mosquitto) killed -9 for a while in the middle of the
/// workload, then started again on its port. MMS must keep flowing as before (events never hold up delivery); the
/// events raised meanwhile wait in the silos' queues (README "Events (MQTT)": dropped only past
/// Mmss__Mqtt__QueueCapacity) and must reach a subscriber once the broker is back. Each MMS sent before the end of the
/// workload is expected to raise submitted, delivered and answered for each recipient, and a groupResult when it went
/// to a talk group.
/// </summary>
public static class MqttDownLoop
{
    public static async Task RunAsync(FaultRun run, MmssCluster cluster, MosquittoBroker broker, EventSubscriber subscriber, WitnessSubscriber witness,
        FaultOptions options, List<string> notes, List<string> failures)
    {
        var phases = new OutagePhases();
        var countersBefore = await SiloCountersAsync(cluster);
        await run.WaitForSentAsync(options.Messages / 3);
        await broker.KillAsync();
        phases.DownAt = run.Ledger.SentCount;
        phases.DownTime = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(options.OutageSeconds));
        var restarting = DateTime.UtcNow;
        await broker.StartAsync();
        phases.UpAt = run.Ledger.SentCount;
        phases.UpTime = DateTime.UtcNow;
        // A third of the workload again after the outage, however long it lasted.
        await run.WaitForSentAsync(Math.Max(options.Messages, phases.UpAt + options.Messages / 3));

        // The MMS sent so far, once answered, and their events, once they have come (or stopped coming).
        var evaluatedUpTo = phases.EndAt = run.Ledger.SentCount;
        bool Evaluated(string id) => OutagePhases.Sequence(id) < evaluatedUpTo;
        await FaultRun.WaitAsync(() => !run.Ledger.AnswersOf(Evaluated).ContainsKey("none"), TimeSpan.FromSeconds(options.SettleSeconds));
        var sent = run.Ledger.Snapshot(Evaluated);
        var expected = Expected(sent);
        await FaultRun.WaitAsync(() => Missing(expected, subscriber.Received).Count == 0, TimeSpan.FromSeconds(60));
        var received = subscriber.Received;
        var missing = Missing(expected, received);
        var countersAfter = await SiloCountersAsync(cluster);

        notes.Add($"Mosquitto killed -9 after {phases.DownAt} messages, started again after {phases.UpAt} ({phases.Outage.TotalSeconds:0.0} s down); " +
                  $"the subscriber was subscribed again {Back(subscriber, restarting)}");
        notes.Add("MMS answers by when they were sent: " + phases.DescribeAnswers(run.Ledger));
        notes.Add($"events of the first {evaluatedUpTo} MMS (by when the MMS was sent): " + string.Join("; ", OutagePhases.Names.Select(phase =>
        {
            var due = expected.Where(e => phases.PhaseOf(e.Id) == phase).ToList();
            var gone = missing.Where(e => phases.PhaseOf(e.Id) == phase).ToList();
            return $"{phase}: {due.Count - gone.Count} of {due.Count} received" + (gone.Count == 0 ? "" : $" ({Kinds(gone.Select(e => e.Type))} missing)");
        })));
        var raisedWhileDown = received.Where(e => e.Raised >= phases.DownTime && e.Raised < phases.UpTime).ToList();
        var backlog = received.Where(e => e.Raised < phases.UpTime && e.Arrived >= phases.UpTime).Select(e => e.Arrived).Order().ToList();
        notes.Add($"events raised while the broker was down and received after it was back: {raisedWhileDown.Count} ({Kinds(raisedWhileDown.Select(e => e.Type))})" +
                  (backlog.Count == 0 ? "" : $"; the backlog arrived {(backlog[0] - phases.UpTime).TotalSeconds:0.0}–{(backlog[^1] - phases.UpTime).TotalSeconds:0.0} s after the broker was back"));
        var twice = received.Where(e => e.MessageId is not null).GroupBy(e => (e.Type, e.MessageId, e.Recipient)).Where(g => g.Count() > 1).ToList();
        notes.Add($"events received more than once (QoS 1 is at least once): {twice.Count}" +
                  (twice.Count == 0 ? "" : $" ({string.Join(", ", twice.Take(5).Select(g => $"{g.Key.Type} {g.Key.MessageId} {g.Key.Recipient} ×{g.Count()}"))})"));
        notes.Add($"silos' counters over the loop: events published {Delta("mmss_events_published_total")}, dropped {Delta("mmss_events_dropped_total")}; " +
                  $"queued at the end {countersAfter["mmss_events_queued"]:0}");

        // A broker killed -9 loses what it had acknowledged (PUBACK) but not yet passed on to its subscribers: the silos
        // count such an event published, and nothing can bring it back. So events of MMS that were in flight at the kill
        // are reported when missing; any other missing event is the MMSS's loss.
        var atKill = sent.Where(m => m.InFlightDuring(phases.DownTime - KillMargin, phases.DownTime + KillMargin)).Select(m => m.Id).ToHashSet();
        var lostWithBroker = missing.Where(e => atKill.Contains(e.Id)).ToList();
        var lost = missing.Where(e => !atKill.Contains(e.Id)).ToList();
        if (lostWithBroker.Count > 0)
            notes.Add($"{lostWithBroker.Count} events of the {atKill.Count} MMS in flight when the broker was killed never came (lost with the broker's memory): " + Describe(lostWithBroker));
        if (lost.Count > 0)
            failures.Add($"{lost.Count} events of answered MMS never reached the subscriber: " + Describe(lost));

        string Describe(List<Due> events) =>
            $"{events.Count(e => witness.Saw(e.Type, e.Id, e.Recipient))} of them reached mosquitto_sub; e.g. " +
            string.Join(", ", events.Take(5).Select(e => $"{e.Type} {e.Id} {e.Recipient} (sent {phases.PhaseOf(e.Id)}, " +
                                                          $"{(witness.Saw(e.Type, e.Id, e.Recipient) ? "" : "not ")}at mosquitto_sub)"));
        if (run.Ledger.AnswersOf(_ => true).Keys.FirstOrDefault(k => k.StartsWith("FAIL", StringComparison.Ordinal)) is { } fail)
            failures.Add($"MMS were answered {fail}: MMS must keep flowing while the broker is down");
        if (phases.LatencyBlowUp(run.Ledger, "the broker") is { } slower) failures.Add(slower);

        string Delta(string counter) => (countersAfter[counter] - countersBefore[counter]).ToString("0", CultureInfo.InvariantCulture);
    }

    /// <summary>Around the broker's kill: an MMS between its submission and its answer then may have had its events in the broker.</summary>
    private static readonly TimeSpan KillMargin = TimeSpan.FromSeconds(1);

    /// <summary>One event an MMS should raise.</summary>
    private sealed record Due(string Type, string Id, string? Recipient);

    private static List<Due> Expected(IEnumerable<SentMessage> messages)
    {
        var due = new List<Due>();
        foreach (var message in messages.Where(m => m.Acked))
        {
            due.Add(new Due("submitted", message.Id, null));
            foreach (var recipient in message.Recipients)
            {
                due.Add(new Due("delivered", message.Id, recipient));
                due.Add(new Due("answered", message.Id, recipient));
            }
            if (message.ToGroup) due.Add(new Due("groupResult", message.Id, null));
        }
        return due;
    }

    private static List<Due> Missing(List<Due> expected, IReadOnlyList<EventSubscriber.Event> received)
    {
        var got = received.Select(e => (e.Type, e.MessageId, e.Recipient)).ToHashSet();
        var gotById = received.Select(e => (e.Type, e.MessageId)).ToHashSet();
        return expected.Where(d => d.Recipient is null ? !gotById.Contains((d.Type, d.Id)) : !got.Contains((d.Type, d.Id, d.Recipient))).ToList();
    }

    /// <summary>How many of each type, e.g. "answered 3, delivered 2".</summary>
    private static string Kinds(IEnumerable<string> types) =>
        string.Join(", ", types.GroupBy(t => t).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));

    private static string Back(EventSubscriber subscriber, DateTime restarting) =>
        subscriber.Connections.FirstOrDefault(c => c >= restarting) is var back && back != default
            ? $"{(back - restarting).TotalSeconds:0.00} s after the broker's start began"
            : "never";

    private static readonly string[] Counters = ["mmss_events_published_total", "mmss_events_dropped_total", "mmss_events_queued"];

    /// <summary>The silos' event counters summed (Prometheus text from each one's health port); a silo that does not answer counts nothing.</summary>
    private static async Task<Dictionary<string, double>> SiloCountersAsync(MmssCluster cluster)
    {
        var sums = Counters.ToDictionary(c => c, _ => 0.0);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var silo in cluster.Silos)
        {
            string text;
            try
            {
                text = await http.GetStringAsync($"http://127.0.0.1:{silo.HealthPort}/metrics");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                continue;
            }
            foreach (var line in text.Split('\n'))
            {
                var name = line.Split('{', ' ')[0];
                if (!sums.ContainsKey(name)) continue;
                var value = (line.Contains('}') ? line[(line.LastIndexOf('}') + 1)..] : line[name.Length..]).Trim().Split(' ')[0];
                sums[name] += double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }
        return sums;
    }
}
