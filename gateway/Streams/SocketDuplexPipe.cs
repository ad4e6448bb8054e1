using System.IO.Pipelines;
using System.Net.Sockets;

namespace Mmss.Gateway.Streams;

/// <summary>
/// An outgoing socket as the pair of pipes <see cref="XmppStreamCore"/> works on, the shape Kestrel gives incoming ones,
/// so that one stream core serves both directions.
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
        await Input.CompleteAsync();
        await Output.CompleteAsync();
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}
