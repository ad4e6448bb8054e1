using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mmss.Grains.Events;
using MQTTnet;
using MQTTnet.Protocol;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Mmss.Silo.Events;

/// <summary>
/// The grains' <see cref="IMmssEvents"/> when Mmss:Mqtt is enabled: each event is queued (<see cref="EventQueue"/>,
/// never waiting), and a background loop publishes it as JSON with QoS 1 (presence retained). While the broker is down
/// the loop reconnects and retries the same event with backoff behind a circuit breaker; the grains never notice.
/// </summary>
public sealed class MqttEventPublisher : BackgroundService, IMmssEvents
{
    private readonly MqttSettings _settings;
    private readonly EventQueue _queue;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;
    private readonly BrokerCertificateValidation _brokerCertificate;
    private readonly string _clientId = $"mmss-{Guid.NewGuid():N}-{Environment.MachineName}";
    private IMqttClient? _client;
    private long _published;

    public MqttEventPublisher(MqttSettings settings, EventQueue queue, TimeProvider time, ILogger<MqttEventPublisher> logger)
    {
        _settings = settings;
        _queue = queue;
        _time = time;
        _logger = logger;
        _brokerCertificate = new BrokerCertificateValidation(settings.CaCertificatePath);
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(10),
                OnRetry = args =>
                {
                    if (args.AttemptNumber == 0 || args.AttemptNumber % 30 == 0)
                        _logger.LogWarning("MQTT broker {Host}:{Port} unreachable (attempt {Attempt}, {Queued} events queued, {Dropped} dropped): {Reason}",
                            _settings.Host, _settings.Port, args.AttemptNumber + 1, _queue.Count, _queue.Dropped, args.Outcome.Exception?.Message);
                    return ValueTask.CompletedTask;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
                FailureRatio = 0.5,
                MinimumThroughput = 3,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = TimeSpan.FromSeconds(5),
                OnOpened = _ =>
                {
                    _logger.LogWarning("MQTT circuit open: publishing paused while the broker {Host}:{Port} is down", _settings.Host, _settings.Port);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    _logger.LogInformation("MQTT circuit closed: publishing to {Host}:{Port} again", _settings.Host, _settings.Port);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public EventQueue Queue => _queue;

    /// <summary>Events the broker accepted since the start.</summary>
    public long Published => Interlocked.Read(ref _published);

    public void Presence(string udn, bool online, string gatewayId, string? sessionId, string? address, int liveSessions) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.Presence, _time.GetUtcNow())
        {
            Udn = udn, Online = online, GatewayId = gatewayId, SessionId = sessionId, Address = address, Sessions = liveSessions,
        });

    public void Submitted(string sender, string messageId, string recipient, bool group, bool emergency = false) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.Submitted, _time.GetUtcNow())
            { Sender = sender, MessageId = messageId, Recipient = recipient, ToGroup = group, Emergency = emergency });

    public void Stored(string sender, string messageId, string recipient) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.Stored, _time.GetUtcNow()) { Sender = sender, MessageId = messageId, Recipient = recipient });

    public void Delivered(string sender, string messageId, string recipient, int sessions) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.Delivered, _time.GetUtcNow()) { Sender = sender, MessageId = messageId, Recipient = recipient, Sessions = sessions });

    public void Answered(string sender, string messageId, string recipient, string msgType, string? returnCode) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.Answered, _time.GetUtcNow())
        {
            Sender = sender, MessageId = messageId, Recipient = recipient, MsgType = msgType, ReturnCode = returnCode,
        });

    public void Expired(string sender, string messageId, string recipient) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.Expired, _time.GetUtcNow())
        {
            Sender = sender, MessageId = messageId, Recipient = recipient, MsgType = "3", ReturnCode = "5",
        });

    public void GroupResult(string sender, string messageId, string gdn, string msgType, string returnCode,
        int delivered, int failed, int pending, bool windowClosed) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.GroupResult, _time.GetUtcNow())
        {
            Sender = sender, MessageId = messageId, Recipient = gdn, MsgType = msgType, ReturnCode = returnCode,
            Delivered = delivered, Failed = failed, Pending = pending, WindowClosed = windowClosed,
        });

    public void Relayed(string sender, string messageId, string recipient, string peer, bool outbound) =>
        _queue.Enqueue(new MmssEvent(outbound ? MmssEventKind.RelayedOut : MmssEventKind.RelayedIn, _time.GetUtcNow())
        {
            Sender = sender, MessageId = messageId, Recipient = recipient, Peer = peer,
        });

    public void AttachmentUploaded(string sender, string messageId, string file, long bytes, string address) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.AttachmentUploaded, _time.GetUtcNow())
        {
            Sender = sender, MessageId = messageId, File = file, Bytes = bytes, Address = address,
        });

    public void AttachmentDownloaded(string sender, string messageId, string file, long bytes, string address) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.AttachmentDownloaded, _time.GetUtcNow())
        {
            Sender = sender, MessageId = messageId, File = file, Bytes = bytes, Address = address,
        });

    public void AuthenticationFailed(string? udn, string address, string mechanism, string condition) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.AuthenticationFailed, _time.GetUtcNow())
        {
            Udn = udn, Address = address, Mechanism = mechanism, Condition = condition,
        });

    public void AuthenticationThrottled(string? udn, string address) =>
        _queue.Enqueue(new MmssEvent(MmssEventKind.AuthenticationThrottled, _time.GetUtcNow()) { Udn = udn, Address = address });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _logger.LogInformation("Publishing events to MQTT {Host}:{Port} under mmss/{Domain}/ (queue of {Capacity})",
            _settings.Host, _settings.Port, _settings.Domain, _queue.Capacity);
        try
        {
            await foreach (var item in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                var message = Message(item);
                await _pipeline.ExecuteAsync(async ct => await PublishAsync(message, ct), stoppingToken);
                CountPublished();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await DrainAsync();
        }
        finally
        {
            await DisconnectAsync();
        }
    }

    /// <summary>How long a graceful stop spends publishing what is still queued.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A graceful stop publishes what is still queued — above all the offline presence of the sessions the stop just
    /// closed, so that retained presence does not keep saying "online" — once each, without retrying, for a few seconds.
    /// </summary>
    private async Task DrainAsync()
    {
        if (_queue.Count == 0) return;
        using var timeout = new CancellationTokenSource(DrainTimeout);
        try
        {
            while (_queue.Reader.TryRead(out var item))
            {
                await PublishAsync(Message(item), timeout.Token);
                CountPublished();
            }
        }
        catch (Exception e)
        {
            _logger.LogWarning("Stopping: {Count} MQTT events left unpublished ({Reason})", _queue.Count + 1, e.Message);
        }
    }

    private MqttApplicationMessage Message(MmssEvent item) => new MqttApplicationMessageBuilder()
        .WithTopic(item.Topic(_settings.Domain))
        .WithPayload(item.Json(_settings.Domain))
        .WithContentType("application/json")
        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
        .WithRetainFlag(item.Retain)
        .Build();

    private void CountPublished()
    {
        Interlocked.Increment(ref _published);
        Diagnostics.SiloMetrics.EventPublished();
    }

    private async Task PublishAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        var client = await ConnectedClientAsync(cancellationToken);
        var result = await client.PublishAsync(message, cancellationToken);
        if (result.ReasonCode is not (MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers))
            throw new InvalidOperationException($"the broker refused {message.Topic}: {result.ReasonCode} {result.ReasonString}");
    }

    private async Task<IMqttClient> ConnectedClientAsync(CancellationToken cancellationToken)
    {
        if (_client is { IsConnected: true } connected) return connected;
        _client?.Dispose();
        _client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer(_settings.Host, _settings.Port)
            .WithClientId(_clientId)
            .WithCleanSession()
            .WithTimeout(TimeSpan.FromSeconds(5))
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30));
        if (_settings.Username is not null) options.WithCredentials(_settings.Username, _settings.Password);
        if (_settings.UseTls) options.WithTlsOptions(tls => tls.UseTls().WithCertificateValidationHandler(_brokerCertificate.Validate));
        var result = await _client.ConnectAsync(options.Build(), cancellationToken);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
            throw new InvalidOperationException($"the broker refused the connection: {result.ResultCode} {result.ReasonString}");
        _logger.LogInformation("Connected to the MQTT broker {Host}:{Port}", _settings.Host, _settings.Port);
        return _client;
    }

    private async Task DisconnectAsync()
    {
        if (_client is null) return;
        try
        {
            if (_client.IsConnected) await _client.DisconnectAsync();
        }
        catch (Exception e)
        {
            _logger.LogDebug(e, "MQTT disconnect");
        }
        _client.Dispose();
        _client = null;
    }
}
