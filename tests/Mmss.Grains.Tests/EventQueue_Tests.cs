using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Configuration;
using Mmss.Silo.Events;

namespace Mmss.Grains.Tests;

/// <summary>The MQTT event queue (issue #14): raising an event never waits, a full queue drops its oldest and counts it.</summary>
public class EventQueue_Tests
{
    private static MmssEvent Submitted(int i) =>
        new(MmssEventKind.Submitted, DateTimeOffset.UtcNow) { Sender = "1101", MessageId = "m" + i, Recipient = "1102" };

    [Fact]
    public async Task A_full_queue_drops_the_oldest_counts_it_and_never_blocks()
    {
        var log = new CountingLogger();
        var queue = new EventQueue(3, log);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 10_000; i++) queue.Enqueue(Submitted(i));
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"enqueueing took {watch.Elapsed}");
        Assert.Equal(9_997, queue.Dropped);
        Assert.Equal(3, queue.Count);
        var kept = new List<string>();
        while (queue.Reader.TryRead(out var item)) kept.Add(item.MessageId!);
        Assert.Equal(["m9997", "m9998", "m9999"], kept);
        // One log line for the burst, not one per dropped event.
        Assert.Equal(1, log.Warnings);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Raising_events_while_the_broker_is_unreachable_never_waits()
    {
        // A port nothing listens on: the publisher's loop retries its first event while the rest queue and drop.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var settings = new MqttSettings("127.0.0.1", port, "u", "p", "example", 5, EmbeddedBroker: false, "0.0.0.0");
        var queue = new EventQueue(settings.QueueCapacity, NullLogger.Instance);
        using var publisher = new MqttEventPublisher(settings, queue, TimeProvider.System, NullLogger<MqttEventPublisher>.Instance);
        await publisher.StartAsync(CancellationToken.None);
        try
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < 1_000; i++) publisher.Answered("1101", "m" + i, "1102", "2", "1");
            watch.Stop();
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"raising took {watch.Elapsed}");
            Assert.True(queue.Dropped >= 1_000 - 5 - 1, $"dropped {queue.Dropped}");
            Assert.Equal(0, publisher.Published);
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await publisher.StopAsync(stop.Token);
        }
    }

    [Fact]
    public void Topics_and_documents_follow_the_documented_layout()
    {
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.FromHours(2));
        var presence = new MmssEvent(MmssEventKind.Presence, at) { Udn = "1101", Online = true, GatewayId = "gw", SessionId = "s1", Address = "10.0.0.7", Sessions = 1 };
        Assert.Equal("mmss/d/presence/1101", presence.Topic("d"));
        Assert.True(presence.Retain);
        var json = JsonDocument.Parse(presence.Json("d")).RootElement;
        Assert.Equal(("presence", "2026-01-02T01:04:05.678Z", "d", "online"),
            (json.GetProperty("type").GetString(), json.GetProperty("timestamp").GetString(), json.GetProperty("domain").GetString(), json.GetProperty("status").GetString()));

        // An id with topic syntax in it stays one level and no wildcard.
        var expired = new MmssEvent(MmssEventKind.Expired, at) { Sender = "1101", MessageId = "a/b+#%", Recipient = "1102", MsgType = "3", ReturnCode = "5" };
        Assert.Equal("mmss/d/messages/1101/a%2Fb%2B%23%25/expired", expired.Topic("d"));
        Assert.False(expired.Retain);
        Assert.Equal("a/b+#%", JsonDocument.Parse(expired.Json("d")).RootElement.GetProperty("id").GetString());

        var result = new MmssEvent(MmssEventKind.GroupResult, at) { Sender = "1101", MessageId = "g1", Recipient = "9001", MsgType = "3", ReturnCode = "255", Pending = 2 };
        Assert.Equal("mmss/d/groups/9001/g1/result", result.Topic("d"));
        Assert.Equal("FAIL", JsonDocument.Parse(result.Json("d")).RootElement.GetProperty("outcome").GetString());
    }

    [Theory]
    [InlineData("broker:1884", "broker", 1884)]
    [InlineData("10.0.0.5", "10.0.0.5", 1883)]
    [InlineData("[::1]:2000", "::1", 2000)]
    public void The_server_setting_is_host_and_port(string server, string host, int port)
    {
        Assert.True(MqttSettings.TryParseServer(server, out var h, out var p));
        Assert.Equal((host, port), (h, p));
    }

    [Fact]
    public void Cluster_silos_need_an_external_broker_and_the_error_names_the_setting()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Mmss:Mqtt:Enabled"] = "true" }).Build();
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => MqttSettings.Read(configuration, embeddedMode: false));
        Assert.Contains("Mmss:Mqtt:Server", error.Message);
        var embedded = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => MqttSettings.Read(configuration, embeddedMode: true));
        Assert.Contains("Mmss:Mqtt:Username", embedded.Message);
        Assert.Null(MqttSettings.Read(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), embeddedMode: true));
    }

    private sealed class CountingLogger : ILogger
    {
        public int Warnings;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning) Interlocked.Increment(ref Warnings);
        }
    }
}
