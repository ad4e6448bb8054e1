using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>XMPP over WebSocket (RFC 7395) at the protocol level, with a raw client: framing, limits, errors, delivery.</summary>
[Collection(ServerCollection.Name)]
public class WebSocket_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;

    private Task<WebSocketXmppClient> LoginAsync(string udn, string password, string mechanism = "SCRAM-SHA-1", string resource = "ws") =>
        WebSocketXmppClient.LoginAsync(Server.HttpPort, EmbeddedServer.Mechanism(mechanism, udn, password), resource);

    private static async Task<XmlElement> StreamErrorAsync(WebSocketXmppClient client, string condition)
    {
        var elements = await client.ReadToCloseAsync();
        var error = Assert.Single(elements, e => e.Name == "error" && e.Namespace == Namespaces.Streams);
        Assert.Equal(condition, error.FirstElement()!.Name);
        // RFC 7395 §3.6: <close/> after the error, then the close frame.
        Assert.Equal("close", elements[^1].Name);
        Assert.Equal(WebSocketXmppClient.Framing, elements[^1].Namespace);
        return error;
    }

    [Theory]
    [InlineData("SCRAM-SHA-1")]
    [InlineData("SCRAM-SHA-256")]
    [InlineData("DIGEST-MD5")]
    [InlineData("CRAM-MD5")]
    [InlineData("PLAIN")]
    public async Task A_websocket_client_logs_in_with_every_mechanism_the_tcp_listener_offers(string mechanism)
    {
        await using var client = await LoginAsync("1101", "pw-1101", mechanism, resource: "ws-" + mechanism);
        Assert.Equal($"1101@127.0.0.1/ws-{mechanism}", client.BoundJid);
    }

    [Fact]
    public async Task A_websocket_stream_is_offered_no_compression_and_a_request_for_it_fails()
    {
        // RFC 7395 §3.3.3: compression belongs to the WebSocket layer, not to XMPP over it.
        await using var client = await LoginAsync("1101", "pw-1101", resource: "ws-compress");
        Assert.NotNull(client.Features!.Element("bind", Namespaces.Bind));
        Assert.Null(client.Features.Element("compression", Namespaces.CompressFeature));
        await client.SendAsync($"<compress xmlns='{Namespaces.Compress}'><method>zlib</method></compress>");
        var failure = await client.ReadAsync();
        Assert.Equal(("failure", Namespaces.Compress), (failure.Name, failure.Namespace));
        Assert.NotNull(failure.Element("setup-failed", Namespaces.Compress));
    }

    [Fact]
    public async Task The_server_answers_open_with_open_and_features_each_a_standalone_document()
    {
        await using var client = await WebSocketXmppClient.ConnectAsync(Server.HttpPort);
        Assert.Equal("xmpp", client.Socket.SubProtocol);
        await client.OpenAsync();
        var open = await client.ReadAsync();
        Assert.Equal(("open", WebSocketXmppClient.Framing), (open.Name, open.Namespace));
        Assert.Equal("127.0.0.1", open.Attribute("from"));
        Assert.Equal("1.0", open.Attribute("version"));
        Assert.False(string.IsNullOrEmpty(open.Attribute("id")));
        var features = await client.ReadAsync();
        Assert.Equal(("features", Namespaces.Streams), (features.Name, features.Namespace));
    }

    [Fact]
    public async Task A_websocket_dc_and_a_tcp_ue_exchange_mms_with_ack_both_ways()
    {
        await Server.ProvisionPairAsync("6701");
        await using var dc = await LoginAsync("67011", "pw");
        await using var ue = await Server.LoginAsync("67012", "pw");

        await dc.SendAsync(Mms("ws-to-tcp", "67012").Replace("<message ", "<message xmlns=\"jabber:client\" "));
        var mms = await ue.ReadUntilAsync(e => IsMessage(e, "ws-to-tcp"));
        Assert.StartsWith("67011@127.0.0.1", mms.Attribute("from"));
        await ue.SendRawAsync(Ack("ws-to-tcp"));
        var ack = await dc.ReadUntilAsync(e => IsMessage(e, "ws-to-tcp"));
        Assert.Equal("ACK@127.0.0.1", ack.Attribute("from"));
        Assert.Equal("jabber:client", ack.Namespace);
        Assert.Equal("2", Property(ack, "MsgType"));

        await ue.SendRawAsync(Mms("tcp-to-ws", "67011"));
        var incoming = await dc.ReadUntilAsync(e => IsMessage(e, "tcp-to-ws"));
        Assert.Equal("1", Property(incoming, "MsgType"));
        await dc.SendAsync(Fail("tcp-to-ws", "10").Replace("<message ", "<message xmlns=\"jabber:client\" "));
        var fail = await ue.ReadUntilAsync(e => IsMessage(e, "tcp-to-ws"));
        Assert.Equal("FAIL@127.0.0.1", fail.Attribute("from"));
        Assert.Equal("10", Property(fail, "ReturnCode"));
    }

    [Fact]
    public async Task Close_ends_the_stream_with_close_and_a_normal_close_frame()
    {
        await using var client = await LoginAsync("1102", "pw-1102");
        await client.SendAsync($"<close xmlns='{WebSocketXmppClient.Framing}'/>");
        var elements = await client.ReadToCloseAsync();
        Assert.Equal("close", elements[^1].Name);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.Socket.CloseStatus);
    }

    [Fact]
    public async Task Two_elements_in_one_message_are_not_well_formed()
    {
        await using var client = await LoginAsync("1101", "pw-1101", resource: "two");
        await client.SendAsync("<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>");
        await StreamErrorAsync(client, "not-well-formed");
    }

    [Fact]
    public async Task An_element_split_over_two_messages_is_not_well_formed()
    {
        await using var client = await LoginAsync("1101", "pw-1101", resource: "split");
        await client.SendAsync("<message xmlns='jabber:client' to='1102@127.0.0.1'><body>half");
        var error = await StreamErrorAsync(client, "not-well-formed");
        Assert.Contains("one complete XML element", error.Element("text", Namespaces.StreamErrors)!.Text);
    }

    [Fact]
    public async Task A_stanza_before_open_is_bad_format_after_an_open_from_the_server()
    {
        await using var client = await WebSocketXmppClient.ConnectAsync(Server.HttpPort);
        await client.SendAsync("<presence xmlns='jabber:client'/>");
        var elements = await client.ReadToCloseAsync();
        Assert.Equal("open", elements[0].Name);
        Assert.Equal("bad-format", elements.Single(e => e.Name == "error").FirstElement()!.Name);
    }

    [Fact]
    public async Task A_tcp_stream_header_is_not_framing()
    {
        await using var client = await WebSocketXmppClient.ConnectAsync(Server.HttpPort);
        await client.SendAsync("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='127.0.0.1' version='1.0'>");
        await StreamErrorAsync(client, "not-well-formed");
    }

    [Fact]
    public async Task Open_in_the_wrong_namespace_is_invalid_namespace()
    {
        await using var client = await WebSocketXmppClient.ConnectAsync(Server.HttpPort);
        await client.SendAsync("<open xmlns='jabber:client' to='127.0.0.1' version='1.0'/>");
        await StreamErrorAsync(client, "invalid-namespace");
    }

    [Fact]
    public async Task Restricted_xml_gets_the_same_stream_error_as_over_tcp()
    {
        await using var client = await LoginAsync("1101", "pw-1101", resource: "restricted");
        await client.SendAsync("<message xmlns='jabber:client'><!-- a comment --></message>");
        await StreamErrorAsync(client, "restricted-xml");
    }

    [Fact]
    public async Task A_message_over_the_stanza_limit_is_refused_before_it_is_buffered_with_policy_violation_and_close_1009()
    {
        await using var client = await LoginAsync("1101", "pw-1101", resource: "big");
        var body = new string('x', 70 * 1024);   // the fixture's limit is 64 KiB
        await client.SendAsync($"<message xmlns='jabber:client' to='1102@127.0.0.1'><body>{body}</body></message>");
        var error = await StreamErrorAsync(client, "policy-violation");
        Assert.Contains("65536 bytes", error.Element("text", Namespaces.StreamErrors)!.Text);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, client.Socket.CloseStatus);
    }

    [Fact]
    public async Task A_binary_message_is_refused()
    {
        await using var client = await WebSocketXmppClient.ConnectAsync(Server.HttpPort);
        await client.OpenAsync();
        await client.ReadUntilAsync(e => e.Name == "features");
        await client.SendBytesAsync(Encoding.UTF8.GetBytes("<presence/>"), WebSocketMessageType.Binary);
        await StreamErrorAsync(client, "bad-format");
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, client.Socket.CloseStatus);
    }

    [Fact]
    public async Task A_wrong_password_fails_as_over_tcp()
    {
        await using var client = await WebSocketXmppClient.ConnectAsync(Server.HttpPort);
        await client.OpenAsync();
        await client.ReadUntilAsync(e => e.Name == "features");
        var mechanism = EmbeddedServer.Mechanism("PLAIN", "1103", "wrong");
        await client.SendAsync($"<auth xmlns='{Namespaces.Sasl}' mechanism='PLAIN'>{Convert.ToBase64String(mechanism.InitialResponse()!)}</auth>");
        var failure = await client.ReadAsync();
        Assert.Equal(("failure", Namespaces.Sasl), (failure.Name, failure.Namespace));
        Assert.NotNull(failure.Element("not-authorized", Namespaces.Sasl));
    }

    [Fact]
    public async Task A_page_of_another_origin_is_refused_and_the_same_origin_is_let_in()
    {
        var refused = await Assert.ThrowsAsync<WebSocketException>(() =>
            WebSocketXmppClient.ConnectAsync(Server.HttpPort, origin: "http://evil.example"));
        Assert.Contains("403", refused.Message);
        await using var same = await WebSocketXmppClient.ConnectAsync(Server.HttpPort, origin: $"http://127.0.0.1:{Server.HttpPort}");
        Assert.Equal(WebSocketState.Open, same.Socket.State);
    }

    [Fact]
    public async Task A_handshake_without_the_xmpp_subprotocol_is_refused()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync($"http://127.0.0.1:{Server.HttpPort}/xmpp-websocket");
        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => WebSocketXmppClient.ConnectAsync(Server.HttpPort, subprotocol: null));
        Assert.Contains("400", refused.Message);
    }

    [Fact]
    public async Task The_roster_lists_the_talk_groups_of_the_user_and_their_members()
    {
        await Server.ProvisionUserAsync("67031", "pw", "Dispatcher 1");
        await Server.ProvisionUserAsync("67032", "pw", "Unit 2");
        await Server.ProvisionUserAsync("67033", "pw", "Unit 3");
        using (var admin = Server.AdminClient())
        {
            (await admin.PutAsJsonAsync("admin/groups/96701", new { name = "Patrol", members = new[] { "67031", "67032" } })).EnsureSuccessStatusCode();
            (await admin.PutAsJsonAsync("admin/groups/96702", new { name = "Fire", members = new[] { "67031", "67032", "67033" } })).EnsureSuccessStatusCode();
            (await admin.PutAsJsonAsync("admin/groups/96703", new { name = "Other", members = new[] { "67033" } })).EnsureSuccessStatusCode();
        }
        await using var client = await LoginAsync("67031", "pw");
        await client.SendAsync("<iq xmlns='jabber:client' type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>");
        var result = await client.ReadUntilAsync(e => e.Attribute("id") == "roster");
        var items = result.Element("query", Namespaces.Roster)!.Elements.ToDictionary(i => i.Attribute("jid")!);
        Assert.Equal(["67032@127.0.0.1", "67033@127.0.0.1", "96701@127.0.0.1", "96702@127.0.0.1"], items.Keys.Order());
        Assert.Equal("Patrol", items["96701@127.0.0.1"].Attribute("name"));
        Assert.Equal(["Talk groups"], items["96701@127.0.0.1"].Elements.Select(g => g.Text));
        Assert.Equal("Unit 2", items["67032@127.0.0.1"].Attribute("name"));
        Assert.Equal(["Fire (96702)", "Patrol (96701)"], items["67032@127.0.0.1"].Elements.Select(g => g.Text).Order());

        // A roster follows provisioning: leaving a group takes it and its members off.
        using (var admin = Server.AdminClient())
        {
            (await admin.PutAsJsonAsync("admin/groups/96702", new { name = "Fire", members = new[] { "67032", "67033" } })).EnsureSuccessStatusCode();
        }
        await client.SendAsync("<iq xmlns='jabber:client' type='get' id='roster-2'><query xmlns='jabber:iq:roster'/></iq>");
        var after = await client.ReadUntilAsync(e => e.Attribute("id") == "roster-2");
        Assert.Equal(["67032@127.0.0.1", "96701@127.0.0.1"], after.Element("query", Namespaces.Roster)!.Elements.Select(i => i.Attribute("jid")!).Order());
    }
}

