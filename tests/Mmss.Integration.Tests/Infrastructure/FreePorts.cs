using System.Net;
using System.Net.Sockets;

namespace Mmss.Integration.Tests.Infrastructure;

public static class FreePorts
{
    /// <summary>Ports the OS says are free now; each listener is held until all are picked so no two coincide.</summary>
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ =>
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return listener;
        }).ToArray();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var listener in listeners) listener.Stop();
        return ports;
    }
}
