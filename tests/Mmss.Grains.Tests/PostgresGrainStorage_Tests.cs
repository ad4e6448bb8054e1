using Microsoft.Extensions.DependencyInjection;
using Mmss.Silo.Cluster;
using Orleans.Storage;

namespace Mmss.Grains.Tests;

/// <summary>
/// The cluster's grain storage writes rows through its own group-committed writer and reads them through Orleans'
/// ADO.NET provider: a row either side writes must be the row the other reads, for every shape of grain key the MMSS
/// uses (strings for users, groups and messages, an integer for the directories), with the provider's version check.
/// </summary>
[Collection(PostgresCluster.Name)]
public sealed class PostgresGrainStorage_Tests(PostgresClusterFixture fixture)
{
    private IServiceProvider Silo => fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Primary!.SiloAddress);

    private PostgresGrainStorage Storage =>
        (PostgresGrainStorage)((CountingGrainStorage)Silo.GetRequiredKeyedService<IGrainStorage>(StorageNames.Default)).Inner;

    private IGrainStorage Provider => Silo.GetRequiredKeyedService<IGrainStorage>(StorageNames.Default + ".adonet");

    public static TheoryData<string> Keys => new()
    {
        "string",
        "integer",
        "integer+extension",
        "guid",
        "guid+extension",
        // A string key that reads as an integer key: the provider takes it as one, and so must the writer.
        "hex16",
    };

    private static GrainId KeyOf(string shape, string unique)
    {
        var type = GrainType.Create("pgstorage-" + shape);
        var number = Random.Shared.NextInt64(1, long.MaxValue);
        return shape switch
        {
            "string" => GrainId.Create(type, "user-" + unique),
            "integer" => GrainId.Create(type, GrainIdKeyExtensions.CreateIntegerKey(number)),
            "integer+extension" => GrainId.Create(type, GrainIdKeyExtensions.CreateIntegerKey(number, "ext-" + unique)),
            "guid" => GrainId.Create(type, GrainIdKeyExtensions.CreateGuidKey(Guid.NewGuid())),
            "guid+extension" => GrainId.Create(type, GrainIdKeyExtensions.CreateGuidKey(Guid.NewGuid(), "ext-" + unique)),
            "hex16" => GrainId.Create(type, number.ToString("x16")),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task A_state_written_here_is_read_by_the_provider_and_written_on_by_both_under_its_version(string shape)
    {
        var id = KeyOf(shape, Guid.NewGuid().ToString("N")[..8]);
        var mine = new GrainState<UploadAllowanceState>(new UploadAllowanceState { Day = new DateOnly(2026, 12, 2), Bytes = 1 });
        await Storage.WriteStateAsync("uploads", id, mine);
        Assert.Equal("1", mine.ETag);
        Assert.True(mine.RecordExists);

        var read = new GrainState<UploadAllowanceState>(new UploadAllowanceState());
        await Provider.ReadStateAsync("uploads", id, read);
        Assert.True(read.RecordExists);
        Assert.Equal((1L, "1"), (read.State!.Bytes, read.ETag));

        // The provider writes on under the version it read; this side then needs that new version.
        read.State!.Bytes = 2;
        await Provider.WriteStateAsync("uploads", id, read);
        mine.State!.Bytes = 3;
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("uploads", id, mine));
        mine.ETag = read.ETag;
        await Storage.WriteStateAsync("uploads", id, mine);
        Assert.Equal("3", mine.ETag);

        var again = new GrainState<UploadAllowanceState>(new UploadAllowanceState());
        await Provider.ReadStateAsync("uploads", id, again);
        Assert.Equal((3L, "3"), (again.State!.Bytes, again.ETag));

        // A second first write (another activation that read nothing) loses to the row that exists.
        var rival = new GrainState<UploadAllowanceState>(new UploadAllowanceState { Bytes = 9 });
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("uploads", id, rival));

        // Cleared through the provider, the row is gone for both.
        await Storage.ClearStateAsync("uploads", id, again);
        var gone = new GrainState<UploadAllowanceState>(new UploadAllowanceState());
        await Provider.ReadStateAsync("uploads", id, gone);
        Assert.False(gone.RecordExists);
    }

    [Fact]
    public async Task Concurrent_writes_of_many_grains_share_commits()
    {
        var database = Silo.GetRequiredService<PostgresDatabase>();
        var before = database.CommittedBatches;
        var ids = Enumerable.Range(0, 300).Select(i => GrainId.Create(GrainType.Create("pgstorage-batch"), $"storm-{Guid.NewGuid():N}")).ToArray();
        var states = ids.Select(_ => new GrainState<UploadAllowanceState>(new UploadAllowanceState { Bytes = 7 })).ToArray();

        await Task.WhenAll(ids.Select((id, i) => Storage.WriteStateAsync("uploads", id, states[i])));

        Assert.All(states, s => Assert.Equal("1", s.ETag));
        // One transaction per write would be 300 commits; other tests' writes may share these batches too.
        var commits = database.CommittedBatches - before;
        Assert.InRange(commits, 1, 60);
        var read = new GrainState<UploadAllowanceState>(new UploadAllowanceState());
        await Provider.ReadStateAsync("uploads", ids[^1], read);
        Assert.Equal(7L, read.State!.Bytes);
    }
}
