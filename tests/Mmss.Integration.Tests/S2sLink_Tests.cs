using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Mmss.Gateway.S2s;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests;

/// <summary>
/// The server-to-server link layer (RFC 6120 jabber:server, STARTTLS, XEP-0220 dialback, XEP-0198 acks) between two
/// domains on their own loopback addresses, each with the other in its peer table, in this process.
/// </summary>
public sealed class S2sLink_Tests : IAsyncLifetime
{
    private const string DomainA = "127.0.0.2", DomainB = "127.0.0.3";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly List<S2sEndpoint> _endpoints = [];
    private S2sEndpoint _a = null!, _b = null!;

    public async Task InitializeAsync()
    {
        var ports = FreePorts.Take(2);
        _a = Track(new S2sEndpoint(DomainA, "127.0.0.2", ports[0], "secret-of-a"));
        _b = Track(new S2sEndpoint(DomainB, "127.0.0.3", ports[1], "secret-of-b"));
        _a.Peers.Add(_b.AsPeer());
        _b.Peers.Add(_a.AsPeer());
        await _a.StartAsync();
        await _b.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var endpoint in _endpoints) await endpoint.DisposeAsync();
    }

    private S2sEndpoint Track(S2sEndpoint endpoint)
    {
        _endpoints.Add(endpoint);
        return endpoint;
    }

    private static XmlElement Message(string fromDomain, string toDomain, int n) =>
        new XmlElement("message", Namespaces.Server)
            .SetAttribute("from", $"1001@{fromDomain}")
            .SetAttribute("to", $"2001@{toDomain}")
            .SetAttribute("id", $"m{n}")
            .SetAttribute("type", "chat")
            .Add(new XmlElement("body", Namespaces.Server).AddText($"body {n} <&>"));

    private static XmlElement[] Messages(string fromDomain, string toDomain, int first, int count) =>
        Enumerable.Range(first, count).Select(n => Message(fromDomain, toDomain, n)).ToArray();

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {Patience.TotalSeconds}s: {what}");
            await Task.Delay(20);
        }
    }

    private static async Task<S2sLinkException> SendFailsAsync(S2sEndpoint from, S2sEndpoint to, params XmlElement[] stanzas)
    {
        var send = from.Outbound.SendAsync(to.AsPeer(), stanzas, CancellationToken.None);
        return await Assert.ThrowsAsync<S2sLinkException>(() => send.WaitAsync(Patience));
    }

    [Fact]
    public void Dialback_keys_follow_the_XEP_0185_reference_script()
    {
        var keys = new DialbackKeys(Options.Create(new S2sOptions { DialbackSecret = "s3cr3tf0rd14lb4ck" }), NullLogger<DialbackKeys>.Instance);
        // The XEP's inputs; the value from an independent implementation of its reference script (Python hmac/hashlib).
        var key = keys.Generate(receivingDomain: "domain2.tld", originatingDomain: "domain1.tld", streamId: "D60000229F");
        Assert.Equal("5e598fae34b90be084fb6a4a8a543ceb33549140bac9d829ef8d734d900616e4", key);
        Assert.True(keys.Verify("domain2.tld", "domain1.tld", "D60000229F", key.ToUpperInvariant()));
        Assert.False(keys.Verify("domain2.tld", "domain1.tld", "D60000229E", key));
        Assert.False(keys.Verify("domain3.tld", "domain1.tld", "D60000229F", key));
    }

    [Fact]
    public async Task Stanzas_arrive_in_order_and_SendAsync_completes_once_the_peer_handled_them()
    {
        await _a.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, 0, 50), CancellationToken.None).WaitAsync(Patience);
        // The ack means "handled": everything is there the moment SendAsync completes, no waiting.
        Assert.Equal(50, _b.Handler.Received.Count);
        await _a.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, 50, 20), CancellationToken.None).WaitAsync(Patience);

        var received = _b.Handler.Received;
        Assert.Equal(Enumerable.Range(0, 70).Select(n => $"m{n}"), received.Select(r => r.Stanza.Attribute("id")));
        Assert.All(received, r => Assert.Equal(DomainA, r.Peer));
        var first = received[0].Stanza;
        Assert.Equal(Namespaces.Server, first.Namespace);
        Assert.Equal($"1001@{DomainA}", first.Attribute("from"));
        Assert.Equal($"2001@{DomainB}", first.Attribute("to"));
        Assert.Equal("body 0 <&>", first.Element("body", Namespaces.Server)!.Text);
    }

    [Fact]
    public async Task Both_domains_send_to_each_other_at_the_same_time()
    {
        var ab = _a.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, 0, 30), CancellationToken.None);
        var ba = _b.Outbound.SendAsync(_a.AsPeer(), Messages(DomainB, DomainA, 0, 30), CancellationToken.None);
        await Task.WhenAll(ab, ba).WaitAsync(Patience);
        Assert.Equal(30, _b.Handler.Received.Count);
        Assert.Equal(30, _a.Handler.Received.Count);
        Assert.All(_a.Handler.Received, r => Assert.Equal(DomainB, r.Peer));
    }

    [Fact]
    public async Task Concurrent_sends_on_one_link_each_complete_after_their_own_stanzas()
    {
        var sends = Enumerable.Range(0, 8)
            .Select(i => _a.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, i * 10, 10), CancellationToken.None))
            .ToArray();
        await Task.WhenAll(sends).WaitAsync(Patience);
        Assert.Equal(80, _b.Handler.Received.Count);
        Assert.Equal(80, _b.Handler.Received.Select(r => r.Stanza.Attribute("id")).Distinct().Count());
    }

    [Fact]
    public async Task An_idle_link_is_kept_alive_and_stays_usable()
    {
        var ports = FreePorts.Take(2);
        var a = Track(new S2sEndpoint("127.0.0.4", "127.0.0.4", ports[0], "x", settings: ("KeepaliveSeconds", "1")));
        var b = Track(new S2sEndpoint("127.0.0.5", "127.0.0.5", ports[1], "y"));
        a.Peers.Add(b.AsPeer());
        b.Peers.Add(a.AsPeer());
        await a.StartAsync();
        await b.StartAsync();
        await a.Outbound.SendAsync(b.AsPeer(), Messages("127.0.0.4", "127.0.0.5", 0, 1), CancellationToken.None).WaitAsync(Patience);

        var answered = b.Services.AcknowledgementsSent;

        // Idle: every second an <r/> the peer answers; after a few, the same link is still up and still works.
        await EventuallyAsync(() => b.Services.AcknowledgementsSent >= answered + 3, "three keepalives answered");
        Assert.True(a.Outbound.IsConnected("127.0.0.5"));
        Assert.Equal(1, a.Services.LinksOpened);
        await a.Outbound.SendAsync(b.AsPeer(), Messages("127.0.0.4", "127.0.0.5", 1, 1), CancellationToken.None).WaitAsync(Patience);
        Assert.Equal(2, b.Handler.Received.Count);
    }

    [Fact]
    public async Task A_slow_handler_delays_the_acknowledgement()
    {
        await _a.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, 0, 1), CancellationToken.None).WaitAsync(Patience);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _b.Handler.Gate = gate;
        var send = _a.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, 1, 3), CancellationToken.None);

        await _b.Handler.Entered.Task.WaitAsync(Patience);
        // The peer is inside the handler: the <r/> behind the stanza is not read yet, so no ack can have been sent.
        Assert.False(send.IsCompleted);
        Assert.Single(_b.Handler.Received);

        gate.SetResult();
        await send.WaitAsync(Patience);
        Assert.Equal(4, _b.Handler.Received.Count);
    }

    [Fact]
    public async Task A_handler_that_never_finishes_fails_the_send_after_the_ack_timeout()
    {
        var ports = FreePorts.Take(2);
        var a = Track(new S2sEndpoint("127.0.0.4", "127.0.0.4", ports[0], "x", ackTimeoutSeconds: 2));
        var b = Track(new S2sEndpoint("127.0.0.5", "127.0.0.5", ports[1], "y"));
        a.Peers.Add(b.AsPeer());
        b.Peers.Add(a.AsPeer());
        await a.StartAsync();
        await b.StartAsync();
        b.Handler.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var failure = await SendFailsAsync(a, b, Message("127.0.0.4", "127.0.0.5", 1));
        Assert.Contains("no acknowledgement", failure.Message);
        Assert.Empty(b.Handler.Received);
        Assert.False(a.Outbound.IsConnected("127.0.0.5"));
    }

    [Fact]
    public async Task Processes_of_one_domain_sharing_the_secret_verify_each_others_keys()
    {
        // A second process of domain A (the one B's peer table points at is _a): it sends, _a answers B's verification.
        var sibling = Track(new S2sEndpoint(DomainA, "127.0.0.6", FreePorts.Take(1)[0], _a.Secret));
        sibling.Peers.Add(_b.AsPeer());
        await sibling.StartAsync();

        await sibling.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, 0, 5), CancellationToken.None).WaitAsync(Patience);
        Assert.Equal(5, _b.Handler.Received.Count);
    }

    [Fact]
    public async Task Dialback_with_a_wrong_secret_is_refused()
    {
        // The same, but this process of domain A has another secret: B's verification at _a finds its key invalid.
        var sibling = Track(new S2sEndpoint(DomainA, "127.0.0.6", FreePorts.Take(1)[0], "not-the-secret-of-a"));
        sibling.Peers.Add(_b.AsPeer());
        await sibling.StartAsync();

        var failure = await SendFailsAsync(sibling, _b, Message(DomainA, DomainB, 1));
        Assert.Contains("dialback refused", failure.Message);
        Assert.Empty(_b.Handler.Received);
    }

    [Fact]
    public async Task A_forged_dialback_key_is_answered_invalid_and_the_stream_closed()
    {
        await using var impostor = await RawS2sClient.ConnectAsync(_b.Address, _b.Port);
        await impostor.OpenAsync(DomainA, DomainB);
        var features = await impostor.StartTlsAsync(DomainA, DomainB);
        Assert.NotNull(features.Element("dialback", S2sNamespaces.DialbackFeature));
        Assert.NotNull(features.Element("sm", Namespaces.StreamManagement));

        await impostor.SendAsync($"<db:result from='{DomainA}' to='{DomainB}'>{new string('0', 64)}</db:result>");
        var result = await impostor.ReadAsync();
        Assert.NotNull(result);
        Assert.Equal("result", result.Name);
        Assert.Equal(S2sNamespaces.Dialback, result.Namespace);
        Assert.Equal("invalid", result.Attribute("type"));
        Assert.Equal("not-authorized", await impostor.ReadStreamErrorAsync());
    }

    [Fact]
    public async Task As_the_authoritative_server_a_domain_answers_db_verify_for_its_own_keys_only()
    {
        // XEP-0220 §2.1.3: B asks A whether a key is one A generated for (receiving B, originating A, stream id).
        var keysOfA = new DialbackKeys(Options.Create(new S2sOptions { DialbackSecret = _a.Secret }), NullLogger<DialbackKeys>.Instance);
        var genuine = keysOfA.Generate(DomainB, DomainA, "stream-1");
        await using var receiving = await RawS2sClient.ConnectAsync(_a.Address, _a.Port);
        await receiving.OpenAsync(DomainB, DomainA);
        await receiving.StartTlsAsync(DomainB, DomainA);

        await receiving.SendAsync($"<db:verify from='{DomainB}' to='{DomainA}' id='stream-1'>{genuine}</db:verify>");
        var valid = await receiving.ReadAsync();
        Assert.Equal(("verify", "valid", DomainA, DomainB, "stream-1"),
            (valid!.Name, valid.Attribute("type"), valid.Attribute("from"), valid.Attribute("to"), valid.Attribute("id")));

        // The same key for another stream, and a key made with another secret, are not A's.
        await receiving.SendAsync($"<db:verify from='{DomainB}' to='{DomainA}' id='stream-2'>{genuine}</db:verify>");
        Assert.Equal("invalid", (await receiving.ReadAsync())!.Attribute("type"));
        var keysOfOther = new DialbackKeys(Options.Create(new S2sOptions { DialbackSecret = "other" }), NullLogger<DialbackKeys>.Instance);
        await receiving.SendAsync($"<db:verify from='{DomainB}' to='{DomainA}' id='stream-1'>{keysOfOther.Generate(DomainB, DomainA, "stream-1")}</db:verify>");
        Assert.Equal("invalid", (await receiving.ReadAsync())!.Attribute("type"));
    }

    [Fact]
    public async Task When_the_authoritative_server_cannot_be_reached_dialback_fails_with_an_error()
    {
        // B's peer table sends verifications for this domain to a port where nothing listens.
        var ports = FreePorts.Take(3);
        var a = Track(new S2sEndpoint("127.0.0.4", "127.0.0.4", ports[0], "x"));
        var b = Track(new S2sEndpoint("127.0.0.5", "127.0.0.5", ports[1], "y"));
        a.Peers.Add(b.AsPeer());
        b.Peers.Add(a.AsPeer() with { Port = ports[2] });
        await a.StartAsync();
        await b.StartAsync();

        var failure = await SendFailsAsync(a, b, Message("127.0.0.4", "127.0.0.5", 1));
        Assert.Contains("dialback failed: remote-server-not-found", failure.Message);
        Assert.Empty(b.Handler.Received);
    }

    [Fact]
    public async Task A_domain_not_in_the_peer_table_is_refused_with_a_stream_error()
    {
        var stranger = Track(new S2sEndpoint("stranger.example", "127.0.0.7", FreePorts.Take(1)[0], "s"));
        stranger.Peers.Add(_b.AsPeer());
        await stranger.StartAsync();

        var failure = await SendFailsAsync(stranger, _b, Message("stranger.example", DomainB, 1));
        Assert.Equal("policy-violation", failure.StreamError);
        Assert.Empty(_b.Handler.Received);

        // The same refusal when the stranger names itself only in <db:result/>.
        await using var raw = await RawS2sClient.ConnectAsync(_b.Address, _b.Port);
        await raw.OpenAsync(null, DomainB);
        await raw.StartTlsAsync(null, DomainB);
        await raw.SendAsync($"<db:result from='stranger.example' to='{DomainB}'>{new string('0', 64)}</db:result>");
        Assert.Equal("policy-violation", await raw.ReadStreamErrorAsync());
    }

    [Fact]
    public async Task A_stream_to_a_domain_not_served_gets_host_unknown()
    {
        await using var raw = await RawS2sClient.ConnectAsync(_b.Address, _b.Port);
        await raw.SendAsync(RawS2sClient.Header(DomainA, "elsewhere.example"));
        Assert.Equal("host-unknown", await raw.ReadStreamErrorAsync());
    }

    [Fact]
    public async Task A_forged_from_is_refused_with_invalid_from()
    {
        await _a.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, 0, 1), CancellationToken.None).WaitAsync(Patience);
        var forged = Message(DomainA, DomainB, 1).SetAttribute("from", "1001@127.0.0.9");

        var failure = await SendFailsAsync(_a, _b, Message(DomainA, DomainB, 2), forged);
        Assert.Equal("invalid-from", failure.StreamError);
        // What came before the forgery on the stream was handled; the forgery was not.
        Assert.DoesNotContain(_b.Handler.Received, r => r.Stanza.Attribute("from") == "1001@127.0.0.9");

        // The next send opens a new link.
        await _a.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, 3, 1), CancellationToken.None).WaitAsync(Patience);
        Assert.Equal("m3", _b.Handler.Received[^1].Stanza.Attribute("id"));
    }

    [Fact]
    public async Task Starttls_is_required_before_dialback_or_stanzas()
    {
        await using (var raw = await RawS2sClient.ConnectAsync(_b.Address, _b.Port))
        {
            var features = await raw.OpenAsync(DomainA, DomainB);
            Assert.NotNull(features.Element("starttls", Namespaces.Tls)?.Element("required", Namespaces.Tls));
            Assert.Null(features.Element("dialback", S2sNamespaces.DialbackFeature));
            await raw.SendAsync($"<db:result from='{DomainA}' to='{DomainB}'>{new string('0', 64)}</db:result>");
            Assert.Equal("policy-violation", await raw.ReadStreamErrorAsync());
        }
        await using (var raw = await RawS2sClient.ConnectAsync(_b.Address, _b.Port))
        {
            await raw.OpenAsync(DomainA, DomainB);
            await raw.SendAsync($"<message from='1001@{DomainA}' to='2001@{DomainB}'><body>x</body></message>");
            Assert.Equal("policy-violation", await raw.ReadStreamErrorAsync());
        }
        Assert.Empty(_b.Handler.Received);
    }

    [Fact]
    public async Task A_stanza_before_dialback_gets_not_authorized()
    {
        await using var raw = await RawS2sClient.ConnectAsync(_b.Address, _b.Port);
        await raw.OpenAsync(DomainA, DomainB);
        await raw.StartTlsAsync(DomainA, DomainB);
        await raw.SendAsync($"<message from='1001@{DomainA}' to='2001@{DomainB}'><body>x</body></message>");
        Assert.Equal("not-authorized", await raw.ReadStreamErrorAsync());
        Assert.Empty(_b.Handler.Received);
    }

    /// <summary>A hand-written peer that speaks for A: TLS, then dialback with a key A's authoritative server confirms.</summary>
    private async Task<RawS2sClient> AuthenticatedAsAAsync()
    {
        var raw = await RawS2sClient.ConnectAsync(_b.Address, _b.Port);
        await raw.OpenAsync(DomainA, DomainB);
        await raw.StartTlsAsync(DomainA, DomainB);
        var keysOfA = new DialbackKeys(Options.Create(new S2sOptions { DialbackSecret = _a.Secret }), NullLogger<DialbackKeys>.Instance);
        await raw.SendAsync($"<db:result from='{DomainA}' to='{DomainB}'>{keysOfA.Generate(DomainB, DomainA, raw.StreamId)}</db:result>");
        Assert.Equal("valid", (await raw.ReadAsync())!.Attribute("type"));
        return raw;
    }

    [Fact]
    public async Task An_authenticated_peer_without_stream_management_is_served_too()
    {
        await using var peer = await AuthenticatedAsAAsync();
        await peer.SendAsync($"<message from='1001@{DomainA}' to='2001@{DomainB}' id='plain-1'><body>x</body></message>");
        await EventuallyAsync(() => _b.Handler.Received.Count == 1, "the stanza reaches the handler");
        Assert.Equal("plain-1", _b.Handler.Received[0].Stanza.Attribute("id"));
    }

    [Fact]
    public async Task A_stanza_to_a_domain_not_authenticated_on_the_stream_gets_host_unknown()
    {
        await using var peer = await AuthenticatedAsAAsync();
        await peer.SendAsync($"<message from='1001@{DomainA}' to='2001@127.0.0.9'><body>x</body></message>");
        Assert.Equal("host-unknown", await peer.ReadStreamErrorAsync());
        Assert.Empty(_b.Handler.Received);
    }

    [Fact]
    public async Task A_stanza_without_from_gets_improper_addressing()
    {
        await using var peer = await AuthenticatedAsAAsync();
        await peer.SendAsync($"<message to='2001@{DomainB}'><body>x</body></message>");
        Assert.Equal("improper-addressing", await peer.ReadStreamErrorAsync());
        Assert.Empty(_b.Handler.Received);
    }

    [Fact]
    public async Task A_stanza_over_the_size_limit_gets_policy_violation()
    {
        await using var raw = await RawS2sClient.ConnectAsync(_b.Address, _b.Port);
        await raw.OpenAsync(DomainA, DomainB);
        // The limit here is 64 KiB; the stanza never ends, so only the limit can stop it.
        await raw.SendAsync("<message><body>" + new string('a', 80 * 1024));
        Assert.Equal("policy-violation", await raw.ReadStreamErrorAsync());
    }

    [Fact]
    public async Task An_incoming_stream_that_does_not_authenticate_in_time_gets_connection_timeout()
    {
        var strict = Track(new S2sEndpoint("127.0.0.8", "127.0.0.8", FreePorts.Take(1)[0], "s", settings: ("NegotiationTimeoutSeconds", "1")));
        strict.Peers.Add(_a.AsPeer());
        await strict.StartAsync();

        await using var idle = await RawS2sClient.ConnectAsync(strict.Address, strict.Port);
        await idle.OpenAsync(DomainA, "127.0.0.8");
        Assert.Equal("connection-timeout", await idle.ReadStreamErrorAsync());
    }

    [Fact]
    public async Task Connections_beyond_the_limit_get_resource_constraint()
    {
        var small = Track(new S2sEndpoint("127.0.0.8", "127.0.0.8", FreePorts.Take(1)[0], "s", settings: ("MaxInboundConnections", "1")));
        small.Peers.Add(_a.AsPeer());
        await small.StartAsync();

        await using var first = await RawS2sClient.ConnectAsync(small.Address, small.Port);
        await first.OpenAsync(DomainA, "127.0.0.8");
        await using var second = await RawS2sClient.ConnectAsync(small.Address, small.Port);
        Assert.Equal("resource-constraint", await second.ReadStreamErrorAsync());
    }

    [Fact]
    public async Task The_link_reconnects_after_the_peer_restarts()
    {
        await _a.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, 0, 3), CancellationToken.None).WaitAsync(Patience);
        Assert.True(_a.Outbound.IsConnected(DomainB));

        await _b.StopAsync();
        // B closes its streams with system-shutdown: the link knows at once, not at its next ack timeout.
        await EventuallyAsync(() => !_a.Outbound.IsConnected(DomainB), "the link to B counts as down");
        var failure = await SendFailsAsync(_a, _b, Message(DomainA, DomainB, 3));
        Assert.Contains("cannot connect", failure.Message);

        await _b.StartAsync();
        await _a.Outbound.SendAsync(_b.AsPeer(), Messages(DomainA, DomainB, 3, 2), CancellationToken.None).WaitAsync(Patience);
        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], _b.Handler.Received.Select(r => r.Stanza.Attribute("id")));
    }
}
