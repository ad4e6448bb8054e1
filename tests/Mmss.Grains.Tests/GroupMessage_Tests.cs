using System.Text;
using Mmss.GrainInterfaces;
using Orleans.Core.Internal;

namespace Mmss.Grains.Tests;

/// <summary>Talk-group messages on a two-silo cluster (aggregation window: 4 s in this cluster); run once per storage provider.</summary>
public abstract class GroupMessage_Tests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    private TestGateway? _gateway;

    private TestGateway Gateway => _gateway ??= new TestGateway(Grains, "group-gateway");

    private RecordingObserver Observer => Gateway.Observer;

    private async Task GroupAsync(string gdn, params string[] members)
    {
        await Task.WhenAll(members.Select(m => Grains.GetGrain<IUserGrain>(m).ProvisionAsync("Unit " + m, TestCredentials.Unusable)));
        await Grains.GetGrain<IGroupGrain>(gdn).SetAsync("Group " + gdn, members);
    }

    private Task<Delivery[]> OnlineAsync(string udn) => Gateway.OnlineAsync(udn);

    private Task<SubmitOutcome> SendAsync(string sender, string gdn, string id, bool report = false, string? msgGroup = null) =>
        Grains.GetGrain<IMessageGrain>(MessageKey.For(sender, id)).SubmitAsync(
            new MmsSubmission(id, sender, gdn, "1", null, Encoding.UTF8.GetBytes("<body>to all</body>"), msgGroup, report));

    private Task AnswerAsync(string member, string id, string msgType, string code) =>
        Grains.GetGrain<IUserGrain>(member).AnswerAsync(id, msgType, code);

    /// <summary>Pushes from one user grain arrive in order: once this sentinel is seen, nothing else was pushed before it.</summary>
    private async Task<List<Delivery>> DrainAsync(string udn)
    {
        var sentinel = "sentinel-" + Guid.NewGuid().ToString("N");
        var user = Grains.GetGrain<IUserGrain>(udn);
        var notifying = user.NotifyAsync(sentinel, "ACK", [new("MsgType", "2")], DateTimeOffset.UtcNow.AddHours(1));
        var seen = new List<Delivery>();
        while (true)
        {
            var next = await Observer.NextAsync("s-" + udn);
            if (next.MessageId != sentinel)
            {
                seen.Add(next);
                continue;
            }
            // Confirmed as a gateway would once written: the notice is then never stored.
            await user.ConfirmWrittenAsync([next.Seq]);
            await notifying;
            return seen;
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="failure"/> after 30 s.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(50);
        }
    }

    private static string? Property(Delivery delivery, string name) =>
        delivery.Properties?.FirstOrDefault(p => p.Key == name).Value;

    [Fact]
    public async Task Every_other_member_gets_one_copy_naming_the_group_online_or_offline()
    {
        await GroupAsync("g1", "g1-s", "g1-on", "g1-off");
        await OnlineAsync("g1-s");
        await OnlineAsync("g1-on");
        Assert.True((await SendAsync("g1-s", "g1", "g1-m")).Accepted);

        var copy = await Observer.NextAsync("s-g1-on");
        Assert.Equal((DeliveryKind.Mms, "g1-m", "g1-s"), (copy.Kind, copy.MessageId, copy.From));
        Assert.Equal("g1", Property(copy, "MsgGroup"));
        var backlog = await OnlineAsync("g1-off");
        Assert.Single(backlog, d => d.MessageId == "g1-m" && Property(d, "MsgGroup") == "g1");
        Assert.DoesNotContain(await DrainAsync("g1-s"), d => d.Kind == DeliveryKind.Mms);
    }

    [Fact]
    public async Task MsgGroup_already_named_by_the_sender_is_not_added_again()
    {
        await GroupAsync("g2", "g2-s", "g2-a");
        await OnlineAsync("g2-a");
        await SendAsync("g2-s", "g2", "g2-m", msgGroup: "g2");
        Assert.Null((await Observer.NextAsync("s-g2-a")).Properties);
    }

    [Fact]
    public async Task Sender_gets_exactly_one_ack_when_every_member_has_answered()
    {
        await GroupAsync("g3", "g3-s", "g3-a", "g3-b");
        await OnlineAsync("g3-s");
        await SendAsync("g3-s", "g3", "g3-m");
        await AnswerAsync("g3-a", "g3-m", "2", "1");
        await AnswerAsync("g3-b", "g3-m", "3", "4");
        await AnswerAsync("g3-b", "g3-m", "3", "4");
        var outcome = await Observer.NextAsync("s-g3-s");
        Assert.Equal(("ACK", "2", "1"), (outcome.From, Property(outcome, "MsgType"), Property(outcome, "ReturnCode")));
        await Grains.GetGrain<IMessageGrain>(MessageKey.For("g3-s", "g3-m")).SweepAsync();
        Assert.Empty(await DrainAsync("g3-s"));
    }

    [Fact]
    public async Task Window_closes_with_a_silent_member_and_one_ack_goes_out()
    {
        await GroupAsync("g4", "g4-s", "g4-a", "g4-silent");
        await OnlineAsync("g4-s");
        await SendAsync("g4-s", "g4", "g4-m");
        await AnswerAsync("g4-a", "g4-m", "2", "1");
        var outcome = await Observer.NextAsync("s-g4-s", TimeSpan.FromSeconds(20));
        Assert.Equal(("ACK", "1"), (outcome.From, Property(outcome, "ReturnCode")));
    }

    [Fact]
    public async Task When_every_member_fails_the_sender_gets_fail_with_the_most_frequent_code()
    {
        await GroupAsync("g5", "g5-s", "g5-a", "g5-b", "g5-c");
        await OnlineAsync("g5-s");
        await SendAsync("g5-s", "g5", "g5-m");
        await AnswerAsync("g5-a", "g5-m", "3", "10");
        await AnswerAsync("g5-b", "g5-m", "3", "4");
        await AnswerAsync("g5-c", "g5-m", "3", "10");
        var outcome = await Observer.NextAsync("s-g5-s");
        Assert.Equal(("FAIL", "3", "10"), (outcome.From, Property(outcome, "MsgType"), Property(outcome, "ReturnCode")));
    }

    [Fact]
    public async Task Delivery_report_comes_at_aggregation_and_again_when_the_last_member_settles()
    {
        await GroupAsync("g6", "g6-s", "g6-a", "g6-b");
        await OnlineAsync("g6-s");
        await SendAsync("g6-s", "g6", "g6-m", report: true);
        await AnswerAsync("g6-a", "g6-m", "2", "1");
        // Two pushes from one grain: the answer and the report, in whichever order they arrive.
        var pair = new[] { await Observer.NextAsync("s-g6-s", TimeSpan.FromSeconds(20)), await Observer.NextAsync("s-g6-s") };
        var ack = Assert.Single(pair, d => Property(d, "MsgType") == "2");
        Assert.Equal("ACK", ack.From);
        var first = Assert.Single(pair, d => Property(d, "MsgType") == "101");
        Assert.Equal(("g6", "g6-m"), (first.From, first.MessageId));
        Assert.Equal(("g6-a", "", "g6-b"), (Property(first, "Delivered"), Property(first, "Failed"), Property(first, "Pending")));

        await AnswerAsync("g6-b", "g6-m", "3", "4");
        var last = await Observer.NextAsync("s-g6-s");
        Assert.Equal(("g6-a", "g6-b", ""), (Property(last, "Delivered"), Property(last, "Failed"), Property(last, "Pending")));
    }

    [Fact]
    public async Task Non_member_gets_fail_2_and_a_group_without_other_members_fail_1()
    {
        await GroupAsync("g7", "g7-a", "g7-b");
        await Grains.GetGrain<IUserGrain>("g7-out").ProvisionAsync("outsider", TestCredentials.Unusable);
        Assert.Equal(FailCode.NotAllowed, (await SendAsync("g7-out", "g7", "g7-m")).FailCode);
        await GroupAsync("g7-alone", "g7-a");
        Assert.Equal(FailCode.RecipientUnknown, (await SendAsync("g7-a", "g7-alone", "g7-m2")).FailCode);
    }

    [Fact]
    public async Task Membership_changes_apply_to_messages_sent_afterwards()
    {
        await GroupAsync("g8", "g8-s", "g8-old");
        await SendAsync("g8-s", "g8", "g8-before");
        await GroupAsync("g8", "g8-s", "g8-new");
        await SendAsync("g8-s", "g8", "g8-after");
        Assert.Equal(["g8-before"], (await OnlineAsync("g8-old")).Select(d => d.MessageId));
        Assert.Equal(["g8-after"], (await OnlineAsync("g8-new")).Select(d => d.MessageId));
    }

    [Fact]
    public async Task The_same_id_to_a_group_twice_is_fanned_out_once()
    {
        await GroupAsync("g9", "g9-s", "g9-a");
        await SendAsync("g9-s", "g9", "g9-m");
        await SendAsync("g9-s", "g9", "g9-m");
        Assert.Single(await OnlineAsync("g9-a"), d => d.MessageId == "g9-m");
    }

    [Fact]
    public async Task A_copy_that_cannot_be_stored_at_first_follows_and_the_MMS_is_accepted_not_failed()
    {
        await GroupAsync("g11", "g11-s", "g11-a", "g11-b");
        await OnlineAsync("g11-s");
        await OnlineAsync("g11-a");
        await OnlineAsync("g11-b");
        // Storage refuses g11-b's copy once: g11-a has the MMS already, so the sender must not be told it failed.
        fixture.Storage.FailNextAppend("g11-b");
        Assert.True((await SendAsync("g11-s", "g11", "g11-m")).Accepted);
        Assert.Equal("g11-m", (await Observer.NextAsync("s-g11-a")).MessageId);

        var late = await Observer.NextAsync("s-g11-b", TimeSpan.FromSeconds(30));
        Assert.Equal((DeliveryKind.Mms, "g11-m", "g11"), (late.Kind, late.MessageId, Property(late, "MsgGroup")));
        await AnswerAsync("g11-a", "g11-m", "2", "1");
        await AnswerAsync("g11-b", "g11-m", "2", "1");
        var outcome = await Observer.NextAsync("s-g11-s");
        Assert.Equal(("ACK", "1"), (outcome.From, Property(outcome, "ReturnCode")));
        Assert.Single(await fixture.Mailbox.LoadAsync("g11-b"), e => e.MessageId == "g11-m");
        Assert.Empty(await DrainAsync("g11-s"));
    }

    [Fact]
    public async Task When_no_copy_can_be_stored_the_submission_fails_and_its_retry_stores_each_copy_once()
    {
        await GroupAsync("g12", "g12-s", "g12-a", "g12-b");
        fixture.Storage.FailNextAppend("g12-a");
        fixture.Storage.FailNextAppend("g12-b");
        // Nothing stored: the caller may answer FAIL 9 (after its own retries) without anyone having the MMS.
        await Assert.ThrowsAnyAsync<Exception>(() => SendAsync("g12-s", "g12", "g12-m"));
        Assert.Empty(await fixture.Mailbox.LoadAsync("g12-a"));

        Assert.True((await SendAsync("g12-s", "g12", "g12-m")).Accepted);
        Assert.Single(await fixture.Mailbox.LoadAsync("g12-a"), e => e.MessageId == "g12-m");
        Assert.Single(await fixture.Mailbox.LoadAsync("g12-b"), e => e.MessageId == "g12-m");
    }

    [Fact]
    public async Task Copies_still_owed_when_the_message_grain_is_lost_follow_a_resubmission_of_the_id()
    {
        await GroupAsync("g13", "g13-s", "g13-a", "g13-b");
        fixture.Storage.FailAppends("g13-b", 1000);
        Assert.True((await SendAsync("g13-s", "g13", "g13-m")).Accepted);
        Assert.Single(await fixture.Mailbox.LoadAsync("g13-a"), e => e.MessageId == "g13-m");

        // The activation holding the owed copy goes (as with its silo); storage comes back; the sender's terminal,
        // never answered, resends the same id.
        await Grains.GetGrain<IMessageGrain>(MessageKey.For("g13-s", "g13-m")).Cast<IGrainManagementExtension>().DeactivateOnIdle();
        fixture.Storage.StopFailingAppends("g13-b");
        Assert.True((await SendAsync("g13-s", "g13", "g13-m")).Accepted);

        await UntilAsync(async () => (await fixture.Mailbox.LoadAsync("g13-b")).Any(e => e.MessageId == "g13-m"), "the copy owed to g13-b was never stored");
        Assert.Single(await fixture.Mailbox.LoadAsync("g13-a"), e => e.MessageId == "g13-m");
        Assert.Single(await fixture.Mailbox.LoadAsync("g13-b"), e => e.MessageId == "g13-m");
    }

    [Fact]
    public async Task Copies_still_owed_when_the_message_grain_is_lost_follow_from_the_expiry_sweep()
    {
        await GroupAsync("g15", "g15-s", "g15-a", "g15-b");
        fixture.Storage.FailAppends("g15-b", 1000);
        Assert.True((await SendAsync("g15-s", "g15", "g15-m")).Accepted);
        var message = Grains.GetGrain<IMessageGrain>(MessageKey.For("g15-s", "g15-m"));
        await message.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        fixture.Storage.StopFailingAppends("g15-b");

        // Nobody submits it again: the store tells the expiry sweep the message has something due, and the sweep's call
        // resumes the copy.
        var owner = MessageKey.OutcomeOwnerPrefix + MessageKey.For("g15-s", "g15-m");
        Assert.Contains(owner, await fixture.Mailbox.FindOwnersWithExpiredAsync(DateTimeOffset.UtcNow, int.MaxValue));
        await message.SweepAsync();
        await UntilAsync(async () => (await fixture.Mailbox.LoadAsync("g15-b")).Any(e => e.MessageId == "g15-m"), "the copy owed to g15-b was never stored");
        // Done: nothing more is due for the sweep.
        await UntilAsync(async () => !(await fixture.Mailbox.FindOwnersWithExpiredAsync(DateTimeOffset.UtcNow, int.MaxValue)).Contains(owner),
            "the message stayed due for the sweep once its copies were stored");
        Assert.Single(await fixture.Mailbox.LoadAsync("g15-a"), e => e.MessageId == "g15-m");
        Assert.Single(await fixture.Mailbox.LoadAsync("g15-b"), e => e.MessageId == "g15-m");
    }

    [Fact]
    public async Task Copies_whose_storing_had_an_unknown_outcome_make_the_MMS_accepted_and_are_delivered_once()
    {
        await GroupAsync("g14", "g14-s", "g14-a", "g14-b");
        await OnlineAsync("g14-s");
        await OnlineAsync("g14-a");
        await OnlineAsync("g14-b");
        // Every copy is stored but no member's grain hears so: the MMS may be delivered, so it must not fail.
        fixture.Storage.LoseNextAppendOutcome("g14-a");
        fixture.Storage.LoseNextAppendOutcome("g14-b");
        Assert.True((await SendAsync("g14-s", "g14", "g14-m")).Accepted);

        Assert.Equal("g14-m", (await Observer.NextAsync("s-g14-a", TimeSpan.FromSeconds(30))).MessageId);
        Assert.Equal("g14-m", (await Observer.NextAsync("s-g14-b", TimeSpan.FromSeconds(30))).MessageId);
        await AnswerAsync("g14-a", "g14-m", "2", "1");
        await AnswerAsync("g14-b", "g14-m", "2", "1");
        var outcome = await Observer.NextAsync("s-g14-s");
        Assert.Equal(("ACK", "1"), (outcome.From, Property(outcome, "ReturnCode")));
        Assert.Single(await fixture.Mailbox.LoadAsync("g14-a"), e => e.MessageId == "g14-m");
        Assert.Single(await fixture.Mailbox.LoadAsync("g14-b"), e => e.MessageId == "g14-m");
        Assert.DoesNotContain(await DrainAsync("g14-a"), d => d.MessageId == "g14-m");
    }

    [Fact]
    public async Task Thousand_members_each_get_exactly_one_copy_and_the_sender_one_aggregated_ack()
    {
        var members = Enumerable.Range(0, 1000).Select(i => $"k-{i}").ToArray();
        await GroupAsync("g10", ["g10-s", .. members]);
        await OnlineAsync("g10-s");
        foreach (var chunk in members.Chunk(100)) await Task.WhenAll(chunk.Select(OnlineAsync));
        await SendAsync("g10-s", "g10", "g10-m");

        var copies = await Task.WhenAll(members.Select(m => Observer.NextAsync("s-" + m, TimeSpan.FromSeconds(30))));
        Assert.All(copies, c => Assert.Equal("g10-m", c.MessageId));
        await Task.WhenAll(members.Select(m => AnswerAsync(m, "g10-m", "2", "1")));
        var outcome = await Observer.NextAsync("s-g10-s", TimeSpan.FromSeconds(30));
        Assert.Equal(("ACK", "1"), (outcome.From, Property(outcome, "ReturnCode")));
        foreach (var member in members.Take(50)) Assert.Empty(await DrainAsync(member));
        Assert.Empty(await DrainAsync("g10-s"));
    }
}

[Collection(SqliteCluster.Name)]
public sealed class GroupMessage_Tests_on_Sqlite(SqliteClusterFixture fixture) : GroupMessage_Tests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class GroupMessage_Tests_on_Postgres(PostgresClusterFixture fixture) : GroupMessage_Tests(fixture);
