using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests;

/// <summary>Bad input gets a stream error and a closed connection (RFC 6120 §4.9), never a crash or a hang.</summary>
[Collection(ServerCollection.Name)]
public class StreamErrors_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;

    private const string Header = "<?xml version='1.0'?><stream:stream to='127.0.0.1' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

    private async Task<XmppClient> OpenAsync()
    {
        var client = await XmppClient.ConnectAsync("127.0.0.1", Server.TlsPort, directTls: true);
        await client.OpenStreamAsync(EmbeddedServer.Domain);
        return client;
    }

    [Fact]
    public async Task Malformed_xml_gets_not_well_formed()
    {
        await using var client = await OpenAsync();
        await client.SendRawAsync("<message><body>x</message>");
        await client.ExpectStreamErrorAsync("not-well-formed");
    }

    [Fact]
    public async Task Http_request_on_the_xmpp_port_gets_not_well_formed()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.C2sPort);
        await client.SendRawAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        await client.ReadStreamHeaderAsync();
        await client.ExpectStreamErrorAsync("not-well-formed");
    }

    [Theory]
    [InlineData("<!DOCTYPE foo [<!ENTITY x 'y'>]>")]
    [InlineData("<message><body>&x;</body></message>")]
    [InlineData("<?evil instruction?>")]
    [InlineData("<!-- a comment -->")]
    public async Task Dtds_entities_processing_instructions_and_comments_get_restricted_xml(string input)
    {
        await using var client = await OpenAsync();
        await client.SendRawAsync(input);
        await client.ExpectStreamErrorAsync("restricted-xml");
    }

    [Fact]
    public async Task Dtd_before_the_stream_header_gets_restricted_xml()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.TlsPort, directTls: true);
        await client.SendRawAsync("<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY lol 'lol'>]>" + Header);
        await client.ReadStreamHeaderAsync();
        await client.ExpectStreamErrorAsync("restricted-xml");
    }

    [Fact]
    public async Task Stanza_over_the_size_limit_gets_policy_violation_before_it_ends()
    {
        await using var client = await OpenAsync();
        // The server's limit here is 64 KiB; the stanza is never closed, so only the limit can end it.
        await client.SendRawAsync("<message><body>" + new string('a', 80 * 1024));
        await client.ExpectStreamErrorAsync("policy-violation");
    }

    [Fact]
    public async Task Wrong_stream_namespace_gets_invalid_namespace()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.TlsPort, directTls: true);
        await client.SendRawAsync("<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' version='1.0'>");
        await client.ReadStreamHeaderAsync();
        await client.ExpectStreamErrorAsync("invalid-namespace");
    }

    [Fact]
    public async Task Wrong_content_namespace_gets_invalid_namespace()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.TlsPort, directTls: true);
        await client.SendRawAsync("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>");
        await client.ReadStreamHeaderAsync();
        await client.ExpectStreamErrorAsync("invalid-namespace");
    }

    [Fact]
    public async Task Stanza_before_authentication_gets_not_authorized()
    {
        await using var client = await OpenAsync();
        await client.SendRawAsync("<message to='1102@127.0.0.1'><body>hi</body></message>");
        await client.ExpectStreamErrorAsync("not-authorized");
    }

    [Fact]
    public async Task Unknown_top_level_element_gets_unsupported_stanza_type()
    {
        await using var client = await Server.LoginAsync("1101", "pw-1101", resource: "unsupported");
        await client.SendRawAsync("<foo/>");
        await client.ExpectStreamErrorAsync("unsupported-stanza-type");
    }

    [Fact]
    public async Task Server_survives_bad_input_and_serves_the_next_client()
    {
        await using (var bad = await OpenAsync())
        {
            await bad.SendRawAsync("<<<>>>");
            await bad.ExpectStreamErrorAsync("not-well-formed");
        }
        await using var good = await Server.LoginAsync("1102", "pw-1102", resource: "after-bad");
        Assert.NotNull(good.BoundJid);
    }

    [Fact]
    public async Task Client_closing_its_stream_gets_the_stream_closed_too()
    {
        await using var client = await Server.LoginAsync("1101", "pw-1101", resource: "closing");
        await client.SendRawAsync("</stream:stream>");
        Assert.Null(await client.ReadAsync());
    }
}
