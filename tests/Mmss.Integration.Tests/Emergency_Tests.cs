using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using static Mmss.Integration.Tests.Infrastructure.EmergencyServerFixture;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>
/// Emergency priority (issue #16): an MMS with the vendor property Priority=emergency, from a user provisioned to send
/// one, goes ahead of ordinary traffic at login, on a live connection and past the upload allowance; others get FAIL 2.
/// </summary>
public class Emergency_Tests(EmergencyServerFixture fixture) : IClassFixture<EmergencyServerFixture>
{
    private const string EmergencyProperty = "<property><name>Priority</name><value type=\"string\">emergency</value></property>";

    private EmbeddedServer Server => fixture.Server;

    private Task<XmppClient> LoginAsync(string udn) => Server.LoginAsync(udn, Password);

    /// <summary>RFC 6120 §10.1 as the server keeps it: a ping answered means every message sent before it was stored or refused.</summary>
    private static async Task SyncAsync(XmppClient client)
    {
        var id = "sync-" + Guid.NewGuid().ToString("N")[..8];
        await client.SendRawAsync($"<iq type='get' id='{id}'><ping xmlns='urn:xmpp:ping'/></iq>");
        await client.ReadUntilAsync(e => e.Name == "iq" && e.Attribute("id") == id, TimeSpan.FromSeconds(60));
    }

    private static Task<XmlElement> NextMmsAsync(XmppClient client, TimeSpan? timeout = null) =>
        client.ReadUntilAsync(e => e.Name == "message", timeout);

