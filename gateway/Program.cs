using Microsoft.Extensions.Options;
using Mmss.Gateway.Attachments;
using Mmss.Gateway.C2s;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Diagnostics;
using Mmss.Gateway.DispatchConsole;
using Mmss.Gateway.Hosting;
using Mmss.Gateway.Provisioning;
using Mmss.Gateway.Relay;
using Mmss.Gateway.WebSocket;
using Mmss.Silo;
using Mmss.Silo.Diagnostics;

// Embedded mode (default): one process hosts the Orleans silo and the gateway; nothing else is needed.
// Cluster mode (Mmss:Cluster:ConnectionString set): this process is a stateless gateway, an Orleans client of the silos
// it finds in the PostgreSQL clustering table.
NativeHeap.LimitArenas();
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var dataDirectory = Path.GetFullPath(builder.Configuration.GetSection(MmssOptions.Section).Get<MmssOptions>()?.DataDir ?? "data");
Directory.CreateDirectory(dataDirectory);
var clusterMode = MmssClusterOptions.IsConfigured(builder.Configuration);
builder.Logging.AddMmssLogFormat(builder.Configuration);
var metrics = MetricsOptions.Read(builder.Configuration);
builder.Services.AddMmssMetrics(metrics, GatewayMetrics.MeterName);
builder.Services.AddSingleton<GatewayEvents>();

builder.Services.AddMmssOptions();
if (clusterMode)
{
    builder.UseOrleansClient(client => client
        .UseMmssClusterClient(builder.Configuration)
        // A silo that went away took grain activations with it; their sessions' grains come back elsewhere.
        .AddGatewayCountChangedHandler(services => (_, e) =>
        {
            if (e.NumberOfConnectedGateways < e.PreviousNumberOfConnectedGateways)
                services.GetRequiredService<Mmss.Gateway.Messaging.SiloDeathWatch>().SiloConnectionLost();
        }));
    builder.Services.AddSingleton<Mmss.Gateway.Messaging.SiloDeathWatch>();
    builder.Services.AddHostedService(services => services.GetRequiredService<Mmss.Gateway.Messaging.SiloDeathWatch>());
}
else builder.UseOrleans(silo => silo.UseMmssEmbedded(builder.Configuration, dataDirectory));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<ServedDomains>();
builder.Services.AddSingleton(services => new ServerCertificateHolder(ServerCertificate.Load(
    services.GetRequiredService<IOptions<TlsOptions>>().Value, dataDirectory, services.GetRequiredService<ServedDomains>(),
    services.GetRequiredService<ILoggerFactory>().CreateLogger("Mmss.Tls"))));
builder.Services.AddSingleton(services => AdminToken.Load(
    services.GetRequiredService<IOptions<AdminOptions>>().Value, dataDirectory,
    services.GetRequiredService<ILoggerFactory>().CreateLogger("Mmss.Admin")));
builder.Services.AddSingleton<Provisioner>();
builder.Services.AddSingleton<PeerProvisioner>();
builder.Services.AddSingleton<SeedFileApplier>();
builder.Services.AddHostedService<SeedFileHostedService>();
builder.Services.AddC2s();
builder.Services.AddAttachments(dataDirectory);
builder.Services.AddMmssRelay(builder.Configuration);
builder.Services.AddXmppWebSocket();
builder.WebHost.ConfigureKestrel((context, kestrel) =>
{
    kestrel.ConfigureMmssListeners(context.Configuration);
    if (metrics is { Enabled: true, Port: not 0 }) kestrel.Listen(System.Net.IPAddress.Parse(metrics.BindAddress), metrics.Port);
});
// A stop first turns readiness off, waits the drain delay and closes every stream: give it the time it needs.
builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(
    30 + builder.Configuration.GetValue("Mmss:Shutdown:DrainDelaySeconds", 0)));

var app = builder.Build();
// Resolved now so that a bad certificate or token file stops the start, not the first login.
app.Services.GetRequiredService<ServerCertificateHolder>();
app.Services.GetRequiredService<AdminToken>();
var domains = app.Services.GetRequiredService<ServedDomains>();
app.Logger.LogInformation("Serving domains {Domains} (default {Default}); {Mode}; data in {DataDirectory}", domains.All, domains.Default,
    clusterMode ? "cluster mode (Orleans client)" : "embedded mode (silo in this process)", dataDirectory);

app.UseRefusedRequestLimit();
app.MapHealthEndpoints();
app.MapMmssMetrics(metrics, metrics.Port);
app.MapAdminEndpoints();
app.MapAttachmentEndpoints();
app.MapXmppWebSocket();
app.MapConsole();
await app.RunAsync();
