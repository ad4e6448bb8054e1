using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.Gateway.C2s;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Hosting;
using Mmss.Gateway.S2s;
using Mmss.GrainInterfaces.Peers;
using Mmss.Protocol.Xml;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>
/// One domain's server-to-server link layer hosted in the test process: a Kestrel listener on its own loopback address,
/// its peer table, its dialback secret, and a handler that records what peers deliver. Stoppable and restartable.
/// </summary>
/// <param name="settings">more Mmss:S2s settings, e.g. ("NegotiationTimeoutSeconds", "1")</param>
public sealed class S2sEndpoint(string domain, string address, int port, string secret, int ackTimeoutSeconds = 10,
    params (string Key, string Value)[] settings) : IAsyncDisposable
{
    private static readonly Lazy<ServerCertificateHolder> SelfSigned = new(CreateCertificate);
    private WebApplication? _app;

    public string Domain { get; } = domain;
    public string Address { get; } = address;
    public int Port { get; } = port;
    public string Secret { get; set; } = secret;
    public List<Peer> Peers { get; } = [];
    public RecordingHandler Handler { get; } = new();

    public S2sOutbound Outbound => _app!.Services.GetRequiredService<S2sOutbound>();

    /// <summary>The link layer's shared state, with its counters.</summary>
    public S2sServices Services => _app!.Services.GetRequiredService<S2sServices>();

    /// <summary>How peers see this endpoint: its domain at its address.</summary>
    public Peer AsPeer() => new(Domain, Address, Port, null, NumberRanges.None, NumberRanges.None, "");

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        var configuration = new Dictionary<string, string?>
        {
            ["Mmss:S2s:Enabled"] = "true",
            ["Mmss:S2s:BindAddress"] = Address,
            ["Mmss:S2s:Port"] = Port.ToString(),
            ["Mmss:S2s:DialbackSecret"] = Secret,
            ["Mmss:S2s:ConnectTimeoutSeconds"] = "5",
            ["Mmss:S2s:AckTimeoutSeconds"] = ackTimeoutSeconds.ToString(),
            ["Mmss:S2s:MaxStanzaBytes"] = "65536",
        };
        foreach (var (key, value) in settings) configuration["Mmss:S2s:" + key] = value;
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new ServedDomains(Options.Create(new MmssOptions { Domains = [Domain] })));
        builder.Services.AddSingleton(new PeerTable(Peers));
        builder.Services.AddSingleton(SelfSigned.Value);
        builder.Services.AddSingleton<IS2sInboundHandler>(Handler);
        builder.Services.AddMmssS2s(builder.Configuration);
        builder.WebHost.ConfigureKestrel((context, kestrel) => kestrel.ConfigureMmssS2sListener(context.Configuration));
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        _app = builder.Build();
        await _app.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private static ServerCertificateHolder CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=s2s-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return new ServerCertificateHolder(X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null));
    }
}

/// <summary>Records stanzas delivered by peers; a gate makes it slow on demand.</summary>
public sealed class RecordingHandler : IS2sInboundHandler
{
    private readonly ConcurrentQueue<(string Peer, XmlElement Stanza)> _received = new();
    private readonly SemaphoreSlim _changed = new(0);

    /// <summary>While set and incomplete, every call waits for it (a slow or stuck relay).</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Completed when a call has started waiting at the gate.</summary>
    public TaskCompletionSource Entered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<(string Peer, XmlElement Stanza)> Received => _received.ToArray();

    public async ValueTask HandleAsync(Peer peer, XmlElement stanza, CancellationToken cancellationToken)
    {
        if (Gate is { } gate)
        {
            Entered.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
        }
        _received.Enqueue((peer.Domain, stanza));
        _changed.Release();
    }

    public void ResetEntered() => Entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
}
