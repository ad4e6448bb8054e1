using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;
using Xunit.Abstractions;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests.Cluster;

/// <summary>
/// What a session's state means when the terminal's next connection reaches another gateway: stream resumption, and
/// authentication throttling counted across gateways.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterSession_Tests(ClusterFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Resumption_through_another_gateway_fails_cleanly_and_a_new_bind_gets_everything_unanswered_once() =>
        await fixture.RunAsync(output, async cluster =>
        {
            var (a, b) = (cluster.Gateways[0], cluster.Gateways[1]);
            await cluster.ProvisionUsersAsync(["7401", "7402"]);
            await using var sender = await MmssCluster.LoginAsync(a, "7401");
            string resumptionId;
            await using (var first = await MmssCluster.LoginAsync(a, "7402", resource: "radio"))
            {
                await first.SendRawAsync("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
                resumptionId = (await first.ReadUntilAsync(e => e.Name == "enabled")).Attribute("id")!;
                await sender.SendRawAsync(Mms("res-1", "7402"));
                await first.ReadUntilAsync(e => IsMessage(e, "res-1"));
                // The handset leaves coverage without closing its stream; its next connection lands on gateway B.
            }
            await sender.SendRawAsync(Mms("res-2", "7402"));

            await using var second = await XmppClient.AuthenticatedAsync("127.0.0.1", b.C2sPort, MmssCluster.Domain,
                EmbeddedServer.Mechanism("PLAIN", "7402", "pw"));
            await second.SendRawAsync($"<resume xmlns='urn:xmpp:sm:3' previd='{resumptionId}' h='1'/>");
            var failed = await second.ReadUntilAsync(e => e.Namespace == Namespaces.StreamManagement);
            Assert.Equal("failed", failed.Name);
            Assert.NotNull(failed.Element("item-not-found", Namespaces.Stanzas));

            await second.BindAsync("radio");
            // Neither MMS was answered, so both come, whatever the old gateway still holds for the lost connection.
            var seen = new HashSet<string>();
            while (seen.Count < 2)
            {
                var message = await second.ReadUntilAsync(e => IsMessage(e, "res-1") || IsMessage(e, "res-2"), TimeSpan.FromSeconds(30));
                seen.Add(message.Attribute("id")!);
            }
            await second.SendRawAsync(Ack("res-1"));
            await second.SendRawAsync(Ack("res-2"));
            // Two answers relayed one after the other may reach the sender in either order.
            var acknowledged = new HashSet<string>();
            while (acknowledged.Count < 2)
            {
                var ack = await sender.ReadUntilAsync(e => IsMessage(e, "res-1") || IsMessage(e, "res-2"), TimeSpan.FromSeconds(30));
                Assert.Equal("ACK@127.0.0.1", ack.Attribute("from"));
                acknowledged.Add(ack.Attribute("id")!);
            }

            // Answered: never written to the terminal again (the redelivery period in this cluster is 5 s).
            var ping = "after-" + Guid.NewGuid().ToString("N")[..6];
            await Task.Delay(TimeSpan.FromSeconds(7));
            await second.SendRawAsync($"<iq type='get' id='{ping}'><ping xmlns='urn:xmpp:ping'/></iq>");
            var next = await second.ReadUntilAsync(e => e.Attribute("id") == ping || e.Name == "message", TimeSpan.FromSeconds(30));
            Assert.Equal(ping, next.Attribute("id"));
        });

    [Fact]
    public async Task Failed_logins_through_one_gateway_count_against_the_user_on_the_other() =>
        await fixture.RunAsync(output, async cluster =>
        {
            var (a, b) = (cluster.Gateways[0], cluster.Gateways[1]);
            await cluster.ProvisionUsersAsync(["7499"], password: "right");
            // The per-user limit is 10 failures in the window; the attempts alternate between the gateways.
            for (var i = 0; i < 10; i++)
            {
                var gateway = i % 2 == 0 ? a : b;
                await using var attacker = await XmppClient.ConnectAsync("127.0.0.1", gateway.TlsPort, directTls: true);
                await attacker.OpenStreamAsync(MmssCluster.Domain);
                var failure = await attacker.AuthenticateAsync(EmbeddedServer.Mechanism("PLAIN", "7499", "guess" + i), MmssCluster.Domain);
                Assert.NotNull(failure.Element("not-authorized", Namespaces.Sasl));
            }
            foreach (var gateway in cluster.Gateways)
            {
                await using var owner = await XmppClient.ConnectAsync("127.0.0.1", gateway.TlsPort, directTls: true);
                await owner.OpenStreamAsync(MmssCluster.Domain);
                var refused = await owner.AuthenticateAsync(EmbeddedServer.Mechanism("PLAIN", "7499", "right"), MmssCluster.Domain);
                Assert.NotNull(refused.Element("temporary-auth-failure", Namespaces.Sasl));
            }
        });
}
