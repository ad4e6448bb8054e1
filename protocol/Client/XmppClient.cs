using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security;
using System.Text;
using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Protocol.Client;

/// <summary>
/// A plain XMPP client over a real socket, for tests and the load tool: it sends what it is told and reads
/// whole elements, so that tests can check the server's bytes as a terminal sees them.
/// </summary>
public sealed class XmppClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private Stream _stream;
    private PipeReader _reader;
    private XmlStreamFramer _framer = new(16 * 1024 * 1024);
    private NamespaceScope _scope = new(Namespaces.Client, ("stream", Namespaces.Streams));

    private XmppClient(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
    }

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The server's stream header of the current stream.</summary>
    public XmlElement? StreamHeader { get; private set; }

    /// <summary>The server's last &lt;stream:features/&gt;.</summary>
    public XmlElement? Features { get; private set; }

    public string? BoundJid { get; private set; }

    public bool IsSecure => ((_stream as ZlibDuplexStream)?.Inner ?? _stream) is SslStream;

    /// <summary>The XEP-0138 layer once <see cref="CompressAsync"/> succeeded (its byte counts measure the savings).</summary>
    public ZlibDuplexStream? Compression => _stream as ZlibDuplexStream;

    /// <param name="localAddress">the source address, so that a load tool can spread connections over 127.0.0.x.</param>
    public static async Task<XmppClient> ConnectAsync(string host, int port, bool directTls = false, CancellationToken cancellationToken = default,
        System.Net.IPAddress? localAddress = null)
    {
        var tcp = localAddress is null ? new TcpClient() : new TcpClient(new System.Net.IPEndPoint(localAddress, 0));
        tcp.NoDelay = true;
        await tcp.ConnectAsync(host, port, cancellationToken);
        Stream stream = tcp.GetStream();
        if (directTls) stream = await HandshakeAsync(stream, host, cancellationToken);
        return new XmppClient(tcp, stream);
    }

    /// <summary>Connects, secures the stream, authenticates and binds: what a terminal does at power-on.</summary>
    public static async Task<XmppClient> LoginAsync(string host, int port, string domain, ISaslClientMechanism mechanism,
        string? resource = null, bool directTls = false, bool useStartTls = true, System.Net.IPAddress? localAddress = null)
    {
        var client = await AuthenticatedAsync(host, port, domain, mechanism, directTls, useStartTls, localAddress);
        try
        {
            await client.BindAsync(resource);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Connects, secures the stream and authenticates, stopping before resource binding (e.g. to resume instead).</summary>
    public static async Task<XmppClient> AuthenticatedAsync(string host, int port, string domain, ISaslClientMechanism mechanism,
        bool directTls = false, bool useStartTls = true, System.Net.IPAddress? localAddress = null)
    {
        var client = await ConnectAsync(host, port, directTls, CancellationToken.None, localAddress);
        try
        {
            await client.OpenStreamAsync(domain);
            if (!directTls && useStartTls) await client.StartTlsAsync(domain);
            var outcome = await client.AuthenticateAsync(mechanism, domain);
            if (outcome.Name != "success") throw new InvalidOperationException($"authentication failed: {outcome}");
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public async Task OpenStreamAsync(string to, string? from = null)
    {
        var header = new StringBuilder("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'");
        if (to.Length > 0) header.Append(" to='").Append(to).Append('\'');
        if (from is not null) header.Append(" from='").Append(from).Append('\'');
        header.Append('>');
        await SendRawAsync(header.ToString());
        await ReadStreamHeaderAsync();
        Features = await ReadAsync() ?? throw new IOException("stream closed before features");
    }

    /// <summary>Reads the server's stream header (for tests that send their own header bytes).</summary>
    public async Task<XmlElement> ReadStreamHeaderAsync(TimeSpan? timeout = null)
    {
        var (kind, element) = await ReadTokenAsync(timeout ?? DefaultTimeout);
        if (kind != XmlTokenKind.StreamHeader) throw new IOException($"expected a stream header, got {kind}");
        return StreamHeader = element!;
    }

    public async Task StartTlsAsync(string domain)
    {
        await SendRawAsync("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        var proceed = await ReadAsync() ?? throw new IOException("stream closed instead of <proceed/>");
        if (proceed.Name != "proceed") throw new IOException($"STARTTLS refused: {proceed}");
        await _reader.CompleteAsync();
        _stream = await HandshakeAsync(_stream, domain, CancellationToken.None);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        _framer = new XmlStreamFramer(_framer.MaxTokenBytes);
        await OpenStreamAsync(domain);
    }

    /// <summary>
    /// XEP-0138: asks for zlib; on &lt;compressed/&gt; both directions are compressed and the stream is reopened. Returns
    /// the server's answer (&lt;compressed/&gt; or &lt;failure/&gt;).
    /// </summary>
    public async Task<XmlElement> CompressAsync(string domain, string method = "zlib")
    {
        await SendRawAsync($"<compress xmlns='http://jabber.org/protocol/compress'><method>{method}</method></compress>");
        var answer = await ReadAsync() ?? throw new IOException("stream closed instead of <compressed/>");
        if (answer.Name != "compressed") return answer;
        await _reader.CompleteAsync();
        _stream = new ZlibDuplexStream(_stream);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        _framer = new XmlStreamFramer(_framer.MaxTokenBytes);
        await OpenStreamAsync(domain);
        return answer;
    }

    /// <summary>Runs a SASL exchange; returns the server's &lt;success/&gt; or &lt;failure/&gt;. After success the stream is reopened.</summary>
    public async Task<XmlElement> AuthenticateAsync(ISaslClientMechanism mechanism, string domain)
    {
        var auth = new XmlElement("auth", Namespaces.Sasl).SetAttribute("mechanism", mechanism.Name);
        var initial = mechanism.InitialResponse();
        if (initial is not null) auth.AddText(initial.Length == 0 ? "=" : Convert.ToBase64String(initial));
        await SendAsync(auth);
        while (true)
        {
            var answer = await ReadAsync() ?? throw new IOException("stream closed during SASL");
            switch (answer.Name)
            {
                case "challenge":
                    var challenge = answer.Text is "" or "=" ? [] : Convert.FromBase64String(answer.Text);
                    var response = mechanism.Respond(challenge);
                    await SendAsync(new XmlElement("response", Namespaces.Sasl).AddText(response.Length == 0 ? "=" : Convert.ToBase64String(response)));
                    break;
                case "success":
                    var data = answer.Text.Length == 0 ? null : Convert.FromBase64String(answer.Text);
                    if (!mechanism.VerifySuccess(data)) throw new IOException("the server did not prove it knows the password");
                    _framer = new XmlStreamFramer(_framer.MaxTokenBytes);
                    await OpenStreamAsync(domain);
                    return answer;
                default:
                    return answer;
            }
        }
    }

    public async Task<string> BindAsync(string? resource)
    {
        var iq = new XmlElement("iq", Namespaces.Client).SetAttribute("type", "set").SetAttribute("id", "bind-1");
        var bind = iq.AddElement("bind", Namespaces.Bind);
        if (resource is not null) bind.AddElement("resource", text: resource);
        await SendAsync(iq);
        var result = await ReadUntilAsync(e => e.Name == "iq" && e.Attribute("id") == "bind-1");
        BoundJid = result.Element("bind", Namespaces.Bind)?.Element("jid", Namespaces.Bind)?.Text
                   ?? throw new IOException($"bind failed: {result}");
        return BoundJid;
    }

    public Task SendAsync(XmlElement element) => SendRawAsync(XmlWriter.ToXmlString(element, Namespaces.Client));

    public Task SendRawAsync(string xml) => SendRawAsync(Encoding.UTF8.GetBytes(xml));

    public async Task SendRawAsync(byte[] bytes)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _stream.WriteAsync(bytes);
            await _stream.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The next top-level element, or null when the server ended the stream or closed the connection.</summary>
    public async Task<XmlElement?> ReadAsync(TimeSpan? timeout = null)
    {
        var (kind, element) = await ReadTokenAsync(timeout ?? DefaultTimeout);
        return kind switch
        {
            XmlTokenKind.Stanza => element,
            XmlTokenKind.StreamHeader => throw new IOException("unexpected stream header"),
            _ => null,
        };
    }

    /// <summary>Reads until an element matches, skipping others (pings are answered on the way).</summary>
    public async Task<XmlElement> ReadUntilAsync(Func<XmlElement, bool> predicate, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero) throw new TimeoutException("no matching element in time");
            var element = await ReadAsync(remaining) ?? throw new IOException("stream closed while waiting");
            if (predicate(element)) return element;
            if (IsServerPing(element)) await SendRawAsync($"<iq type='result' id='{SecurityElement.Escape(element.Attribute("id"))}'/>");
        }
    }

    /// <summary>A XEP-0199 ping to this client, which a terminal answers or is closed by the keepalive.</summary>
    private static bool IsServerPing(XmlElement element) =>
        element.Name == "iq" && element.Attribute("type") == "get" && element.Element("ping", Namespaces.Ping) is not null;

    private async Task<(XmlTokenKind Kind, XmlElement? Element)> ReadTokenAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _reader.ReadAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"nothing from the server within {timeout.TotalSeconds:0.#}s");
            }
            var buffer = result.Buffer;
            if (_framer.TryReadToken(buffer, out var kind, out var end))
            {
                var token = buffer.Slice(0, end);
                XmlElement? element = null;
                if (kind == XmlTokenKind.StreamHeader) element = XmlParser.ParseStreamHeader(token, out _scope);
                else if (kind == XmlTokenKind.Stanza) element = XmlParser.ParseStanza(token, _scope);
                _reader.AdvanceTo(end);
                if (kind != XmlTokenKind.Ignorable) return (kind, element);
                continue;
            }
            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) return (XmlTokenKind.StreamEnd, null);
        }
    }

    private static async Task<Stream> HandshakeAsync(Stream inner, string host, CancellationToken cancellationToken)
    {
        var tls = new SslStream(inner, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }, cancellationToken);
        return tls;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _reader.CompleteAsync();
            await _stream.DisposeAsync();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
        _tcp.Dispose();
        _writeLock.Dispose();
    }
}
