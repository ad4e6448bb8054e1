using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>Spec "Flows → one-to-one": MMS, ACK/FAIL relay, offline store-and-forward, end to end over sockets.</summary>
[Collection(ServerCollection.Name)]
public class OneToOne_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;

    private Task<(string Mo, string Mt)> TwoUsersAsync(string prefix) => Server.ProvisionPairAsync(prefix);

    private static Task<XmlElement> NextMessageAsync(XmppClient client, string id, TimeSpan? timeout = null) =>
        client.ReadUntilAsync(e => IsMessage(e, id), timeout);

    [Fact]
    public async Task Mms_reaches_the_online_recipient_unchanged_and_its_ack_reaches_the_sender()
    {
        var (mo, mt) = await TwoUsersAsync("610");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        await sender.SendRawAsync(Mms("1407488357552", mt, extra: "<property><name>VendorX</name><value type=\"string\">42</value></property>"));

        var received = await NextMessageAsync(recipient, "1407488357552");
        Assert.Equal($"{mo}@127.0.0.1", received.Attribute("from"));
        Assert.Equal($"{mt}@127.0.0.1", received.Attribute("to"));
        Assert.Equal("HELLO", received.Element("subject", Namespaces.Client)!.Text);
        Assert.Equal("dGh1bWJuYWls", received.Element("body", Namespaces.Client)!.Text);
        Assert.Equal("1", Property(received, "MsgType"));
        Assert.Equal("Hello, greeting from console C.", Property(received, "MsgText"));
        Assert.Equal("false", Property(received, "original_image_attached"));
        Assert.Equal("42", Property(received, "VendorX"));

        await recipient.SendRawAsync(Ack("1407488357552", "1"));
        var ack = await NextMessageAsync(sender, "1407488357552");
        Assert.Equal("ACK@127.0.0.1", ack.Attribute("from"));
        Assert.Equal($"{mo}@127.0.0.1", ack.Attribute("to"));
        Assert.Equal("2", Property(ack, "MsgType"));
        Assert.Equal("1", Property(ack, "ReturnCode"));

        // spec: ReturnCode 2 (read) after 1 (received) is relayed too.
        await recipient.SendRawAsync(Ack("1407488357552", "2"));
        var read = await NextMessageAsync(sender, "1407488357552");
        Assert.Equal("2", Property(read, "ReturnCode"));
    }

    [Fact]
    public async Task Fail_from_the_recipient_reaches_the_sender_with_its_return_code()
    {
        var (mo, mt) = await TwoUsersAsync("611");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        await sender.SendRawAsync(Mms("m-fail", mt));
        await NextMessageAsync(recipient, "m-fail");
        await recipient.SendRawAsync(Fail("m-fail", "4"));
        var fail = await NextMessageAsync(sender, "m-fail");
        Assert.Equal("FAIL@127.0.0.1", fail.Attribute("from"));
        Assert.Equal("3", Property(fail, "MsgType"));
        Assert.Equal("4", Property(fail, "ReturnCode"));
    }

    [Fact]
    public async Task Mms_to_an_offline_user_is_delivered_at_login()
    {
        var (mo, mt) = await TwoUsersAsync("612");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await sender.SendRawAsync(Mms("offline-1", mt, "stored for later"));
        await sender.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
        await sender.ReadUntilAsync(e => e.Attribute("id") == "sync");

        await using var recipient = await Server.LoginAsync(mt, "pw");
        var received = await NextMessageAsync(recipient, "offline-1");
        Assert.Equal("stored for later", Property(received, "MsgText"));
        await recipient.SendRawAsync(Ack("offline-1"));
        Assert.Equal("2", Property(await NextMessageAsync(sender, "offline-1"), "MsgType"));
    }

    [Fact]
    public async Task Mms_written_to_a_session_that_drops_before_its_ack_is_delivered_again_at_the_next_login()
    {
        var (mo, mt) = await TwoUsersAsync("613");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using (var first = await Server.LoginAsync(mt, "pw"))
        {
            await sender.SendRawAsync(Mms("drop-1", mt));
            await NextMessageAsync(first, "drop-1");
        }
        await using var second = await Server.LoginAsync(mt, "pw");
        await NextMessageAsync(second, "drop-1");
        await second.SendRawAsync(Ack("drop-1"));
        Assert.Equal("ACK@127.0.0.1", (await NextMessageAsync(sender, "drop-1")).Attribute("from"));
    }

    [Fact]
    public async Task Ack_for_an_offline_sender_is_delivered_at_its_next_login()
    {
        var (mo, mt) = await TwoUsersAsync("614");
        await using (var sender = await Server.LoginAsync(mo, "pw"))
        {
            await sender.SendRawAsync(Mms("later-ack", mt));
            await sender.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            await sender.ReadUntilAsync(e => e.Attribute("id") == "sync");
        }
        await using (var recipient = await Server.LoginAsync(mt, "pw"))
        {
            await NextMessageAsync(recipient, "later-ack");
            await recipient.SendRawAsync(Ack("later-ack", "2"));
            await recipient.SendRawAsync("<iq type='get' id='sync2'><ping xmlns='urn:xmpp:ping'/></iq>");
            await recipient.ReadUntilAsync(e => e.Attribute("id") == "sync2");
        }
        await using var back = await Server.LoginAsync(mo, "pw");
        var ack = await NextMessageAsync(back, "later-ack");
        Assert.Equal("2", Property(ack, "ReturnCode"));
    }

    [Fact]
    public async Task Mms_to_an_unknown_recipient_fails_at_once_with_code_1()
    {
        await Server.ProvisionUserAsync("6151", "pw");
        await using var sender = await Server.LoginAsync("6151", "pw");
        await sender.SendRawAsync(Mms("nobody-1", "6159999"));
        var fail = await NextMessageAsync(sender, "nobody-1");
        Assert.Equal("FAIL@127.0.0.1", fail.Attribute("from"));
        Assert.Equal("3", Property(fail, "MsgType"));
        Assert.Equal("1", Property(fail, "ReturnCode"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("one")]
    public async Task Mms_without_a_numeric_msgtype_fails_with_code_7(string? msgType)
    {
        var (mo, mt) = await TwoUsersAsync("616");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await sender.SendRawAsync(Mms("bad-type-" + msgType, mt, msgType: msgType));
        Assert.Equal("7", Property(await NextMessageAsync(sender, "bad-type-" + msgType), "ReturnCode"));
    }

    [Fact]
    public async Task Mms_without_an_id_gets_bad_request()
    {
        var (mo, mt) = await TwoUsersAsync("617");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await sender.SendRawAsync(Mms("x", mt).Replace("id=\"x\" ", ""));
        var error = await sender.ReadUntilAsync(e => e.Name == "message");
        Assert.Equal("error", error.Attribute("type"));
        Assert.NotNull(error.Element("error", Namespaces.Client)!.Element("bad-request", Namespaces.Stanzas));
    }

    [Fact]
    public async Task Same_id_and_content_sent_again_is_never_delivered_twice_and_after_the_ack_the_ack_is_sent_again()
    {
        var (mo, mt) = await TwoUsersAsync("618");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        await sender.SendRawAsync(Mms("dup-1", mt));
        await sender.SendRawAsync(Mms("dup-1", mt));
        await NextMessageAsync(recipient, "dup-1");
        await recipient.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
        var next = await recipient.ReadUntilAsync(e => e.Attribute("id") is "sync" or "dup-1");
        Assert.Equal("sync", next.Attribute("id"));

        await recipient.SendRawAsync(Ack("dup-1"));
        await NextMessageAsync(sender, "dup-1");
        await sender.SendRawAsync(Mms("dup-1", mt));
        var again = await NextMessageAsync(sender, "dup-1");
        Assert.Equal("ACK@127.0.0.1", again.Attribute("from"));
    }

    [Fact]
    public async Task Same_id_with_other_content_fails_with_code_8()
    {
        var (mo, mt) = await TwoUsersAsync("619");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await sender.SendRawAsync(Mms("reuse-1", mt, "first"));
        await sender.SendRawAsync(Mms("reuse-1", mt, "second"));
        Assert.Equal("8", Property(await NextMessageAsync(sender, "reuse-1"), "ReturnCode"));
    }

    [Fact]
    public async Task Hundred_messages_to_an_offline_user_arrive_in_order()
    {
        var (mo, mt) = await TwoUsersAsync("620");
        await using (var sender = await Server.LoginAsync(mo, "pw"))
        {
            for (var i = 0; i < 100; i++) await sender.SendRawAsync(Mms($"order-{i}", mt, $"n{i}"));
            await sender.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            await sender.ReadUntilAsync(e => e.Attribute("id") == "sync");
        }
        await using var recipient = await Server.LoginAsync(mt, "pw");
        for (var i = 0; i < 100; i++)
        {
            var message = await recipient.ReadUntilAsync(e => e.Name == "message");
            Assert.Equal($"order-{i}", message.Attribute("id"));
        }
    }

    [Fact]
    public async Task Ordinary_message_without_properties_is_routed_to_the_bare_jid_and_stored_when_offline()
    {
        var (a, b) = await TwoUsersAsync("621");
        await using var alice = await Server.LoginAsync(a, "pw", resource: "phone");
        await alice.SendRawAsync($"<message id='chat-1' to='{b}@127.0.0.1' type='chat'><body>are you there?</body></message>");
        await alice.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
        await alice.ReadUntilAsync(e => e.Attribute("id") == "sync");

        await using var bob = await Server.LoginAsync(b, "pw");
        var stored = await NextMessageAsync(bob, "chat-1");
        Assert.Equal($"{a}@127.0.0.1/phone", stored.Attribute("from"));
        Assert.Equal("are you there?", stored.Element("body", Namespaces.Client)!.Text);

        await alice.SendRawAsync($"<message id='chat-2' to='{b}@127.0.0.1' type='chat'><body>now?</body></message>");
        Assert.Equal("now?", (await NextMessageAsync(bob, "chat-2")).Element("body", Namespaces.Client)!.Text);
        await bob.DisposeAsync();
        await using var bobAgain = await Server.LoginAsync(b, "pw");
        await bobAgain.SendRawAsync("<iq type='get' id='sync3'><ping xmlns='urn:xmpp:ping'/></iq>");
        var first = await bobAgain.ReadUntilAsync(e => e.Attribute("id") is "sync3" or "chat-1" or "chat-2");
        Assert.Equal("sync3", first.Attribute("id"));
    }

    [Fact]
    public async Task Ordinary_message_to_an_unknown_user_gets_service_unavailable()
    {
        await Server.ProvisionUserAsync("6221", "pw");
        await using var client = await Server.LoginAsync("6221", "pw");
        await client.SendRawAsync("<message id='c-x' to='6229999@127.0.0.1'><body>hi</body></message>");
        var error = await NextMessageAsync(client, "c-x");
        Assert.Equal("error", error.Attribute("type"));
        Assert.NotNull(error.Element("error", Namespaces.Client)!.Element("service-unavailable", Namespaces.Stanzas));
    }

    [Fact]
    public async Task Every_live_session_of_the_recipient_gets_the_mms()
    {
        var (mo, mt) = await TwoUsersAsync("623");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using var handset = await Server.LoginAsync(mt, "pw", resource: "handset");
        await using var console = await Server.LoginAsync(mt, "pw", resource: "console");
        await sender.SendRawAsync(Mms("both-1", mt));
        await NextMessageAsync(handset, "both-1");
        await NextMessageAsync(console, "both-1");
    }

    [Fact]
    public async Task Hundred_messages_to_an_online_user_arrive_in_order()
    {
        var (mo, mt) = await TwoUsersAsync("624");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        for (var i = 0; i < 100; i++) await sender.SendRawAsync(Mms($"online-order-{i}", mt, $"n{i}"));
        for (var i = 0; i < 100; i++)
        {
            var message = await recipient.ReadUntilAsync(e => e.Name == "message");
            Assert.Equal($"online-order-{i}", message.Attribute("id"));
        }
    }
}
