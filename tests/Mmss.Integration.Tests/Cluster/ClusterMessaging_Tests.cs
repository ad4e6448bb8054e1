using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Xunit.Abstractions;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests.Cluster;

/// <summary>
/// The flows of the embedded tests, with the two ends on different gateway processes of one cluster: one-to-one MMS with
/// ACK/FAIL, store-and-forward, group MMS with the aggregated answer, attachments uploaded through one gateway and
/// downloaded through the other.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterMessaging_Tests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    private static Task<XmlElement> NextMessageAsync(XmppClient client, string id) =>
        client.ReadUntilAsync(e => IsMessage(e, id), TimeSpan.FromSeconds(30));

    /// <summary>Nothing but the ping's answer arrives: no second copy or answer was on its way.</summary>
    private static async Task AssertNothingMoreAsync(XmppClient client, string id)
    {
        var ping = "sync-" + Guid.NewGuid().ToString("N")[..6];
        await client.SendRawAsync($"<iq type='get' id='{ping}'><ping xmlns='urn:xmpp:ping'/></iq>");
        var next = await client.ReadUntilAsync(e => e.Attribute("id") == ping || IsMessage(e, id), TimeSpan.FromSeconds(30));
        Assert.Equal(ping, next.Attribute("id"));
    }

    [Fact]
    public async Task Mms_between_terminals_on_different_gateways_gets_its_ack_and_fail_and_waits_for_an_offline_recipient() =>
        await fixture.RunAsync(output, async cluster =>
        {
            var (a, b) = (cluster.Gateways[0], cluster.Gateways[1]);
            // Provisioned through gateway B only: the state is in PostgreSQL, so gateway A knows the users too.
            await cluster.ProvisionUsersAsync(["7101", "7102", "7103"], gateway: b);
            await using var onA = await MmssCluster.LoginAsync(a, "7101", mechanism: "SCRAM-SHA-1");
            await using var onB = await MmssCluster.LoginAsync(b, "7102", mechanism: "DIGEST-MD5");

            await onA.SendRawAsync(Mms("c-1", "7102", "across gateways"));
            var received = await NextMessageAsync(onB, "c-1");
            Assert.Equal("7101@127.0.0.1", received.Attribute("from"));
            Assert.Equal("7102@127.0.0.1", received.Attribute("to"));
            Assert.Equal("across gateways", Property(received, "MsgText"));
            await onB.SendRawAsync(Ack("c-1"));
            var ack = await NextMessageAsync(onA, "c-1");
            Assert.Equal(("ACK@127.0.0.1", "2", "1"), (ack.Attribute("from"), Property(ack, "MsgType"), Property(ack, "ReturnCode")));

            await onB.SendRawAsync(Mms("c-2", "7101", "and back"));
            Assert.Equal("and back", Property(await NextMessageAsync(onA, "c-2"), "MsgText"));
            await onA.SendRawAsync(Fail("c-2", "4"));
            var fail = await NextMessageAsync(onB, "c-2");
            Assert.Equal(("FAIL@127.0.0.1", "3", "4"), (fail.Attribute("from"), Property(fail, "MsgType"), Property(fail, "ReturnCode")));

            // Store-and-forward across gateways: sent through A while the recipient is offline, delivered at its login on B.
            await onA.SendRawAsync(Mms("c-3", "7103", "stored"));
            await AssertNothingMoreAsync(onA, "c-3");
            await using (var late = await MmssCluster.LoginAsync(b, "7103"))
            {
                Assert.Equal("stored", Property(await NextMessageAsync(late, "c-3"), "MsgText"));
                await late.SendRawAsync(Ack("c-3"));
                Assert.Equal("ACK@127.0.0.1", (await NextMessageAsync(onA, "c-3")).Attribute("from"));
            }

            // A retry of an answered id through the other gateway: the answer again, never a second delivery.
            await using var again = await MmssCluster.LoginAsync(b, "7101", resource: "second");
            await again.SendRawAsync(Mms("c-1", "7102", "across gateways"));
            Assert.Equal("ACK@127.0.0.1", (await NextMessageAsync(again, "c-1")).Attribute("from"));
            await AssertNothingMoreAsync(onB, "c-1");
        });

    [Fact]
    public async Task Group_mms_reaches_members_on_both_gateways_and_the_sender_gets_one_aggregated_answer() =>
        await fixture.RunAsync(output, async cluster =>
        {
            var (a, b) = (cluster.Gateways[0], cluster.Gateways[1]);
            string[] members = ["7201", "7202", "7203", "7204", "7205"];
            await cluster.ProvisionUsersAsync(members, gateway: a);
            await cluster.ProvisionGroupAsync("9701", members, gateway: b);
            var clients = new List<XmppClient>();
            try
            {
                for (var i = 0; i < members.Length; i++) clients.Add(await MmssCluster.LoginAsync(i % 2 == 0 ? a : b, members[i]));
                var sender = clients[0];
                var others = clients.Skip(1).ToArray();

                await sender.SendRawAsync(Mms("g-ack", "9701"));
                foreach (var (client, udn) in others.Zip(members.Skip(1)))
                {
                    var copy = await NextMessageAsync(client, "g-ack");
                    Assert.Equal($"{udn}@127.0.0.1", copy.Attribute("to"));
                    Assert.Equal("7201@127.0.0.1", copy.Attribute("from"));
                    Assert.Equal("9701", Property(copy, "MsgGroup"));
                    await client.SendRawAsync(Ack("g-ack"));
                }
                var ack = await NextMessageAsync(sender, "g-ack");
                Assert.Equal(("ACK@127.0.0.1", "2", "1"), (ack.Attribute("from"), Property(ack, "MsgType"), Property(ack, "ReturnCode")));
                await AssertNothingMoreAsync(sender, "g-ack");

                // Every member fails: one FAIL with the code most members failed with.
                await sender.SendRawAsync(Mms("g-fail", "9701"));
                string[] codes = ["4", "10", "4", "4"];
                foreach (var (client, code) in others.Zip(codes))
                {
                    await NextMessageAsync(client, "g-fail");
                    await client.SendRawAsync(Fail("g-fail", code));
                }
                var fail = await NextMessageAsync(sender, "g-fail");
                Assert.Equal(("FAIL@127.0.0.1", "3", "4"), (fail.Attribute("from"), Property(fail, "MsgType"), Property(fail, "ReturnCode")));
                await AssertNothingMoreAsync(sender, "g-fail");
                foreach (var client in others) await AssertNothingMoreAsync(client, "g-ack");
            }
            finally
            {
                foreach (var client in clients) await client.DisposeAsync();
            }
        });

    [Fact]
    public async Task Attachment_uploaded_through_one_gateway_is_downloaded_through_the_other() =>
        await fixture.RunAsync(output, async cluster =>
        {
            var (a, b) = (cluster.Gateways[0], cluster.Gateways[1]);
            await cluster.ProvisionUsersAsync(["7301", "7302", "7303"]);
            await using var sender = await MmssCluster.LoginAsync(a, "7301");
            await using var recipient = await MmssCluster.LoginAsync(b, "7302");
            var picture = RandomNumberGenerator.GetBytes(200_000);
            var clip = RandomNumberGenerator.GetBytes(50_000);

            // Through A, where the sender's stream is; the second file through B, which must ask the cluster whether
            // 7301 has a live session from this address.
            Assert.Equal(HttpStatusCode.OK, (await UploadAsync(a, SpecMultipart.Body("7301", "att-1", ("IMG_1.jpg", picture)))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await UploadAsync(b, SpecMultipart.Body("7301", "att-2", ("clip.mp4", clip)))).StatusCode);

            await sender.SendRawAsync(Mms("att-1", "7302", extra: Attach("IMG_1.jpg")));
            await sender.SendRawAsync(Mms("att-2", "7302", extra: Attach("clip.mp4")));
            Assert.Equal("IMG_1.jpg", Property(await NextMessageAsync(recipient, "att-1"), "attach"));
            Assert.Equal("clip.mp4", Property(await NextMessageAsync(recipient, "att-2"), "attach"));

            // The recipient's stream is on B: it downloads the file uploaded through A through B, and the other through A.
            using (var download = await DownloadAsync(b, "7301", "att-1", "IMG_1.jpg"))
            {
                Assert.Equal(HttpStatusCode.OK, download.StatusCode);
                Assert.Equal("image/jpeg", download.Content.Headers.ContentType!.MediaType);
                Assert.Equal(picture, await download.Content.ReadAsByteArrayAsync());
            }
            using (var download = await DownloadAsync(a, "7301", "att-2", "clip.mp4", Basic("7302", "pw")))
            {
                Assert.Equal(HttpStatusCode.OK, download.StatusCode);
                Assert.Equal(clip, await download.Content.ReadAsByteArrayAsync());
            }
            using (var range = await DownloadAsync(b, "7301", "att-2", "clip.mp4", Basic("7302", "pw"), "bytes=100-199"))
            {
                Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
                Assert.Equal(clip[100..200], await range.Content.ReadAsByteArrayAsync());
            }
            // Access is the message's, wherever asked: another user is refused on both gateways.
            foreach (var gateway in cluster.Gateways)
            {
                using var refused = await DownloadAsync(gateway, "7301", "att-1", "IMG_1.jpg", Basic("7303", "pw"));
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            }

            // An MMS naming a file never uploaded (through either gateway) fails with 3.
            await sender.SendRawAsync(Mms("att-3", "7302", extra: Attach("missing.jpg")));
            Assert.Equal("3", Property(await NextMessageAsync(sender, "att-3"), "ReturnCode"));

            await recipient.SendRawAsync(Ack("att-1"));
            await recipient.SendRawAsync(Ack("att-2"));
            // Answers to two messages may reach the sender in either order (each is the answer to its own id).
            var acks = new Dictionary<string, string?>();
            while (acks.Count < 2)
            {
                var ack = await sender.ReadUntilAsync(e => IsMessage(e, "att-1") || IsMessage(e, "att-2"), TimeSpan.FromSeconds(30));
                acks[ack.Attribute("id")!] = ack.Attribute("from");
            }
            Assert.Equal("ACK@127.0.0.1", acks["att-1"]);
            Assert.Equal("ACK@127.0.0.1", acks["att-2"]);
        });

    private static string Attach(string file) => $"<property><name>attach</name><value type=\"string\">{file}</value></property>";

    private static AuthenticationHeaderValue Basic(string udn, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{udn}:{password}")));

    private static Task<HttpResponseMessage> UploadAsync(GatewayNode gateway, byte[] body) =>
        Http.SendAsync(SpecMultipart.Request(gateway.HttpPort, body));

    private static Task<HttpResponseMessage> DownloadAsync(GatewayNode gateway, string userId, string messageId, string file,
        AuthenticationHeaderValue? auth = null, string? range = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get,
            $"http://127.0.0.1:{gateway.HttpPort}/attachment?userid={Uri.EscapeDataString(userId)}&msgid={Uri.EscapeDataString(messageId)}&file={Uri.EscapeDataString(file)}");
        request.Headers.Authorization = auth;
        if (range is not null) request.Headers.TryAddWithoutValidation("Range", range);
        return Http.SendAsync(request);
    }
}
