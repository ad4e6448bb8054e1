using System.Text;
using Mmss.GrainInterfaces;
using Orleans.Core.Internal;

namespace Mmss.Grains.Tests;

/// <summary>
/// The one-to-one flow on a two-silo cluster: the grains alone, a recording observer standing in for a gateway; run
/// once per storage provider.
/// </summary>
public abstract class MessageFlow_Tests(ClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    private async Task<(RecordingObserver Observer, ISessionObserver Reference)> GatewayAsync()
    {
        var observer = new RecordingObserver();
        var reference = Grains.CreateObjectReference<ISessionObserver>(observer);
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync("test-gateway");
        return (observer, reference);
    }

    private async Task ProvisionAsync(params string[] udns)
    {
        foreach (var udn in udns) await Grains.GetGrain<IUserGrain>(udn).ProvisionAsync("Unit " + udn, TestCredentials.Unusable);
    }

    private static MmsSubmission Mms(string id, string from, string to, string text = "hello") =>
        new(id, from, to, "1", null, Encoding.UTF8.GetBytes($"<body>{text}</body>"));

    private Task<SubmitOutcome> SubmitAsync(MmsSubmission mms) => MmsSubmitter.SubmitAsync(Grains, mms);

    private static PlainMessage Chat(string id, string from, string text = "hi") =>
        new(id, from + "@example.net/phone", "chat", Encoding.UTF8.GetBytes($"<body>{text}</body>"));

    /// <summary>Waits (bounded) until the store holds nothing for <paramref name="udn"/>: removals commit after the call that asked for them.</summary>
    private async Task WaitUntilMailboxEmptyAsync(string udn, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await fixture.Mailbox.LoadAsync(udn)).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(10);
        }
    }

    /// <summary>Runs the user's expiry as it would run <paramref name="later"/> from now, once the store lists the user.</summary>
    private async Task ExpireLaterAsync(string udn, TimeSpan later)
    {
        fixture.Time.Offset = later;
        try
        {
            Assert.Contains(udn, await fixture.Mailbox.FindOwnersWithExpiredAsync(fixture.Time.GetUtcNow(), int.MaxValue));
            await Grains.GetGrain<IUserGrain>(udn).ExpireAsync();
        }
        finally
        {
            fixture.Time.Offset = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Online_delivery_and_ack_relay()
    {
        await ProvisionAsync("a1", "b1");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("a1").AttachSessionAsync(new SessionHandle("test-gateway", "s-a1", reference));
        await Grains.GetGrain<IUserGrain>("b1").AttachSessionAsync(new SessionHandle("test-gateway", "s-b1", reference));

        Assert.True((await SubmitAsync(Mms("m1", "a1", "b1"))).Accepted);
        var delivered = await observer.NextAsync("s-b1");
        Assert.Equal((DeliveryKind.Mms, "m1", "a1"), (delivered.Kind, delivered.MessageId, delivered.From));
        Assert.Equal("<body>hello</body>", Encoding.UTF8.GetString(delivered.Payload!));

        Assert.True(await Grains.GetGrain<IUserGrain>("b1").AnswerAsync("m1", "2", "1"));
        var notice = await observer.NextAsync("s-a1");
        Assert.Equal((DeliveryKind.Notice, "m1", "ACK"), (notice.Kind, notice.MessageId, notice.From));
        Assert.Equal([new("MsgType", "2"), new("ReturnCode", "1")], notice.Properties!);
    }

    [Fact]
    public async Task Fail_is_relayed_with_the_recipients_return_code()
    {
        await ProvisionAsync("a2", "b2");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("a2").AttachSessionAsync(new SessionHandle("test-gateway", "s-a2", reference));
        await SubmitAsync(Mms("m2", "a2", "b2"));
        await Grains.GetGrain<IUserGrain>("b2").AnswerAsync("m2", "3", "10");
        var notice = await observer.NextAsync("s-a2");
        Assert.Equal("FAIL", notice.From);
        Assert.Contains(new KeyValuePair<string, string>("ReturnCode", "10"), notice.Properties!);
    }

    [Fact]
    public async Task Offline_recipient_gets_the_backlog_in_order_when_it_attaches()
    {
        await ProvisionAsync("a3", "b3");
        for (var i = 0; i < 20; i++) await SubmitAsync(Mms($"m3-{i}", "a3", "b3"));
        var (_, reference) = await GatewayAsync();
        var backlog = await Grains.GetGrain<IUserGrain>("b3").AttachSessionAsync(new SessionHandle("test-gateway", "s-b3", reference));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"m3-{i}"), backlog.Select(d => d.MessageId));
    }

    [Fact]
    public async Task Unknown_recipient_and_malformed_messages_fail_with_their_codes()
    {
        await ProvisionAsync("a4");
        Assert.Equal(FailCode.RecipientUnknown, (await SubmitAsync(Mms("m4", "a4", "nobody"))).FailCode);
        Assert.Equal(FailCode.Malformed, (await SubmitAsync(Mms("m4b", "a4", "a4") with { MsgType = "x" })).FailCode);
        Assert.Equal(FailCode.Malformed, (await SubmitAsync(Mms("m4c", "a4", "a4") with { MsgType = null })).FailCode);
    }

    [Fact]
    public async Task Duplicate_id_is_stored_once_and_other_content_under_it_fails_with_8()
    {
        await ProvisionAsync("a5", "b5");
        Assert.True((await SubmitAsync(Mms("m5", "a5", "b5"))).Accepted);
        Assert.True((await SubmitAsync(Mms("m5", "a5", "b5"))).Accepted);
        Assert.Equal(FailCode.DuplicateIdDifferentContent, (await SubmitAsync(Mms("m5", "a5", "b5", "other"))).FailCode);
        var (_, reference) = await GatewayAsync();
        var backlog = await Grains.GetGrain<IUserGrain>("b5").AttachSessionAsync(new SessionHandle("test-gateway", "s-b5", reference));
        Assert.Single(backlog, d => d.MessageId == "m5");
    }

    [Fact]
    public async Task Expired_mms_is_removed_and_the_sender_gets_fail_5()
    {
        await ProvisionAsync("a6", "b6");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("a6").AttachSessionAsync(new SessionHandle("test-gateway", "s-a6", reference));
        await SubmitAsync(Mms("m6", "a6", "b6"));
        Assert.Empty(await fixture.Mailbox.FindOwnersWithExpiredAsync(fixture.Time.GetUtcNow(), int.MaxValue));
        await ExpireLaterAsync("b6", TimeSpan.FromDays(8));
        var notice = await observer.NextAsync("s-a6");
        Assert.Equal("FAIL", notice.From);
        Assert.Contains(new KeyValuePair<string, string>("ReturnCode", "5"), notice.Properties!);
        Assert.Empty(await fixture.Mailbox.LoadAsync("b6"));
    }

    [Fact]
    public async Task A_message_costs_the_same_storage_writes_whatever_the_inbox_holds()
    {
        await ProvisionAsync("a7", "b7", "c7");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("a7").AttachSessionAsync(new SessionHandle("test-gateway", "s-a7", reference));
        await Grains.GetGrain<IUserGrain>("b7").AttachSessionAsync(new SessionHandle("test-gateway", "s-b7", reference));

        async Task<int> RoundTripWritesAsync(string id)
        {
            // The writes of this flow only: users' grains of earlier tests may still be writing behind on the shared cluster.
            bool Involved(string key) => key is "a7" or "b7" || key.EndsWith(MessageKey.For("a7", id), StringComparison.Ordinal);
            var before = fixture.Storage.WritesOf(Involved);
            await SubmitAsync(Mms(id, "a7", "b7"));
            var answering = Grains.GetGrain<IUserGrain>("b7").AnswerAsync(id, "2", "1");
            // The sender's gateway writes the notice and confirms it, as it does for a live session.
            var notice = await observer.NextAsync("s-a7");
            Assert.Equal((DeliveryKind.Notice, id), (notice.Kind, notice.MessageId));
            await Grains.GetGrain<IUserGrain>("a7").ConfirmWrittenAsync([notice.Seq]);
            Assert.True(await answering);
            return fixture.Storage.WritesOf(Involved) - before;
        }

        var withEmptyInbox = await RoundTripWritesAsync("w-0");
        for (var i = 0; i < 200; i++) await SubmitAsync(Mms($"w-fill-{i}", "c7", "b7"));
        var withFullInbox = await RoundTripWritesAsync("w-1");
        Assert.Equal(withEmptyInbox, withFullInbox);
        // The MMS row and the same row marked answered: the sender's notice, confirmed in time, is never stored.
        Assert.Equal(2, withEmptyInbox);
        Assert.Empty(await fixture.Mailbox.LoadAsync("a7"));
    }

    [Fact]
    public async Task A_notice_not_confirmed_in_time_is_stored_written_again_to_the_next_session_and_removed_when_confirmed_late()
    {
        await ProvisionAsync("a14", "b14");
        var (observer, reference) = await GatewayAsync();
        var sender = Grains.GetGrain<IUserGrain>("a14");
        await sender.AttachSessionAsync(new SessionHandle("test-gateway", "s-a14", reference));
        Assert.True((await SubmitAsync(Mms("m14", "a14", "b14"))).Accepted);

        // Nobody confirms: the notice is stored once the wait is over.
        Assert.True(await Grains.GetGrain<IUserGrain>("b14").AnswerAsync("m14", "2", "1"));
        var written = await observer.NextAsync("s-a14");
        Assert.Equal((DeliveryKind.Notice, "m14", "ACK"), (written.Kind, written.MessageId, written.From));
        var deadline = DateTime.UtcNow.AddSeconds(ClusterFixture.NoticeConfirmWaitMilliseconds / 1000.0 + 10);
        IReadOnlyList<MailboxEntry> rows;
        while ((rows = await fixture.Mailbox.LoadAsync("a14")).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the notice nobody confirmed was never stored");
            await Task.Delay(20);
        }
        var stored = Assert.Single(rows);
        Assert.Equal((DeliveryKind.Notice, "m14"), (stored.Kind, stored.MessageId));

        var backlog = await sender.AttachSessionAsync(new SessionHandle("test-gateway", "s-a14-2", reference));
        Assert.Equal(stored.Seq, Assert.Single(backlog, d => d.MessageId == "m14").Seq);

        // The first session's confirmation, late and under the number it was written with, still settles it.
        await sender.ConfirmWrittenAsync([written.Seq]);
        await WaitUntilMailboxEmptyAsync("a14", "the notice confirmed late was never removed");
    }

    [Fact]
    public async Task A_session_attaching_while_a_notice_waits_for_its_confirmation_gets_it_too()
    {
        await ProvisionAsync("a15", "b15");
        var (observer, reference) = await GatewayAsync();
        var sender = Grains.GetGrain<IUserGrain>("a15");
        await sender.AttachSessionAsync(new SessionHandle("test-gateway", "s-a15", reference));
        Assert.True((await SubmitAsync(Mms("m15", "a15", "b15"))).Accepted);

        var answering = Grains.GetGrain<IUserGrain>("b15").AnswerAsync("m15", "2", "1");
        var written = await observer.NextAsync("s-a15");
        var backlog = await sender.AttachSessionAsync(new SessionHandle("test-gateway", "s-a15-2", reference));
        var again = Assert.Single(backlog);
        Assert.Equal((DeliveryKind.Notice, "m15", written.Seq), (again.Kind, again.MessageId, again.Seq));

        // Written to the second session and confirmed there: never stored.
        await sender.ConfirmWrittenAsync([again.Seq]);
        Assert.True(await answering);
        Assert.Empty(await fixture.Mailbox.LoadAsync("a15"));
    }

    [Fact]
    public async Task An_ordinary_message_to_a_live_session_is_stored_only_when_its_writing_is_not_confirmed_in_time()
    {
        await ProvisionAsync("a17");
        var (observer, reference) = await GatewayAsync();
        var user = Grains.GetGrain<IUserGrain>("a17");
        await user.AttachSessionAsync(new SessionHandle("test-gateway", "s-a17", reference));

        // Confirmed in time: written, never stored.
        static bool Involved(string key) => key is "a17" or "b17";
        var writesBefore = fixture.Storage.WritesOf(Involved);
        var delivering = user.DeliverPlainAsync(Chat("p17-1", "b17"));
        var written = await observer.NextAsync("s-a17");
        Assert.Equal((DeliveryKind.Plain, "p17-1"), (written.Kind, written.MessageId));
        Assert.True(written.Seq < 0, "an ordinary message to a live session is written before it is stored");
        await user.ConfirmWrittenAsync([written.Seq]);
        Assert.True(await delivering);
        Assert.Equal(writesBefore, fixture.Storage.WritesOf(Involved));
        Assert.Empty(await fixture.Mailbox.LoadAsync("a17"));

        // Not confirmed: the call completes once it is stored, and the next session gets it from the mailbox.
        var unconfirmed = user.DeliverPlainAsync(Chat("p17-2", "b17"));
        Assert.Equal("p17-2", (await observer.NextAsync("s-a17")).MessageId);
        Assert.True(await unconfirmed);
        var stored = Assert.Single(await fixture.Mailbox.LoadAsync("a17"));
        Assert.Equal((DeliveryKind.Plain, "p17-2"), (stored.Kind, stored.MessageId));
        var backlog = await user.AttachSessionAsync(new SessionHandle("test-gateway", "s-a17-2", reference));
        Assert.Equal(stored.Seq, Assert.Single(backlog, d => d.MessageId == "p17-2").Seq);
        await user.ConfirmWrittenAsync([stored.Seq]);
        await WaitUntilMailboxEmptyAsync("a17", "the stored message confirmed by the next session was never removed");
    }

    [Fact]
    public async Task An_ordinary_message_waiting_for_its_confirmation_holds_up_no_mms_to_the_same_user()
    {
        await ProvisionAsync("a19", "b19");
        var (observer, reference) = await GatewayAsync();
        var user = Grains.GetGrain<IUserGrain>("a19");
        await user.AttachSessionAsync(new SessionHandle("test-gateway", "s-a19", reference));
        var delivering = user.DeliverPlainAsync(Chat("p19", "b19"));
        var written = await observer.NextAsync("s-a19");
        Assert.Equal("p19", written.MessageId);

        // Nobody confirms the chat message yet: it waits (the fixture's wait is seconds), the MMS does not wait for it.
        var submitting = SubmitAsync(Mms("m19", "b19", "a19"));
        Assert.Same(submitting, await Task.WhenAny(delivering, submitting));
        Assert.True((await submitting).Accepted);
        Assert.Equal("m19", (await observer.NextAsync("s-a19")).MessageId);

        await user.ConfirmWrittenAsync([written.Seq]);
        Assert.True(await delivering);
    }

    [Fact]
    public async Task Ordinary_messages_nobody_confirms_are_stored_in_the_order_they_were_written()
    {
        await ProvisionAsync("a20");
        var (observer, reference) = await GatewayAsync();
        var user = Grains.GetGrain<IUserGrain>("a20");
        await user.AttachSessionAsync(new SessionHandle("test-gateway", "s-a20", reference));
        var delivering = Enumerable.Range(0, 5).Select(i => user.DeliverPlainAsync(Chat($"p20-{i}", "b20"))).ToArray();
        // Concurrent calls may reach the grain in any order, and the observer's calls too: the order the grain wrote them
        // in is that of their numbers, which count down.
        var written = new List<Delivery>();
        for (var i = 0; i < 5; i++) written.Add(await observer.NextAsync("s-a20"));
        Assert.All(await Task.WhenAll(delivering), Assert.True);
        var stored = await fixture.Mailbox.LoadAsync("a20");
        Assert.Equal(written.OrderByDescending(d => d.Seq).Select(d => d.MessageId), stored.OrderBy(e => e.Seq).Select(e => e.MessageId));
    }

    [Fact]
    public async Task An_ordinary_message_to_a_user_without_a_live_session_is_stored_before_the_call_completes()
    {
        await ProvisionAsync("a18");
        Assert.True(await Grains.GetGrain<IUserGrain>("a18").DeliverPlainAsync(Chat("p18", "b18", "later")));
        var stored = Assert.Single(await fixture.Mailbox.LoadAsync("a18"));
        Assert.Equal((DeliveryKind.Plain, "p18"), (stored.Kind, stored.MessageId));
    }

    [Fact]
    public async Task A_new_activation_never_writes_a_notice_under_a_number_an_earlier_one_wrote()
    {
        await ProvisionAsync("a16", "b16");
        var (observer, reference) = await GatewayAsync();
        var sender = Grains.GetGrain<IUserGrain>("a16");
        var seqs = new List<long>();
        for (var round = 0; round < 2; round++)
        {
            await sender.AttachSessionAsync(new SessionHandle("test-gateway", $"s-a16-{round}", reference));
            Assert.True((await SubmitAsync(Mms($"m16-{round}", "a16", "b16"))).Accepted);
            var answering = Grains.GetGrain<IUserGrain>("b16").AnswerAsync($"m16-{round}", "2", "1");
            var written = await observer.NextAsync($"s-a16-{round}");
            Assert.True(written.Seq < 0, "a notice to a live session is written before it is stored");
            seqs.Add(written.Seq);
            await sender.ConfirmWrittenAsync([written.Seq]);
            Assert.True(await answering);
            // A gateway may still hold a number across a silo's restart; the next activation must not reuse it.
            await sender.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        }
        Assert.NotEqual(seqs[0], seqs[1]);
    }

    [Fact]
    public async Task Users_answering_each_others_mms_at_once_all_get_their_acks()
    {
        const int pairs = 40;
        var (_, reference) = await GatewayAsync();
        for (var i = 0; i < pairs; i++)
        {
            await ProvisionAsync($"a8-{i}", $"b8-{i}");
            await Grains.GetGrain<IUserGrain>($"a8-{i}").AttachSessionAsync(new SessionHandle("test-gateway", $"s-a8-{i}", reference));
            await Grains.GetGrain<IUserGrain>($"b8-{i}").AttachSessionAsync(new SessionHandle("test-gateway", $"s-b8-{i}", reference));
            await SubmitAsync(Mms($"x-{i}", $"a8-{i}", $"b8-{i}"));
            await SubmitAsync(Mms($"y-{i}", $"b8-{i}", $"a8-{i}"));
        }
        // Each user grain relays its answer to the other's user grain: neither may wait on the other.
        var answers = Task.WhenAll(Enumerable.Range(0, pairs).SelectMany(i => new[]
        {
            Grains.GetGrain<IUserGrain>($"b8-{i}").AnswerAsync($"x-{i}", "2", "1"),
            Grains.GetGrain<IUserGrain>($"a8-{i}").AnswerAsync($"y-{i}", "2", "1"),
        }));
        Assert.Same(answers, await Task.WhenAny(answers, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.All(await answers, Assert.True);
    }

    [Fact]
    public async Task A_retry_after_the_answer_gets_the_answer_again_without_a_second_delivery()
    {
        await ProvisionAsync("a9", "b9");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("a9").AttachSessionAsync(new SessionHandle("test-gateway", "s-a9", reference));
        await Grains.GetGrain<IUserGrain>("b9").AttachSessionAsync(new SessionHandle("test-gateway", "s-b9", reference));
        await SubmitAsync(Mms("m9", "a9", "b9"));
        Assert.Equal("m9", (await observer.NextAsync("s-b9")).MessageId);
        await Grains.GetGrain<IUserGrain>("b9").AnswerAsync("m9", "3", "10");
        Assert.Equal("FAIL", (await observer.NextAsync("s-a9")).From);

        Assert.True((await SubmitAsync(Mms("m9", "a9", "b9"))).Accepted);
        var again = await observer.NextAsync("s-a9");
        Assert.Equal(("FAIL", "m9"), (again.From, again.MessageId));
        Assert.Contains(new KeyValuePair<string, string>("ReturnCode", "10"), again.Properties!);
        Assert.Equal(FailCode.DuplicateIdDifferentContent, (await SubmitAsync(Mms("m9", "a9", "b9", "other"))).FailCode);
        var backlog = await Grains.GetGrain<IUserGrain>("b9").AttachSessionAsync(new SessionHandle("test-gateway", "s-b9b", reference));
        Assert.Empty(backlog);
    }

    [Fact]
    public async Task An_mms_to_oneself_is_delivered_and_its_ack_comes_back()
    {
        await ProvisionAsync("a10");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("a10").AttachSessionAsync(new SessionHandle("test-gateway", "s-a10", reference));
        Assert.True((await SubmitAsync(Mms("m10", "a10", "a10"))).Accepted);
        var copy = await observer.NextAsync("s-a10");
        Assert.Equal((DeliveryKind.Mms, "m10", "a10"), (copy.Kind, copy.MessageId, copy.From));
        // The user grain relays the answer to itself: the call must interleave, not wait for its own turn to end.
        var answered = Grains.GetGrain<IUserGrain>("a10").AnswerAsync("m10", "2", "1");
        Assert.Same(answered, await Task.WhenAny(answered, Task.Delay(TimeSpan.FromSeconds(10))));
        Assert.True(await answered);
        var notice = await observer.NextAsync("s-a10");
        Assert.Equal((DeliveryKind.Notice, "m10", "ACK"), (notice.Kind, notice.MessageId, notice.From));
    }

    [Fact]
    public async Task An_answered_mms_is_kept_a_day_for_retries_then_dropped_without_a_fail()
    {
        await ProvisionAsync("a11", "b11");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("a11").AttachSessionAsync(new SessionHandle("test-gateway", "s-a11", reference));
        await SubmitAsync(Mms("m11", "a11", "b11"));
        await Grains.GetGrain<IUserGrain>("b11").AnswerAsync("m11", "2", "1");
        Assert.Equal("ACK", (await observer.NextAsync("s-a11")).From);
        Assert.Single(await fixture.Mailbox.LoadAsync("b11"));

        await ExpireLaterAsync("b11", TimeSpan.FromHours(25));
        Assert.Empty(await fixture.Mailbox.LoadAsync("b11"));
        Assert.True(observer.IsEmpty("s-a11"), "an answered MMS that ages out is no FAIL 5");
    }

    [Fact]
    public async Task An_answered_mms_kept_only_in_the_store_still_meets_retries_later_answers_and_its_expiry()
    {
        await ProvisionAsync("a22", "b22");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("a22").AttachSessionAsync(new SessionHandle("test-gateway", "s-a22", reference));
        await SubmitAsync(Mms("m22", "a22", "b22"));
        Assert.True(await Grains.GetGrain<IUserGrain>("b22").AnswerAsync("m22", "2", "1"));
        Assert.Equal("ACK", (await observer.NextAsync("s-a22")).From);

        // Loaded past the window in which a new activation relays answers again, the recipient's next activation keeps
        // this answered MMS settled from the start, as only a hash of its id, and must read it from the store to know
        // it. The clock goes back at once: the gateway's liveness is judged by it too.
        await Grains.GetGrain<IUserGrain>("b22").Cast<IGrainManagementExtension>().DeactivateOnIdle();
        fixture.Time.Offset = TimeSpan.FromMinutes(11);
        try
        {
            await Grains.GetGrain<IUserGrain>("b22").ExpireAsync();
        }
        finally
        {
            fixture.Time.Offset = TimeSpan.Zero;
        }
        Assert.True((await SubmitAsync(Mms("m22", "a22", "b22"))).Accepted);
        var again = await observer.NextAsync("s-a22");
        Assert.Equal(("ACK", "m22"), (again.From, again.MessageId));
        Assert.Equal(FailCode.DuplicateIdDifferentContent, (await SubmitAsync(Mms("m22", "a22", "b22", "other"))).FailCode);
        Assert.Single(await fixture.Mailbox.LoadAsync("b22"));

        // A later, different answer to it is recorded and relayed.
        Assert.True(await Grains.GetGrain<IUserGrain>("b22").AnswerAsync("m22", "3", "10"));
        var changed = await observer.NextAsync("s-a22");
        Assert.Equal(("FAIL", "m22"), (changed.From, changed.MessageId));
        Assert.Equal("3", Assert.Single(await fixture.Mailbox.LoadAsync("b22")).AnswerMsgType);
        var backlog = await Grains.GetGrain<IUserGrain>("b22").AttachSessionAsync(new SessionHandle("test-gateway", "s-b22", reference));
        Assert.Empty(backlog);

        await ExpireLaterAsync("b22", TimeSpan.FromHours(25));
        Assert.Empty(await fixture.Mailbox.LoadAsync("b22"));
        Assert.True(observer.IsEmpty("s-a22"), "an answered MMS that ages out is no FAIL 5");
    }

    [Fact]
    public async Task A_mailbox_that_failed_to_load_is_loaded_again_on_the_next_message()
    {
        await ProvisionAsync("a12", "b12");
        fixture.Storage.FailNextLoad("b12");
        await Assert.ThrowsAnyAsync<Exception>(() => SubmitAsync(Mms("m12", "a12", "b12")));
        Assert.True((await SubmitAsync(Mms("m12", "a12", "b12"))).Accepted);
        Assert.Single(await fixture.Mailbox.LoadAsync("b12"));
    }

    [Fact]
    public async Task An_MMS_stored_for_its_recipient_is_accepted_though_its_own_state_cannot_be_written_yet()
    {
        await ProvisionAsync("a20", "b20");
        var key = MessageKey.For("a20", "m20");
        var message = Grains.GetGrain<IMessageGrain>(key);
        await message.RecordUploadAsync(["f20.jpg"]);
        var writes = fixture.Storage.GrainWritesOf(key);

        // The recipient's copy is stored; the message grain's own write fails: the recipient may be reading it already,
        // so the submission must not fail (the terminal would be told FAIL 9).
        fixture.Storage.FailNextGrainWrite(key);
        Assert.True((await SubmitAsync(Mms("m20", "a20", "b20") with { Attach = "f20.jpg" })).Accepted);
        Assert.Single(await fixture.Mailbox.LoadAsync("b20"), e => e.MessageId == "m20");

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (fixture.Storage.GrainWritesOf(key) == writes)
        {
            Assert.True(DateTime.UtcNow < deadline, "the message's state was never written");
            await Task.Delay(50);
        }
        // What was written is the submission: a new activation knows the id, and other content under it is FAIL 8.
        await message.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var other = await SubmitAsync(Mms("m20", "a20", "b20", "other") with { Attach = "f20.jpg" });
        Assert.Equal(FailCode.DuplicateIdDifferentContent, other.FailCode);
        Assert.Single(await fixture.Mailbox.LoadAsync("b20"), e => e.MessageId == "m20");
    }

    [Fact]
    public async Task An_MMS_whose_storing_had_an_unknown_outcome_says_so_and_its_retry_stores_no_second_copy()
    {
        await ProvisionAsync("a21", "b21");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("b21").AttachSessionAsync(new SessionHandle("test-gateway", "s-b21", reference));

        // The caller (a gateway) must be able to tell this from a refusal: the MMS may be stored.
        fixture.Storage.LoseNextAppendOutcome("b21");
        await Assert.ThrowsAsync<StorageOutcomeUnknownException>(() => SubmitAsync(Mms("m21", "a21", "b21")));

        Assert.True((await SubmitAsync(Mms("m21", "a21", "b21"))).Accepted);
        Assert.Single(await fixture.Mailbox.LoadAsync("b21"), e => e.MessageId == "m21");
        Assert.Equal("m21", (await observer.NextAsync("s-b21")).MessageId);
        Assert.True(await Grains.GetGrain<IUserGrain>("b21").AnswerAsync("m21", "2", "1"));
        Assert.True(observer.IsEmpty("s-b21"), "the MMS was pushed twice");
    }

    /// <summary>
    /// Records an answer in the store behind the grain's back, as a second activation of the recipient's grain does while
    /// the silos agree on a death (RELIABILITY.md, finding 10): this activation's mailbox still has the MMS waiting.
    /// </summary>
    private async Task AnswerThroughAnotherActivationAsync(string udn, long seq)
    {
        var row = await fixture.Mailbox.FindAsync(udn, seq);
        Assert.NotNull(row);
        await fixture.Mailbox.UpdateAsync(udn, row with
        {
            Answered = true, Payload = null, AnswerMsgType = "2", AnswerReturnCode = "1", AnsweredAt = fixture.Time.GetUtcNow(),
        });
    }

    [Fact]
    public async Task An_mms_answered_through_another_activation_is_not_written_again_to_a_new_session_and_its_answer_reaches_the_sender()
    {
        await ProvisionAsync("a31", "b31");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("a31").AttachSessionAsync(new SessionHandle("test-gateway", "s-a31", reference));
        await Grains.GetGrain<IUserGrain>("b31").AttachSessionAsync(new SessionHandle("test-gateway", "s-b31", reference));
        Assert.True((await SubmitAsync(Mms("m31", "a31", "b31"))).Accepted);
        var delivered = await observer.NextAsync("s-b31");
        await AnswerThroughAnotherActivationAsync("b31", delivered.Seq);

        // The terminal comes back on a new connection: what it answered is not in its backlog.
        var backlog = await Grains.GetGrain<IUserGrain>("b31").AttachSessionAsync(new SessionHandle("test-gateway", "s-b31b", reference));
        Assert.DoesNotContain(backlog, d => d.MessageId == "m31");
        var notice = await observer.NextAsync("s-a31");
        Assert.Equal((DeliveryKind.Notice, "m31", "ACK"), (notice.Kind, notice.MessageId, notice.From));
        // The terminal answering again (it never will now, but a retried ACK may) changes nothing.
        Assert.True(await Grains.GetGrain<IUserGrain>("b31").AnswerAsync("m31", "2", "1"));
    }

    [Fact]
    public async Task A_new_activation_told_of_a_session_does_not_write_again_what_the_activation_before_it_had_answered_meanwhile()
    {
        await ProvisionAsync("a32", "b32");
        var (observer, reference) = await GatewayAsync();
        await Grains.GetGrain<IUserGrain>("a32").AttachSessionAsync(new SessionHandle("test-gateway", "s-a32", reference));
        var session = new SessionHandle("test-gateway", "s-b32", reference);
        var recipient = Grains.GetGrain<IUserGrain>("b32");
        await recipient.AttachSessionAsync(session);
        Assert.True((await SubmitAsync(Mms("m32", "a32", "b32"))).Accepted);
        var delivered = await observer.NextAsync("s-b32");

        // The recipient's silo dies: the gateways tell a new activation about the session, which loads the MMS
        // unanswered, while the activation before it (alive a moment longer) records the terminal's ACK.
        await recipient.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await recipient.ResyncSessionAsync(session);
        await AnswerThroughAnotherActivationAsync("b32", delivered.Seq);

        var notice = await observer.NextAsync("s-a32", TimeSpan.FromSeconds(15));
        Assert.Equal((DeliveryKind.Notice, "m32", "ACK"), (notice.Kind, notice.MessageId, notice.From));
        var sentinel = "sentinel-" + Guid.NewGuid().ToString("N");
        await recipient.NotifyAsync(sentinel, "ACK", [new("MsgType", "2")], DateTimeOffset.UtcNow.AddHours(1));
        Assert.Equal(sentinel, (await observer.NextAsync("s-b32")).MessageId);
    }

    [Fact]
    public async Task A_new_activation_told_of_one_session_writes_what_waits_to_every_live_session()
    {
        await ProvisionAsync("a33", "b33");
        var (observer, reference) = await GatewayAsync();
        var session = new SessionHandle("test-gateway", "s-b33", reference);
        var other = new SessionHandle("test-gateway", "s-b33-console", reference);
        var recipient = Grains.GetGrain<IUserGrain>("b33");
        await recipient.AttachSessionAsync(session);
        await recipient.AttachSessionAsync(other);
        Assert.True((await SubmitAsync(Mms("m33", "a33", "b33"))).Accepted);
        Assert.Equal("m33", (await observer.NextAsync("s-b33")).MessageId);
        Assert.Equal("m33", (await observer.NextAsync("s-b33-console")).MessageId);

        // The activation died with its pushes: the new one writes the MMS again, once it has read it again, to both
        // sessions, though the other one's resynchronisation finds it no longer new.
        await recipient.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await recipient.ResyncSessionAsync(session);
        await recipient.ResyncSessionAsync(other);
        Assert.Equal("m33", (await observer.NextAsync("s-b33", TimeSpan.FromSeconds(15))).MessageId);
        Assert.Equal("m33", (await observer.NextAsync("s-b33-console", TimeSpan.FromSeconds(15))).MessageId);
        Assert.True(await recipient.AnswerAsync("m33", "2", "1"));
    }

    [Fact]
    public async Task An_answer_whose_relay_failed_reaches_the_sender_without_anyone_retrying_it()
    {
        await ProvisionAsync("a13", "b13");
        Assert.True((await SubmitAsync(Mms("m13", "a13", "b13"))).Accepted);

        // The sender (offline) cannot have its notice stored when the ACK comes: the answer is recorded at the recipient,
        // its relay fails, and nobody calls again.
        fixture.Storage.FailNextAppend("a13");
        Assert.True(await Grains.GetGrain<IUserGrain>("b13").AnswerAsync("m13", "2", "1"));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await fixture.Mailbox.LoadAsync("a13")).Any(e => e is { Kind: DeliveryKind.Notice, MessageId: "m13", From: "ACK" }))
        {
            Assert.True(DateTime.UtcNow < deadline, "the answer was never relayed again");
            await Task.Delay(50);
        }
    }
}

[Collection(SqliteCluster.Name)]
public sealed class MessageFlow_Tests_on_Sqlite(SqliteClusterFixture fixture) : MessageFlow_Tests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class MessageFlow_Tests_on_Postgres(PostgresClusterFixture fixture) : MessageFlow_Tests(fixture);
