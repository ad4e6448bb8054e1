using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;

namespace Mmss.Faults;

/// <summary>
/// A monitoring application on the event feed (README "Events (MQTT)"): subscribed with QoS 1 to every topic of the
/// domain, it connects again within a tenth of a second whenever the broker is gone, so that it is back before the
/// silos' publishers (which back off) and whatever they publish after an outage reaches it. Every event is kept with
/// when it was raised (its <c>timestamp</c>) and when it arrived.
/// </summary>
public sealed class EventSubscriber : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly List<Event> _received = [];
    private readonly List<DateTime> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly int _port;
    private readonly string _filter;
    private Task _keeping = Task.CompletedTask;

    private EventSubscriber(int port, string filter)
    {
        _port = port;
        _filter = filter;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var arrived = DateTime.UtcNow;
            try
            {
                using var json = JsonDocument.Parse(e.ApplicationMessage.Payload.ToArray());
                var root = json.RootElement;
                var raised = DateTime.Parse(Text(root, "timestamp") ?? "", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
                var item = new Event(e.ApplicationMessage.Topic, Text(root, "type") ?? "", Text(root, "id"), Text(root, "recipient") ?? Text(root, "gdn") ?? Text(root, "group"),
                    raised, arrived, e.ApplicationMessage.Retain);
                lock (_received) _received.Add(item);
            }
            catch (Exception ex) when (ex is JsonException or FormatException)
            {
                // Not one of the server's documents (nothing else publishes here).
            }
            return Task.CompletedTask;
        };
    }

    /// <summary>Each time it (re)connected and subscribed.</summary>
    public IReadOnlyList<DateTime> Connections
    {
        get
        {
            lock (_connections) return [.. _connections];
        }
    }

    public IReadOnlyList<Event> Received
    {
        get
        {
            lock (_received) return [.. _received];
        }
    }

    /// <summary>Returns once subscribed.</summary>
    public static async Task<EventSubscriber> StartAsync(int port, string filter)
    {
        var subscriber = new EventSubscriber(port, filter);
        await subscriber.ConnectAsync(CancellationToken.None);
        subscriber._keeping = subscriber.KeepConnectedAsync();
        return subscriber;
    }

    private async Task KeepConnectedAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (!_client.IsConnected) await ConnectAsync(_stop.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The broker is down: try again shortly.
            }
            try
            {
                await Task.Delay(100, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _port).WithCleanSession()
            .WithTimeout(TimeSpan.FromSeconds(2)).Build();
        await _client.ConnectAsync(options, cancellationToken);
        await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(_filter, MqttQualityOfServiceLevel.AtLeastOnce).Build(),
            cancellationToken);
        lock (_connections) _connections.Add(DateTime.UtcNow);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.ToString() : null;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _keeping;
        try
        {
            if (_client.IsConnected) await _client.DisconnectAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The broker may be gone already.
        }
        _client.Dispose();
        _stop.Dispose();
    }

    /// <summary>One event as received: its document's <c>type</c>, message id and recipient (or group), raised and arrival times.</summary>
    public sealed record Event(string Topic, string Type, string? MessageId, string? Recipient, DateTime Raised, DateTime Arrived, bool Retained);
}
