using System.Net;
using System.Net.Sockets;

namespace Mmss.Integration.Tests.Infrastructure;

public static class FreePorts
{
    /// <summary>
    /// Below Linux's ephemeral range (32768–60999): a port the OS hands out for "any free port" is also a port it may
    /// give to an outgoing connection a moment later, and a server restarted on it (a killed silo) would then fail to bind.
    /// </summary>
    private const int First = 20000, Last = 32000;

    /// <summary>
    /// Every port handed out in this process: a port is free until its server binds it, so two calls (two servers of one
    /// fixture, each with its own broker) could otherwise both get it, and one server would fail to start.
    /// </summary>
    private static readonly HashSet<int> Given = [];

    /// <summary>Ports free now on every address and never handed out before in this process.</summary>
    public static int[] Take(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            while (listeners.Count < count)
            {
                var port = Random.Shared.Next(First, Last);
                lock (Given)
                {
                    if (!Given.Add(port)) continue;
                }
                var listener = new TcpListener(IPAddress.Any, port);
                try
                {
                    listener.Start();
                    listeners.Add(listener);
                }
                catch (SocketException)
                {
                    // Taken: try another.
                }
            }
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners) listener.Stop();
        }
    }
}
