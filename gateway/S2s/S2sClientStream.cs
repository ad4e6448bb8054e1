using System.Net.Sockets;
using System.Security.Authentication;
using Mmss.Gateway.Streams;
using Mmss.GrainInterfaces.Peers;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.S2s;

/// <summary>
/// An outgoing server-to-server stream up to the point where it is secured (RFC 6120 §5): TCP connection to the peer's
/// address, stream header, STARTTLS (required: a peer that does not offer it is not spoken to), a new header over TLS.
/// What follows — dialback, stanzas, dialback verification — is its owner's business.
/// </summary>
internal sealed class S2sClientStream : IAsyncDisposable
{
    private readonly S2sServices _services;
    private readonly SocketDuplexPipe _pipe;
    private int _disposed;

    private S2sClientStream(S2sServices services, SocketDuplexPipe pipe, string localDomain, Peer peer)
    {
        _services = services;
        _pipe = pipe;
        LocalDomain = localDomain;
        Peer = peer;
        Core = new XmppStreamCore(pipe, services.Options.MaxStanzaBytes, Namespaces.Server, services.Logger,
            output => S2sXml.WriteHeader(output, localDomain, peer.Domain, id: null), pipe.ShutdownSend);
    }

    public XmppStreamCore Core { get; }

    public string LocalDomain { get; }

    public Peer Peer { get; }

    /// <summary>The id of the peer's current stream header (XEP-0220 keys are bound to it).</summary>
    public string StreamId { get; private set; } = "";

    /// <summary>The peer's &lt;stream:features/&gt; on the secured stream.</summary>
    public XmlElement Features { get; private set; } = new("features", Namespaces.Streams);

    /// <summary>Connects and secures a stream; every failure is an <see cref="S2sLinkException"/>.</summary>
    public static async Task<S2sClientStream> OpenAsync(S2sServices services, string localDomain, Peer peer, CancellationToken cancellationToken)
    {
        SocketDuplexPipe pipe;
        try
        {
            pipe = await SocketDuplexPipe.ConnectAsync(peer.Host, peer.Port, services.ConnectTimeout, cancellationToken);
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            throw new S2sLinkException(peer.Domain, $"cannot connect to {peer.Host}:{peer.Port}: {e.Message}", e);
        }
        var stream = new S2sClientStream(services, pipe, localDomain, peer);
        try
        {
            await stream.RunStepAsync(stream.SecureAsync, cancellationToken);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs one negotiation step within the ack timeout, turning whatever goes wrong on the wire into an
    /// <see cref="S2sLinkException"/> (the caller's own cancellation stays an <see cref="OperationCanceledException"/>).
    /// </summary>
    public async Task<T> RunStepAsync<T>(Func<CancellationToken, Task<T>> step, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_services.AckTimeout);
        try
        {
            return await step(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new S2sLinkException(Peer.Domain, $"no answer within {_services.Options.AckTimeoutSeconds}s");
        }
        catch (XmppStreamException e)
        {
            // The peer sent what we cannot parse: tell it so before giving up.
            await Core.CloseAsync(e.Condition, e.Text);
            throw new S2sLinkException(Peer.Domain, $"bad input from the peer: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or SocketException or AuthenticationException or ObjectDisposedException or InvalidOperationException)
        {
            throw new S2sLinkException(Peer.Domain, e.Message, e);
        }
    }

    public Task RunStepAsync(Func<CancellationToken, Task> step, CancellationToken cancellationToken) =>
        RunStepAsync<bool>(async token =>
        {
            await step(token);
            return true;
        }, cancellationToken);

    private async Task SecureAsync(CancellationToken cancellationToken)
    {
        await OpenStreamAsync(cancellationToken);
        // RFC 6120 §5.3.1: we require TLS whatever the peer says about it.
        if (Features.Element("starttls", Namespaces.Tls) is null) throw new S2sLinkException(Peer.Domain, "the peer does not offer STARTTLS");
        await Core.SendAsync(new XmlElement("starttls", Namespaces.Tls));
        var answer = await ReadElementAsync(cancellationToken);
        if (answer.Name != "proceed" || answer.Namespace != Namespaces.Tls) throw new S2sLinkException(Peer.Domain, $"STARTTLS refused: {answer}");
        await Core.StartTlsAsClientAsync(_services.ClientTls(Peer.Domain), cancellationToken);
        await OpenStreamAsync(cancellationToken);
    }

    private async Task OpenStreamAsync(CancellationToken cancellationToken)
    {
        await Core.SendHeaderAsync();
        var token = await Core.ReadAsync(cancellationToken);
        if (token.Kind != StreamTokenKind.Header) throw new S2sLinkException(Peer.Domain, "the peer closed the connection instead of opening a stream");
        var header = token.Element!;
        if (header.Name != "stream" || header.Namespace != Namespaces.Streams) throw new S2sLinkException(Peer.Domain, "the peer's root element is not <stream:stream>");
        StreamId = header.Attribute("id") ?? throw new S2sLinkException(Peer.Domain, "the peer's stream header has no id (RFC 6120 §4.7.3)");
        var features = await ReadElementAsync(cancellationToken);
        if (features.Name != "features" || features.Namespace != Namespaces.Streams) throw new S2sLinkException(Peer.Domain, $"expected <stream:features/>, got {features}");
        Features = features;
    }

    /// <summary>The next element; a stream error, the stream's end or a closed connection is an <see cref="S2sLinkException"/>.</summary>
    public async Task<XmlElement> ReadElementAsync(CancellationToken cancellationToken)
    {
        var token = await Core.ReadAsync(cancellationToken);
        switch (token.Kind)
        {
            case StreamTokenKind.Element when S2sXml.IsStreamError(token.Element!):
                var condition = S2sXml.StreamErrorCondition(token.Element!);
                var text = token.Element!.Element("text", Namespaces.StreamErrors)?.Text;
                throw new S2sLinkException(Peer.Domain, $"stream error {condition}{(string.IsNullOrEmpty(text) ? "" : $": {text}")}", streamError: condition);
            case StreamTokenKind.Element:
                return token.Element!;
            case StreamTokenKind.Header:
                throw new S2sLinkException(Peer.Domain, "unexpected stream header");
            default:
                throw new S2sLinkException(Peer.Domain, "the peer closed the stream");
        }
    }

    /// <summary>Closes our side with &lt;/stream:stream&gt;, waits briefly for the peer's close, releases the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await Core.CloseGracefullyAsync();
        await Core.ShutdownAsync();
        await _pipe.DisposeAsync();
    }
}
