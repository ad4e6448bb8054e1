using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Mmss.Gateway.S2s;

public static class S2sServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="S2sOptions"/> (section "Mmss:S2s", validated at start), the dialback keys, the shared
    /// <see cref="S2sServices"/> and <see cref="S2sOutbound"/>. Expects <see cref="Mmss.GrainInterfaces.Peers.PeerTable"/>,
    /// ServedDomains, ServerCertificateHolder and TimeProvider registered by the host, and an <see cref="IS2sInboundHandler"/>
    /// when the listener is enabled.
    /// </summary>
    public static IServiceCollection AddMmssS2s(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<S2sOptions>().Bind(configuration.GetSection(S2sOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<DialbackKeys>();
        services.TryAddSingleton<S2sServices>();
        services.TryAddSingleton<S2sOutbound>();
        services.AddHostedService<S2sStartup>();
        return services;
    }

    /// <summary>Adds the server-to-server listener when Mmss:S2s:Enabled (called where Kestrel's listeners are configured).</summary>
    public static void ConfigureMmssS2sListener(this KestrelServerOptions kestrel, IConfiguration configuration)
    {
        var options = configuration.GetSection(S2sOptions.Section).Get<S2sOptions>() ?? new S2sOptions();
        if (!options.Enabled) return;
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
            throw new OptionsValidationException(nameof(S2sOptions), typeof(S2sOptions), results.Select(r => r.ErrorMessage ?? "invalid"));
        kestrel.Listen(IPAddress.Parse(options.BindAddress), options.Port, listen => listen.Run(connection =>
        {
            // Resolved per connection from the built host: Kestrel is configured before the container exists.
            var services = listen.ApplicationServices;
            return new S2sInboundConnection(connection, services.GetRequiredService<S2sServices>(),
                services.GetRequiredService<IS2sInboundHandler>()).RunAsync();
        }));
    }
}

/// <summary>At start: says where the listener is, and warns when dialback keys come from a per-process random secret.</summary>
internal sealed class S2sStartup(IOptions<S2sOptions> options, IServiceProvider services, ILogger<S2sStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.Enabled) return Task.CompletedTask;
        services.GetRequiredService<DialbackKeys>();
        logger.LogInformation("Server-to-server listener on {Address}:{Port}", o.BindAddress, o.Port);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
