using System.Text;
using Mmss.GrainInterfaces;
using Orleans.Core.Internal;

namespace Mmss.Grains.Tests;

/// <summary>
/// What a multi-gateway cluster keeps in grains rather than in a gateway's memory: gateway liveness, authentication
/// failures, upload allowances and the leases of cluster-wide jobs. Run once per storage provider.
/// </summary>
public abstract class ClusterState_Tests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task The_directory_counts_a_silent_gateway_gone_after_the_expiry_and_a_refresh_brings_it_back()
    {
        var directory = Grains.GetGrain<IGatewayDirectoryGrain>(0);
        Assert.False(await directory.RefreshAsync("gw-silent"));
        Assert.True(await directory.RefreshAsync("gw-silent"));
        Assert.DoesNotContain("gw-silent", await directory.GetGoneGatewaysAsync());
        fixture.Time.Offset = TimeSpan.FromSeconds(new MailboxOptions().GatewayExpirySeconds + 1);
        try
        {
            Assert.Contains("gw-silent", await directory.GetGoneGatewaysAsync());
            Assert.False(await directory.RefreshAsync("gw-silent"));
            Assert.DoesNotContain("gw-silent", await directory.GetGoneGatewaysAsync());
        }
        finally
        {
            fixture.Time.Offset = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task A_directory_reactivated_after_its_silo_died_counts_no_gateway_gone_before_it_has_lived_a_whole_expiry()
    {
        // The gateway's refreshes could not reach the directory while its silo was dying: that silence is not the gateway's.
        var directory = Grains.GetGrain<IGatewayDirectoryGrain>(0);
        await directory.RefreshAsync("gw-outage");
        var expiry = TimeSpan.FromSeconds(new MailboxOptions().GatewayExpirySeconds);
        fixture.Time.Offset = expiry + TimeSpan.FromSeconds(1);
        try
        {
            Assert.Contains("gw-outage", await directory.GetGoneGatewaysAsync());
            await directory.Cast<IGrainManagementExtension>().DeactivateOnIdle();
            Assert.DoesNotContain("gw-outage", await directory.GetGoneGatewaysAsync());
            fixture.Time.Offset = 2 * (expiry + TimeSpan.FromSeconds(1));
            Assert.Contains("gw-outage", await directory.GetGoneGatewaysAsync());
        }
        finally
        {
            fixture.Time.Offset = TimeSpan.Zero;
            // Not left with an activation time ahead of the clock the other tests see.
            await directory.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        }
    }

    [Fact]
    public async Task Of_many_concurrent_creations_of_one_free_udn_exactly_one_succeeds_and_its_credentials_stay()
    {
        var user = Grains.GetGrain<IUserGrain>("create-race");
        var attempts = Enumerable.Range(0, 8).Select(i => user.CreateAsync($"attempt {i}", TestCredentials.Unusable)).ToArray();
        var created = await Task.WhenAll(attempts);
        Assert.Single(created, c => c);
        var winner = Array.IndexOf(created, true);
        Assert.Equal($"attempt {winner}", (await user.GetProfileAsync())!.Name);
    }

    [Fact]
    public async Task A_gateway_that_left_is_gone_at_once()
    {
        var directory = Grains.GetGrain<IGatewayDirectoryGrain>(0);
        await directory.RefreshAsync("gw-leaving");
        await directory.RemoveAsync("gw-leaving");
        Assert.Contains("gw-leaving", await directory.GetGoneGatewaysAsync());
    }

    [Fact]
    public async Task Sessions_on_a_gateway_counted_gone_are_offline_and_get_no_pushes()
    {
        var observer = new RecordingObserver();
        var reference = Grains.CreateObjectReference<ISessionObserver>(observer);
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync("gw-dead");
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync("gw-alive");
        await Grains.GetGrain<IUserGrain>("cs-r1").ProvisionAsync("r1", TestCredentials.Unusable);
        var recipient = Grains.GetGrain<IUserGrain>("cs-r1");
        await recipient.AttachSessionAsync(new SessionHandle("gw-dead", "gw-dead/1", reference, "10.0.0.1"));
        Assert.True(await recipient.HasLiveSessionFromAsync("10.0.0.1"));
        // The directory learns the gateway is gone; every silo's copy follows within a quarter of the expiry period.
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RemoveAsync("gw-dead");
        var deadline = DateTime.UtcNow.AddSeconds(new MailboxOptions().GatewayExpirySeconds);
        while (await recipient.HasLiveSessionFromAsync("10.0.0.1"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the session on the gone gateway still counts as live");
            await Task.Delay(100);
        }
        var copy = new MmsSubmission("cs-1", "cs-s1", "cs-r1", "1", null, Encoding.UTF8.GetBytes("<body>x</body>"));
        Assert.Equal(MmsAcceptance.StoredOffline, await recipient.AcceptMmsAsync("cs-s1", copy, DateTimeOffset.UtcNow.AddHours(1)));

        // The terminal comes back through another gateway: what was stored meanwhile is its backlog.
        var backlog = await recipient.AttachSessionAsync(new SessionHandle("gw-alive", "gw-alive/7", reference, "10.0.0.2"));
        Assert.Contains(backlog, d => d.MessageId == "cs-1");
        Assert.True(observer.IsEmpty("gw-dead/1"));
        Assert.True(await recipient.HasLiveSessionFromAsync("10.0.0.2"));
    }

    [Fact]
    public async Task A_logout_whose_state_write_fails_still_ends_the_session_and_the_grain_writes_it_when_deactivated()
    {
        var observer = new RecordingObserver();
        var reference = Grains.CreateObjectReference<ISessionObserver>(observer);
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync("gw-wb");
        var user = Grains.GetGrain<IUserGrain>("wb-r");
        await user.ProvisionAsync("r", TestCredentials.Unusable);
        var written = fixture.Storage.GrainWritesOf("wb-r");
        await user.AttachSessionAsync(new SessionHandle("gw-wb", "gw-wb/1", reference, "10.0.0.5"));
        // Written behind the login: it lands a moment later.
        await WaitForGrainWriteAsync("wb-r", written, "the login's session was never written");

        // The logout does not wait for its write, so the database failing it fails nothing the gateway sees.
        fixture.Storage.FailNextGrainWrite("wb-r");
        await user.DetachSessionAsync("gw-wb/1");
        Assert.False(await user.HasLiveSessionFromAsync("10.0.0.5"));

        // The store still holds the session; the deactivation writes the list again, so a new activation knows it ended.
        var beforeDeactivation = fixture.Storage.GrainWritesOf("wb-r");
        await user.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        Assert.False(await user.HasLiveSessionFromAsync("10.0.0.5"));
        Assert.True(fixture.Storage.GrainWritesOf("wb-r") > beforeDeactivation, "the deactivation wrote nothing");
    }

    private async Task WaitForGrainWriteAsync(string grainKey, int writesBefore, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (fixture.Storage.GrainWritesOf(grainKey) == writesBefore)
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task An_answer_recorded_by_an_activation_that_died_before_relaying_it_is_relayed_by_the_next()
    {
        var observer = new RecordingObserver();
        var reference = Grains.CreateObjectReference<ISessionObserver>(observer);
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync("gw-rec");
        await Grains.GetGrain<IUserGrain>("rec-s").ProvisionAsync("s", TestCredentials.Unusable);
        await Grains.GetGrain<IUserGrain>("rec-r").ProvisionAsync("r", TestCredentials.Unusable);
        await Grains.GetGrain<IUserGrain>("rec-s").AttachSessionAsync(new SessionHandle("gw-rec", "gw-rec/1", reference));

        // What the recipient's store holds when its grain died right after recording the ACK: the row is answered, the
        // originator was never told. Nothing has activated the recipient's grain yet.
        var now = DateTimeOffset.UtcNow;
        await fixture.Mailbox.AppendAsync("rec-r", new MailboxEntry(0, DeliveryKind.Mms, "rec-1", "rec-s", null, null, null,
            now.AddHours(1), Answered: true, Direct: true, ContentHash: [1], AnswerMsgType: "2", AnswerReturnCode: "1", AnsweredAt: now));
        await fixture.Mailbox.AppendAsync("rec-r", new MailboxEntry(0, DeliveryKind.Mms, "rec-old", "rec-s", null, null, null,
            now.AddHours(1), Answered: true, Direct: true, ContentHash: [2], AnswerMsgType: "2", AnswerReturnCode: "1", AnsweredAt: now.AddHours(-1)));

        var backlog = await Grains.GetGrain<IUserGrain>("rec-r").AttachSessionAsync(new SessionHandle("gw-rec", "gw-rec/2", reference));
        Assert.Empty(backlog);
        var notice = await observer.NextAsync("gw-rec/1");
        Assert.Equal((DeliveryKind.Notice, "rec-1", "ACK"), (notice.Kind, notice.MessageId, notice.From));
        // An answer recorded long before the activation was relayed by the activation that recorded it.
        var sentinel = "sentinel-" + Guid.NewGuid().ToString("N");
        await Grains.GetGrain<IUserGrain>("rec-s").NotifyAsync(sentinel, "ACK", [new("MsgType", "2")], DateTimeOffset.UtcNow.AddHours(1));
        Assert.Equal(sentinel, (await observer.NextAsync("gw-rec/1")).MessageId);
    }

    [Fact]
    public async Task Resync_attaches_a_forgotten_session_and_pushes_what_waits_but_costs_nothing_when_nothing_diverged()
    {
        var observer = new RecordingObserver();
        var reference = Grains.CreateObjectReference<ISessionObserver>(observer);
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync("gw-sync");
        var user = Grains.GetGrain<IUserGrain>("sync-r");
        await user.ProvisionAsync("r", TestCredentials.Unusable);
        var session = new SessionHandle("gw-sync", "gw-sync/1", reference, "10.0.0.9");
        await user.AttachSessionAsync(session);
        var copy = new MmsSubmission("sync-1", "sync-s", "sync-r", "1", null, Encoding.UTF8.GetBytes("<body>x</body>"));
        Assert.Equal(MmsAcceptance.Online, await user.AcceptMmsAsync("sync-s", copy, DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal("sync-1", (await observer.NextAsync("gw-sync/1")).MessageId);

        // Nothing diverged: no push.
        await user.ResyncSessionAsync(session);
        var sentinel = "sentinel-" + Guid.NewGuid().ToString("N");
        await user.NotifyAsync(sentinel, "ACK", [new("MsgType", "2")], DateTimeOffset.UtcNow.AddHours(1));
        Assert.Equal(sentinel, (await observer.NextAsync("gw-sync/1")).MessageId);

        // The grain forgot the session (its gateway was counted gone): attached again, what waits pushed again.
        await user.DetachSessionAsync(session.SessionId);
        Assert.False(await user.HasLiveSessionFromAsync("10.0.0.9"));
        await user.ResyncSessionAsync(session);
        Assert.True(await user.HasLiveSessionFromAsync("10.0.0.9"));
        Assert.Equal("sync-1", (await observer.NextAsync("gw-sync/1")).MessageId);
    }

    [Fact]
    public async Task A_flood_of_failures_from_ever_more_keys_is_bounded_by_forgetting_the_oldest_keys_first()
    {
        // 20,000 keys is what one partition holds; the next new key makes room by dropping the older half.
        var partition = AuthFailureKeys.PartitionOf(AuthFailureKeys.Address("cs-flood-0"));
        var keys = Enumerable.Range(0, int.MaxValue).Select(i => AuthFailureKeys.Address($"cs-flood-{i}"))
            .Where(k => AuthFailureKeys.PartitionOf(k) == partition).Take(20_001).ToArray();
        var failures = Grains.GetGrain<IAuthFailuresGrain>(partition);
        foreach (var chunk in keys.Chunk(500)) await Task.WhenAll(chunk.Select(k => failures.RecordAsync(k, 600)));
        Assert.Equal(1, await failures.CountAsync(keys[^1], 600));
        Assert.Equal(1, await failures.CountAsync(keys[^2], 600));
        Assert.Equal(0, await failures.CountAsync(keys[0], 600));
    }

    [Fact]
    public void A_key_has_the_same_partition_in_every_process()
    {
        // Fixed values: a per-process hash (string.GetHashCode) would split one key's count between gateways.
        Assert.Equal(["21", "24", "18"], new[] { "user/5001", "address/10.0.0.1", "registrations/10.0.0.1" }.Select(AuthFailureKeys.PartitionOf));
    }

    [Fact]
    public async Task Authentication_failures_count_in_a_sliding_window()
    {
        var key = AuthFailureKeys.User("cs-auth");
        var failures = Grains.GetGrain<IAuthFailuresGrain>(AuthFailureKeys.PartitionOf(key));
        for (var i = 0; i < 3; i++) await failures.RecordAsync(key, 60);
        Assert.Equal(3, await failures.CountAsync(key, 60));
        var other = AuthFailureKeys.User("cs-auth-other");
        Assert.Equal(0, await Grains.GetGrain<IAuthFailuresGrain>(AuthFailureKeys.PartitionOf(other)).CountAsync(other, 60));
        // Another key of the same partition is counted on its own.
        var neighbour = Enumerable.Range(0, 1000).Select(i => AuthFailureKeys.Address($"10.9.0.{i}"))
            .First(k => AuthFailureKeys.PartitionOf(k) == AuthFailureKeys.PartitionOf(key));
        await failures.RecordAsync(neighbour, 60);
        Assert.Equal((3, 1), (await failures.CountAsync(key, 60), await failures.CountAsync(neighbour, 60)));
        fixture.Time.Offset = TimeSpan.FromSeconds(61);
        try
        {
            Assert.Equal(0, await failures.CountAsync(key, 60));
        }
        finally
        {
            fixture.Time.Offset = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task The_upload_allowance_adds_up_within_a_day_and_starts_again_the_next()
    {
        var allowance = Grains.GetGrain<IUploadAllowanceGrain>("cs-up");
        await allowance.AddAsync(1000);
        await allowance.AddAsync(500);
        Assert.Equal(1500, await allowance.UsedTodayAsync());
        fixture.Time.Offset = TimeSpan.FromDays(1);
        try
        {
            Assert.Equal(0, await allowance.UsedTodayAsync());
        }
        finally
        {
            fixture.Time.Offset = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task A_lease_has_one_holder_until_it_runs_out()
    {
        var lease = Grains.GetGrain<IClusterLeaseGrain>("cs-job");
        Assert.True(await lease.TryAcquireAsync("p1", TimeSpan.FromMinutes(1)));
        Assert.False(await lease.TryAcquireAsync("p2", TimeSpan.FromMinutes(1)));
        Assert.True(await lease.TryAcquireAsync("p1", TimeSpan.FromMinutes(1)));
        fixture.Time.Offset = TimeSpan.FromMinutes(2);
        try
        {
            Assert.True(await lease.TryAcquireAsync("p2", TimeSpan.FromMinutes(1)));
            Assert.False(await lease.TryAcquireAsync("p1", TimeSpan.FromMinutes(1)));
        }
        finally
        {
            fixture.Time.Offset = TimeSpan.Zero;
        }
    }
}

[Collection(SqliteCluster.Name)]
public sealed class ClusterState_Tests_on_Sqlite(SqliteClusterFixture fixture) : ClusterState_Tests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class ClusterState_Tests_on_Postgres(PostgresClusterFixture fixture) : ClusterState_Tests(fixture);
