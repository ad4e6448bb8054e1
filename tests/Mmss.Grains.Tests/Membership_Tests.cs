using Mmss.GrainInterfaces;

namespace Mmss.Grains.Tests;

/// <summary>The reverse index a roster reads: the talk groups of one UDN follow every change of every group.</summary>
public abstract class Membership_Tests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    private Task<string[]> GroupsOfAsync(string udn) => Grains.GetGrain<IMembershipGrain>(udn).GetGroupsAsync();

    [Fact]
    public async Task A_member_lists_its_groups_in_order_and_loses_those_it_leaves_or_that_are_removed()
    {
        await Grains.GetGrain<IGroupGrain>("98702").SetAsync("B", ["m9801", "m9802"]);
        await Grains.GetGrain<IGroupGrain>("98701").SetAsync("A", ["m9801", "m9803"]);
        Assert.Equal(["98701", "98702"], await GroupsOfAsync("m9801"));
        Assert.Equal(["98702"], await GroupsOfAsync("m9802"));

        await Grains.GetGrain<IGroupGrain>("98702").SetAsync("B", ["m9802", "m9803"]);
        Assert.Equal(["98701"], await GroupsOfAsync("m9801"));
        Assert.Equal(["98701", "98702"], await GroupsOfAsync("m9803"));

        await Grains.GetGrain<IGroupGrain>("98701").RemoveAsync();
        Assert.Empty(await GroupsOfAsync("m9801"));
        Assert.Equal(["98702"], await GroupsOfAsync("m9803"));
    }
}

[Collection(SqliteCluster.Name)]
public sealed class Membership_Tests_on_Sqlite(SqliteClusterFixture fixture) : Membership_Tests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class Membership_Tests_on_Postgres(PostgresClusterFixture fixture) : Membership_Tests(fixture);
