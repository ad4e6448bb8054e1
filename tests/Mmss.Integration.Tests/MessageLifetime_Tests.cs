using Mmss.Integration.Tests.Infrastructure;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>TTL expiry and redelivery, on a server whose message lifetimes are seconds long.</summary>
public sealed class MessageLifetime_Tests : IAsyncLifetime
{
    private readonly EmbeddedServer _server = new(new Dictionary<string, string>
    {
        ["Mmss__Mailbox__TtlSeconds"] = "3",
        ["Mmss__Mailbox__ExpirySweepSeconds"] = "1",
        ["Mmss__Mailbox__RedeliverAfterSeconds"] = "2",
    });

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        foreach (var udn in new[] { "7101", "7102", "7201", "7202" }) await _server.ProvisionUserAsync(udn, "pw");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Mms_undelivered_past_its_ttl_is_removed_and_the_sender_gets_fail_5()
    {
        await using var sender = await _server.LoginAsync("7101", "pw");
        await sender.SendRawAsync(Mms("ttl-1", "7102"));
        var fail = await sender.ReadUntilAsync(e => IsMessage(e, "ttl-1"), TimeSpan.FromSeconds(30));
        Assert.Equal("FAIL@127.0.0.1", fail.Attribute("from"));
        Assert.Equal("5", Property(fail, "ReturnCode"));

        await using var recipient = await _server.LoginAsync("7102", "pw");
        await recipient.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
        var first = await recipient.ReadUntilAsync(e => e.Attribute("id") is "sync" or "ttl-1");
        Assert.Equal("sync", first.Attribute("id"));
    }

    [Fact]
    public async Task Mms_a_live_session_does_not_answer_is_written_again()
    {
        await using var sender = await _server.LoginAsync("7201", "pw");
        await using var recipient = await _server.LoginAsync("7202", "pw");
        await sender.SendRawAsync(Mms("again-1", "7202"));
        await recipient.ReadUntilAsync(e => IsMessage(e, "again-1"));
        var second = await recipient.ReadUntilAsync(e => IsMessage(e, "again-1"), TimeSpan.FromSeconds(20));
        await recipient.SendRawAsync(Ack(second.Attribute("id")!));
        var ack = await sender.ReadUntilAsync(e => IsMessage(e, "again-1"));
        Assert.Equal("ACK@127.0.0.1", ack.Attribute("from"));
    }
}
