using Xunit.Abstractions;

namespace Mmss.Integration.Tests.Cluster;

/// <summary>
/// One cluster — its own PostgreSQL, 2 silos, 2 gateways, each a separate process — shared by the test classes of a
/// collection (<see cref="ClusterCollection"/>; <see cref="PostgresRestartCollection"/> has one of its own). A test that kills a process leaves it to <see cref="RunAsync"/> of the next test to
/// start it again.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    /// <summary>What the tests rely on: fast redelivery, a killed gateway's sessions offline within ~8 s, server-to-server links on.</summary>
    public static readonly IReadOnlyDictionary<string, string> Settings = new Dictionary<string, string>
    {
        ["Mmss__Mailbox__RedeliverAfterSeconds"] = "5",
        ["Mmss__Mailbox__GatewayExpirySeconds"] = "6",
        ["Mmss__Mailbox__GroupAggregationSeconds"] = "30",
        ["Mmss__Mailbox__AttachmentGraceSeconds"] = "3",
        // Links to other domains (ClusterRelay_Tests adds its peer through the admin API); every gateway shares the key.
        ["Mmss__S2s__Enabled"] = "true",
        ["Mmss__S2s__DialbackSecret"] = "cluster-dialback-secret",
        ["Mmss__Relay__MaxRetrySeconds"] = "2",
    };

    private MmssCluster? _cluster;

    public MmssCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster did not start");

    public async Task InitializeAsync() => _cluster = await MmssCluster.StartAsync(silos: 2, gateways: 2, Settings);

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    /// <summary>
    /// Runs a test on a whole cluster: first starts what an earlier test left killed (and waits until all is ready);
    /// on failure writes the last lines of every process to the test's output and keeps the log files.
    /// </summary>
    public async Task RunAsync(ITestOutputHelper output, Func<MmssCluster, Task> test)
    {
        var cluster = Cluster;
        try
        {
            await cluster.EnsureAllRunningAsync();
            await test(cluster);
        }
        catch (Exception)
        {
            cluster.KeepLogs = true;
            output.WriteLine(cluster.Diagnostics());
            throw;
        }
    }
}

/// <summary>
/// The cluster tests: their own collection (they start five processes and load them; the assembly runs collections one
/// at a time, see xunit.runner.json), one cluster for all of them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "mmss cluster (2 silos, 2 gateways, PostgreSQL)";
}
