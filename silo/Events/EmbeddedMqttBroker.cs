using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Mmss.Silo.Events;

/// <summary>
/// The embedded mode's MQTT broker: an in-process MQTTnet server on Mmss:Mqtt:BindAddress:Port that lets in only
/// clients presenting Mmss:Mqtt:Username/Password (the event publisher connects to it on loopback with them).
/// </summary>
public sealed class EmbeddedMqttBroker(MqttSettings settings, ILogger<EmbeddedMqttBroker> logger) : IHostedService, IDisposable
{
    private MqttServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Parse(settings.BindAddress))
            .WithDefaultEndpointPort(settings.Port)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(options);
        _server.ValidatingConnectionAsync += args =>
        {
            if (!Matches(args.UserName, settings.Username) || !Matches(args.Password, settings.Password))
            {
                logger.LogWarning("MQTT client {ClientId} from {Endpoint} refused: bad user name or password", args.ClientId, args.RemoteEndPoint);
                args.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
            }
            return Task.CompletedTask;
        };
        await _server.StartAsync();
        logger.LogInformation("MQTT broker listening on {Address}:{Port}", settings.BindAddress, settings.Port);
    }

    private static bool Matches(string? given, string? expected) =>
        given is not null && expected is not null &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.StopAsync();
    }

    public void Dispose() => _server?.Dispose();
}
