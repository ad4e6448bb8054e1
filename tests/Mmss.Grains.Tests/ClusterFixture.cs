using Microsoft.Extensions.DependencyInjection;
using Mmss.Silo;
using Orleans.Runtime.Hosting;
using Orleans.TestingHost;

namespace Mmss.Grains.Tests;

/// <summary>A two-silo in-process Orleans cluster with the real grains; storage in memory, shared by both silos.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.StopAllSilosAsync();

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.Services.AddGrainStorage(StorageNames.Default, (_, _) => CountingGrainStorage.Shared);
            silo.Services.AddSingleton<IMailboxStore>(InMemoryMailboxStore.Shared);
            silo.Services.AddSingleton<TimeProvider>(ShiftableTimeProvider.Shared);
            silo.Services.AddOptions<MailboxOptions>().Configure(o =>
            {
                o.RedeliverAfterSeconds = 3600;
                o.ExpirySweepSeconds = 3600;
                o.GroupAggregationSeconds = 2;
            });
            silo.AddMmssGrainServices();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "two-silo cluster";
}
