using System.Diagnostics;
using System.Text;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Integration.Tests;

/// <summary>Mmss:C2s:MaxStanzasPerSecond: a connection past the rate is slowed (or cut), no one else.</summary>
public sealed class StanzaRate_Tests : IAsyncLifetime
{
    private readonly EmbeddedServer _slow = new(new Dictionary<string, string>
    {
        ["Mmss__C2s__MaxStanzasPerSecond"] = "20",
        ["Mmss__C2s__StanzaBurst"] = "10",
    });

    private readonly EmbeddedServer _cut = new(new Dictionary<string, string>
    {
        ["Mmss__C2s__MaxStanzasPerSecond"] = "20",
        ["Mmss__C2s__StanzaBurst"] = "10",
        ["Mmss__C2s__StanzaRatePolicy"] = "Cut",
    });

    public async Task InitializeAsync()
    {
        await Task.WhenAll(_slow.StartAsync(), _cut.StartAsync());
        foreach (var server in new[] { _slow, _cut })
        {
            await server.ProvisionUserAsync("5701", "pw");
            await server.ProvisionUserAsync("5702", "pw");
        }
    }

    public async Task DisposeAsync()
    {
        await _slow.DisposeAsync();
        await _cut.DisposeAsync();
    }

    private static string Pings(string prefix, int count)
    {
        var pings = new StringBuilder();
        for (var i = 0; i < count; i++) pings.Append($"<iq type='get' id='{prefix}-{i}'><ping xmlns='urn:xmpp:ping'/></iq>");
        return pings.ToString();
    }

    [Fact]
    public async Task Fast_sender_is_held_to_the_rate_while_another_connection_is_answered_at_once()
    {
        await using var fast = await _slow.LoginAsync("5701", "pw");
        await using var other = await _slow.LoginAsync("5702", "pw");
        var clock = Stopwatch.StartNew();
        // 100 at once: 10 of burst (the bind used one), then 20 a second: the last cannot be answered before 4.5 s.
        await fast.SendRawAsync(Pings("fast", 100));
        await fast.ReadUntilAsync(e => e.Attribute("id") == "fast-20", TimeSpan.FromSeconds(20));
        await other.SendRawAsync("<iq type='get' id='other'><ping xmlns='urn:xmpp:ping'/></iq>");
        var answer = await other.ReadUntilAsync(e => e.Attribute("id") == "other", TimeSpan.FromSeconds(20));
        var otherAnsweredAt = clock.Elapsed;
        Assert.Equal("result", answer.Attribute("type"));

        var last = await fast.ReadUntilAsync(e => e.Attribute("id") == "fast-99", TimeSpan.FromSeconds(30));
        var fastDoneAt = clock.Elapsed;
        Assert.Equal("result", last.Attribute("type"));
        Assert.True(fastDoneAt >= TimeSpan.FromSeconds(4.4), $"100 stanzas were answered in {fastDoneAt.TotalSeconds:0.00} s, faster than 20/s after a burst of 10");
        Assert.True(otherAnsweredAt < fastDoneAt, "the other connection was answered only after the fast sender's backlog");
        Assert.Contains("exceeds 20 stanzas/s", _slow.Output);
    }

    [Fact]
    public async Task With_the_cut_policy_a_fast_sender_gets_policy_violation_and_another_connection_goes_on()
    {
        await using var fast = await _cut.LoginAsync("5701", "pw");
        await using var other = await _cut.LoginAsync("5702", "pw");
        await fast.SendRawAsync(Pings("fast", 60));
        await fast.ExpectStreamErrorAsync("policy-violation");

        await other.SendRawAsync("<iq type='get' id='other'><ping xmlns='urn:xmpp:ping'/></iq>");
        var answer = await other.ReadUntilAsync(e => e.Attribute("id") == "other", TimeSpan.FromSeconds(20));
        Assert.Equal("result", answer.Attribute("type"));
    }
}
