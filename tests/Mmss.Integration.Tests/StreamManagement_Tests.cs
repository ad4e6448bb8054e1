using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>XEP-0198: acknowledgements, notices kept until acknowledged, and resumption after a lost connection.</summary>
[Collection(ServerCollection.Name)]
public class StreamManagement_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;

    private Task<(string Mo, string Mt)> TwoUsersAsync(string prefix) => Server.ProvisionPairAsync(prefix);

    private static async Task<XmlElement> EnableAsync(XmppClient client, bool resume)
    {
        await client.SendRawAsync($"<enable xmlns='urn:xmpp:sm:3'{(resume ? " resume='true'" : "")}/>");
        var enabled = await client.ReadUntilAsync(e => e.Namespace == Namespaces.StreamManagement);
        Assert.Equal("enabled", enabled.Name);
        return enabled;
    }

    [Fact]
    public async Task Stream_management_is_offered_after_binding_features()
    {
        await using var client = await XmppClient.AuthenticatedAsync("127.0.0.1", Server.C2sPort, EmbeddedServer.Domain,
            EmbeddedServer.Mechanism("PLAIN", "1101", "pw-1101"));
        Assert.NotNull(client.Features!.Element("sm", Namespaces.StreamManagement));
    }

    [Fact]
    public async Task Server_answers_r_with_the_count_of_handled_stanzas()
    {
        await using var client = await Server.LoginAsync("1101", "pw-1101", resource: "sm-count");
        await EnableAsync(client, resume: false);
        for (var i = 0; i < 3; i++) await client.SendRawAsync($"<presence/>");
        await client.SendRawAsync("<r xmlns='urn:xmpp:sm:3'/>");
        var answer = await client.ReadUntilAsync(e => e.Name == "a" && e.Namespace == Namespaces.StreamManagement);
        Assert.Equal("3", answer.Attribute("h"));
    }

    [Fact]
    public async Task Notice_stays_stored_until_the_client_acknowledges_it()
    {
        var (mo, mt) = await TwoUsersAsync("631");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        await using (var sender = await Server.LoginAsync(mo, "pw", resource: "unacked"))
        {
            await EnableAsync(sender, resume: false);
            await sender.SendRawAsync(Mms("sm-notice", mt));
            await recipient.ReadUntilAsync(e => IsMessage(e, "sm-notice"));
            await recipient.SendRawAsync(Ack("sm-notice"));
            // Written to the sender, and asked to acknowledge; it never does.
            await sender.ReadUntilAsync(e => IsMessage(e, "sm-notice"));
            await sender.ReadUntilAsync(e => e.Name == "r" && e.Namespace == Namespaces.StreamManagement);
            await sender.SendRawAsync("</stream:stream>");
        }
        await using var again = await Server.LoginAsync(mo, "pw");
        var notice = await again.ReadUntilAsync(e => IsMessage(e, "sm-notice"));
        Assert.Equal("ACK@127.0.0.1", notice.Attribute("from"));
    }

    [Fact]
    public async Task Acknowledged_notice_is_not_delivered_again()
    {
        var (mo, mt) = await TwoUsersAsync("632");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        await using (var sender = await Server.LoginAsync(mo, "pw"))
        {
            await EnableAsync(sender, resume: false);
            await sender.SendRawAsync(Mms("sm-acked", mt));
            await recipient.ReadUntilAsync(e => IsMessage(e, "sm-acked"));
            await recipient.SendRawAsync(Ack("sm-acked"));
            await sender.ReadUntilAsync(e => IsMessage(e, "sm-acked"));
            await sender.SendRawAsync("<a xmlns='urn:xmpp:sm:3' h='1'/>");
            await sender.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            await sender.ReadUntilAsync(e => e.Attribute("id") == "sync");
            await sender.SendRawAsync("</stream:stream>");
        }
        await using var again = await Server.LoginAsync(mo, "pw");
        await again.SendRawAsync("<iq type='get' id='sync2'><ping xmlns='urn:xmpp:ping'/></iq>");
        var first = await again.ReadUntilAsync(e => e.Attribute("id") is "sync2" or "sm-acked");
        Assert.Equal("sync2", first.Attribute("id"));
    }

    [Fact]
    public async Task Lost_connection_is_resumed_and_unacknowledged_stanzas_are_sent_again()
    {
        var (mo, mt) = await TwoUsersAsync("633");
        await using var sender = await Server.LoginAsync(mo, "pw");
        string resumptionId;
        await using (var first = await Server.LoginAsync(mt, "pw", resource: "radio"))
        {
            resumptionId = (await EnableAsync(first, resume: true)).Attribute("id")!;
            await sender.SendRawAsync(Mms("resume-1", mt));
            await first.ReadUntilAsync(e => IsMessage(e, "resume-1"));
            // The connection drops without </stream:stream>, as a handset leaving coverage.
        }
        await sender.SendRawAsync(Mms("resume-2", mt));
        await sender.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
        await sender.ReadUntilAsync(e => e.Attribute("id") == "sync");

        await using var resumed = await XmppClient.AuthenticatedAsync("127.0.0.1", Server.C2sPort, EmbeddedServer.Domain,
            EmbeddedServer.Mechanism("SCRAM-SHA-1", mt, "pw"));
        await resumed.SendRawAsync($"<resume xmlns='urn:xmpp:sm:3' previd='{resumptionId}' h='1'/>");
        var answer = await resumed.ReadUntilAsync(e => e.Namespace == Namespaces.StreamManagement);
        Assert.Equal("resumed", answer.Name);
        // h='1': the client had handled resume-1, so only resume-2 comes (again).
        var next = await resumed.ReadUntilAsync(e => e.Name == "message");
        Assert.Equal("resume-2", next.Attribute("id"));
        Assert.Equal($"{mt}@127.0.0.1", next.Attribute("to"));
        await resumed.SendRawAsync(Ack("resume-2"));
        Assert.Equal("ACK@127.0.0.1", (await sender.ReadUntilAsync(e => IsMessage(e, "resume-2"))).Attribute("from"));
    }

    [Fact]
    public async Task Messages_in_flight_are_counted_before_the_r_sent_after_them_is_answered()
    {
        var (mo, mt) = await TwoUsersAsync("634");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        await using var sender = await Server.LoginAsync(mo, "pw", resource: "sm-burst");
        await EnableAsync(sender, resume: false);
        // Sent at once, as a terminal with several MMS queued does; each is stored (a durable commit) before it counts.
        var burst = string.Concat(Enumerable.Range(0, 20).Select(i => Mms($"sm-burst-{i}", mt)));
        await sender.SendRawAsync(burst + "<r xmlns='urn:xmpp:sm:3'/>");
        var answer = await sender.ReadUntilAsync(e => e.Name == "a" && e.Namespace == Namespaces.StreamManagement);
        Assert.Equal("20", answer.Attribute("h"));
        for (var i = 0; i < 20; i++) await recipient.ReadUntilAsync(e => IsMessage(e, $"sm-burst-{i}"));
    }

    [Fact]
    public async Task Chat_messages_to_a_terminal_slow_to_acknowledge_are_counted_once_stored()
    {
        var (mo, mt) = await TwoUsersAsync("635");
        await using var sender = await Server.LoginAsync(mo, "pw", resource: "sm-chat");
        await EnableAsync(sender, resume: false);
        await using (var recipient = await Server.LoginAsync(mt, "pw", resource: "never-acks"))
        {
            await EnableAsync(recipient, resume: false);
            await sender.SendRawAsync(
                $"<message id='sm-chat-1' to='{mt}@127.0.0.1' type='chat'><body>one</body></message>" +
                $"<message id='sm-chat-2' to='{mt}@127.0.0.1' type='chat'><body>two</body></message>" +
                "<r xmlns='urn:xmpp:sm:3'/>");
            // Written to the recipient, which is asked to acknowledge and never does: the sender's count waits until
            // the messages are stored instead.
            await recipient.ReadUntilAsync(e => IsMessage(e, "sm-chat-2"));
            var answer = await sender.ReadUntilAsync(e => e.Name == "a" && e.Namespace == Namespaces.StreamManagement);
            Assert.Equal("2", answer.Attribute("h"));
            await recipient.SendRawAsync("</stream:stream>");
        }
        await using var again = await Server.LoginAsync(mt, "pw");
        Assert.Equal("one", (await again.ReadUntilAsync(e => IsMessage(e, "sm-chat-1"))).Element("body", Namespaces.Client)!.Text);
        Assert.Equal("two", (await again.ReadUntilAsync(e => IsMessage(e, "sm-chat-2"))).Element("body", Namespaces.Client)!.Text);
    }

    [Fact]
    public async Task Resumption_of_an_unknown_session_fails_with_item_not_found()
    {
        await using var client = await XmppClient.AuthenticatedAsync("127.0.0.1", Server.C2sPort, EmbeddedServer.Domain,
            EmbeddedServer.Mechanism("PLAIN", "1102", "pw-1102"));
        await client.SendRawAsync("<resume xmlns='urn:xmpp:sm:3' previd='no-such-session' h='0'/>");
        var failed = await client.ReadUntilAsync(e => e.Namespace == Namespaces.StreamManagement);
        Assert.Equal("failed", failed.Name);
        Assert.NotNull(failed.Element("item-not-found", Namespaces.Stanzas));
        Assert.StartsWith("1102@127.0.0.1/", await client.BindAsync(null));
    }

    [Fact]
    public async Task Acknowledging_more_than_was_sent_ends_the_stream()
    {
        await using var client = await Server.LoginAsync("1101", "pw-1101", resource: "sm-too-high");
        await EnableAsync(client, resume: false);
        await client.SendRawAsync("<a xmlns='urn:xmpp:sm:3' h='5'/>");
        var error = await client.ReadUntilAsync(e => e.Name == "error" && e.Namespace == Namespaces.Streams);
        Assert.NotNull(error.Element("undefined-condition", Namespaces.StreamErrors));
    }
}
