using System.IO.Pipelines;
using System.Net.Sockets;

namespace Mmss.Gateway.Streams;

/// <summary>
/// A socket as the pair of pipes <see cref="XmppStreamCore"/> works on: outgoing server-to-server streams and the client
/// listener's connections (<see cref="C2s.C2sListener"/>). Reads and writes run on the caller's own continuations, with
/// no loop of their own between the socket and the stream.
/// </summary>
public sealed class SocketDuplexPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    public SocketDuplexPipe(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        // Zero-byte reads: an idle link holds no read buffer until bytes arrive.
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true,
            useZeroByteReads: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>The socket as a stream, for TLS to run on directly once nothing is buffered in <see cref="Input"/>.</summary>
    public Stream Stream => _stream;

    /// <summary>Connects to host:port within the timeout; TCP_NODELAY because stanzas are small and acknowledged one run at a time.</summary>
    public static async Task<SocketDuplexPipe> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(host, port, deadline.Token);
            return new SocketDuplexPipe(socket);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"no connection to {host}:{port} within {timeout.TotalSeconds:0.#}s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends FIN: completing a stream-backed pipe does not, and the peer waits for it to close its side (RFC 6120 §4.4).</summary>
    public void ShutdownSend()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Input.CompleteAsync();
            // Flushes what is still buffered, which fails on a connection the peer reset: the socket is closed all the same.
            await Output.CompleteAsync();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            await _stream.DisposeAsync();
            _socket.Dispose();
        }
    }
}
