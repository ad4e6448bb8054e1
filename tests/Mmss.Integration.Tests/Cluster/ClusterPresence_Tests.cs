using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;
using Xunit.Abstractions;

namespace Mmss.Integration.Tests.Cluster;

/// <summary>
/// Presence with the two members on different gateway processes: it crosses gateways through the user grains, and a
/// gateway killed with -9 (nobody closes its streams) leaves its users unavailable to their contacts on the other.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterPresence_Tests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static Task<XmlElement> PresenceAsync(XmppClient client, string fullJid, string? type = null) =>
        client.ReadUntilAsync(e => e.Name == "presence" && e.Attribute("from") == fullJid && e.Attribute("type") == type, TimeSpan.FromSeconds(45));

    [Fact]
    public async Task Presence_crosses_gateways_and_the_users_of_a_killed_gateway_go_unavailable() =>
        await fixture.RunAsync(output, async cluster =>
        {
            var (survivor, victim) = (cluster.Gateways[0], cluster.Gateways[1]);
            await cluster.ProvisionUsersAsync(["7401", "7402"]);
            await cluster.ProvisionGroupAsync("97401", ["7401", "7402"]);
            await using var watcher = await MmssCluster.LoginAsync(survivor, "7401", resource: "dc");
            await watcher.SendRawAsync("<presence/>");
            var unit = await MmssCluster.LoginAsync(victim, "7402", resource: "ue");
            try
            {
                await unit.SendRawAsync("<presence><status>on the other gateway</status></presence>");
                var seen = await PresenceAsync(watcher, "7402@127.0.0.1/ue");
                Assert.Equal("on the other gateway", seen.Element("status", Namespaces.Client)!.Text);
                await PresenceAsync(unit, "7401@127.0.0.1/dc");

                await cluster.KillAsync(victim);
                // Counted gone after GatewayExpirySeconds (6 here); the user grain notices within half of it more.
                await PresenceAsync(watcher, "7402@127.0.0.1/ue", "unavailable");
            }
            finally
            {
                await unit.DisposeAsync();
            }
        });
}
