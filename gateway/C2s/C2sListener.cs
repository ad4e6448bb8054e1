using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Streams;

namespace Mmss.Gateway.C2s;

/// <summary>
/// The client listeners (STARTTLS on <see cref="C2sOptions.Port"/>, direct TLS on <see cref="C2sOptions.TlsPort"/>) on
/// plain sockets rather than Kestrel. Kestrel's connection adds a pair of pipes, a receive loop and a send loop to every
/// socket, and a heartbeat that visits every connection each second: per idle terminal that is about 2.5 KB of heap
/// and a fifth of the CPU at rest (19,000 connections), and per stanza a thread hop each way between Kestrel's loops and
/// the stream. Here a connection reads and writes its socket itself (<see cref="SocketDuplexPipe"/>), and TLS runs
/// straight over the socket. HTTP, WebSocket and server-to-server stay on Kestrel.
/// </summary>
public sealed class C2sListener(C2sServices services, IOptions<C2sOptions> options, ILogger<C2sListener> logger) : IHostedService
{
    /// <summary>Pending connections the kernel queues before accepting (Kestrel's default).</summary>
    private const int Backlog = 512;

    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var address = IPAddress.Parse(options.Value.BindAddress);
        // Bound here, before the host reports started: a port in use fails the start, as Kestrel's listeners do.
        _listeners.Add(Bind(new IPEndPoint(address, options.Value.Port)));
        _listeners.Add(Bind(new IPEndPoint(address, options.Value.TlsPort)));
        _acceptLoops.Add(AcceptLoopAsync(_listeners[0], directTls: false));
        _acceptLoops.Add(AcceptLoopAsync(_listeners[1], directTls: true));
        return Task.CompletedTask;
    }

    /// <summary>Stops accepting; open streams are closed by <see cref="C2sShutdown"/>, which runs first.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var listener in _listeners) listener.Dispose();
        await Task.WhenAll(_acceptLoops).WaitAsync(cancellationToken);
    }

    private Socket Bind(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            // A restarted server binds again at once although its previous connections linger in TIME_WAIT.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        logger.LogInformation("XMPP client listener on {EndPoint}", socket.LocalEndPoint);
        return socket;
    }

    private async Task AcceptLoopAsync(Socket listener, bool directTls)
    {
        await Task.Yield();
        var lastWarning = long.MinValue / 2;
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of descriptors, say: the connection waits in the backlog; trying again at once would spin, and a
                // warning every try would flood the log while the condition lasts.
                var now = Environment.TickCount64;
                if (now - lastWarning >= 10_000)
                {
                    logger.LogWarning("Accepting a client connection on {EndPoint} failed: {Reason}", listener.LocalEndPoint, e.Message);
                    lastWarning = now;
                }
                await Task.Delay(100);
                continue;
            }
            _ = ServeAsync(socket, directTls);
        }
    }

    /// <summary>
    /// Starts the connection and returns: the connection disposes its pipes when it ends. Waiting here for its end would
    /// hold a state machine for the connection's whole life (160 bytes per idle terminal).
    /// </summary>
    private async Task ServeAsync(Socket socket, bool directTls)
    {
        await Task.Yield();
        SocketDuplexPipe? pipe = null;
        try
        {
            socket.NoDelay = true;
            pipe = new SocketDuplexPipe(socket);
            var connection = new C2sConnection(pipe, socket.RemoteEndPoint, services, transportOutputCompleted: pipe.ShutdownSend,
                ownedTransport: pipe);
            _ = connection.RunAsync(directTls);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Client connection from {EndPoint} could not start", SafeRemoteEndPoint(socket));
            if (pipe is not null) await pipe.DisposeAsync();
            else socket.Dispose();
        }
    }

    private static EndPoint? SafeRemoteEndPoint(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }
}
