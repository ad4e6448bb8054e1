using System.Text;
using Mmss.GrainInterfaces;
using Mmss.GrainInterfaces.Peers;

namespace Mmss.Grains.Tests;

/// <summary>
/// Emergency priority (issue #16) in the grains: the sender's flag decides, the mailbox delivers emergencies first and
/// writes them again sooner (1 s in this cluster, ordinary MMS an hour), a group's copies go ahead in every member's
/// mailbox and its window closes sooner (1 s, ordinary 4 s). Run once per storage provider.
/// </summary>
public abstract class Emergency_Tests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    private TestGateway? _gateway;

    private TestGateway Gateway => _gateway ??= new TestGateway(Grains, "emergency-gateway");

    private RecordingObserver Observer => Gateway.Observer;

    private async Task ProvisionAsync(string udn, bool emergency = false)
    {
        await Grains.GetGrain<IUserGrain>(udn).ProvisionAsync("Unit " + udn, TestCredentials.Unusable);
        Assert.True(await Grains.GetGrain<IUserGrain>(udn).SetEmergencyAsync(emergency));
    }

    private Task<Delivery[]> OnlineAsync(string udn) => Gateway.OnlineAsync(udn);

    /// <summary>As a gateway submits what a terminal sent: with a peer table, so the sender's flag is checked.</summary>
    private Task<SubmitOutcome> SendAsync(string sender, string to, string id, bool emergency = false) =>
        MmsSubmitter.SubmitAsync(Grains,
            new MmsSubmission(id, sender, to, "1", null, Encoding.UTF8.GetBytes("<body>" + id + "</body>"), Emergency: emergency),
            PeerTable.Empty);

    private async Task GroupAsync(string gdn, params string[] members)
    {
        foreach (var member in members) await ProvisionAsync(member, emergency: member.EndsWith("-s"));
        await Grains.GetGrain<IGroupGrain>(gdn).SetAsync("Group " + gdn, members);
    }

    [Fact]
    public async Task Login_delivers_emergency_mms_first_then_everything_else_in_order()
    {
        await ProvisionAsync("e1-s", emergency: true);
        await ProvisionAsync("e1-r");
        Assert.True((await SendAsync("e1-s", "e1-r", "routine-1")).Accepted);
        await Grains.GetGrain<IUserGrain>("e1-r").NotifyAsync("notice-1", "ACK", [new("MsgType", "2")], DateTimeOffset.UtcNow.AddHours(1));
        Assert.True((await SendAsync("e1-s", "e1-r", "routine-2")).Accepted);
        Assert.True((await SendAsync("e1-s", "e1-r", "alarm-1", emergency: true)).Accepted);
        Assert.True((await SendAsync("e1-s", "e1-r", "routine-3")).Accepted);

        var backlog = await OnlineAsync("e1-r");
        Assert.Equal(["alarm-1", "routine-1", "notice-1", "routine-2", "routine-3"], backlog.Select(d => d.MessageId));
        Assert.Equal([true, false, false, false, false], backlog.Select(d => d.Emergency));
    }

    [Fact]
    public async Task Emergency_from_a_user_without_the_flag_fails_with_code_2_and_is_not_stored()
    {
        await ProvisionAsync("e2-s");
        await ProvisionAsync("e2-r");
        var outcome = await SendAsync("e2-s", "e2-r", "alarm-2", emergency: true);
        Assert.Equal((false, FailCode.NotAllowed), (outcome.Accepted, outcome.FailCode));
        Assert.Empty(await OnlineAsync("e2-r"));

        await Grains.GetGrain<IUserGrain>("e2-s").SetEmergencyAsync(true);
        Assert.True((await SendAsync("e2-s", "e2-r", "alarm-2", emergency: true)).Accepted);
        Assert.True((await Observer.NextAsync("s-e2-r")).Emergency);
    }

    [Fact]
    public async Task Silent_session_gets_an_emergency_mms_again_sooner_than_an_ordinary_one()
    {
        await ProvisionAsync("e3-s", emergency: true);
        await ProvisionAsync("e3-r");
        await OnlineAsync("e3-r");
        await SendAsync("e3-s", "e3-r", "routine-3");
        await SendAsync("e3-s", "e3-r", "alarm-3", emergency: true);
        Assert.Equal("routine-3", (await Observer.NextAsync("s-e3-r")).MessageId);
        Assert.Equal("alarm-3", (await Observer.NextAsync("s-e3-r")).MessageId);

        // Written again after about a second; the ordinary one not for an hour.
        var again = await Observer.NextAsync("s-e3-r", TimeSpan.FromSeconds(15));
        Assert.Equal(("alarm-3", true), (again.MessageId, again.Emergency));
        await Grains.GetGrain<IUserGrain>("e3-r").AnswerAsync("alarm-3", "2", "1");
    }

    [Fact]
    public async Task An_emergency_mms_answered_through_another_activation_is_not_written_again_and_its_answer_reaches_the_sender()
    {
        await ProvisionAsync("e8-s", emergency: true);
        await ProvisionAsync("e8-r");
        await OnlineAsync("e8-s");
        await OnlineAsync("e8-r");
        await SendAsync("e8-s", "e8-r", "alarm-8", emergency: true);
        var delivered = await Observer.NextAsync("s-e8-r");

        // Recorded in the store behind the grain's back, as a second activation of the recipient's grain does while the
        // silos agree on a death (RELIABILITY.md, finding 10): this activation still has the MMS waiting.
        var row = await fixture.Mailbox.FindAsync("e8-r", delivered.Seq);
        Assert.NotNull(row);
        await fixture.Mailbox.UpdateAsync("e8-r", row with
        {
            Answered = true, Payload = null, AnswerMsgType = "2", AnswerReturnCode = "1", AnsweredAt = fixture.Time.GetUtcNow(),
        });

        // The redelivery (due after about a second) finds it answered and relays the answer instead.
        var notice = await Observer.NextAsync("s-e8-s", TimeSpan.FromSeconds(15));
        Assert.Equal((DeliveryKind.Notice, "alarm-8", "ACK"), (notice.Kind, notice.MessageId, notice.From));
        while (!Observer.IsEmpty("s-e8-r")) await Observer.NextAsync("s-e8-r");
        // From here on only a new MMS is written, and written again: the answered one never.
        await SendAsync("e8-s", "e8-r", "alarm-8b", emergency: true);
        Assert.Equal("alarm-8b", (await Observer.NextAsync("s-e8-r")).MessageId);
        Assert.Equal("alarm-8b", (await Observer.NextAsync("s-e8-r", TimeSpan.FromSeconds(15))).MessageId);
        await Grains.GetGrain<IUserGrain>("e8-r").AnswerAsync("alarm-8b", "2", "1");
    }

    [Fact]
    public async Task Emergency_group_copies_go_ahead_of_ordinary_mail_in_every_members_mailbox()
    {
        await GroupAsync("eg1", "eg1-s", "eg1-a", "eg1-b");
        Assert.True((await SendAsync("eg1-s", "eg1", "routine-g")).Accepted);
        Assert.True((await SendAsync("eg1-s", "eg1", "alarm-g", emergency: true)).Accepted);
        foreach (var member in new[] { "eg1-a", "eg1-b" })
        {
            var backlog = await OnlineAsync(member);
            Assert.Equal([("alarm-g", true), ("routine-g", false)], backlog.Select(d => (d.MessageId, d.Emergency)));
        }
    }

    [Fact]
    public async Task Emergency_group_mms_gets_its_aggregated_answer_after_a_shorter_window()
    {
        await GroupAsync("eg2", "eg2-s", "eg2-a", "eg2-silent");
        await OnlineAsync("eg2-s");
        await OnlineAsync("eg2-a");
        await OnlineAsync("eg2-silent");
        // The ordinary message first: its window (4 s) opens before the emergency's (1 s), and closes after it.
        await SendAsync("eg2-s", "eg2", "routine-w");
        await SendAsync("eg2-s", "eg2", "alarm-w", emergency: true);
        await Grains.GetGrain<IUserGrain>("eg2-a").AnswerAsync("routine-w", "2", "1");
        await Grains.GetGrain<IUserGrain>("eg2-a").AnswerAsync("alarm-w", "2", "1");

        var first = await Observer.NextAsync("s-eg2-s", TimeSpan.FromSeconds(20));
        var second = await Observer.NextAsync("s-eg2-s", TimeSpan.FromSeconds(20));
        Assert.Equal([("alarm-w", "ACK"), ("routine-w", "ACK")], new[] { (first.MessageId, first.From), (second.MessageId, second.From) });
    }
}

[Collection(SqliteCluster.Name)]
public sealed class Emergency_Tests_on_Sqlite(SqliteClusterFixture fixture) : Emergency_Tests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class Emergency_Tests_on_Postgres(PostgresClusterFixture fixture) : Emergency_Tests(fixture);
