using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Mmss.GrainInterfaces;
using Orleans.Storage;

namespace Mmss.Grains.Tests;

/// <summary>
/// Presence among talk-group members, the grains alone (a recording observer stands in for the gateways): what the
/// user grains keep and push, including when a gateway dies; and the membership index rosters and presence read.
/// </summary>
public abstract class Presence_Tests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    private async Task ProvisionAsync(params string[] udns)
    {
        foreach (var udn in udns) await Grains.GetGrain<IUserGrain>(udn).ProvisionAsync("Unit " + udn, TestCredentials.Unusable);
    }

    private static PresenceUpdate Available(string udn, string resource, string status) =>
        new(udn, resource, true, Encoding.UTF8.GetBytes($"<status>{status}</status>"));

    [Fact]
    public async Task Members_exchange_presence_and_a_member_whose_gateway_dies_goes_unavailable()
    {
        var observer = new RecordingObserver();
        var reference = Grains.CreateObjectReference<ISessionObserver>(observer);
        var directory = Grains.GetGrain<IGatewayDirectoryGrain>(0);
        await directory.RefreshAsync("gw-pr-alive");
        await directory.RefreshAsync("gw-pr-dead");
        await ProvisionAsync("pr-a", "pr-b");
        await Grains.GetGrain<IGroupGrain>("98801").SetAsync("Presence", ["pr-a", "pr-b"]);
        var a = Grains.GetGrain<IUserGrain>("pr-a");
        var b = Grains.GetGrain<IUserGrain>("pr-b");
        await a.AttachSessionAsync(new SessionHandle("gw-pr-alive", "gw-pr-alive/1", reference));
        await a.SetPresenceAsync("gw-pr-alive/1", Available("pr-a", "dc", "dispatch"));
        await b.AttachSessionAsync(new SessionHandle("gw-pr-dead", "gw-pr-dead/2", reference));

        await b.SetPresenceAsync("gw-pr-dead/2", Available("pr-b", "ue", "patrol"));

        var seen = await observer.NextPresenceAsync("gw-pr-alive/1", p => p.Udn == "pr-b");
        Assert.True(seen.Available);
        Assert.Equal("ue", seen.Resource);
        Assert.Equal("<status>patrol</status>", Encoding.UTF8.GetString(seen.Payload!));
        var current = await observer.NextPresenceAsync("gw-pr-dead/2", p => p.Udn == "pr-a");
        Assert.Equal("dc", current.Resource);
        Assert.True(await a.IsContactAsync("pr-b"));

        // Nobody tells the grain its session's gateway died: it notices, and its contacts learn it.
        await directory.RemoveAsync("gw-pr-dead");
        var gone = await observer.NextPresenceAsync("gw-pr-alive/1", p => p.Udn == "pr-b" && !p.Available,
            TimeSpan.FromSeconds(2 * new MailboxOptions().GatewayExpirySeconds));
        Assert.Equal("ue", gone.Resource);
    }

    [Fact]
    public async Task Groups_larger_than_the_presence_limit_make_no_contacts()
    {
        await ProvisionAsync("pr-big-1", "pr-big-2");
        var members = Enumerable.Range(0, new PresenceOptions().MaxGroupMembers + 1).Select(i => $"pr-big-{i}").ToArray();
        await Grains.GetGrain<IGroupGrain>("98802").SetAsync("Everyone", members);
        Assert.False(await Grains.GetGrain<IUserGrain>("pr-big-1").IsContactAsync("pr-big-2"));
        Assert.Null(await Grains.GetGrain<IGroupGrain>("98802").GetMembersUpToAsync(members.Length - 1));
    }

    [Fact]
    public async Task A_group_stored_before_the_membership_index_registers_its_members_once_activated()
    {
        // A group as an older version stored it: members, no membership rows, no mark.
        var group = Grains.GetGrain<IGroupGrain>("98803");
        var silo = fixture.Cluster.GetSiloServiceProvider(fixture.Cluster.Primary!.SiloAddress);
        var storage = silo.GetRequiredKeyedService<IGrainStorage>(StorageNames.Default);
        var old = new GrainState<GroupState>(new GroupState { Name = "Old", Members = ["pr-old-1", "pr-old-2"] });
        await storage.WriteStateAsync("group", ((GrainReference)group).GrainId, old);
        Assert.Empty(await Grains.GetGrain<IMembershipGrain>("pr-old-1").GetGroupsAsync());

        Assert.NotNull(await group.GetAsync());

        Assert.Equal(["98803"], await Grains.GetGrain<IMembershipGrain>("pr-old-1").GetGroupsAsync());
        Assert.Equal(["98803"], await Grains.GetGrain<IMembershipGrain>("pr-old-2").GetGroupsAsync());
    }
}

[Collection(SqliteCluster.Name)]
public sealed class Presence_Tests_on_Sqlite(SqliteClusterFixture fixture) : Presence_Tests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class Presence_Tests_on_Postgres(PostgresClusterFixture fixture) : Presence_Tests(fixture);
