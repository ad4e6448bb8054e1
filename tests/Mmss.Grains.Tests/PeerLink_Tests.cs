using System.Collections.Concurrent;
using System.Text;
using Mmss.GrainInterfaces;
using Mmss.GrainInterfaces.Peers;

namespace Mmss.Grains.Tests;

/// <summary>
/// A peer link's queue on a two-silo cluster, a recording carrier standing in for the gateway that holds the
/// server-to-server stream: order, removal only once the peer took an item, retries, and FAIL 6 past the window.
/// </summary>
public abstract class PeerLink_Tests(ClusterFixture fixture)
{
    public const int GiveUpSeconds = 30;

    /// <summary>One peer per test, so that no test sees another's queue or carriers.</summary>
    public static readonly Peer[] Peers =
    [
        new("order.test", "127.0.0.1", 5269, null, Ranges("9000-9099"), Ranges("90000-90099"), "secret"),
        new("retry.test", "127.0.0.1", 5269, null, Ranges("9100-9199"), NumberRanges.None, "secret"),
        new("down.test", "127.0.0.1", 5269, null, Ranges("9200-9299"), NumberRanges.None, "secret"),
        new("removed.test", "127.0.0.1", 5269, null, Ranges("9300-9399"), NumberRanges.None, "secret"),
        new("busy.test", "127.0.0.1", 5269, null, Ranges("9400-9499"), NumberRanges.None, "secret"),
    ];

    private IGrainFactory Grains => fixture.Cluster.Client;

    private static NumberRanges Ranges(string text) => NumberRanges.TryParse(text, out var ranges, out _) ? ranges : NumberRanges.None;

    private static MmsSubmission Mms(string id, string from, string to) => new(id, from, to, "1", null, Encoding.UTF8.GetBytes("<body>x</body>"));

    private sealed class RecordingCarrier : IPeerLinkObserver
    {
        public ConcurrentQueue<RelayItem[]> Batches { get; } = new();

        public Task SendAsync(string peerDomain, RelayItem[] items)
        {
            Batches.Enqueue(items);
            return Task.CompletedTask;
        }

