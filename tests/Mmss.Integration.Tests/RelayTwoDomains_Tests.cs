using System.Net.Http.Json;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>
/// Two MMSS domains as two real processes (127.0.0.2 home for UDNs 2000-2999 and GDNs 20000-20999, 127.0.0.3 for
/// 3000-3999 and 30000-30999), each with the other in its peer table, linked by XMPP server-to-server with dialback.
/// </summary>
public sealed class TwoDomainsFixture : IAsyncLifetime
{
    public const string DomainA = "127.0.0.2";
    public const string DomainB = "127.0.0.3";
    private const string Secret = "pair-secret-for-tests";

    public TwoDomainsFixture() : this(giveUpSeconds: 120)
    {
    }

    internal TwoDomainsFixture(int giveUpSeconds)
    {
        var s2s = FreePorts.Take(2);
        A = new EmbeddedServer(Settings(s2s[0], giveUpSeconds), host: DomainA);
        B = new EmbeddedServer(Settings(s2s[1], giveUpSeconds), host: DomainB);
        Peer(A, B, s2s[1], "3000-3999", "30000-30999");
        Peer(B, A, s2s[0], "2000-2999", "20000-20999");
        Events(A, MqttPortA);
        Events(B, MqttPortB);
    }

    /// <summary>Each domain's embedded MQTT broker, for the relay's events.</summary>
    public int MqttPortA { get; } = FreePorts.Take(1)[0];
    public int MqttPortB { get; } = FreePorts.Take(1)[0];

    private static void Events(EmbeddedServer server, int port)
    {
        server.Configure("Mmss__Mqtt__Enabled", "true");
        server.Configure("Mmss__Mqtt__BindAddress", "127.0.0.1");
        server.Configure("Mmss__Mqtt__Port", port.ToString());
        server.Configure("Mmss__Mqtt__Username", MqttServerFixture.User);
        server.Configure("Mmss__Mqtt__Password", MqttServerFixture.Password);
    }

    public EmbeddedServer A { get; }
    public EmbeddedServer B { get; }

    /// <summary>A domain with server-to-server links on (its listener's address is the host's, set by the caller).</summary>
    internal static Dictionary<string, string> Settings(int s2sPort, int giveUpSeconds) => new()
    {
        ["Mmss__S2s__Enabled"] = "true",
        ["Mmss__S2s__Port"] = s2sPort.ToString(),
        ["Mmss__S2s__DialbackSecret"] = "dialback-" + s2sPort,
        ["Mmss__Relay__GiveUpSeconds"] = giveUpSeconds.ToString(),
        ["Mmss__Relay__MaxRetrySeconds"] = "2",
    };

    private static void Peer(EmbeddedServer self, EmbeddedServer peer, int peerS2sPort, string udns, string gdns)
    {
        self.Configure("Mmss__S2s__BindAddress", self.Host);
        self.Configure("Mmss__Peers__0__Domain", peer.Host);
        self.Configure("Mmss__Peers__0__Address", $"{peer.Host}:{peerS2sPort}");
        self.Configure("Mmss__Peers__0__HttpAddress", $"http://{peer.Host}:{peer.HttpPort}/");
        self.Configure("Mmss__Peers__0__Udns", udns);
        self.Configure("Mmss__Peers__0__Gdns", gdns);
        self.Configure("Mmss__Peers__0__Secret", Secret);
    }

    public async Task InitializeAsync() => await Task.WhenAll(A.StartAsync(), B.StartAsync());

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
    }
}

public class RelayTwoDomains_Tests(TwoDomainsFixture domains) : IClassFixture<TwoDomainsFixture>
{
    private const string A = TwoDomainsFixture.DomainA;
    private const string B = TwoDomainsFixture.DomainB;
    private static readonly TimeSpan Relay = TimeSpan.FromSeconds(30);

    private static Task<XmlElement> NextMessageAsync(XmppClient client, string id) => client.ReadUntilAsync(e => IsMessage(e, id), Relay);

    [Fact]
    public async Task An_mms_to_a_user_of_the_other_domain_is_delivered_there_and_its_ack_comes_back()
    {
        await domains.A.ProvisionUserAsync("2001", "pw");
        await domains.B.ProvisionUserAsync("3001", "pw");
        await using var mo = await domains.A.LoginAsync("2001", "pw");
        await using var mt = await domains.B.LoginAsync("3001", "pw");

        // The terminal knows only its own MMSS: it names the recipient in its own domain.
        await mo.SendRawAsync(Mms("x-1", "3001", domain: A, extra: "<property><name>VendorX</name><value type=\"string\">42</value></property>"));
        var received = await NextMessageAsync(mt, "x-1");
        Assert.Equal($"2001@{B}", received.Attribute("from"));
        Assert.Equal($"3001@{B}", received.Attribute("to"));
        Assert.Equal("HELLO", received.Element("subject", Namespaces.Client)!.Text);
        Assert.Equal("dGh1bWJuYWls", received.Element("body", Namespaces.Client)!.Text);
        Assert.Equal("1", Property(received, "MsgType"));
        Assert.Equal("42", Property(received, "VendorX"));

        await mt.SendRawAsync(Ack("x-1", "1", domain: B));
        var ack = await NextMessageAsync(mo, "x-1");
        Assert.Equal($"ACK@{A}", ack.Attribute("from"));
        Assert.Equal($"2001@{A}", ack.Attribute("to"));
        Assert.Equal("2", Property(ack, "MsgType"));
        Assert.Equal("1", Property(ack, "ReturnCode"));
        Assert.Null(Property(ack, "AnsweredBy"));
    }

