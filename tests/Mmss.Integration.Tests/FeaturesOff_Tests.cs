using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;
using static Mmss.Integration.Tests.Infrastructure.PreAuthentication;

namespace Mmss.Integration.Tests;

/// <summary>
/// The settings of issue 16's features, the other way round from the defaults: compression and legacy login off, open
/// registration (labs) on.
/// </summary>
public sealed class FeaturesOff_Tests : IAsyncLifetime
{
    private readonly EmbeddedServer _server = new(new Dictionary<string, string>
    {
        ["Mmss__C2s__Compression"] = "false",
        ["Mmss__C2s__LegacyAuth"] = "false",
        ["Mmss__C2s__Registration"] = "Open",
    });

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        await _server.ProvisionUserAsync("6701", "pw");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Compression_turned_off_is_not_offered_and_a_request_for_it_fails()
    {
        await using var client = await XmppClient.AuthenticatedAsync(_server.Host, _server.C2sPort, _server.Host, EmbeddedServer.Mechanism("PLAIN", "6701", "pw"));
        Assert.NotNull(client.Features!.Element("bind", Namespaces.Bind));
        Assert.Null(client.Features.Element("compression", Namespaces.CompressFeature));
        var answer = await client.CompressAsync(_server.Host);
        Assert.NotNull(answer.Element("setup-failed", Namespaces.Compress));
        Assert.StartsWith("6701@127.0.0.1/", await client.BindAsync("uncompressed"));
    }

    [Fact]
    public async Task Legacy_login_turned_off_is_not_advertised_and_answered_service_unavailable()
    {
        await using var client = await SecuredAsync(_server);
        Assert.Null(client.Features!.Element("auth", Namespaces.IqAuthFeature));
        Assert.Equal("service-unavailable", ErrorCondition(await client.IqAsync("set", LegacyAuth("6701", "pw"))));
    }

    [Fact]
    public async Task Open_registration_needs_no_token_and_the_new_user_logs_in()
    {
        var (exitCode, output) = await SlixmppScript.RunAsync(
            "slixmpp_register.py", "127.0.0.1", _server.C2sPort.ToString(), "6702@127.0.0.1", "pw-1", "pw-2");
        Assert.True(exitCode == 0, $"slixmpp exited {exitCode}: {output}");
        Assert.Contains("FIELDS password username", output);
        Assert.Contains("LOGIN-OK 6702@127.0.0.1/", output);

        await using var client = await SecuredAsync(_server);
        Assert.Null(ErrorCondition(await client.IqAsync("set", Register("6703", "pw-open"))));
        await using var login = await _server.LoginAsync("6703", "pw-open");
        Assert.StartsWith("6703@127.0.0.1/", login.BoundJid);
    }
}
