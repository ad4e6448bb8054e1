using Microsoft.Extensions.Options;
using Mmss.Gateway.Attachments;
using Mmss.Gateway.C2s;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Hosting;
using Mmss.Gateway.Provisioning;
using Mmss.Silo;

// Embedded mode: one process hosts the Orleans silo and the gateway; nothing else is needed.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var dataDirectory = Path.GetFullPath(builder.Configuration.GetSection(MmssOptions.Section).Get<MmssOptions>()?.DataDir ?? "data");
Directory.CreateDirectory(dataDirectory);

builder.Services.AddMmssOptions();
builder.UseOrleans(silo => silo.UseMmssEmbedded(builder.Configuration, dataDirectory));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<ServedDomains>();
builder.Services.AddSingleton(services => new ServerCertificateHolder(ServerCertificate.Load(
    services.GetRequiredService<IOptions<TlsOptions>>().Value, dataDirectory, services.GetRequiredService<ServedDomains>(),
    services.GetRequiredService<ILoggerFactory>().CreateLogger("Mmss.Tls"))));
builder.Services.AddSingleton(services => AdminToken.Load(
    services.GetRequiredService<IOptions<AdminOptions>>().Value, dataDirectory,
    services.GetRequiredService<ILoggerFactory>().CreateLogger("Mmss.Admin")));
builder.Services.AddSingleton<Provisioner>();
builder.Services.AddSingleton<SeedFileApplier>();
builder.Services.AddHostedService<SeedFileHostedService>();
builder.Services.AddC2s();
builder.Services.AddAttachments(dataDirectory);
builder.WebHost.ConfigureKestrel((context, kestrel) => kestrel.ConfigureMmssListeners(context.Configuration));

var app = builder.Build();
// Resolved now so that a bad certificate or token file stops the start, not the first login.
app.Services.GetRequiredService<ServerCertificateHolder>();
app.Services.GetRequiredService<AdminToken>();
var domains = app.Services.GetRequiredService<ServedDomains>();
app.Logger.LogInformation("Serving domains {Domains} (default {Default}); data in {DataDirectory}", domains.All, domains.Default, dataDirectory);

app.MapGet("/health", () => Results.Ok(new { status = "ok" }));
app.MapAdminEndpoints();
app.MapAttachmentEndpoints();
await app.RunAsync();
