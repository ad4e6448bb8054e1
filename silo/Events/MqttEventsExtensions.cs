using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mmss.Grains.Events;

namespace Mmss.Silo.Events;

public static class MqttEventsExtensions
{
    /// <summary>
    /// Mmss:Mqtt: with Enabled, the grains' events go to an MQTT broker — Mmss:Mqtt:Server when set, else (embedded
    /// mode only) a broker in this process. Disabled, the grains keep the no-op <see cref="NullMmssEvents"/>.
    /// </summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">a setting is invalid; the message names it</exception>
    public static ISiloBuilder AddMmssEvents(this ISiloBuilder silo, IConfiguration configuration, bool embeddedMode)
    {
        if (MqttSettings.Read(configuration, embeddedMode) is not { } settings) return silo;
        var services = silo.Services;
        services.AddSingleton(settings);
        // The broker first, so that the publisher's first connection usually finds it.
        if (settings.EmbeddedBroker) services.AddHostedService<EmbeddedMqttBroker>();
        services.AddSingleton(sp => new EventQueue(settings.QueueCapacity,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Mmss.Events"), sp.GetService<TimeProvider>()));
        services.AddSingleton<MqttEventPublisher>();
        services.AddSingleton<IMmssEvents>(sp => sp.GetRequiredService<MqttEventPublisher>());
        services.AddHostedService(sp => sp.GetRequiredService<MqttEventPublisher>());
        return silo;
    }
}