    [Fact]
    public async Task Each_domain_publishes_the_relay_of_an_mms_its_own_way_out_at_the_sender_and_in_at_the_recipient()
    {
        await domains.A.ProvisionUserAsync("2011", "pw");
        await domains.B.ProvisionUserAsync("3011", "pw");
        await using var feedA = await EventFeed.SubscribeAsync(domains.MqttPortA, "mmss/+/messages/2011/#");
        await using var feedB = await EventFeed.SubscribeAsync(domains.MqttPortB, "mmss/+/messages/2011/#");
        await using var mo = await domains.A.LoginAsync("2011", "pw");
        await using var mt = await domains.B.LoginAsync("3011", "pw");

        await mo.SendRawAsync(Mms("ev-1", "3011", domain: A));
        await NextMessageAsync(mt, "ev-1");

        var outbound = await feedA.WaitForAsync(r => r.Topic.EndsWith("/ev-1/relayed-out"), "relayed-out at the sender's domain");
        Assert.Equal($"mmss/{A}/messages/2011/ev-1/relayed-out", outbound.Topic);
        Assert.Equal("relayedOut", outbound.Json.GetProperty("type").GetString());
        Assert.Equal("3011", outbound.Json.GetProperty("recipient").GetString());
        Assert.Equal(B, outbound.Json.GetProperty("peer").GetString());
        var inbound = await feedB.WaitForAsync(r => r.Topic.EndsWith("/ev-1/relayed-in"), "relayed-in at the recipient's domain");
        Assert.Equal($"mmss/{B}/messages/2011/ev-1/relayed-in", inbound.Topic);
        Assert.Equal("3011", inbound.Json.GetProperty("recipient").GetString());
        Assert.Equal(A, inbound.Json.GetProperty("peer").GetString());
        // Each fact once: the recipient's domain does not claim the way out, nor the sender's the way in.
        Assert.DoesNotContain(feedA.All, r => r.Topic.EndsWith("/ev-1/relayed-in"));
        Assert.DoesNotContain(feedB.All, r => r.Topic.EndsWith("/ev-1/relayed-out"));
    }

    [Fact]
    public async Task An_mms_for_an_offline_user_of_the_other_domain_waits_there_and_a_fail_reaches_the_offline_sender_later()
    {
        await domains.B.ProvisionUserAsync("3002", "pw");
        await domains.A.ProvisionUserAsync("2002", "pw");
        await using (var mo = await domains.B.LoginAsync("3002", "pw"))
        {
            await mo.SendRawAsync(Mms("x-2", "2002", domain: B));
            // Relayed and stored at A before the sender goes: wait until A's user would get it by logging in.
        }
        await using var mt = await domains.A.LoginAsync("2002", "pw");
        var received = await NextMessageAsync(mt, "x-2");
        Assert.Equal($"3002@{A}", received.Attribute("from"));
        await mt.SendRawAsync(Fail("x-2", "10", domain: A));

        // The sender is offline: the FAIL waits at its own MMSS and comes when it logs in again.
        await using var back = await domains.B.LoginAsync("3002", "pw");
        var fail = await NextMessageAsync(back, "x-2");
        Assert.Equal($"FAIL@{B}", fail.Attribute("from"));
        Assert.Equal("3", Property(fail, "MsgType"));
        Assert.Equal("10", Property(fail, "ReturnCode"));
    }

    [Fact]
    public async Task An_mms_for_an_unknown_user_of_the_other_domain_fails_with_code_1_from_there()
    {
        await domains.A.ProvisionUserAsync("2003", "pw");
        await using var mo = await domains.A.LoginAsync("2003", "pw");
        await mo.SendRawAsync(Mms("x-3", "3999", domain: A));
        var fail = await NextMessageAsync(mo, "x-3");
        Assert.Equal($"FAIL@{A}", fail.Attribute("from"));
        Assert.Equal("1", Property(fail, "ReturnCode"));
    }

