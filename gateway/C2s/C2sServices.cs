using Microsoft.Extensions.Options;
using Mmss.Gateway.C2s.Handlers;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Hosting;

namespace Mmss.Gateway.C2s;

/// <summary>What every client connection shares: options, domains, TLS, credentials, throttling, sessions, handlers.</summary>
public sealed class C2sServices(
    IOptions<C2sOptions> options,
    ServedDomains domains,
    ServerCertificateHolder certificate,
    CredentialStore credentials,
    AuthThrottle throttle,
    ConnectionTracker connections,
    SessionRegistry sessions,
    IqRouter iqRouter,
    MessageRouter messages,
    PresenceHandler presence,
    IGrainFactory grains,
    Messaging.GatewayIdentity gateway,
    Messaging.GatewayRegistration registration,
    Hosting.GatewayReadiness readiness,
    TimeProvider time,
    Grains.Diagnostics.LogScopes logScopes,
    ILoggerFactory loggerFactory)
{
    public C2sOptions Options { get; } = options.Value;
    public ServedDomains Domains { get; } = domains;
    public ServerCertificateHolder Certificate { get; } = certificate;
    public CredentialStore Credentials { get; } = credentials;
    public AuthThrottle Throttle { get; } = throttle;
    public ConnectionTracker Connections { get; } = connections;
    public SessionRegistry Sessions { get; } = sessions;
    public IqRouter IqRouter { get; } = iqRouter;
    public MessageRouter Messages { get; } = messages;
    public PresenceHandler Presence { get; } = presence;
    public IGrainFactory Grains { get; } = grains;
    public Messaging.GatewayIdentity Gateway { get; } = gateway;
    public Messaging.GatewayRegistration Registration { get; } = registration;
    public Hosting.GatewayReadiness Readiness { get; } = readiness;
    public TimeProvider Time { get; } = time;
    public Grains.Diagnostics.LogScopes LogScopes { get; } = logScopes;
    public ILogger Logger { get; } = loggerFactory.CreateLogger("Mmss.C2s");
}
