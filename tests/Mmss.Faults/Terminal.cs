using System.Collections.Concurrent;
using Mmss.Bench;
using Mmss.Protocol.Client;
using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Faults;

/// <summary>
/// One user's terminal as a handset behaves: logs in (again whenever its connection dies), ACKs every MMS it receives at
/// once, answers the server's pings, and resends every MMS still unanswered after a reconnection (the same id: the
/// MMSS stores it once and answers a retry with the answer it already has).
/// </summary>
public sealed class Terminal(string user, string password, string domain, HalfOpenProxy proxy, Ledger ledger)
{
    private readonly ConcurrentDictionary<string, string> _unanswered = new();
    private XmppClient? _client;
    private int _connection;

    public string User { get; } = user;

    public HalfOpenProxy Proxy { get; } = proxy;

    /// <summary>Set for the second login of the final check: copies arriving now were left pending.</summary>
    public volatile bool FinalCheck;

    /// <summary>Logins so far; the current connection's number while logged in.</summary>
    public int Connections => Volatile.Read(ref _connection);

    public bool IsLoggedIn => Volatile.Read(ref _client) is not null;

    /// <summary>Sends an MMS now if connected; it is sent (again) at each login until answered.</summary>
    public async Task SubmitAsync(string id, string stanza)
    {
        _unanswered[id] = stanza;
        if (Volatile.Read(ref _client) is not { } client) return;
        try
        {
            await client.SendRawAsync(stanza);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // The reader sees the connection die and logs in again, which resends it.
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            XmppClient client;
            try
            {
                client = await XmppClient.LoginAsync("127.0.0.1", Proxy.Port, domain, new PlainClient(User, password), "faults", useStartTls: false);
            }
            catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                // The server is down or restarting.
                await Task.Delay(Random.Shared.Next(200, 600), CancellationToken.None);
                continue;
            }
            var connection = Interlocked.Increment(ref _connection);
            try
            {
                await client.SendRawAsync("<presence/>");
                Volatile.Write(ref _client, client);
                if (connection > 1)
                {
                    foreach (var stanza in _unanswered.Values)
                    {
                        Interlocked.Increment(ref ledger.Resent);
                        await client.SendRawAsync(stanza);
                    }
                }
                await ReadAsync(client, connection, stop);
            }
            catch (Exception e) when (e is IOException or TimeoutException or ObjectDisposedException or System.Net.Sockets.SocketException)
            {
            }
            finally
            {
                Volatile.Write(ref _client, null);
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>Ends the current connection (for the final check, which logs everyone in afresh).</summary>
    public async Task DisconnectAsync()
    {
        if (Volatile.Read(ref _client) is not { } client) return;
        try
        {
            await client.SendRawAsync("</stream:stream>");
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // Gone already: the terminal logs in again all the same.
        }
    }

    private async Task ReadAsync(XmppClient client, int connection, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            // A half-open link is the server's to notice; the terminal learns of it when the proxy resets its side.
            var element = await client.ReadAsync(TimeSpan.FromMinutes(10));
            if (element is null) return;
            if (element.Name == "iq" && element.Attribute("type") == "get" && element.Element("ping", "urn:xmpp:ping") is not null)
            {
                await client.SendRawAsync($"<iq type='result' id='{element.Attribute("id")}'/>");
                continue;
            }
            if (element.Name != "message" || element.Attribute("id") is not { } id) continue;
            var properties = JiveProperties.Find(element);
            var msgType = JiveProperties.Get(properties, "MsgType");
            var from = element.Attribute("from") ?? "";
            if (from.StartsWith("ACK@", StringComparison.OrdinalIgnoreCase) || from.StartsWith("FAIL@", StringComparison.OrdinalIgnoreCase))
            {
                ledger.Answered(id, msgType ?? "", JiveProperties.Get(properties, "ReturnCode"));
                _unanswered.TryRemove(id, out _);
            }
            else if (msgType == "1")
            {
                ledger.Delivered(id, User, connection, FinalCheck);
                await client.SendRawAsync(BenchStanzas.Ack(id, domain));
                ledger.AckSent(id, User, connection);
            }
        }
    }
}
