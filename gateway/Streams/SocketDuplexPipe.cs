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
    // Zero-byte reads: an idle link holds no read buffer until bytes arrive.
    private static readonly StreamPipeReaderOptions ReaderOptions = new(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true,
        useZeroByteReads: true);
    private static readonly StreamPipeWriterOptions WriterOptions = new(leaveOpen: true);

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private PipeReader? _input;
    private PipeWriter? _output;

    public SocketDuplexPipe(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    public PipeReader Input => _input ??= PipeReader.Create(_stream, ReaderOptions);

    public PipeWriter Output => _output ??= PipeWriter.Create(_stream, WriterOptions);

    /// <summary>The socket as a stream, for TLS to run on directly once nothing is buffered in <see cref="Input"/>.</summary>
    public Stream Stream => _stream;

    /// <summary>
    /// Gives back the pipes once TLS runs over <see cref="Stream"/>: on an idle connection they would keep their pooled
    /// segments and a token source for nothing (about half a kilobyte). Used again (to close), new ones are made.
    /// </summary>
    public void ReleasePipes()
    {
        _input?.Complete();
        _input = null;
        _output?.Complete();
        _output = null;
    }

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
            if (_input is not null) await _input.CompleteAsync();
            // Flushes what is still buffered, which fails on a connection the peer reset: the socket is closed all the same.
            if (_output is not null) await _output.CompleteAsync();
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
