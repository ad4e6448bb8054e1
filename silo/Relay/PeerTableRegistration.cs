using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces.Peers;
using Mmss.Grains.Relay;

namespace Mmss.Silo.Relay;

public static class PeerTableRegistration
{
    public const string Section = "Mmss:Peers";

    /// <summary>
    /// The peer table: <c>Mmss:Peers</c> (every process of a domain needs the same one: gateways route by it, grains
    /// relay answers by it; a bad entry stops the process with a message naming it) plus the peer directory's, kept
    /// current by <see cref="PeerTableRefresher"/>; and the relay's options.
    /// </summary>
    public static IServiceCollection AddMmssPeers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RelayOptions>().BindConfiguration(RelayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(_ =>
        {
            var configured = configuration.GetSection(Section).Get<List<PeerOptions>>() ?? [];
            var ownDomains = configuration.GetSection("Mmss:Domains").Get<List<string>>() ?? [];
            var table = PeerTable.From(configured, ownDomains, out var errors);
            if (errors.Count > 0) throw new OptionsValidationException(Section, typeof(PeerOptions), errors);
            return table;
        });
        // Once per process, whether it hosts a silo, a gateway or both (embedded mode).
        services.AddHostedService<PeerTableRefresher>();
        return services;
    }
}
