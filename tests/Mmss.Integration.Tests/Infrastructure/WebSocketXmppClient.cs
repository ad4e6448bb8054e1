using System.Net.WebSockets;
using System.Text;
using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>A raw RFC 7395 client: one text message per element, every message parsed as a standalone document.</summary>
public sealed class WebSocketXmppClient : IAsyncDisposable
{
    public const string Framing = "urn:ietf:params:xml:ns:xmpp-framing";

    private static readonly NamespaceScope Standalone = new(string.Empty);
    private readonly ClientWebSocket _socket;

    private WebSocketXmppClient(ClientWebSocket socket) => _socket = socket;

    public WebSocket Socket => _socket;

    public string? BoundJid { get; private set; }

    /// <summary>The features of the stream after authentication.</summary>
    public XmlElement? Features { get; private set; }

    public static async Task<WebSocketXmppClient> ConnectAsync(int httpPort, string? origin = null, string? subprotocol = "xmpp")
    {
        var socket = new ClientWebSocket();
        if (subprotocol is not null) socket.Options.AddSubProtocol(subprotocol);
        if (origin is not null) socket.Options.SetRequestHeader("Origin", origin);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{httpPort}/xmpp-websocket"), timeout.Token);
        return new WebSocketXmppClient(socket);
    }

    /// <summary>Opens the stream, authenticates, restarts it and binds a resource, as RFC 7395 §3.4–3.5 describe.</summary>
    public static async Task<WebSocketXmppClient> LoginAsync(int httpPort, ISaslClientMechanism mechanism, string resource = "ws")
    {
        var client = await ConnectAsync(httpPort);
        await client.OpenAsync();
        var features = await client.ReadUntilAsync(e => e.Name == "features");
        Assert.Contains(features.Element("mechanisms", Namespaces.Sasl)!.Elements, m => m.Text == mechanism.Name);
        Assert.Null(features.Element("starttls", Namespaces.Tls));
        var initial = mechanism.InitialResponse();
        await client.SendAsync($"<auth xmlns='{Namespaces.Sasl}' mechanism='{mechanism.Name}'>{(initial is null ? "" : initial.Length == 0 ? "=" : Convert.ToBase64String(initial))}</auth>");
        while (true)
        {
            var answer = await client.ReadAsync();
            if (answer.Name == "challenge")
            {
                var response = mechanism.Respond(Convert.FromBase64String(answer.Text));
                await client.SendAsync($"<response xmlns='{Namespaces.Sasl}'>{(response.Length == 0 ? "" : Convert.ToBase64String(response))}</response>");
                continue;
            }
            if (answer.Name != "success") throw new InvalidOperationException("authentication failed: " + answer);
            break;
        }
        await client.OpenAsync();
        client.Features = await client.ReadUntilAsync(e => e.Name == "features");
        await client.SendAsync($"<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='{Namespaces.Bind}'><resource>{resource}</resource></bind></iq>");
        var bound = await client.ReadUntilAsync(e => e.Attribute("id") == "bind");
        client.BoundJid = bound.Element("bind", Namespaces.Bind)?.Element("jid", Namespaces.Bind)?.Text;
        return client;
    }

    public Task OpenAsync(string to = EmbeddedServer.Domain) => SendAsync($"<open xmlns='{Framing}' to='{to}' version='1.0'/>");

    public Task SendAsync(string xml) => SendBytesAsync(Encoding.UTF8.GetBytes(xml));

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _socket.SendAsync(bytes, type, endOfMessage: true, timeout.Token);
    }

    /// <summary>The next message as an element; null when the server closed the WebSocket.</summary>
    public async Task<XmlElement?> TryReadAsync(TimeSpan? timeout = null)
    {
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, cancellation.Token);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) break;
        }
        // RFC 7395 §3.3.3: each message must parse on its own, every namespace declared in it.
        return XmlParser.ParseStanza(message.ToArray(), Standalone);
    }

    public async Task<XmlElement> ReadAsync(TimeSpan? timeout = null) =>
        await TryReadAsync(timeout) ?? throw new InvalidOperationException($"the server closed the WebSocket: {_socket.CloseStatus} {_socket.CloseStatusDescription}");

    public async Task<XmlElement> ReadUntilAsync(Func<XmlElement, bool> predicate, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var element = await ReadAsync(deadline - DateTime.UtcNow);
            if (predicate(element)) return element;
        }
    }

    /// <summary>Reads to the end: the elements the server still sent, then its close frame.</summary>
    public async Task<List<XmlElement>> ReadToCloseAsync()
    {
        var elements = new List<XmlElement>();
        while (await TryReadAsync() is { } element) elements.Add(element);
        return elements;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
        _socket.Dispose();
    }
}