        public async Task<RelayItem[]> NextAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                if (Batches.TryDequeue(out var batch)) return batch;
                await Task.Delay(10);
            }
            throw new TimeoutException("no batch handed to the carrier");
        }
    }

    private async Task<(RecordingCarrier Carrier, IPeerLinkObserver Reference)> CarrierAsync(string gateway)
    {
        var carrier = new RecordingCarrier();
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync(gateway);
        return (carrier, Grains.CreateObjectReference<IPeerLinkObserver>(carrier));
    }

    /// <summary>A user with one live session ("s-" + udn) on a gateway of the directory; what it is pushed, recorded.</summary>
    private async Task<RecordingObserver> OnlineUserAsync(string udn)
    {
        await Grains.GetGrain<IUserGrain>(udn).ProvisionAsync("Unit " + udn, TestCredentials.Unusable);
        var observer = new RecordingObserver();
        var sessions = Grains.CreateObjectReference<ISessionObserver>(observer);
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync("test-gateway");
        await Grains.GetGrain<IUserGrain>(udn).AttachSessionAsync(new SessionHandle("test-gateway", "s-" + udn, sessions));
        return observer;
    }

    [Fact]
    public async Task Mms_and_answers_go_to_the_carrier_in_order_and_leave_the_store_only_once_the_peer_took_them()
    {
        var link = Grains.GetGrain<IPeerLinkGrain>("order.test");
        Assert.True((await link.RelayMmsAsync(Mms("p-1", "1001", "9001"), group: null)).Accepted);
        // A retry while the first is queued is the same item.
        Assert.Contains("already queued", (await link.RelayMmsAsync(Mms("p-1", "1001", "9001"), group: null)).Reason);
        await link.RelayAnswerAsync("9002", "p-0", "1002", "2", "1", group: "90001");
        var (carrier, reference) = await CarrierAsync("gw-order");
        await link.AttachCarrierAsync("gw-order", reference);

        var batch = await carrier.NextAsync();
        Assert.Equal(["p-1", "p-0"], batch.Select(i => i.MessageId));
        Assert.Equal((DeliveryKind.Mms, "1001", "9001"), (batch[0].Kind, batch[0].From, batch[0].To));
        Assert.Equal((DeliveryKind.Notice, "1002", "9002"), (batch[1].Kind, batch[1].From, batch[1].To));
        Assert.Contains(new KeyValuePair<string, string>("MsgGroup", "90001"), batch[1].Properties!);
        Assert.Equal(2, (await fixture.Mailbox.LoadAsync("peer/order.test")).Count);

        await link.SentAsync(batch.Select(i => i.Seq).ToArray());
        await QueueEmptiesAsync("order.test");
    }

    /// <summary>The link's rows leave the store (the grain deletes them after it answered or handed over).</summary>
    private async Task QueueEmptiesAsync(string domain)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await fixture.Mailbox.LoadAsync("peer/" + domain)).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the items of the link to {domain} were never removed");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Items_are_queued_while_earlier_ones_still_wait_for_their_commit_and_leave_in_the_order_they_came()
    {
        const string owner = "peer/busy.test";
        var link = Grains.GetGrain<IPeerLinkGrain>("busy.test");
        fixture.Storage.HoldAppends(owner);
        Task<SubmitOutcome>[] calls;
        Task<SubmitOutcome> retry;
        try
        {
            var first = link.RelayMmsAsync(Mms("b-1", "1006", "9401"), group: null);
            await WaitUntilAsync(() => fixture.Storage.AppendsHeld(owner) == 1, "the first item's row was never written");
            // One item per commit would cap a link at the store's commit rate: the next ones are written meanwhile.
            var second = link.RelayMmsAsync(Mms("b-2", "1006", "9402"), group: null);
            await WaitUntilAsync(() => fixture.Storage.AppendsHeld(owner) == 2, "the link took no item while one waited for its commit");
            calls = [first, second, link.RelayMmsAsync(Mms("b-3", "1007", "9403"), group: null)];
            await WaitUntilAsync(() => fixture.Storage.AppendsHeld(owner) == 3, "the link took no third item while two waited");
            // A terminal's retry during that wait is the same item, not a second row, and hears "stored" only once it is.
            retry = link.RelayMmsAsync(Mms("b-1", "1006", "9401"), group: null);
            await Task.Delay(200);
            Assert.False(retry.IsCompleted, "the retry was answered before the first copy was stored");
            Assert.Equal(3, fixture.Storage.AppendsHeld(owner));
        }
        finally
        {
            fixture.Storage.ReleaseAppends(owner);
        }
        Assert.All(await Task.WhenAll(calls), outcome => Assert.True(outcome.Accepted));
        Assert.Contains("already queued", (await retry).Reason);

        var (carrier, reference) = await CarrierAsync("gw-busy");
        await link.AttachCarrierAsync("gw-busy", reference);
        var batch = await carrier.NextAsync();
        Assert.Equal(["b-1", "b-2", "b-3"], batch.Select(i => i.MessageId));
        await link.SentAsync(batch.Select(i => i.Seq).ToArray());
        await QueueEmptiesAsync("busy.test");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_batch_the_peer_did_not_take_is_handed_out_again()
    {
        var link = Grains.GetGrain<IPeerLinkGrain>("retry.test");
        var (carrier, reference) = await CarrierAsync("gw-retry");
        await link.AttachCarrierAsync("gw-retry", reference);
        await link.RelayMmsAsync(Mms("r-1", "1003", "9103"), group: null);
        var first = await carrier.NextAsync();
        await link.SendFailedAsync(first.Select(i => i.Seq).ToArray(), "connection refused");
        var again = await carrier.NextAsync();
        Assert.Equal(first.Select(i => i.Seq), again.Select(i => i.Seq));
        await link.SentAsync(again.Select(i => i.Seq).ToArray());
    }

    [Fact]
    public async Task An_mms_the_peer_never_takes_fails_with_code_6_for_its_local_originator()
    {
        var observer = await OnlineUserAsync("1004");
        // No gateway carries this link: nobody will ever take the item.
        var link = Grains.GetGrain<IPeerLinkGrain>("down.test");
        await link.RelayMmsAsync(Mms("f-1", "1004", "9204"), group: null);

        fixture.Time.Offset = TimeSpan.FromSeconds(GiveUpSeconds + 1);
        // The window is as long as the gateway expiry: keep the session's gateway alive across the jump of the clock.
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync("test-gateway");
        try
        {
            var notice = await observer.NextAsync("s-1004", TimeSpan.FromSeconds(15));
            Assert.Equal(("f-1", "FAIL"), (notice.MessageId, notice.From));
            Assert.Contains(new KeyValuePair<string, string>("ReturnCode", "6"), notice.Properties!);
        }
        finally
        {
            fixture.Time.Offset = TimeSpan.Zero;
        }
        await QueueEmptiesAsync("down.test");
    }

    [Fact]
    public async Task A_removed_peer_fails_what_its_link_queues_with_code_6_at_once()
    {
        var observer = await OnlineUserAsync("1005");
        var link = Grains.GetGrain<IPeerLinkGrain>("removed.test");
        await link.RelayMmsAsync(Mms("rm-1", "1005", "9305"), group: null);
        await link.RelayAnswerAsync("9306", "rm-0", "1005", "2", "1", group: null);

        // No clock moved: the originator learns now, not after the give-up window.
        await link.PeerRemovedAsync();
        var notice = await observer.NextAsync("s-1005", TimeSpan.FromSeconds(15));
        Assert.Equal(("rm-1", "FAIL"), (notice.MessageId, notice.From));
        Assert.Contains(new KeyValuePair<string, string>("ReturnCode", "6"), notice.Properties!);
        await QueueEmptiesAsync("removed.test");
    }
}

[Collection(SqliteCluster.Name)]
public sealed class PeerLink_Tests_on_Sqlite(SqliteClusterFixture fixture) : PeerLink_Tests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PeerLink_Tests_on_Postgres(PostgresClusterFixture fixture) : PeerLink_Tests(fixture);
