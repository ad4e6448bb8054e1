using System.Text;
using Xunit.Abstractions;

namespace Mmss.Integration.Tests.Cluster;

/// <summary>
/// A few thousand one-to-one MMS between terminals on both gateways while a gateway, a silo or PostgreSQL goes away
/// (see <see cref="LoadRun"/> for what is counted and how). A killed process is started again by the next test.
/// PostgreSQL's restart has a cluster of its own: <see cref="ClusterPostgresRestart_Tests"/>.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterFailover_Tests(ClusterFixture fixture, ITestOutputHelper output)
{
    internal const int Pairs = 30;
    internal const int MessagesPerPair = 80;
    internal static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Kill_9_of_a_gateway_mid_run_its_terminals_log_in_through_the_other_and_nothing_is_lost_or_delivered_twice() =>
        await fixture.RunAsync(output, async cluster =>
        {
            var run = new LoadRun(cluster, output, "kg", Pairs, MessagesPerPair);
            await run.StartAsync();
            await run.WaitForAcceptedAsync(0.3, TimeSpan.FromSeconds(60));
            var victim = cluster.Gateways[0];
            run.Note($"kill -9 {victim} (pid {victim.Process.ProcessId}) after {run.Accepted} accepted");
            await cluster.KillAsync(victim);

            var figures = await run.FinishAsync(Deadline);
            await AssertEveryMmsDeliveredOnceAndAnsweredAsync(cluster, run, figures, duplicatesMatter: true);
            // Every terminal of the killed gateway (half the senders, half the recipients) came back through the other.
            Assert.True(figures.Relogins >= Pairs, $"only {figures.Relogins} terminals logged in again\n{figures}");
        });

    [Fact]
    public async Task Kill_9_of_a_silo_mid_run_its_grains_come_back_on_the_other_and_nothing_is_lost_or_delivered_twice() =>
        await fixture.RunAsync(output, async cluster =>
        {
            var run = new LoadRun(cluster, output, "ks", Pairs, MessagesPerPair);
            await run.StartAsync();
            await run.WaitForAcceptedAsync(0.3, TimeSpan.FromSeconds(60));
            var victim = cluster.Silos[0];
            run.Note($"kill -9 {victim} (pid {victim.Process.ProcessId}) after {run.Accepted} accepted");
            await cluster.KillAsync(victim);

            var figures = await run.FinishAsync(Deadline);
            await AssertEveryMmsDeliveredOnceAndAnsweredAsync(cluster, run, figures, duplicatesMatter: true);
            // The survivor carries the rest alone: both gateways serve again. Not necessarily at once: until the cluster has
            // declared the silo dead (missed probes, some 15 s), a grain that lived there, or whose directory entry it
            // held, may not be reachable; when that is the gateway directory grain, a gateway cannot refresh its entry
            // and says it is not ready.
            foreach (var gateway in cluster.Gateways) await gateway.Process.WaitUntilReadyAsync(gateway.ReadyUrl, TimeSpan.FromSeconds(60));
        });

    [Fact]
    public async Task Kill_9_of_a_silo_its_grains_come_back_by_themselves_and_write_unanswered_mms_again_without_new_traffic() =>
        await fixture.RunAsync(output, async cluster =>
        {
            // Terminals that stay connected and quiet: nothing but the server itself can bring back the user grains the
            // silo's death took (those on it, and those whose directory entry it held). Each recipient has one MMS it has
            // not answered (as when its ACK was lost with the silo); the server writes it again after
            // RedeliverAfterSeconds, wherever the grain now lives. Two rounds, the same silo killed each time: whichever
            // silo the gateway directory grain lived on, one round keeps it alive (when it dies too, the gateways are
            // told they were counted gone and re-attach every session, which hides the point of this test).
            var victim = cluster.Silos[1];
            for (var round = 1; round <= 2; round++)
            {
                if (round > 1) await cluster.StartSiloAsync(victim);
                await UnansweredMmsIsWrittenAgainAfterASiloDiesAsync(cluster, victim, $"kq{round}");
            }
        });

    private async Task UnansweredMmsIsWrittenAgainAfterASiloDiesAsync(MmssCluster cluster, SiloNode victim, string prefix)
    {
        const int pairs = 16;
        string Id(int i) => $"{prefix}-{i:D2}";
        var senders = Enumerable.Range(0, pairs).Select(i => $"{prefix}-s{i:D2}").ToArray();
        var recipients = Enumerable.Range(0, pairs).Select(i => $"{prefix}-r{i:D2}").ToArray();
        await cluster.ProvisionUsersAsync(senders.Concat(recipients));
        var clients = new List<Protocol.Client.XmppClient>();
        try
        {
            var senderClients = new Protocol.Client.XmppClient[pairs];
            var recipientClients = new Protocol.Client.XmppClient[pairs];
            for (var i = 0; i < pairs; i++)
            {
                clients.Add(senderClients[i] = await MmssCluster.LoginAsync(cluster.Gateways[i % 2], senders[i]));
                clients.Add(recipientClients[i] = await MmssCluster.LoginAsync(cluster.Gateways[(i + 1) % 2], recipients[i]));
            }
            for (var i = 0; i < pairs; i++) await senderClients[i].SendRawAsync(Infrastructure.Stanzas.Mms(Id(i), recipients[i], "load " + Id(i)));
            await Task.WhenAll(recipientClients.Select((c, i) => c.ReadUntilAsync(e => Infrastructure.Stanzas.IsMessage(e, Id(i)), TimeSpan.FromSeconds(30))));

            // Every copy each recipient gets from now on is timed; the first one after the eviction is answered.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var evictedAt = long.MaxValue; // Stopwatch ticks of clock
            var answeredAt = new TimeSpan?[pairs];
            var readers = recipientClients.Select((c, i) => Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        var element = await c.ReadAsync(TimeSpan.FromMinutes(5));
                        if (element is null) return;
                        if (!Infrastructure.Stanzas.IsMessage(element, Id(i)) || clock.ElapsedTicks <= Interlocked.Read(ref evictedAt) || answeredAt[i] is not null) continue;
                        answeredAt[i] = clock.Elapsed;
                        await c.SendRawAsync(Infrastructure.Stanzas.Ack(Id(i)));
                    }
                }
                catch (Exception)
                {
                    // the client was disposed at the end
                }
            })).ToArray();

            await cluster.KillAsync(victim);
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {prefix}: kill -9 {victim}; {pairs} MMS delivered, unanswered");
            await cluster.WaitUntilEvictedAsync(victim, TimeSpan.FromSeconds(60));
            Interlocked.Exchange(ref evictedAt, clock.ElapsedTicks);
            var eviction = clock.Elapsed;
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {prefix}: {victim} evicted {eviction.TotalSeconds:F1}s after the kill");

            // RedeliverAfterSeconds (5) after the grain is back, with slack: 30 s after the eviction.
            while (answeredAt.Any(a => a is null) && clock.Elapsed - eviction < TimeSpan.FromSeconds(30)) await Task.Delay(100);
            var missing = Enumerable.Range(0, pairs).Where(i => answeredAt[i] is null).Select(Id).ToArray();
            output.WriteLine($"{prefix}: written again after the eviction: {pairs - missing.Length} of {pairs} " +
                             $"({string.Join(", ", Enumerable.Range(0, pairs).Where(i => answeredAt[i] is not null).Select(i => $"{Id(i)} +{(answeredAt[i]!.Value - eviction).TotalSeconds:F1}s"))})");
            if (missing.Length > 0)
            {
                var silo = cluster.Silos.First(s => s != victim).Process;
                var evidence = silo.Grep("is deactivating").Concat(cluster.Gateways.SelectMany(g => g.Process.Grep("had been counted gone")))
                    .TakeLast(6).Select(line => line.Length > 300 ? line[..300] + "..." : line);
                Assert.Fail($"{prefix}: {missing.Length} of {pairs} unanswered MMS were not written again within 30 s of {victim}'s eviction " +
                            $"(the recipients stayed connected and quiet): {string.Join(", ", missing)}\n" +
                            $"{string.Join("\n", evidence)}\n" +
                            await cluster.DatabaseDiagnosticsAsync(missing.Take(4).Select(id => "load " + id)));
            }

            // Answered from wherever the grains now live: every ACK reaches its sender.
            await Task.WhenAll(senderClients.Select((c, i) => c.ReadUntilAsync(e => Infrastructure.Stanzas.IsMessage(e, Id(i)), TimeSpan.FromSeconds(30))));
            foreach (var client in recipientClients) await client.DisposeAsync();
            await Task.WhenAll(readers);
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    internal static async Task AssertEveryMmsDeliveredOnceAndAnsweredAsync(MmssCluster cluster, LoadRun run, LoadFigures figures, bool duplicatesMatter)
    {
        var problems = new List<string>();
        if (!figures.AllAccepted) problems.Add($"only {figures.AcceptedCount} of {figures.Sent} MMS were ever accepted");
        if (figures.Lost > 0) problems.Add($"{figures.Lost} accepted MMS were never delivered");
        if (figures.Delivered != figures.Sent) problems.Add($"{figures.Delivered} of {figures.Sent} MMS delivered");
        if (duplicatesMatter && figures.DuplicatesAfterAck > 0) problems.Add($"{figures.DuplicatesAfterAck} deliveries after the ACK had reached the sender");
        if (figures.AcksReceived != figures.Sent) problems.Add($"{figures.AcksReceived} of {figures.Sent} ACKs reached their senders");
        if (figures.UnexpectedFails > 0) problems.Add($"{figures.UnexpectedFails} FAILs other than 9");
        if (problems.Count == 0) return;

        var message = new StringBuilder();
        message.AppendLine(string.Join("; ", problems));
        message.AppendLine(figures.ToString());
        var suspects = figures.LostIds.Concat(figures.DuplicateIds).Concat(figures.UnfinishedIds).Distinct().Take(8).ToList();
        foreach (var id in suspects)
        {
            message.AppendLine("  " + run.Describe(id));
            foreach (var process in cluster.Silos.Select(s => s.Process).Concat(cluster.Gateways.Select(g => g.Process)))
            {
                foreach (var line in process.Grep(id).Take(6)) message.AppendLine($"    {process.Name}: {(line.Length > 400 ? line[..400] + "..." : line)}");
            }
        }
        message.AppendLine(await cluster.DatabaseDiagnosticsAsync(suspects.Select(id => "load " + id)));
        Assert.Fail(message.ToString());
    }
}
