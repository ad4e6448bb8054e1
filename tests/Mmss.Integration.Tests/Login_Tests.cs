using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests;

[Collection(ServerCollection.Name)]
public class Login_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;

    public static TheoryData<string> Mechanisms => new() { "DIGEST-MD5", "CRAM-MD5", "PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256" };

    [Theory]
    [MemberData(nameof(Mechanisms))]
    public async Task Terminal_logs_in_with_each_mechanism_over_starttls(string mechanism)
    {
        await using var client = await Server.LoginAsync("1101", "pw-1101", mechanism, resource: "starttls-" + mechanism);
        Assert.True(client.IsSecure);
        Assert.Equal($"1101@127.0.0.1/starttls-{mechanism}", client.BoundJid);
    }

    [Theory]
    [MemberData(nameof(Mechanisms))]
    public async Task Terminal_logs_in_with_each_mechanism_over_direct_tls(string mechanism)
    {
        await using var client = await Server.LoginAsync("1102", "pw-1102", mechanism, resource: "tls-" + mechanism, directTls: true);
        Assert.Equal($"1102@127.0.0.1/tls-{mechanism}", client.BoundJid);
    }

    [Theory]
    [MemberData(nameof(Mechanisms))]
    public async Task Wrong_password_is_refused_with_not_authorized(string mechanism)
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.C2sPort);
        await client.OpenStreamAsync(EmbeddedServer.Domain);
        await client.StartTlsAsync(EmbeddedServer.Domain);
        var outcome = await client.AuthenticateAsync(EmbeddedServer.Mechanism(mechanism, "1103", "not-the-password"), EmbeddedServer.Domain);
        Assert.Equal("failure", outcome.Name);
        Assert.NotNull(outcome.Element("not-authorized", Namespaces.Sasl));
    }

    [Fact]
    public async Task Before_tls_only_starttls_is_offered_and_required()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.C2sPort);
        await client.OpenStreamAsync(EmbeddedServer.Domain);
        var starttls = client.Features!.Element("starttls", Namespaces.Tls);
        Assert.NotNull(starttls);
        Assert.NotNull(starttls.Element("required", Namespaces.Tls));
        Assert.Null(client.Features.Element("mechanisms", Namespaces.Sasl));
    }

    [Fact]
    public async Task Plain_without_tls_is_refused_with_encryption_required()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.C2sPort);
        await client.OpenStreamAsync(EmbeddedServer.Domain);
        var outcome = await client.AuthenticateAsync(EmbeddedServer.Mechanism("PLAIN", "1101", "pw-1101"), EmbeddedServer.Domain);
        Assert.Equal("failure", outcome.Name);
        Assert.NotNull(outcome.Element("encryption-required", Namespaces.Sasl));
    }

    [Fact]
    public async Task After_tls_every_mechanism_of_spec_7_1_2_is_offered()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.C2sPort);
        await client.OpenStreamAsync(EmbeddedServer.Domain);
        await client.StartTlsAsync(EmbeddedServer.Domain);
        var offered = client.Features!.Element("mechanisms", Namespaces.Sasl)!.Elements.Select(e => e.Text).ToArray();
        Assert.Contains("DIGEST-MD5", offered);
        Assert.Contains("PLAIN", offered);
        Assert.Contains("CRAM-MD5", offered);
        Assert.Contains("SCRAM-SHA-1", offered);
        Assert.Contains("SCRAM-SHA-256", offered);
    }

    [Fact]
    public async Task Stream_from_udn_username_at_terminal_ip_with_unknown_to_is_served_with_the_default_domain()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.TlsPort, directTls: true);
        // Spec 7.1.1: from="UDN_UserName@terminal-IP"; 'to' names an address the server does not know.
        await client.OpenStreamAsync("10.99.99.99", from: "1101_Unit1@10.20.30.40");
        Assert.Equal(EmbeddedServer.Domain, client.StreamHeader!.Attribute("from"));
        var outcome = await client.AuthenticateAsync(EmbeddedServer.Mechanism("DIGEST-MD5", "1101", "pw-1101"), EmbeddedServer.Domain);
        Assert.Equal("success", outcome.Name);
        Assert.StartsWith("1101@127.0.0.1/", await client.BindAsync(null));
    }

    [Fact]
    public async Task Stream_without_to_is_served_with_the_default_domain()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.TlsPort, directTls: true);
        await client.OpenStreamAsync("");
        Assert.Equal(EmbeddedServer.Domain, client.StreamHeader!.Attribute("from"));
    }

    [Fact]
    public async Task Digest_md5_success_carries_rspauth_as_in_spec_7_1_6()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.TlsPort, directTls: true);
        await client.OpenStreamAsync(EmbeddedServer.Domain);
        var mechanism = EmbeddedServer.Mechanism("DIGEST-MD5", "1102", "pw-1102");
        var success = await client.AuthenticateAsync(mechanism, EmbeddedServer.Domain);
        Assert.Equal("success", success.Name);
        Assert.StartsWith("rspauth=", System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(success.Text)));
    }

    [Fact]
    public async Task Second_connection_may_log_in_as_the_same_user_with_another_resource()
    {
        await using var first = await Server.LoginAsync("1101", "pw-1101", resource: "handset");
        await using var second = await Server.LoginAsync("1101", "pw-1101", resource: "console");
        await first.SendRawAsync("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Equal("result", (await first.ReadUntilAsync(e => e.Attribute("id") == "p1")).Attribute("type"));
        await second.SendRawAsync("<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Equal("result", (await second.ReadUntilAsync(e => e.Attribute("id") == "p2")).Attribute("type"));
    }

    [Fact]
    public async Task New_session_with_the_same_resource_replaces_the_old_one_with_conflict()
    {
        await using var old = await Server.LoginAsync("1102", "pw-1102", resource: "radio");
        await using var replacement = await Server.LoginAsync("1102", "pw-1102", resource: "radio");
        var error = await old.ReadAsync();
        Assert.NotNull(error);
        Assert.Equal("error", error.Name);
        Assert.NotNull(error.Element("conflict", Namespaces.StreamErrors));
        Assert.Null(await old.ReadAsync());
        await replacement.SendRawAsync("<iq type='get' id='p3'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Equal("result", (await replacement.ReadUntilAsync(e => e.Attribute("id") == "p3")).Attribute("type"));
    }

    [Fact]
    public async Task Repeated_failures_for_one_user_are_throttled_even_with_the_right_password()
    {
        await Server.ProvisionUserAsync("1199", "right");
        for (var i = 0; i < 8; i++)
        {
            await using var attacker = await XmppClient.ConnectAsync("127.0.0.1", Server.TlsPort, directTls: true);
            await attacker.OpenStreamAsync(EmbeddedServer.Domain);
            var failure = await attacker.AuthenticateAsync(EmbeddedServer.Mechanism("PLAIN", "1199", "guess" + i), EmbeddedServer.Domain);
            Assert.NotNull(failure.Element("not-authorized", Namespaces.Sasl));
        }
        await using var owner = await XmppClient.ConnectAsync("127.0.0.1", Server.TlsPort, directTls: true);
        await owner.OpenStreamAsync(EmbeddedServer.Domain);
        var refused = await owner.AuthenticateAsync(EmbeddedServer.Mechanism("PLAIN", "1199", "right"), EmbeddedServer.Domain);
        Assert.NotNull(refused.Element("temporary-auth-failure", Namespaces.Sasl));
    }

    [Fact]
    public async Task Three_failed_attempts_on_one_connection_end_the_stream_with_not_authorized()
    {
        await using var client = await XmppClient.ConnectAsync("127.0.0.1", Server.TlsPort, directTls: true);
        await client.OpenStreamAsync(EmbeddedServer.Domain);
        for (var i = 0; i < 3; i++)
        {
            await client.AuthenticateAsync(EmbeddedServer.Mechanism("SCRAM-SHA-1", "nobody-" + i, "x"), EmbeddedServer.Domain);
        }
        var error = await client.ReadAsync();
        Assert.NotNull(error?.Element("not-authorized", Namespaces.StreamErrors));
    }
}
