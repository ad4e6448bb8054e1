using Mmss.Integration.Tests.Infrastructure;
using Xunit.Abstractions;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests.Cluster;

/// <summary>
/// /metrics of a cluster: gateways count connections and logins, the silos count each MMS fact once between them (the
/// grain that owns it), and the PostgreSQL writer's group commits.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterMetrics_Tests(ClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Silos_count_each_mms_fact_once_between_them_and_gateways_count_their_logins() =>
        await fixture.RunAsync(output, async cluster =>
        {
            var (a, b) = (cluster.Gateways[0], cluster.Gateways[1]);
            await cluster.ProvisionUsersAsync(["7401", "7402"], gateway: a);
            var before = await ScrapeAllAsync(cluster);

            await using (var onA = await MmssCluster.LoginAsync(a, "7401", mechanism: "SCRAM-SHA-1"))
            await using (var onB = await MmssCluster.LoginAsync(b, "7402", mechanism: "SCRAM-SHA-1"))
            {
                for (var i = 0; i < 2; i++)
                {
                    await onA.SendRawAsync(Mms($"m-{i}", "7402"));
                    await onB.ReadUntilAsync(e => IsMessage(e, $"m-{i}"), TimeSpan.FromSeconds(30));
                    await onB.SendRawAsync(Ack($"m-{i}", "1"));
                    await onA.ReadUntilAsync(e => IsMessage(e, $"m-{i}"), TimeSpan.FromSeconds(30));
                }
            }

            (string Name, (string, string)[] Labels, double Moved)[] silo =
            [
                ("mmss_mms_submitted_total", [("target", "user")], 2),
                ("mmss_mms_delivered_total", [], 2),
                ("mmss_mms_answered_total", [("outcome", "ACK"), ("code", "1")], 2),
            ];
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            var after = await ScrapeAllAsync(cluster);
            while (DateTime.UtcNow < deadline && !silo.All(m => Moved(before.Silos, after.Silos, m.Name, m.Labels) >= m.Moved))
            {
                await Task.Delay(200);
                after = await ScrapeAllAsync(cluster);
            }
            foreach (var (name, labels, moved) in silo)
                Assert.True(Moved(before.Silos, after.Silos, name, labels) == moved, $"silos: {name} moved by {Moved(before.Silos, after.Silos, name, labels)}, expected {moved}");
            // Two rows per MMS at least (stored, answered), in one commit or more.
            var writes = Moved(before.Silos, after.Silos, "mmss_storage_commit_batch_sum", [("store", "postgresql")]);
            var commits = Moved(before.Silos, after.Silos, "mmss_storage_commit_duration_seconds_count", [("store", "postgresql")]);
            Assert.True(writes >= 2 * 2 && commits >= 1 && commits <= writes, $"PostgreSQL writer: {writes} writes in {commits} commits counted");
            // Grain facts are the silos' alone; each gateway counts its own login.
            Assert.All(after.Gateways, scrape => Assert.False(scrape.Has("mmss_mms_"), "a gateway counted grain facts"));
            Assert.Equal([1, 1], after.Gateways.Zip(before.Gateways, (x, y) => x.Value("mmss_gateway_logins_total") - y.Value("mmss_gateway_logins_total")));
        });

    private static double Moved(PrometheusScrape[] before, PrometheusScrape[] after, string name, (string, string)[] labels) =>
        after.Sum(s => s.Value(name, labels)) - before.Sum(s => s.Value(name, labels));

    private static async Task<(PrometheusScrape[] Silos, PrometheusScrape[] Gateways)> ScrapeAllAsync(MmssCluster cluster) =>
        (await Task.WhenAll(cluster.Silos.Select(s => PrometheusScrape.GetAsync($"http://127.0.0.1:{s.HealthPort}/metrics"))),
         await Task.WhenAll(cluster.Gateways.Select(g => PrometheusScrape.GetAsync($"http://127.0.0.1:{g.HttpPort}/metrics"))));
}