/// <summary>The HTTPS listener (Mmss:Http:TlsPort): the console and its WebSocket over TLS, with the XMPP certificate.</summary>
public class WebSocketTls_Tests
{
    [Fact]
    public async Task The_console_and_a_wss_login_work_over_the_https_listener()
    {
        var tlsPort = FreePorts.Take(1)[0];
        await using var server = new EmbeddedServer(new Dictionary<string, string> { ["Mmss__Http__TlsPort"] = tlsPort.ToString() });
        await server.StartAsync();
        await server.ProvisionUserAsync("6801", "pw");

        // The generated certificate is self-signed: this test trusts it as a terminal told to would.
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var https = new HttpClient(handler);
        var page = await https.GetStringAsync($"https://127.0.0.1:{tlsPort}/console/");
        Assert.Contains("MMSS dispatch console", page);

        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("xmpp");
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        socket.Options.SetRequestHeader("Origin", $"https://127.0.0.1:{tlsPort}");
        await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{tlsPort}/xmpp-websocket"), CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes($"<open xmlns='{WebSocketXmppClient.Framing}' to='127.0.0.1' version='1.0'/>"),
            WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[16 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var open = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.StartsWith("<open", Encoding.UTF8.GetString(buffer, 0, open.Count));
        var features = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Contains("SCRAM-SHA-1", Encoding.UTF8.GetString(buffer, 0, features.Count));
    }
}
