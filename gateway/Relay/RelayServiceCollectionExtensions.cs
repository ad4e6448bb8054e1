using Microsoft.Extensions.Options;
using Mmss.Gateway.S2s;
using Mmss.Silo.Relay;

namespace Mmss.Gateway.Relay;

public static class RelayServiceCollectionExtensions
{
    /// <summary>
    /// The relay between domains (seed 6.5): the peer table (needed by routing even without peers), the
    /// server-to-server links, and, when links are on and peers configured, this gateway's offer to carry them.
    /// </summary>
    public static IServiceCollection AddMmssRelay(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMmssPeers(configuration);
        services.AddMmssS2s(configuration);
        services.AddSingleton<IS2sInboundHandler, RelayInbound>();
        services.AddSingleton<AttachmentHandover>();
        services.AddSingleton<PeerLinkResilience>();
        services.AddSingleton<PeerLinkCarrier>();
        services.AddHostedService(provider => provider.GetRequiredService<PeerLinkCarrier>());
        return services;
    }
}
