using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>Ending the stream: stream errors, the client's close, and a transport close that does not lose the last bytes.</summary>
public sealed partial class C2sConnection
{
    /// <summary>Ends the stream with a stream error (RFC 6120 §4.9) and stops reading. Safe to call from any thread, once or many times.</summary>
    public async Task CloseAsync(StreamErrorCondition condition, string? text)
    {
        if (!_core.TryBeginClose()) return;
        // A connection found dead keeps a resumable session for its terminal (XEP-0198 §5); any other error ends it.
        _sessionEnds = condition != StreamErrorCondition.ConnectionTimeout;
        await _core.SendStreamErrorAsync(condition, text);
    }

    private async Task CloseGracefullyAsync()
    {
        _sessionEnds = true;
        // Called from the read loop: nothing to wake, and the input stays readable for the shutdown's drain.
        await _core.CloseGracefullyAsync(stopReading: false);
        Log.LogDebug("Connection {ConnectionId} ({Udn}) closed its stream", Id, Udn ?? "unauthenticated");
    }

    /// <summary>
    /// Closes our direction first (TLS close_notify, then FIN) and reads what the client still sends until it closes
    /// too or a short grace period passes (RFC 6120 §4.4): see <see cref="Streams.XmppStreamCore.ShutdownAsync"/>.
    /// </summary>
    private Task ShutdownTransportAsync() => _core.ShutdownAsync();
}
