using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using Mmss.Gateway.C2s;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.Streams;

/// <summary>Ending the stream: stream errors, the graceful close, and a transport shutdown that does not lose the last bytes.</summary>
public sealed partial class XmppStreamCore
{
    /// <summary>Ends the stream with a stream error (RFC 6120 §4.9) and stops reading. Safe to call from any thread, any number of times.</summary>
    public async Task CloseAsync(StreamErrorCondition condition, string? text)
    {
        if (!TryBeginClose()) return;
        await SendStreamErrorAsync(condition, text);
    }

    /// <summary>Marks the stream closing; true for the one caller that did it (who then sends the error or the close).</summary>
    public bool TryBeginClose() => Interlocked.Exchange(ref _closing, 1) == 0;

    /// <summary>The second half of <see cref="CloseAsync"/>, for an owner that must act between marking and sending.</summary>
    public async Task SendStreamErrorAsync(StreamErrorCondition condition, string? text)
    {
        Interlocked.Exchange(ref _closing, 1);
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
                    XmlWriter.Write(_output, new XmlElement(condition.ToElementName(), Namespaces.StreamErrors), ContentNamespace);
                    if (text is not null) XmlWriter.Write(_output, new XmlElement("text", Namespaces.StreamErrors).AddText(text), ContentNamespace);
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
            _log.LogDebug("Could not send stream error {Condition}: {Reason}", condition.ToElementName(), e.Message);
        }
        finally
        {
            _input.CancelPendingRead();
        }
    }

    /// <summary>Ends our direction of the stream with &lt;/stream:stream&gt; (RFC 6120 §4.4).</summary>
    /// <param name="stopReading">
    /// wake a read pending elsewhere so that its loop ends; the read loop itself passes false, and so keeps the
    /// transport's input readable for <see cref="ShutdownAsync"/>'s drain
    /// </param>
    public async Task CloseGracefullyAsync(bool stopReading = true)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        try
        {
            await WriteRawAsync(StreamClose, closeAfter: true);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or ConnectionResetException)
        {
            _log.LogDebug("Could not close the stream: {Reason}", e.Message);
        }
        finally
        {
            if (stopReading) _input.CancelPendingRead();
        }
    }

    /// <summary>
    /// Closes the transport: our direction first (TLS close_notify, then FIN), then reads what the peer still sends until it
    /// closes too or a short grace passes. Closing a socket with unread input makes the kernel send a reset, which can
    /// destroy the stream error the peer has not read yet.
    /// </summary>
    public async Task ShutdownAsync()
    {
        Interlocked.Exchange(ref _closing, 1);
        await _writeLock.WaitAsync();
        try
        {
            _outputClosed = true;
            await CompleteCompressionLockedAsync();
            if (_tls is not null)
            {
                await _output.CompleteAsync();
                await _tls.ShutdownAsync();
            }
            await _transport.Output.CompleteAsync();
            _transportOutputCompleted?.Invoke();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or AuthenticationException
                                       or ConnectionResetException)
        {
            _log.LogDebug("Closing the transport: {Reason}", e.Message);
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
                var result = await _transport.Input.ReadAsync(grace.Token);
                _transport.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException
                                       or ConnectionResetException)
        {
        }
        if (_tls is not null) await _tls.DisposeAsync();
    }
}
