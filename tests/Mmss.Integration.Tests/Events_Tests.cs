using System.Buffers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Mmss.Integration.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>The embedded server with its in-process MQTT broker (issue #14): one server for these tests.</summary>
public sealed class MqttServerFixture : IAsyncLifetime
{
    public const string User = "recorder", Password = "s3cret-feed";

    public int MqttPort { get; } = FreePorts.Take(1)[0];

    public EmbeddedServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = new EmbeddedServer(new Dictionary<string, string>
        {
            ["Mmss__Mqtt__Enabled"] = "true",
            ["Mmss__Mqtt__BindAddress"] = "127.0.0.1",
            ["Mmss__Mqtt__Port"] = MqttPort.ToString(),
            ["Mmss__Mqtt__Username"] = User,
            ["Mmss__Mqtt__Password"] = Password,
            ["Mmss__C2s__AllowPlaintext"] = "true",
        });
        await Server.StartAsync();
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>A subscriber to mmss/# on the embedded broker, keeping every message received.</summary>
public sealed class EventFeed : IAsyncDisposable
{
    public sealed record Received(string Topic, JsonElement Json, bool Retained);

    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly List<Received> _received = [];
    private readonly SemaphoreSlim _arrived = new(0);

    /// <param name="credentials">false for a broker that lets anonymous clients in (the tests' Mosquitto)</param>
    public static async Task<EventFeed> SubscribeAsync(int port, string filter = "mmss/#", bool credentials = true)
    {
        var feed = new EventFeed();
        feed._client.ApplicationMessageReceivedAsync += e =>
        {
            var json = JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray()).RootElement.Clone();
            lock (feed._received) feed._received.Add(new Received(e.ApplicationMessage.Topic, json, e.ApplicationMessage.Retain));
            feed._arrived.Release();
            return Task.CompletedTask;
        };
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithCleanSession();
        if (credentials) options.WithCredentials(MqttServerFixture.User, MqttServerFixture.Password);
        await feed._client.ConnectAsync(options.Build());
        await feed._client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        return feed;
    }

    public Received[] All
    {
        get
        {
            lock (_received) return _received.ToArray();
        }
    }

    /// <summary>The first message received matching <paramref name="match"/>, waiting for it up to 15 s.</summary>
    public async Task<Received> WaitForAsync(Func<Received, bool> match, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            if (All.FirstOrDefault(match) is { } found) return found;
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
                throw new TimeoutException($"no event {what}; received:\n" + string.Join('\n', All.Select(r => r.Topic + " " + r.Json)));
            await _arrived.WaitAsync(remaining < TimeSpan.FromMilliseconds(200) ? remaining : TimeSpan.FromMilliseconds(200));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected) await _client.DisconnectAsync();
        _client.Dispose();
    }
}

public class Events_Tests(MqttServerFixture fixture) : IClassFixture<MqttServerFixture>
{
    private const string Domain = EmbeddedServer.Domain;
    private EmbeddedServer Server => fixture.Server;

    private static string S(EventFeed.Received r, string name) =>
        r.Json.GetProperty(name) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : r.Json.GetProperty(name).ToString();