    [Fact]
    public async Task Emergency_mms_sent_after_a_thousand_ordinary_ones_is_delivered_first_at_login()
    {
        const string recipient = "1811";
        await Server.ProvisionUserAsync(recipient, Password);
        await using (var sender = await LoginAsync(Dispatcher))
        {
            var routine = new StringBuilder();
            for (var i = 0; i < 1000; i++) routine.Append(Mms($"routine-{i}", recipient, $"routine report {i}"));
            await sender.SendRawAsync(routine.ToString());
            await sender.SendRawAsync(Mms("alarm-login", recipient, "officer down", extra: EmergencyProperty));
            await SyncAsync(sender);
        }

        await using var terminal = await LoginAsync(recipient);
        var first = await NextMmsAsync(terminal, TimeSpan.FromSeconds(60));
        Assert.Equal("alarm-login", first.Attribute("id"));
        Assert.Equal("emergency", Property(first, "Priority"));
        // Then the ordinary ones, in the order they were sent.
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal($"routine-{i}", (await NextMmsAsync(terminal, TimeSpan.FromSeconds(60))).Attribute("id"));
        }
    }

    [Fact]
    public async Task Emergency_mms_overtakes_ordinary_pushes_queued_for_a_terminal_that_reads_slowly()
    {
        const string recipient = "1812";
        const int ordinary = 64;
        await Server.ProvisionUserAsync(recipient, Password);
        // The terminal logs in and then reads nothing: what is pushed to it fills the socket, and the rest queues.
        await using var terminal = await LoginAsync(recipient);
        await using var sender = await LoginAsync(Dispatcher);
        var bulk = new string('x', 150_000);
        for (var i = 0; i < ordinary; i++) await sender.SendRawAsync(Mms($"bulk-{i}", recipient, bulk));
        await SyncAsync(sender);
        await sender.SendRawAsync(Mms("alarm-live", recipient, "shots fired", extra: EmergencyProperty));
        await SyncAsync(sender);

        var order = new List<string>();
        while (!order.Contains("alarm-live"))
        {
            order.Add((await NextMmsAsync(terminal, TimeSpan.FromSeconds(60))).Attribute("id")!);
        }
        var before = order.Count - 1;
        // Some of the ordinary MMS were already in the socket's buffers; every one still queued came after it.
        Assert.True(before < ordinary, $"the emergency MMS came after all {ordinary} ordinary ones: {string.Join(',', order)}");
        var after = new List<string>();
        while (after.Count < ordinary - before) after.Add((await NextMmsAsync(terminal, TimeSpan.FromSeconds(60))).Attribute("id")!);
        Assert.Equal(Enumerable.Range(0, ordinary).Select(i => $"bulk-{i}"), order.Take(before).Concat(after));
    }

    [Fact]
    public async Task Stored_emergency_survives_kill_9_still_first_and_the_seed_file_changes_the_flag_at_the_next_start()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "mmss-emergency-restart-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDirectory);
        var seed = Path.Combine(dataDirectory, "seed.json");
        async Task SeedAsync(bool emergency) => await File.WriteAllTextAsync(seed,
            $$"""{"users":[{"udn":"1901","password":"pw","emergency":{{(emergency ? "true" : "false")}}},{"udn":"1902","password":"pw"}]}""");
        var settings = new Dictionary<string, string> { ["Mmss__Provisioning__SeedFile"] = seed };

        await SeedAsync(emergency: true);
        var first = new EmbeddedServer(settings, dataDirectory);
        await first.StartAsync();
        await using (var sender = await first.LoginAsync("1901", "pw"))
        {
            await sender.SendRawAsync(Mms("before-kill", "1902"));
            await sender.SendRawAsync(Mms("alarm-kill", "1902", extra: EmergencyProperty));
            await SyncAsync(sender);
        }
        await first.KillAsync();

        await SeedAsync(emergency: false);
        await using var second = new EmbeddedServer(settings, dataDirectory);
        await second.StartAsync();
        Assert.Contains("0 created, 1 updated, 1 unchanged", second.Output);
        await using (var terminal = await second.LoginAsync("1902", "pw"))
        {
            Assert.Equal("alarm-kill", (await NextMmsAsync(terminal)).Attribute("id"));
            Assert.Equal("before-kill", (await NextMmsAsync(terminal)).Attribute("id"));
        }
        await using var revoked = await second.LoginAsync("1901", "pw");
        await revoked.SendRawAsync(Mms("alarm-after", "1902", extra: EmergencyProperty));
        Assert.Equal("2", Property(await revoked.ReadUntilAsync(e => IsMessage(e, "alarm-after")), "ReturnCode"));
    }

    [Fact]
    public async Task Emergency_mms_from_a_user_not_allowed_to_send_one_gets_fail_2_and_is_not_stored()
    {
        const string recipient = "1813";
        await Server.ProvisionUserAsync(recipient, Password);
        await using (var sender = await LoginAsync(Unit))
        {
            await sender.SendRawAsync(Mms("alarm-refused", recipient, extra: EmergencyProperty));
            var fail = await sender.ReadUntilAsync(e => IsMessage(e, "alarm-refused"));
            Assert.Equal("FAIL@127.0.0.1", fail.Attribute("from"));
            Assert.Equal(("3", "2"), (Property(fail, "MsgType"), Property(fail, "ReturnCode")));
            await sender.SendRawAsync(Mms("after-refused", recipient));
            await SyncAsync(sender);
        }
        await using var terminal = await LoginAsync(recipient);
        Assert.Equal("after-refused", (await NextMmsAsync(terminal)).Attribute("id"));
    }

    [Fact]
    public async Task The_admin_api_grants_and_revokes_the_flag_and_a_logged_in_sender_is_judged_by_the_current_one()
    {
        const string sender = "1814", recipient = "1815";
        using var admin = Server.AdminClient();
        Assert.Equal(HttpStatusCode.Created,
            (await admin.PutAsJsonAsync($"admin/users/{sender}", new { password = Password, name = "Supervisor", emergency = true })).StatusCode);
        await Server.ProvisionUserAsync(recipient, Password);
        var view = JsonDocument.Parse(await admin.GetStringAsync($"admin/users/{sender}")).RootElement;
        Assert.True(view.GetProperty("emergency").GetBoolean());

        await using var terminal = await LoginAsync(recipient);
        await using var client = await LoginAsync(sender);
        await client.SendRawAsync(Mms("granted", recipient, extra: EmergencyProperty));
        Assert.Equal("granted", (await NextMmsAsync(terminal)).Attribute("id"));

        // Revoked while the sender stays logged in: the next emergency is refused.
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"admin/users/{sender}", new { emergency = false })).StatusCode);
        Assert.False(JsonDocument.Parse(await admin.GetStringAsync($"admin/users/{sender}")).RootElement.GetProperty("emergency").GetBoolean());
        await client.SendRawAsync(Mms("revoked", recipient, extra: EmergencyProperty));
        Assert.Equal("2", Property(await client.ReadUntilAsync(e => IsMessage(e, "revoked")), "ReturnCode"));
    }

    [Fact]
    public async Task Emergency_upload_is_exempt_from_the_daily_allowance_and_refused_to_a_user_not_allowed()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        Task<HttpResponseMessage> UploadAsync(string udn, string messageId, bool emergency)
        {
            var file = new byte[DailyUploadBytes * 3 / 4];
            var fields = emergency ? new[] { ("priority", "emergency") } : [];
            var request = SpecMultipart.Request(Server.HttpPort, SpecMultipart.Body(udn, messageId, "attatchment", fields, ("photo.jpg", file)));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{udn}:{Password}")));
            return http.SendAsync(request);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(Unit, "unit-upload", emergency: true)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(Dispatcher, "routine-upload-1", emergency: false)).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await UploadAsync(Dispatcher, "routine-upload-2", emergency: false)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(Dispatcher, "alarm-upload", emergency: true)).StatusCode);

        const string recipient = "1816";
        await Server.ProvisionUserAsync(recipient, Password);
        await using var terminal = await LoginAsync(recipient);
        await using var sender = await LoginAsync(Dispatcher);
        await sender.SendRawAsync(Mms("alarm-upload", recipient,
            extra: EmergencyProperty + "<property><name>attach</name><value type=\"string\">photo.jpg</value></property>"));
        var received = await NextMmsAsync(terminal);
        Assert.Equal(("alarm-upload", "photo.jpg"), (received.Attribute("id"), Property(received, "attach")));
    }

    [Fact]
    public async Task Emergency_submission_is_flagged_on_the_event_feed()
    {
        const string recipient = "1817";
        await Server.ProvisionUserAsync(recipient, Password);
        await using var feed = await EventFeed.SubscribeAsync(fixture.MqttPort, $"mmss/+/messages/{Dispatcher}/#");
        await using var sender = await LoginAsync(Dispatcher);
        await sender.SendRawAsync(Mms("feed-routine", recipient));
        await sender.SendRawAsync(Mms("feed-alarm", recipient, extra: EmergencyProperty));

        var alarm = await feed.WaitForAsync(r => r.Topic.EndsWith("/feed-alarm/submitted"), "submitted for feed-alarm");
        Assert.True(alarm.Json.GetProperty("emergency").GetBoolean());
        var routine = await feed.WaitForAsync(r => r.Topic.EndsWith("/feed-routine/submitted"), "submitted for feed-routine");
        Assert.False(routine.Json.TryGetProperty("emergency", out _));
    }
}
