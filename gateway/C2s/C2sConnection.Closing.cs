using System.Buffers;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>Ending the stream: stream errors, the client's close, and a transport close that does not lose the last bytes.</summary>
public sealed partial class C2sConnection
{
    private static readonly byte[] StreamErrorOpen = "<stream:error>"u8.ToArray();
    private static readonly byte[] StreamErrorClose = "</stream:error></stream:stream>"u8.ToArray();

    /// <summary>Ends the stream with a stream error (RFC 6120 §4.9) and stops reading. Safe to call from any thread, once or many times.</summary>
    public async Task CloseAsync(StreamErrorCondition condition, string? text)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        // A connection found dead keeps a resumable session for its terminal (XEP-0198 §5); any other error ends it.
        _sessionEnds = condition != StreamErrorCondition.ConnectionTimeout;
        try
        {
            await _writeLock.WaitAsync();
            try
            {
                if (!_outputClosed)
                {
                    _outputClosed = true;
                    if (!_headerSent) WriteHeaderLocked();
                    _output.Write(StreamErrorOpen);
                    var error = new XmlElement(condition.ToElementName(), Namespaces.StreamErrors);
                    XmlWriter.Write(_output, error, Namespaces.Client);
                    if (text is not null) XmlWriter.Write(_output, new XmlElement("text", Namespaces.StreamErrors).AddText(text), Namespaces.Client);
                    _output.Write(StreamErrorClose);
                    await _output.FlushAsync();
                }
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or ConnectionResetException)
        {
            Log.LogDebug("Could not send {Condition} to connection {ConnectionId}: {Reason}", condition.ToElementName(), Id, e.Message);
        }
        finally
        {
            _input.CancelPendingRead();
        }
    }

    private async Task CloseGracefullyAsync()
    {
        Interlocked.Exchange(ref _closing, 1);
        _sessionEnds = true;
        await WriteRawAsync("</stream:stream>"u8.ToArray(), closeAfter: true);
        Log.LogDebug("Connection {ConnectionId} ({Udn}) closed its stream", Id, Udn ?? "unauthenticated");
    }

    /// <summary>
    /// Closes our direction first (TLS close_notify, then FIN) and reads what the client still sends until it closes
    /// too or a short grace period passes (RFC 6120 §4.4). Closing a socket with unread input makes the kernel send
    /// a reset, which can destroy the stream error the client has not read yet.
    /// </summary>
    private async Task ShutdownTransportAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            _outputClosed = true;
            if (_tls is not null)
            {
                await _output.CompleteAsync();
                await _tls.ShutdownAsync();
            }
            await _context.Transport.Output.CompleteAsync();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or AuthenticationException)
        {
            Log.LogDebug("Closing connection {ConnectionId}: {Reason}", Id, e.Message);
        }
        finally
        {
            _writeLock.Release();
        }

        using var grace = new CancellationTokenSource(DrainTimeout);
        try
        {
            while (true)
            {
                var result = await _context.Transport.Input.ReadAsync(grace.Token);
                _context.Transport.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException or ConnectionResetException)
        {
        }
        if (_tls is not null) await _tls.DisposeAsync();
    }

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);
}
