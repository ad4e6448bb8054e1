using Mmss.GrainInterfaces;

namespace Mmss.Grains.Tests;

public class Mailbox_Tests
{
    private static MailboxEntry Mms(long seq, string from, string id, bool answered = false, bool emergency = false) =>
        new(seq, DeliveryKind.Mms, id, from, null, [], null, DateTimeOffset.UtcNow.AddDays(1), answered, Emergency: emergency);

    [Fact]
    public void Emergency_mms_wait_ahead_of_everything_else_and_leave_the_line_once_answered_or_removed()
    {
        var mailbox = new Mailbox([Mms(1, "a", "p"), Mms(4, "d", "alarm-1", emergency: true), Mms(2, "b", "q")]);
        mailbox.Add(new MailboxEntry(3, DeliveryKind.Notice, "n", "ACK", "chat", null, null, DateTimeOffset.UtcNow, false));
        mailbox.Add(Mms(6, "d", "alarm-2", emergency: true));
        mailbox.Add(Mms(5, "c", "r"));
        Assert.Equal([4L, 6L, 1L, 2L, 3L, 5L], mailbox.Waiting.Select(e => e.Seq));
        Assert.True(mailbox.EmergencyWaiting);

        mailbox.Replace(Mms(4, "d", "alarm-1", answered: true, emergency: true));
        mailbox.Remove(6);
        Assert.Equal([1L, 2L, 3L, 5L], mailbox.Waiting.Select(e => e.Seq));
        Assert.False(mailbox.EmergencyWaiting);
        Assert.Equal(4, mailbox.FindMmsToAnswer("alarm-1")!.Seq);
    }

    [Fact]
    public void Answer_goes_to_the_oldest_unanswered_mms_with_that_id_else_the_newest()
    {
        var mailbox = new Mailbox([Mms(1, "a", "x", answered: true), Mms(2, "b", "x"), Mms(3, "c", "x")]);
        Assert.Equal(2, mailbox.FindMmsToAnswer("x")!.Seq);
        mailbox.Replace(Mms(2, "b", "x", answered: true));
        mailbox.Replace(Mms(3, "c", "x", answered: true));
        Assert.Equal(3, mailbox.FindMmsToAnswer("x")!.Seq);
        Assert.Empty(mailbox.Waiting);
        Assert.Equal(3, mailbox.Count);
        Assert.Null(mailbox.FindMmsToAnswer("y"));
    }

    [Fact]
    public void Removing_one_of_several_mms_sharing_an_id_leaves_the_others_findable_by_sender_and_in_order()
    {
        var mailbox = new Mailbox([Mms(1, "a", "x"), Mms(2, "b", "x"), Mms(3, "c", "x")]);

        mailbox.Remove(1);
        Assert.Null(mailbox.FindMms("a", "x"));
        Assert.Equal(2, mailbox.FindMms("b", "x")!.Seq);
        Assert.Equal(3, mailbox.FindMms("c", "x")!.Seq);
        Assert.Equal(2, mailbox.FindMmsToAnswer("x")!.Seq);

        mailbox.Remove(3);
        Assert.Null(mailbox.FindMms("c", "x"));
        mailbox.Replace(Mms(2, "b", "x", answered: true));
        Assert.Equal(2, mailbox.FindMmsToAnswer("x")!.Seq);

        mailbox.Remove(2);
        Assert.Null(mailbox.FindMmsToAnswer("x"));
        mailbox.Add(Mms(4, "d", "x"));
        Assert.Equal(4, mailbox.FindMms("d", "x")!.Seq);
        Assert.Equal(4, mailbox.FindMmsToAnswer("x")!.Seq);
    }

    [Fact]
    public void Waiting_entries_stay_in_sequence_order_and_removal_clears_the_index()
    {
        var mailbox = new Mailbox([Mms(5, "a", "p"), Mms(2, "a", "q")]);
        mailbox.Add(new MailboxEntry(9, DeliveryKind.Notice, "n", "ACK", "chat", null, null, DateTimeOffset.UtcNow, false));
        Assert.Equal([2L, 5L, 9L], mailbox.Waiting.Select(e => e.Seq));
        Assert.NotNull(mailbox.FindMms("a", "q"));
        Assert.Null(mailbox.FindMms("b", "q"));
        mailbox.Remove(2);
        Assert.Null(mailbox.FindMms("a", "q"));
        Assert.Null(mailbox.FindMmsToAnswer("q"));
        Assert.Equal(2, mailbox.Count);
    }

