using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>A bare server-to-server client that sends what a test says, byte for byte: for peers that misbehave.</summary>
public sealed class RawS2sClient : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly TcpClient _tcp;
    private Stream _stream;
    private PipeReader _reader;
    private XmlStreamFramer _framer = new(1024 * 1024);
    private NamespaceScope _scope = new(Namespaces.Server);

    private RawS2sClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
    }

    /// <summary>The id of the server's current stream header.</summary>
    public string StreamId { get; private set; } = "";

    public static async Task<RawS2sClient> ConnectAsync(string host, int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(host, port);
        return new RawS2sClient(tcp);
    }

    /// <param name="from">null for a header without 'from' (RFC 6120 §4.7.1 lets it be left out)</param>
    public static string Header(string? from, string to) =>
        $"<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'{(from is null ? "" : $" from='{from}'")} to='{to}' version='1.0'>";

    /// <summary>Sends a header; returns the server's features.</summary>
    public async Task<XmlElement> OpenAsync(string? from, string to)
    {
        await SendAsync(Header(from, to));
        var (kind, header) = await ReadTokenAsync();
        if (kind != XmlTokenKind.StreamHeader) throw new IOException($"expected a stream header, got {kind}");
        StreamId = header!.Attribute("id") ?? "";
        return await ReadAsync() ?? throw new IOException("no features");
    }

    /// <summary>STARTTLS (any certificate accepted), then a new stream; returns the features offered over TLS.</summary>
    public async Task<XmlElement> StartTlsAsync(string? from, string to)
    {
        await SendAsync("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        var proceed = await ReadAsync() ?? throw new IOException("closed instead of <proceed/>");
        if (proceed.Name != "proceed") throw new IOException($"STARTTLS refused: {proceed}");
        await _reader.CompleteAsync();
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = to });
        _stream = tls;
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        _framer = new XmlStreamFramer(_framer.MaxTokenBytes);
        return await OpenAsync(from, to);
    }

    public async Task SendAsync(string xml)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(xml));
        await _stream.FlushAsync();
    }

    /// <summary>The next top-level element; null when the server ended the stream or closed the connection.</summary>
    public async Task<XmlElement?> ReadAsync()
    {
        var (kind, element) = await ReadTokenAsync();
        return kind == XmlTokenKind.Stanza ? element : null;
    }

    /// <summary>Reads until a stream error arrives; returns its condition and checks that the stream then ends.</summary>
    public async Task<string> ReadStreamErrorAsync()
    {
        while (true)
        {
            var (kind, element) = await ReadTokenAsync();
            if (kind == XmlTokenKind.StreamHeader) continue;
            if (element is null) throw new IOException("the stream ended without a stream error");
            if (element.Name != "error" || element.Namespace != Namespaces.Streams) continue;
            var condition = element.Elements.First(e => e.Namespace == Namespaces.StreamErrors && e.Name != "text").Name;
            if (await ReadAsync() is { } after) throw new IOException($"{after} after the stream error");
            return condition;
        }
    }

    private async Task<(XmlTokenKind Kind, XmlElement? Element)> ReadTokenAsync()
    {
        using var cancellation = new CancellationTokenSource(Timeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _reader.ReadAsync(cancellation.Token);
            }
            catch (IOException)
            {
                return (XmlTokenKind.StreamEnd, null);
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

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync();
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
