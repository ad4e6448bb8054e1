using System.Collections.Concurrent;
using System.Diagnostics;
using Mmss.Protocol.Client;
using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xml;

namespace Mmss.Bench;

/// <summary>Logging terminals in, spread over the source addresses, with the chosen mechanism; optional in-band registration first.</summary>
public sealed class Terminals(BenchOptions options)
{
    private int _next;

    public ISaslClientMechanism Mechanism(string user) => options.Mechanism switch
    {
        "SCRAM-SHA-1" => new ScramClient(ScramAlgorithm.Sha1, user, options.Password),
        "DIGEST-MD5" => new DigestMd5Client(user, options.Password, options.Domain),
        _ => new PlainClient(user, options.Password),
    };

    public async Task<XmppClient> LoginAsync(string user, bool atPeer = false)
    {
        var source = options.SourceAddresses[Interlocked.Increment(ref _next) % options.SourceAddresses.Count];
        return atPeer
            ? await XmppClient.LoginAsync(options.PeerHost!, options.PeerPort, options.PeerDomain, Mechanism(user), "bench",
                useStartTls: options.Tls, localAddress: source)
            : await XmppClient.LoginAsync(options.Host, options.Port, options.Domain, Mechanism(user), "bench",
                useStartTls: options.Tls, localAddress: source);
    }

    /// <summary>The relayed round trip's terminals: senders (even indices) here, receivers (odd) at the peer MMSS.</summary>
    public async Task<XmppClient[]> LoginPairsAcrossDomainsAsync(int count)
    {
        var clients = new XmppClient[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = options.LoginConcurrency },
            async (i, _) => clients[i] = i % 2 == 0 ? await LoginAsync(options.User(i)) : await LoginAsync(options.PeerUser(i), atPeer: true));
        return clients;
    }

    /// <summary>Logs every user in with bounded concurrency; returns the clients and each login's duration in ms.</summary>
    public async Task<(XmppClient[] Clients, List<double> LoginMs)> LoginAllAsync(int count)
    {
        var clients = new XmppClient[count];
        var times = new ConcurrentBag<double>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = options.LoginConcurrency },
            async (i, _) =>
            {
                var clock = Stopwatch.StartNew();
                clients[i] = await LoginAsync(options.User(i));
                times.Add(clock.Elapsed.TotalMilliseconds);
            });
        var sorted = times.ToList();
        sorted.Sort();
        return (clients, sorted);
    }

    /// <summary>XEP-0077 in-band registration, for peers whose users are created by the benchmark itself.</summary>
    public async Task RegisterAllAsync(int count)
    {
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = options.LoginConcurrency },
            async (i, _) =>
            {
                await using var client = await XmppClient.ConnectAsync(options.Host, options.Port);
                await client.OpenStreamAsync(options.Domain);
                if (options.Tls) await client.StartTlsAsync(options.Domain);
                await client.SendRawAsync($"<iq type='set' id='reg'><query xmlns='jabber:iq:register'><username>{options.User(i)}</username><password>{options.Password}</password></query></iq>");
                var answer = await client.ReadUntilAsync(e => e.Name == "iq" && e.Attribute("id") == "reg");
                var conflict = answer.Element("error", "jabber:client")?.Element("conflict", "urn:ietf:params:xml:ns:xmpp-stanzas") is not null;
                if (answer.Attribute("type") != "result" && !conflict) throw new InvalidOperationException($"registration of {options.User(i)} failed: {answer}");
            });
    }

    public static bool IsMessage(XmlElement element) => element.Name == "message";
}
