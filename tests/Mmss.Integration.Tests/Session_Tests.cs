using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests;

[Collection(ServerCollection.Name)]
public class Session_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;

    [Fact]
    public async Task Terminal_ping_to_the_mmss_is_answered_as_in_spec_7_3()
    {
        await using var client = await Server.LoginAsync("1101", "pw-1101", resource: "ping");
        await client.SendRawAsync("<iq type='get' id='ping-1' to='127.0.0.1'><ping xmlns='urn:xmpp:ping'/></iq>");
        var result = await client.ReadUntilAsync(e => e.Attribute("id") == "ping-1");
        Assert.Equal("result", result.Attribute("type"));
        Assert.Equal("127.0.0.1", result.Attribute("from"));
    }

    [Fact]
    public async Task Legacy_session_iq_of_older_smack_is_accepted()
    {
        await using var client = await Server.LoginAsync("1101", "pw-1101", resource: "session");
        await client.SendRawAsync("<iq type='set' id='sess-1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
        Assert.Equal("result", (await client.ReadUntilAsync(e => e.Attribute("id") == "sess-1")).Attribute("type"));
    }

    [Fact]
    public async Task Roster_get_returns_an_empty_roster()
    {
        await using var client = await Server.LoginAsync("1101", "pw-1101", resource: "roster");
        await client.SendRawAsync("<iq type='get' id='roster-1'><query xmlns='jabber:iq:roster'/></iq>");
        var result = await client.ReadUntilAsync(e => e.Attribute("id") == "roster-1");
        Assert.Equal("result", result.Attribute("type"));
        var query = result.Element("query", Namespaces.Roster);
        Assert.NotNull(query);
        Assert.False(query.HasChildren);
    }

    [Fact]
    public async Task Disco_info_lists_the_server_features()
    {
        await using var client = await Server.LoginAsync("1101", "pw-1101", resource: "disco");
        await client.SendRawAsync("<iq type='get' id='disco-1' to='127.0.0.1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        var result = await client.ReadUntilAsync(e => e.Attribute("id") == "disco-1");
        var query = result.Element("query", Namespaces.DiscoInfo)!;
        Assert.Equal("server", query.Element("identity", Namespaces.DiscoInfo)!.Attribute("category"));
        var features = query.Elements.Where(e => e.Name == "feature").Select(e => e.Attribute("var")).ToArray();
        Assert.Contains(Namespaces.Ping, features);
        Assert.Contains(Namespaces.DiscoInfo, features);
    }

    [Theory]
    [InlineData("<iq type='get' id='u-1'><query xmlns='jabber:iq:version'/></iq>")]
    [InlineData("<iq type='set' id='u-1'><query xmlns='jabber:iq:private'/></iq>")]
    public async Task Any_other_iq_is_answered_service_unavailable(string iq)
    {
        await using var client = await Server.LoginAsync("1101", "pw-1101", resource: "unknown-iq");
        await client.SendRawAsync(iq);
        var error = await client.ReadUntilAsync(e => e.Attribute("id") == "u-1");
        Assert.Equal("error", error.Attribute("type"));
        Assert.NotNull(error.Element("error", Namespaces.Client)!.Element("service-unavailable", Namespaces.Stanzas));
    }

    [Fact]
    public async Task Presence_is_accepted_and_whitespace_keepalives_are_harmless()
    {
        await using var client = await Server.LoginAsync("1102", "pw-1102", resource: "presence");
        await client.SendRawAsync("<presence/>   \n  <presence><show>away</show></presence> ");
        await client.SendRawAsync("<iq type='get' id='after'><ping xmlns='urn:xmpp:ping'/></iq>");
        // Only the user's own presence comes back (RFC 6121 §4.2.2: a user is subscribed to itself), then the answer.
        var next = await client.ReadUntilAsync(e => e.Name != "presence");
        Assert.Equal("after", next.Attribute("id"));
    }
}
