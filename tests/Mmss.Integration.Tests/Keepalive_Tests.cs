using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests;

/// <summary>Deadlines and XEP-0199 keepalive, on a server whose timeouts are seconds long.</summary>
public sealed class Keepalive_Tests : IAsyncLifetime
{
    private readonly EmbeddedServer _server = new(new Dictionary<string, string>
    {
        ["Mmss__C2s__LoginTimeoutSeconds"] = "3",
        ["Mmss__C2s__IdleSecondsBeforePing"] = "1",
        ["Mmss__C2s__PingTimeoutSeconds"] = "2",
    });

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        await _server.ProvisionUserAsync("4401", "pw");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Connection_that_does_not_log_in_in_time_gets_connection_timeout()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", _server.TlsPort, directTls: true);
        await client.OpenStreamAsync(EmbeddedServer.Domain);
        var error = await client.ReadAsync(TimeSpan.FromSeconds(20));
        Assert.NotNull(error?.Element("connection-timeout", Namespaces.StreamErrors));
    }

    [Fact]
    public async Task Connection_that_sends_nothing_at_all_gets_connection_timeout()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", _server.C2sPort);
        await client.ReadStreamHeaderAsync(TimeSpan.FromSeconds(20));
        var error = await client.ReadAsync(TimeSpan.FromSeconds(20));
        Assert.NotNull(error?.Element("connection-timeout", Namespaces.StreamErrors));
    }

    [Fact]
    public async Task Idle_session_is_pinged_and_stays_while_it_answers()
    {
        await using var client = await _server.LoginAsync("4401", "pw", resource: "answers");
        for (var round = 0; round < 3; round++)
        {
            var ping = await client.ReadUntilAsync(e => e.Name == "iq" && e.Element("ping", Namespaces.Ping) is not null, TimeSpan.FromSeconds(20));
            Assert.Equal("get", ping.Attribute("type"));
            Assert.Equal(client.BoundJid, ping.Attribute("to"));
            await client.SendRawAsync($"<iq type='result' id='{ping.Attribute("id")}' to='127.0.0.1'/>");
        }
        await client.SendRawAsync("<iq type='get' id='still-here'><ping xmlns='urn:xmpp:ping'/></iq>");
        var answer = await client.ReadUntilAsync(e => e.Attribute("id") == "still-here" || e.Name == "error");
        Assert.Equal("result", answer.Attribute("type"));
    }

    [Fact]
    public async Task Session_that_ignores_the_ping_is_closed_with_connection_timeout()
    {
        await using var client = await _server.LoginAsync("4401", "pw", resource: "silent");
        await client.ReadUntilAsync(e => e.Element("ping", Namespaces.Ping) is not null, TimeSpan.FromSeconds(20));
        var error = await client.ReadUntilAsync(e => e.Name == "error" && e.Namespace == Namespaces.Streams, TimeSpan.FromSeconds(20));
        Assert.NotNull(error.Element("connection-timeout", Namespaces.StreamErrors));
    }
}
