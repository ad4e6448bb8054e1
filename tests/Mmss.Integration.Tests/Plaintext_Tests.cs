using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests;

/// <summary>Mmss:C2s:AllowPlaintext=true, for labs and load tests: every mechanism, PLAIN included, without TLS.</summary>
public sealed class Plaintext_Tests : IAsyncLifetime
{
    private readonly EmbeddedServer _server = new(new Dictionary<string, string> { ["Mmss__C2s__AllowPlaintext"] = "true" });

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        await _server.ProvisionUserAsync("5501", "pw");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("DIGEST-MD5")]
    [InlineData("SCRAM-SHA-256")]
    public async Task Login_without_tls_succeeds_when_plaintext_is_allowed(string mechanism)
    {
        await using var client = await XmppClient.LoginAsync("127.0.0.1", _server.C2sPort, EmbeddedServer.Domain,
            EmbeddedServer.Mechanism(mechanism, "5501", "pw"), useStartTls: false);
        Assert.False(client.IsSecure);
        Assert.StartsWith("5501@127.0.0.1/", client.BoundJid);
    }

    [Fact]
    public async Task Starttls_is_offered_but_not_required_and_plain_is_listed()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", _server.C2sPort);
        await client.OpenStreamAsync(EmbeddedServer.Domain);
        var starttls = client.Features!.Element("starttls", Namespaces.Tls);
        Assert.NotNull(starttls);
        Assert.Null(starttls.Element("required", Namespaces.Tls));
        Assert.Contains("PLAIN", client.Features.Element("mechanisms", Namespaces.Sasl)!.Elements.Select(e => e.Text));
    }
}