    [Fact]
    public void An_empty_mailbox_answers_every_query_and_one_emptied_and_released_fills_again()
    {
        var mailbox = new Mailbox([]);
        Assert.Equal(0, mailbox.Count);
        Assert.Empty(mailbox.Entries);
        Assert.Empty(mailbox.Waiting);
        Assert.False(mailbox.EmergencyWaiting);
        Assert.Null(mailbox.Get(1));
        Assert.Null(mailbox.FindMms("a", "x"));
        Assert.Null(mailbox.FindMmsToAnswer("x"));
        mailbox.Remove(1);

        mailbox.Add(Mms(1, "a", "x", emergency: true));
        mailbox.Add(Mms(2, "b", "y"));
        mailbox.Remove(1);
        mailbox.Remove(2);
        mailbox.ReleaseEmpty();
        Assert.Equal(0, mailbox.Count);
        Assert.Empty(mailbox.Waiting);
        Assert.Null(mailbox.FindMms("b", "y"));

        mailbox.Add(Mms(3, "c", "z", emergency: true));
        Assert.Equal([3L], mailbox.Waiting.Select(e => e.Seq));
        Assert.Equal(3, mailbox.FindMms("c", "z")!.Seq);
        Assert.Equal([3L], mailbox.Entries.Select(e => e.Seq));
    }

    [Fact]
    public void A_settled_mms_is_no_entry_but_is_found_by_its_id_until_removed()
    {
        var mailbox = new Mailbox([Mms(1, "a", "x"), Mms(2, "b", "y")]);
        Assert.False(mailbox.Settle(1, null, null, relayedHere: true));
        mailbox.Replace(Mms(1, "a", "x", answered: true) with { AnswerMsgType = "2", AnswerReturnCode = "1" });
        Assert.False(mailbox.Settle(1, "3", "2", relayedHere: true));
        Assert.True(mailbox.Settle(1, "2", "1", relayedHere: true));

        Assert.Null(mailbox.Get(1));
        Assert.Null(mailbox.FindMms("a", "x"));
        Assert.Null(mailbox.FindMmsToAnswer("x"));
        Assert.Equal([2L], mailbox.Entries.Select(e => e.Seq));
        Assert.Equal(2, mailbox.Count);
        var settled = Assert.Single(mailbox.SettledUnder("x"));
        Assert.Equal(1, settled.Seq);
        Assert.True(settled.RelayedHere);
        Assert.Empty(mailbox.SettledUnder("y"));

        mailbox.RemoveSettled(settled);
        Assert.Empty(mailbox.SettledUnder("x"));
        Assert.Equal(1, mailbox.Count);
    }

    [Fact]
    public void Settled_mms_sharing_an_id_are_all_found_and_each_removed_alone()
    {
        var answered = new[] { Mms(1, "a", "x"), Mms(2, "b", "x"), Mms(3, "c", "x") }
            .Select(e => e with { Answered = true, AnswerMsgType = "2" }).ToArray();
        var mailbox = new Mailbox(answered);
        foreach (var entry in answered) Assert.True(mailbox.Settle(entry.Seq, "2", null, relayedHere: false));
        Assert.Equal([1L, 2L, 3L], mailbox.SettledUnder("x").Select(s => s.Seq).Order());

        mailbox.RemoveSettled(mailbox.SettledUnder("x").Single(s => s.Seq == 1));
        Assert.Equal([2L, 3L], mailbox.SettledUnder("x").Select(s => s.Seq).Order());
        mailbox.RemoveSettled(mailbox.SettledUnder("x").Single(s => s.Seq == 3));
        Assert.Equal([2L], mailbox.SettledUnder("x").Select(s => s.Seq));
        mailbox.RemoveSettled(mailbox.SettledUnder("x").Single());
        Assert.Empty(mailbox.SettledUnder("x"));
        mailbox.ReleaseEmpty();
        Assert.Equal(0, mailbox.Count);
    }

    [Fact]
    public void Only_settled_mms_past_their_expiry_are_listed_as_expired()
    {
        var now = DateTimeOffset.UtcNow;
        var mailbox = new Mailbox([
            Mms(1, "a", "x", answered: true) with { ExpiresAt = now.AddSeconds(-1) },
            Mms(2, "a", "y", answered: true) with { ExpiresAt = now.AddHours(1) },
        ]);
        mailbox.Settle(1, null, null, relayedHere: true);
        mailbox.Settle(2, null, null, relayedHere: true);
        Assert.Equal([1L], mailbox.SettledExpired(now).Select(s => s.Seq));
    }
}
