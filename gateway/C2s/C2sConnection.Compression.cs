using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>XEP-0138 stream compression (zlib): offered once authenticated, a pipe layer of the stream core.</summary>
public sealed partial class C2sConnection
{
    private const string Zlib = "zlib";

    private readonly bool _overWebSocket;

    /// <summary>
    /// XEP-0138 §4: offered after authentication (so the compressed data never holds credentials) and before resource
    /// binding (the stream restarts), once, only when enabled, and never over WebSocket (RFC 7395 §3.3.3).
    /// </summary>
    private bool CompressionOffered => _services.Options.Compression && !_overWebSocket && Udn is not null && !IsBound && !_core.IsCompressed;

    private XmlElement CompressionFeature()
    {
        var compression = new XmlElement("compression", Namespaces.CompressFeature);
        compression.AddElement("method", text: Zlib);
        return compression;
    }

    private async ValueTask HandleCompressAsync(XmlElement stanza)
    {
        if (stanza.Name != "compress")
            throw new XmppStreamException(StreamErrorCondition.UnsupportedStanzaType, $"<{stanza.Name}/> is not a compression request");
        var method = stanza.Element("method", Namespaces.Compress)?.Text.Trim();
        if (!CompressionOffered)
        {
            await CompressionFailureAsync("setup-failed", Udn is null ? "compression before authentication" : "compression is not offered");
            return;
        }
        if (method != Zlib)
        {
            await CompressionFailureAsync("unsupported-method", $"method '{method}' is not offered");
            return;
        }
        await SendNonzaAsync(new XmlElement("compressed", Namespaces.Compress));
        await _core.StartCompressionAsync(_services.Options.MaxCompressionRatio);
        Log.LogDebug("Connection {ConnectionId} of {Udn} compressed with zlib", Id, Udn);
    }

    private async ValueTask CompressionFailureAsync(string condition, string reason)
    {
        Log.LogInformation("Compression refused to {Udn} on connection {ConnectionId}: {Reason}", Udn ?? "(unauthenticated)", Id, reason);
        var failure = new XmlElement("failure", Namespaces.Compress);
        failure.AddElement(condition, Namespaces.Compress);
        await SendNonzaAsync(failure);
    }
}
