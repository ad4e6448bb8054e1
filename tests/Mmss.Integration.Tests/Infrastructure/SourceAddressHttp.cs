using System.Net;
using System.Net.Sockets;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>
/// HTTP clients whose connections come from a chosen loopback address (127.0.0.0/8 is all loopback on Linux): the
/// server sees as many clients as the test needs, each with an address of its own.
/// </summary>
public static class SourceAddressHttp
{
    public static HttpClient From(string source, EmbeddedServer server) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellation) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellation);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    {
        BaseAddress = new Uri($"http://{server.Host}:{server.HttpPort}/"),
        Timeout = TimeSpan.FromSeconds(30),
    };
}
