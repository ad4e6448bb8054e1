using System.Diagnostics;
using System.Net.Http.Json;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;
using Xunit.Abstractions;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>Talk-group messages end to end over real sockets (spec "Flows → Group message").</summary>
[Collection(ServerCollection.Name)]
public class GroupMessage_Tests(ServerFixture fixture, ITestOutputHelper output)
{
    private EmbeddedServer Server => fixture.Server;

    private async Task GroupAsync(string gdn, IReadOnlyList<string> members)
    {
        await Parallel.ForEachAsync(members, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (udn, _) => await Server.ProvisionUserAsync(udn, "pw"));
        using var http = Server.AdminClient();
        (await http.PutAsJsonAsync($"admin/groups/{gdn}", new { name = "Group " + gdn, members })).EnsureSuccessStatusCode();
    }

    private async Task<XmppClient[]> LoginAllAsync(IEnumerable<string> udns)
    {
        var clients = new List<XmppClient>();
        foreach (var chunk in udns.Chunk(16))
        {
            clients.AddRange(await Task.WhenAll(chunk.Select(udn => Server.LoginAsync(udn, "pw", "PLAIN"))));
        }
        return clients.ToArray();
    }

    [Fact]
    public async Task A_member_stored_offline_does_not_hold_the_ack_back_until_the_window_closes()
    {
        // The server's aggregation window is 30 s; ReadUntilAsync gives up after 15.
        string[] members = ["6411", "6412", "6413"];
        await GroupAsync("9411", members);
        var online = await LoginAllAsync(members[..2]);
        try
        {
            await online[0].SendRawAsync(Mms("grp-off", "9411"));
            await online[1].ReadUntilAsync(e => IsMessage(e, "grp-off"));
            await online[1].SendRawAsync(Ack("grp-off"));
            var ack = await online[0].ReadUntilAsync(e => IsMessage(e, "grp-off"));
            Assert.Equal(("ACK@127.0.0.1", "2", "1"), (ack.Attribute("from"), Property(ack, "MsgType"), Property(ack, "ReturnCode")));

            await using var late = await Server.LoginAsync(members[2], "pw", "PLAIN");
            var copy = await late.ReadUntilAsync(e => IsMessage(e, "grp-off"));
            Assert.Equal("9411", Property(copy, "MsgGroup"));
            await late.SendRawAsync(Ack("grp-off"));
            // The sender has had its one answer: the late member's ACK brings no second one.
            await late.SendRawAsync("<iq type='get' id='late-sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            await late.ReadUntilAsync(e => e.Attribute("id") == "late-sync");
            await online[0].SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            Assert.Equal("sync", (await online[0].ReadUntilAsync(e => e.Attribute("id") is "sync" or "grp-off")).Attribute("id"));
        }
        finally
        {
            foreach (var client in online) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Group_mms_reaches_each_member_with_msggroup_and_the_sender_gets_one_ack()
    {
        string[] members = ["6401", "6402", "6403"];
        await GroupAsync("9401", members);
        var clients = await LoginAllAsync(members);
        try
        {
            await clients[0].SendRawAsync(Mms("grp-1", "9401"));
            foreach (var (client, udn) in clients.Zip(members).Skip(1))
            {
                var copy = await client.ReadUntilAsync(e => IsMessage(e, "grp-1"));
                Assert.Equal($"{udn}@127.0.0.1", copy.Attribute("to"));
                Assert.Equal("6401@127.0.0.1", copy.Attribute("from"));
                Assert.Equal("9401", Property(copy, "MsgGroup"));
                Assert.Equal("Hello, greeting from console C.", Property(copy, "MsgText"));
                await client.SendRawAsync(Ack("grp-1"));
            }
            var ack = await clients[0].ReadUntilAsync(e => IsMessage(e, "grp-1"));
            Assert.Equal(("ACK@127.0.0.1", "2", "1"), (ack.Attribute("from"), Property(ack, "MsgType"), Property(ack, "ReturnCode")));
            await clients[0].SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            var next = await clients[0].ReadUntilAsync(e => e.Attribute("id") is "sync" or "grp-1");
            Assert.Equal("sync", next.Attribute("id"));
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Sender_outside_the_group_gets_fail_2()
    {
        await GroupAsync("9402", ["6411", "6412"]);
        await Server.ProvisionUserAsync("6419", "pw");
        await using var outsider = await Server.LoginAsync("6419", "pw");
        await outsider.SendRawAsync(Mms("grp-out", "9402"));
        Assert.Equal("2", Property(await outsider.ReadUntilAsync(e => IsMessage(e, "grp-out")), "ReturnCode"));
    }

    [Fact]
    public async Task Thousand_member_group_every_member_gets_exactly_one_copy()
    {
        var members = Enumerable.Range(0, 1001).Select(i => $"65{i:D4}").ToArray();
        await GroupAsync("9403", members);
        var clients = await LoginAllAsync(members);
        try
        {
            var clock = Stopwatch.StartNew();
            await clients[0].SendRawAsync(Mms("grp-1000", "9403"));
            var copies = await Task.WhenAll(clients.Skip(1).Select(c => c.ReadUntilAsync(e => e.Name == "message", TimeSpan.FromSeconds(60))));
            var lastDelivery = clock.Elapsed;
            Assert.All(copies, copy => Assert.Equal("grp-1000", copy.Attribute("id")));
            await Task.WhenAll(clients.Skip(1).Select(c => c.SendRawAsync(Ack("grp-1000"))));
            var ack = await clients[0].ReadUntilAsync(e => IsMessage(e, "grp-1000"), TimeSpan.FromSeconds(60));
            Assert.Equal("ACK@127.0.0.1", ack.Attribute("from"));
            output.WriteLine($"1000 members: last copy after {lastDelivery.TotalMilliseconds:F0} ms, aggregated ACK after {clock.Elapsed.TotalMilliseconds:F0} ms");

            // Exactly one copy each: nothing else arrives before a ping's answer.
            await Task.WhenAll(clients.Skip(1).Select(async c =>
            {
                await c.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
                var next = await c.ReadUntilAsync(e => e.Name is "message" or "iq");
                Assert.Equal("sync", next.Attribute("id"));
            }));
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
    }
}
