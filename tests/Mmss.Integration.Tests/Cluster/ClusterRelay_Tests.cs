using System.Net;
using System.Net.Http.Json;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Xunit.Abstractions;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests.Cluster;

/// <summary>
/// The relay with one domain as a cluster (2 silos, 2 gateways, PostgreSQL; domain 127.0.0.1, UDNs 6000-6999 as the
/// peer sees it) and the other embedded (127.0.0.6, UDNs 7000-7999). The embedded domain has the cluster in its
/// configuration; the cluster learns of it through one gateway's admin API while running, and every process of the
/// cluster routes by it at once.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterRelay_Tests(ClusterFixture fixture, ITestOutputHelper output)
{
    private const string Embedded = "127.0.0.6";
    private const string Secret = "cluster-and-embedded-pair-secret";
    private static readonly TimeSpan Relay = TimeSpan.FromSeconds(30);

    private static Task<XmlElement> NextMessageAsync(XmppClient client, string id) => client.ReadUntilAsync(e => IsMessage(e, id), Relay);

    [Fact]
    public async Task Mms_and_acks_cross_between_a_cluster_and_an_embedded_domain_through_a_peer_added_at_run_time() =>
        await fixture.RunAsync(output, async cluster =>
        {
            var (g0, g1) = (cluster.Gateways[0], cluster.Gateways[1]);
            var s2s = FreePorts.Take(1)[0];
            var settings = TwoDomainsFixture.Settings(s2s, giveUpSeconds: 120);
            settings["Mmss__S2s__BindAddress"] = Embedded;
            // The cluster as a configured peer, reached through its first gateway (any gateway would do: they share the key).
            settings["Mmss__Peers__0__Domain"] = MmssCluster.Domain;
            settings["Mmss__Peers__0__Address"] = $"127.0.0.1:{g0.S2sPort}";
            settings["Mmss__Peers__0__HttpAddress"] = $"http://127.0.0.1:{g0.HttpPort}/";
            settings["Mmss__Peers__0__Udns"] = "6000-6999";
            settings["Mmss__Peers__0__Secret"] = Secret;
            await using var peer = new EmbeddedServer(settings, host: Embedded);
            await peer.StartAsync();
            await cluster.ProvisionUsersAsync(["6001", "6002"], gateway: g1);
            await peer.ProvisionUserAsync("7001", "pw");
            await peer.ProvisionUserAsync("7002", "pw");

            // Added through gateway 0; the first MMS goes through gateway 1, the answers through silos of either.
            using (var admin0 = cluster.AdminClient(g0))
            {
                var put = await admin0.PutAsJsonAsync($"admin/peers/{Embedded}", new
                {
                    address = $"{Embedded}:{s2s}", httpAddress = $"http://{Embedded}:{peer.HttpPort}/", udns = "7000-7999", secret = Secret,
                });
                Assert.True(put.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
            }
            using (var admin1 = cluster.AdminClient(g1))
            {
                // Gateway 1 routes by it already: the change reached every process before the API answered.
                var view = await admin1.GetFromJsonAsync<System.Text.Json.JsonElement>($"admin/peers/{Embedded}");
                Assert.Equal("7000-7999", view.GetProperty("udns").GetString());
            }

            await using var mo = await MmssCluster.LoginAsync(g1, "6001");
            await using var mt = await peer.LoginAsync("7001", "pw");
            await mo.SendRawAsync(Mms("cr-1", "7001"));
            var received = await NextMessageAsync(mt, "cr-1");
            Assert.Equal($"6001@{Embedded}", received.Attribute("from"));
            Assert.Equal("HELLO", received.Element("subject", Mmss.Protocol.Xmpp.Namespaces.Client)!.Text);
            await mt.SendRawAsync(Ack("cr-1", "1", domain: Embedded));
            var ack = await NextMessageAsync(mo, "cr-1");
            Assert.Equal($"ACK@{MmssCluster.Domain}", ack.Attribute("from"));
            Assert.Equal("1", Property(ack, "ReturnCode"));

            // The other way: the embedded domain's user to a cluster user on gateway 0, and the ACK back.
            await using var mtCluster = await MmssCluster.LoginAsync(g0, "6002");
            await using var moEmbedded = await peer.LoginAsync("7002", "pw");
            await moEmbedded.SendRawAsync(Mms("cr-2", "6002", domain: Embedded));
            var inbound = await NextMessageAsync(mtCluster, "cr-2");
            Assert.Equal($"7002@{MmssCluster.Domain}", inbound.Attribute("from"));
            await mtCluster.SendRawAsync(Ack("cr-2", "2"));
            var back = await NextMessageAsync(moEmbedded, "cr-2");
            Assert.Equal($"ACK@{Embedded}", back.Attribute("from"));
            Assert.Equal("2", Property(back, "ReturnCode"));

            // A configured peer belongs to the configuration: the API neither changes nor removes it.
            using (var peerAdmin = peer.AdminClient())
            {
                var refused = await peerAdmin.DeleteAsync($"admin/peers/{MmssCluster.Domain}");
                Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
                Assert.Contains("Mmss:Peers", await refused.Content.ReadAsStringAsync());
            }

            // Removed through gateway 1: gateway 0 no longer relays; 7001 is nobody's number here, so FAIL 1.
            using (var admin1 = cluster.AdminClient(g1))
            {
                Assert.Equal(HttpStatusCode.NoContent, (await admin1.DeleteAsync($"admin/peers/{Embedded}")).StatusCode);
            }
            await using var mo0 = await MmssCluster.LoginAsync(g0, "6001", resource: "second");
            await mo0.SendRawAsync(Mms("cr-3", "7001"));
            var fail = await NextMessageAsync(mo0, "cr-3");
            Assert.Equal($"FAIL@{MmssCluster.Domain}", fail.Attribute("from"));
            Assert.Equal("1", Property(fail, "ReturnCode"));
        });
}