    [Fact]
    public async Task Presence_then_submitted_delivered_answered_are_published_in_order_with_their_fields()
    {
        var (mo, mt) = await Server.ProvisionPairAsync("720");
        await using var feed = await EventFeed.SubscribeAsync(fixture.MqttPort);
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using var recipient = await Server.LoginAsync(mt, "pw");

        foreach (var udn in new[] { mo, mt })
        {
            var presence = await feed.WaitForAsync(r => r.Topic == $"mmss/{Domain}/presence/{udn}", "presence of " + udn);
            Assert.Equal(("presence", Domain, udn, "online", "127.0.0.1"),
                (S(presence, "type"), S(presence, "domain"), S(presence, "udn"), S(presence, "status"), S(presence, "address")));
            Assert.False(string.IsNullOrEmpty(S(presence, "gatewayId")));
            Assert.Equal(1, presence.Json.GetProperty("sessions").GetInt32());
            var timestamp = DateTimeOffset.Parse(S(presence, "timestamp"), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(TimeSpan.Zero, timestamp.Offset);
            Assert.True((DateTimeOffset.UtcNow - timestamp).Duration() < TimeSpan.FromMinutes(1));
            Assert.EndsWith("Z", S(presence, "timestamp"));
        }
        // Retained: a subscriber arriving later learns both users are online at once.
        await using (var late = await EventFeed.SubscribeAsync(fixture.MqttPort, $"mmss/{Domain}/presence/+"))
        {
            foreach (var udn in new[] { mo, mt })
            {
                var retained = await late.WaitForAsync(r => r.Topic == $"mmss/{Domain}/presence/{udn}", "retained presence of " + udn);
                Assert.True(retained.Retained);
                Assert.Equal("online", S(retained, "status"));
            }
        }

        const string id = "evt-1407488357552";
        await sender.SendRawAsync(Mms(id, mt));
        await recipient.ReadUntilAsync(e => IsMessage(e, id));
        await recipient.SendRawAsync(Ack(id, "1"));
        await sender.ReadUntilAsync(e => IsMessage(e, id));

        var prefix = $"mmss/{Domain}/messages/{mo}/{id}/";
        var answered = await feed.WaitForAsync(r => r.Topic == prefix + "answered", "answered");
        var lifecycle = feed.All.Where(r => r.Topic.StartsWith(prefix, StringComparison.Ordinal)).ToArray();
        Assert.Equal(["submitted", "delivered", "answered"], lifecycle.Select(r => r.Topic[prefix.Length..]));
        foreach (var e in lifecycle)
        {
            Assert.Equal((e.Topic[prefix.Length..], Domain, mo, id, mt),
                (S(e, "type"), S(e, "domain"), S(e, "sender"), S(e, "id"), S(e, "recipient")));
            Assert.False(e.Retained);
            // Never the message's content.
            Assert.DoesNotContain("greeting", e.Json.ToString());
        }
        Assert.Equal(1, lifecycle[1].Json.GetProperty("sessions").GetInt32());
        Assert.Equal(("ACK", "2", "1"), (S(answered, "outcome"), S(answered, "msgType"), S(answered, "returnCode")));
        Assert.DoesNotContain(feed.All, r => r.Topic == prefix + "stored");
    }

    [Fact]
    public async Task A_message_for_an_offline_recipient_is_published_as_stored()
    {
        var (mo, mt) = await Server.ProvisionPairAsync("721");
        await using var feed = await EventFeed.SubscribeAsync(fixture.MqttPort);
        await using var sender = await Server.LoginAsync(mo, "pw");
        await sender.SendRawAsync(Mms("evt-offline", mt));
        var prefix = $"mmss/{Domain}/messages/{mo}/evt-offline/";
        var stored = await feed.WaitForAsync(r => r.Topic == prefix + "stored", "stored");
        Assert.Equal(mt, S(stored, "recipient"));

        await using var recipient = await Server.LoginAsync(mt, "pw");
        await recipient.ReadUntilAsync(e => IsMessage(e, "evt-offline"));
        await recipient.SendRawAsync(Fail("evt-offline", "4"));
        var answered = await feed.WaitForAsync(r => r.Topic == prefix + "answered", "answered");
        Assert.Equal(("FAIL", "3", "4"), (S(answered, "outcome"), S(answered, "msgType"), S(answered, "returnCode")));
        Assert.Equal(["submitted", "stored", "delivered", "answered"],
            feed.All.Where(r => r.Topic.StartsWith(prefix, StringComparison.Ordinal)).Select(r => r.Topic[prefix.Length..]));
    }

    [Fact]
    public async Task A_group_message_publishes_its_result_with_member_counts()
    {
        string[] members = ["7231", "7232", "7233"];
        foreach (var udn in members) await Server.ProvisionUserAsync(udn, "pw");
        using (var http = Server.AdminClient())
            (await http.PutAsJsonAsync("admin/groups/9723", new { name = "Events", members })).EnsureSuccessStatusCode();
        await using var feed = await EventFeed.SubscribeAsync(fixture.MqttPort);
        await using var a = await Server.LoginAsync(members[0], "pw");
        await using var b = await Server.LoginAsync(members[1], "pw");
        await using var c = await Server.LoginAsync(members[2], "pw");

        await a.SendRawAsync(Mms("evt-grp", "9723"));
        await b.ReadUntilAsync(e => IsMessage(e, "evt-grp"));
        await c.ReadUntilAsync(e => IsMessage(e, "evt-grp"));
        await b.SendRawAsync(Ack("evt-grp"));
        await c.SendRawAsync(Fail("evt-grp", "4"));
        await a.ReadUntilAsync(e => IsMessage(e, "evt-grp"));

        var result = await feed.WaitForAsync(r => r.Topic == $"mmss/{Domain}/groups/9723/evt-grp/result", "group result");
        Assert.Equal(("groupResult", members[0], "evt-grp", "9723", "ACK", "2", "1"),
            (S(result, "type"), S(result, "sender"), S(result, "id"), S(result, "gdn"), S(result, "outcome"), S(result, "msgType"), S(result, "returnCode")));
        Assert.Equal((1, 1, 0), (result.Json.GetProperty("delivered").GetInt32(), result.Json.GetProperty("failed").GetInt32(),
            result.Json.GetProperty("pending").GetInt32()));

        var prefix = $"mmss/{Domain}/messages/{members[0]}/evt-grp/";
        var submitted = await feed.WaitForAsync(r => r.Topic == prefix + "submitted", "group submitted");
        Assert.Equal("9723", S(submitted, "group"));
        // One delivered and one answered event per member copy, raised by that member's grain.
        var answeredBy = feed.All.Where(r => r.Topic == prefix + "answered").Select(r => S(r, "recipient")).Order().ToArray();
        Assert.Equal([members[1], members[2]], answeredBy);
        Assert.Equal([members[1], members[2]],
            feed.All.Where(r => r.Topic == prefix + "delivered").Select(r => S(r, "recipient")).Order().ToArray());
    }

    [Fact]
    public async Task The_broker_refuses_a_client_with_wrong_credentials()
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", fixture.MqttPort)
            .WithCredentials(MqttServerFixture.User, "wrong").WithTimeout(TimeSpan.FromSeconds(5)).Build();
        string outcome;
        try
        {
            outcome = (await client.ConnectAsync(options)).ResultCode.ToString();
        }
        catch (MQTTnet.Adapter.MqttConnectingFailedException e)
        {
            // The CONNACK's reason, as MQTTnet reports it.
            outcome = e.Message;
        }
        Assert.Contains(nameof(MqttClientConnectResultCode.BadUserNameOrPassword), outcome);
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task The_embedded_broker_without_credentials_stops_the_start_naming_the_setting()
    {
        await using var server = new EmbeddedServer(new Dictionary<string, string>
        {
            ["Mmss__Mqtt__Enabled"] = "true",
            ["Mmss__Mqtt__Port"] = FreePorts.Take(1)[0].ToString(),
            ["Mmss__Mqtt__Username"] = "u",
        });
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(server.StartAsync);
        Assert.Contains("Mmss:Mqtt:Password", failure.Message);
    }
}
