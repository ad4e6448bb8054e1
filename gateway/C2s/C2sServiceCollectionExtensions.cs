using Mmss.Gateway.C2s.Handlers;

namespace Mmss.Gateway.C2s;

public static class C2sServiceCollectionExtensions
{
    public static IServiceCollection AddC2s(this IServiceCollection services)
    {
        services.AddSingleton<Hosting.GatewayReadiness>();
        services.AddSingleton<CredentialStore>();
        services.AddSingleton<AuthThrottle>();
        services.AddSingleton<ConnectionTracker>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<IqRouter>();
        services.AddSingleton<C2sServices>();
        services.AddSingleton<MessageRouter>();
        services.AddSingleton<PresenceHandler>();
        services.AddSingleton<Messaging.GatewayIdentity>();
        services.AddSingleton<Messaging.SessionObserver>();
        services.AddSingleton<Messaging.GatewayRegistration>();
        services.AddSingleton<Messaging.SessionResync>();
        services.AddHostedService(sp => sp.GetRequiredService<Messaging.GatewayRegistration>());
        services.AddSingleton<IIqHandler, BindHandler>();
        services.AddSingleton<IIqHandler, SessionHandler>();
        services.AddSingleton<IIqHandler, PingHandler>();
        services.AddSingleton<IIqHandler, RosterHandler>();
        services.AddSingleton<IIqHandler, DiscoInfoHandler>();
        services.AddSingleton<IIqHandler, LegacyAuthHandler>();
        services.AddSingleton<IIqHandler, RegisterHandler>();
        services.AddHostedService<KeepaliveSweeper>();
        services.AddHostedService<C2sShutdown>();
        // After the silo or the cluster client (registered before this): no login is accepted before grains can answer it.
        services.AddHostedService<C2sListener>();
        return services;
    }
}
