using System.Collections.Concurrent;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Xunit.Abstractions;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>The relay when the peer MMSS dies: nothing accepted is lost, nothing answered is delivered again, and a peer
/// that stays away makes its MMS fail with FAIL 6.</summary>
public class RelayFaults_Tests(ITestOutputHelper output)
{
    private const string A = TwoDomainsFixture.DomainA;
    private const string B = TwoDomainsFixture.DomainB;

    [Fact]
    public async Task An_mms_for_a_peer_that_stays_down_past_the_window_fails_with_code_6()
    {
        var domains = new TwoDomainsFixture(giveUpSeconds: 6);
        await using var stop = new AsyncStop(domains);
        await domains.InitializeAsync();
        await domains.A.ProvisionUserAsync("2201", "pw");
        await domains.B.KillAsync();
        await using var mo = await domains.A.LoginAsync("2201", "pw");
        await mo.SendRawAsync(Mms("g-1", "3201", domain: A));
        var fail = await mo.ReadUntilAsync(e => IsMessage(e, "g-1"), TimeSpan.FromSeconds(60));
        Assert.Equal($"FAIL@{A}", fail.Attribute("from"));
        Assert.Equal("6", Property(fail, "ReturnCode"));
    }

    [Fact]
    public async Task The_peer_killed_and_restarted_in_a_run_of_relayed_mms_loses_none_and_delivers_none_again_after_its_ack()
    {
        // Longer than the peer's restart: nothing may fail for it.
        var domains = new TwoDomainsFixture(giveUpSeconds: 120);
        await using var stop = new AsyncStop(domains);
        await domains.InitializeAsync();
        const int pairs = 10, perPair = 150;
        for (var p = 0; p < pairs; p++)
        {
            await domains.A.ProvisionUserAsync($"23{p:D2}", "pw");
            await domains.B.ProvisionUserAsync($"33{p:D2}", "pw");
        }
        var received = new ConcurrentDictionary<string, int>();
        var ackedAtSender = new ConcurrentDictionary<string, DateTime>();
        var deliveredAfterAck = new ConcurrentBag<string>();
        DateTime? killedAt = null;
        var restarted = new TaskCompletionSource();

        async Task ReceiveAsync(int p)
        {
            while (ackedAtSender.Count < pairs * perPair)
            {
                XmppClient mt;
                try
                {
                    mt = await domains.B.LoginAsync($"33{p:D2}", "pw");
                }
                catch (Exception) when (!restarted.Task.IsCompleted)
                {
                    await restarted.Task;
                    continue;
                }
                await using (mt)
                {
                    try
                    {
                        while (ackedAtSender.Count < pairs * perPair)
                        {
                            XmlElement? element;
                            try
                            {
                                element = await mt.ReadAsync(TimeSpan.FromSeconds(2));
                            }
                            catch (TimeoutException)
                            {
                                continue;
                            }
                            if (element is null) break; // the server ended the connection: log in again
                            if (element is not { Name: "message" } mms || mms.Attribute("id") is not { } id) continue;
                            received.AddOrUpdate(id, 1, (_, n) => n + 1);
                            // Answered before the kill and known at the sender: the peer had recorded it; it must not come again.
                            if (ackedAtSender.TryGetValue(id, out var at) && killedAt is { } kill && at < kill) deliveredAfterAck.Add(id);
                            await mt.SendRawAsync(Ack(id, "1", domain: B));
                        }
                    }
                    catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
                    {
                        // The connection died with the server: log in again once it is back.
                    }
                }
            }
        }

        async Task SendAsync(int p)
        {
            await using var mo = await domains.A.LoginAsync($"23{p:D2}", "pw");
            for (var i = 0; i < perPair; i++) await mo.SendRawAsync(Mms($"k-{p}-{i}", $"33{p:D2}", domain: A));
            var mine = 0;
            while (mine < perPair)
            {
                var ack = await mo.ReadAsync(TimeSpan.FromSeconds(120));
                Assert.NotNull(ack);
                if (ack is { Name: "message" } && ack.Attribute("id") is { } id && Property(ack, "MsgType") == "2" && ackedAtSender.TryAdd(id, DateTime.UtcNow)) mine++;
            }
        }

        var receivers = Enumerable.Range(0, pairs).Select(p => Task.Run(() => ReceiveAsync(p))).ToArray();
        var senders = Enumerable.Range(0, pairs).Select(p => Task.Run(() => SendAsync(p))).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (received.Count < pairs * perPair / 3)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {received.Count} MMS relayed before the kill");
            await Task.Delay(20);
        }
        killedAt = DateTime.UtcNow;
        await domains.B.KillAsync();
        var beforeKill = received.Count;
        await domains.B.StartAsync();
        restarted.SetResult();

        var all = Task.WhenAll(senders.Concat(receivers));
        Assert.True(all == await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(150))),
            $"after 150 s: {received.Count} of {pairs * perPair} MMS received, {ackedAtSender.Count} ACKs at the senders");
        await all;
        var twice = received.Count(r => r.Value > 1);
        output.WriteLine($"{pairs * perPair} MMS: {beforeKill} received before the kill, {received.Count} distinct received, " +
                         $"{twice} received more than once (allowed before their ACK was recorded), {deliveredAfterAck.Count} after a recorded ACK; " +
                         $"{ackedAtSender.Count} ACKs at the senders");
        Assert.Equal(pairs * perPair, received.Count);
        Assert.Equal(pairs * perPair, ackedAtSender.Count);
        Assert.Empty(deliveredAfterAck);
    }

    private sealed class AsyncStop(TwoDomainsFixture domains) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await domains.DisposeAsync();
    }
}
