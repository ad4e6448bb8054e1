using System.Net;
using System.Net.Sockets;

namespace Mmss.Faults;

/// <summary>
/// A loopback TCP proxy between one terminal and the MMSS that can cut the link without a close: it stops forwarding
/// both ways and keeps both sockets open, as when a radio link dies (no FIN, no RST). Only the server's own XEP-0199
/// ping can then tell the session is dead; when the server closes its side the cut is "noticed", and the terminal's
/// side is reset so that it reconnects.
/// </summary>
public sealed class HalfOpenProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<IPEndPoint> _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private Link? _current;

    /// <param name="server">where to connect each new link; read at each connection, since a restarted server may move</param>
    public HalfOpenProxy(Func<IPEndPoint> server)
    {
        _server = server;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>
    /// Cuts the current link and waits for the server to close its side; returns how long that took, or null when it
    /// did not within <paramref name="timeout"/> (or there was no link). The terminal's side is then reset.
    /// </summary>
    public async Task<TimeSpan?> CutAsync(TimeSpan timeout)
    {
        var link = Volatile.Read(ref _current);
        if (link is null) return null;
        var started = DateTime.UtcNow;
        link.Cut = true;
        var noticed = await Task.WhenAny(link.ServerClosed.Task, Task.Delay(timeout)) == link.ServerClosed.Task;
        link.Reset();
        return noticed ? DateTime.UtcNow - started : null;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket terminal;
            try
            {
                terminal = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await server.ConnectAsync(_server(), _stop.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                // The server is down (killed, restarting): the terminal sees its connection reset and tries again.
                server.Dispose();
                Link.ResetSocket(terminal);
                continue;
            }
            var link = new Link(terminal, server);
            Volatile.Write(ref _current, link);
            link.Start();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Volatile.Read(ref _current)?.Reset();
        _stop.Dispose();
    }

    private sealed class Link(Socket terminal, Socket server)
    {
        private int _closed;

        public volatile bool Cut;
        public TaskCompletionSource ServerClosed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Start()
        {
            _ = PumpAsync(terminal, server, fromServer: false);
            _ = PumpAsync(server, terminal, fromServer: true);
        }

        /// <summary>Copies one direction; once cut, reads on and drops what it reads, so that writes keep succeeding.</summary>
        private async Task PumpAsync(Socket from, Socket to, bool fromServer)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                    if (read == 0) break;
                    if (!Cut) await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            if (fromServer) ServerClosed.TrySetResult();
            // A cut link stays open on the terminal's side until CutAsync resets it; an intact one closes as it came.
            if (!Cut) Close();
        }

        private void Close()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 1) return;
            terminal.Dispose();
            server.Dispose();
        }

        public void Reset()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 1) return;
            ResetSocket(terminal);
            server.Dispose();
        }

        /// <summary>Closes with RST (linger 0), as a link that comes back finds its peer's state gone.</summary>
        public static void ResetSocket(Socket socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (SocketException)
            {
            }
            socket.Dispose();
        }
    }
}
