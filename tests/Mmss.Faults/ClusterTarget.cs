using System.Net;
using Mmss.Integration.Tests.Cluster;

namespace Mmss.Faults;

/// <summary>
/// A cluster of two silos and two gateways on a PostgreSQL of its own (the integration tests' <see cref="MmssCluster"/>),
/// provisioned through the admin API. Terminals connect to the gateways in turn, skipping one that is down.
/// </summary>
public sealed class ClusterTarget(MmssCluster cluster) : IMmssTarget
{
    private int _next;

    public MmssCluster Cluster { get; } = cluster;

    public string Domain => MmssCluster.Domain;

    public IPEndPoint NextC2sEndpoint()
    {
        var gateways = Cluster.Gateways;
        var start = Interlocked.Increment(ref _next);
        for (var i = 0; i < gateways.Count; i++)
        {
            var gateway = gateways[(start + i) % gateways.Count];
            if (gateway.Process.IsRunning) return new IPEndPoint(IPAddress.Loopback, gateway.C2sPort);
        }
        return new IPEndPoint(IPAddress.Loopback, gateways[start % gateways.Count].C2sPort);
    }

    public static async Task<ClusterTarget> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var cluster = await MmssCluster.StartAsync(silos: 2, gateways: 2, settings);
        try
        {
            await cluster.ProvisionUsersAsync(Enumerable.Range(0, Population.UserCount).Select(Population.Udn), Population.Password);
            foreach (var group in Population.Groups)
                await cluster.ProvisionGroupAsync(Population.Gdn(group), Population.Members(group).Select(Population.Udn).ToList());
            return new ClusterTarget(cluster);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}
