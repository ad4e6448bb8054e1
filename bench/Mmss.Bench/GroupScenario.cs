using System.Diagnostics;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;

namespace Mmss.Bench;

/// <summary>
/// Scenario 3 (MMSS only): user0 sends an MMS to the group (GDN, members user0..userN, all online), every member ACKs
/// its copy; per round, the time from the send to the last member's copy and to the one aggregated ACK.
/// </summary>
public sealed class GroupScenario(BenchOptions options, Terminals terminals)
{
    public async Task<BenchResult> RunAsync()
    {
        var (clients, _) = await terminals.LoginAllAsync(options.Connections + 1);
        var sender = clients[0];
        var members = clients[1..];
        var lastDelivery = new List<double>();
        var aggregated = new List<double>();
        try
        {
            for (var round = 0; round < options.Rounds; round++)
            {
                var id = $"{BenchOptions.RunNonce}-g{round}";
                var started = Stopwatch.GetTimestamp();
                var copies = members.Select(m => ReceiveAndAckAsync(m, id, started)).ToArray();
                await sender.SendRawAsync(
                    $"<message id='{id}' to='{options.Group}@{options.Domain}'><properties xmlns='{Namespaces.JiveProperties}'><property><name>MsgType</name><value type='string'>1</value></property></properties><body>group load</body></message>");
                var deliveredAt = await Task.WhenAll(copies);
                var ack = await sender.ReadUntilAsync(e => e.Name == "message" && e.Attribute("id") == id, TimeSpan.FromSeconds(120));
                var ackAt = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var type = JiveProperties.Get(JiveProperties.Find(ack), "MsgType");
                if (type != "2") throw new InvalidOperationException($"round {round}: the aggregated answer was MsgType {type}, not an ACK: {ack}");
                lastDelivery.Add(deliveredAt.Max());
                aggregated.Add(ackAt);
            }
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
        }
        lastDelivery.Sort();
        aggregated.Sort();
        return new BenchResult
        {
            Label = options.Label, Scenario = $"group-{options.Connections}", Connections = options.Connections + 1,
            GroupLastDeliveryP50Ms = Percentiles.Of(lastDelivery, 50), GroupLastDeliveryMaxMs = lastDelivery[^1],
            GroupAckP50Ms = Percentiles.Of(aggregated, 50), GroupAckMaxMs = aggregated[^1],
        };
    }

    /// <summary>Waits for the member's copy, notes when it came, and ACKs it.</summary>
    private async Task<double> ReceiveAndAckAsync(XmppClient member, string id, long started)
    {
        await member.ReadUntilAsync(e => e.Name == "message" && e.Attribute("id") == id, TimeSpan.FromSeconds(120));
        var at = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await member.SendRawAsync(BenchStanzas.Ack(id, options.Domain));
        return at;
    }
}
