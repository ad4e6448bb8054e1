using System.Collections.Concurrent;
using Mmss.GrainInterfaces.Peers;

namespace Mmss.Grains.Tests;

/// <summary>
/// The cluster's peer directory: a change is stored under a new version and pushed to every listening process before
/// the call returns; numbers overlapping another stored peer's are refused with the reason.
/// </summary>
public abstract class PeerDirectory_Tests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    private IPeerDirectoryGrain Directory => Grains.GetGrain<IPeerDirectoryGrain>(0);

    private static PeerRecord Record(string domain, string udns) =>
        new(domain, domain + ":5269", "", udns, "", "a-secret-we-present-to-" + domain, PeerSecretHash.Hash("a-secret-it-presents-to-us"));

    private sealed class Listener : IPeerDirectoryObserver
    {
        public ConcurrentQueue<PeerDirectorySnapshot> Pushed { get; } = new();

        public Task PeersChangedAsync(PeerDirectorySnapshot snapshot)
        {
            Pushed.Enqueue(snapshot);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_change_is_pushed_to_every_listener_before_the_call_returns_and_a_poll_sees_its_version()
    {
        var listener = new Listener();
        var reference = Grains.CreateObjectReference<IPeerDirectoryObserver>(listener);
        var before = await Directory.GetAsync();
        Assert.Null(await Directory.ListenAsync("test-listener", reference, before.Version));

        var created = await Directory.PutAsync(Record("Dir.Test", "9500-9599"));
        Assert.Equal(new PeerPutOutcome(true, null), created);
        var pushed = Assert.Single(listener.Pushed);
        Assert.True(pushed.Version > before.Version);
        var stored = Assert.Single(pushed.Peers, p => p.Domain == "dir.test");
        Assert.True(PeerSecretHash.Matches(stored.InboundSecretHash, "a-secret-it-presents-to-us"));
        Assert.False(PeerSecretHash.Matches(stored.InboundSecretHash, "a-secret-we-present-to-dir.test"));
        Assert.Equal(new PeerPutOutcome(false, null), await Directory.PutAsync(Record("dir.test", "9500-9599,9700")));

        // A process that missed the pushes gets the directory at its next poll; one that holds it gets nothing.
        var current = await Directory.ListenAsync("test-listener", reference, before.Version);
        Assert.Equal("9500-9599,9700", Assert.Single(current!.Peers, p => p.Domain == "dir.test").Udns);
        Assert.Null(await Directory.ListenAsync("test-listener", reference, current.Version));

        Assert.True(await Directory.RemoveAsync("dir.test"));
        Assert.False(await Directory.RemoveAsync("dir.test"));
        Assert.Equal(3, listener.Pushed.Count);
        Assert.DoesNotContain(listener.Pushed.Last().Peers, p => p.Domain == "dir.test");
        await Directory.StopListeningAsync("test-listener");
        Grains.DeleteObjectReference<IPeerDirectoryObserver>(reference);
    }

    [Fact]
    public async Task Numbers_another_stored_peer_is_home_for_are_refused_with_the_reason()
    {
        Assert.True((await Directory.PutAsync(Record("dir-a.test", "9600-9649"))).Created);
        try
        {
            var refused = await Directory.PutAsync(Record("dir-b.test", "9640-9660"));
            Assert.False(refused.Created);
            Assert.Contains("overlap those of dir-a.test", refused.Refusal);
            Assert.DoesNotContain((await Directory.GetAsync()).Peers, p => p.Domain == "dir-b.test");
            Assert.Contains("Udns", (await Directory.PutAsync(Record("dir-b.test", "96x"))).Refusal);
        }
        finally
        {
            await Directory.RemoveAsync("dir-a.test");
        }
    }
}

[Collection(SqliteCluster.Name)]
public sealed class PeerDirectory_Tests_on_Sqlite(SqliteClusterFixture fixture) : PeerDirectory_Tests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PeerDirectory_Tests_on_Postgres(PostgresClusterFixture fixture) : PeerDirectory_Tests(fixture);