    [Fact]
    public async Task A_group_with_members_in_both_domains_gives_every_member_one_copy_and_the_sender_one_answer_and_the_report()
    {
        foreach (var udn in new[] { "2101", "2102" }) await domains.A.ProvisionUserAsync(udn, "pw");
        await domains.B.ProvisionUserAsync("3101", "pw");
        using (var admin = domains.A.AdminClient())
        {
            var put = await admin.PutAsJsonAsync("admin/groups/20001", new { name = "Border patrol", members = new[] { "2101", "2102", "3101" } });
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }
        await using var mo = await domains.A.LoginAsync("2101", "pw");
        await using var local = await domains.A.LoginAsync("2102", "pw");
        await using var remote = await domains.B.LoginAsync("3101", "pw");
        await mo.SendRawAsync(Mms("x-4", "20001", domain: A,
            extra: "<property><name>DeliveryReport</name><value type=\"string\">true</value></property>"));

        var localCopy = await NextMessageAsync(local, "x-4");
        var remoteCopy = await NextMessageAsync(remote, "x-4");
        Assert.Equal("20001", Property(localCopy, "MsgGroup"));
        Assert.Equal("20001", Property(remoteCopy, "MsgGroup"));
        Assert.Equal($"2101@{B}", remoteCopy.Attribute("from"));
        await local.SendRawAsync(Ack("x-4", "1", domain: A));
        await remote.SendRawAsync(Fail("x-4", "10", domain: B));

        var answer = await mo.ReadUntilAsync(e => IsMessage(e, "x-4") && Property(e, "MsgType") == "2", Relay);
        Assert.Equal("1", Property(answer, "ReturnCode"));
        var report = await mo.ReadUntilAsync(e => IsMessage(e, "x-4") && Property(e, "MsgType") == "101", Relay);
        Assert.Equal("2102", Property(report, "Delivered"));
        Assert.Equal("3101", Property(report, "Failed"));
        Assert.Equal("", Property(report, "Pending"));
    }

    [Fact]
    public async Task Attachments_uploaded_at_the_senders_mmss_are_handed_over_first_and_downloaded_identical_at_the_recipients()
    {
        await domains.A.ProvisionUserAsync("2005", "pw");
        await domains.B.ProvisionUserAsync("3005", "pw");
        await using var mo = await domains.A.LoginAsync("2005", "pw");
        await using var mt = await domains.B.LoginAsync("3005", "pw");
        var picture = new byte[300_000];
        new Random(5).NextBytes(picture);
        using var http = new HttpClient();
        var upload = await http.SendAsync(SpecMultipart.Request(domains.A.HttpPort, SpecMultipart.Body("2005", "x-5", ("IMG_1.jpg", picture)), A));
        Assert.True(upload.IsSuccessStatusCode, await upload.Content.ReadAsStringAsync());

        await mo.SendRawAsync(Mms("x-5", "3005", domain: A, extra: "<property><name>attach</name><value type=\"string\">IMG_1.jpg</value></property>"));
        var received = await NextMessageAsync(mt, "x-5");
        Assert.Equal("IMG_1.jpg", Property(received, "attach"));
        var download = await http.GetAsync($"http://{B}:{domains.B.HttpPort}/attachment?userid=2005&msgid=x-5&file=IMG_1.jpg");
        Assert.True(download.IsSuccessStatusCode, await download.Content.ReadAsStringAsync());
        Assert.Equal(picture, await download.Content.ReadAsByteArrayAsync());
        await mt.SendRawAsync(Ack("x-5", "1", domain: B));
        Assert.Equal("1", Property(await NextMessageAsync(mo, "x-5"), "ReturnCode"));
    }

    [Fact]
    public async Task A_peer_speaking_for_numbers_it_is_not_home_for_is_refused_at_the_attachment_endpoint()
    {
        using var http = new HttpClient();
        // A's credentials, but a sender of B's range: a peer may hand over only its own users' files.
        var request = SpecMultipart.Request(domains.B.HttpPort, SpecMultipart.Body("3050", "x-6", ("f.bin", [1, 2, 3])), B);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{A}:pair-secret-for-tests")));
        var response = await http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, response.StatusCode);
        request = SpecMultipart.Request(domains.B.HttpPort, SpecMultipart.Body("2050", "x-6", ("f.bin", [1, 2, 3])), B);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{A}:a-wrong-secret")));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task A_user_of_the_other_domain_sending_to_a_group_here_gets_its_one_aggregated_answer_back()
    {
        await domains.A.ProvisionUserAsync("2301", "pw");
        await domains.B.ProvisionUserAsync("3301", "pw");
        using (var admin = domains.A.AdminClient())
        {
            var put = await admin.PutAsJsonAsync("admin/groups/20002", new { name = "Joint ops", members = new[] { "2301", "3301" } });
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }
        await using var mo = await domains.B.LoginAsync("3301", "pw");
        await using var member = await domains.A.LoginAsync("2301", "pw");
        // The group is A's (20000-20999): B relays the MMS there, A expands it.
        await mo.SendRawAsync(Mms("x-7", "20002", domain: B));
        var copy = await NextMessageAsync(member, "x-7");
        Assert.Equal($"3301@{A}", copy.Attribute("from"));
        Assert.Equal("20002", Property(copy, "MsgGroup"));
        await member.SendRawAsync(Ack("x-7", "1", domain: A));
        var answer = await NextMessageAsync(mo, "x-7");
        Assert.Equal($"ACK@{B}", answer.Attribute("from"));
        Assert.Equal("1", Property(answer, "ReturnCode"));
    }
}
