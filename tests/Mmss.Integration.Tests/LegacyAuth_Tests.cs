using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;
using static Mmss.Integration.Tests.Infrastructure.PreAuthentication;

namespace Mmss.Integration.Tests;

/// <summary>XEP-0078 legacy authentication, on by default: plaintext over TLS only, checked against the stored SCRAM key; digest off by default.</summary>
[Collection(ServerCollection.Name)]
public class LegacyAuth_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;

    [Fact]
    public async Task Iq_auth_and_registration_are_advertised_after_tls_beside_the_sasl_mechanisms()
    {
        await using var client = await SecuredAsync(Server);
        Assert.NotNull(client.Features!.Element("mechanisms", Namespaces.Sasl));
        Assert.NotNull(client.Features.Element("auth", Namespaces.IqAuthFeature));
        Assert.NotNull(client.Features.Element("register", Namespaces.RegisterFeature));
    }

    [Fact]
    public async Task A_legacy_login_binds_the_resource_and_the_terminal_exchanges_an_mms()
    {
        var (mo, mt) = await Server.ProvisionPairAsync("7741");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        await using var sender = await SecuredAsync(Server);
        var fields = await sender.IqAsync("get", $"<query xmlns='{Namespaces.IqAuth}'><username>{mo}</username></query>");
        var query = fields.Element("query", Namespaces.IqAuth)!;
        Assert.Equal(["username", "password", "resource"], query.Elements.Select(e => e.Name));

        var result = await sender.IqAsync("set", LegacyAuth(mo, "pw", resource: "old-terminal"));
        Assert.Null(ErrorCondition(result));
        Assert.Equal($"{mo}@127.0.0.1/old-terminal", result.Attribute("to"));
        await sender.SendRawAsync(Stanzas.Mms("legacy-1", mt));
        var mms = await recipient.ReadUntilAsync(e => Stanzas.IsMessage(e, "legacy-1"));
        Assert.StartsWith($"{mo}@127.0.0.1", mms.Attribute("from"));
    }

    [Fact]
    public async Task A_wrong_password_gets_not_authorized_and_counts_as_a_failed_login()
    {
        await using var client = await SecuredAsync(Server, from: System.Net.IPAddress.Parse("127.0.0.61"));
        for (var attempt = 1; attempt < 3; attempt++)
        {
            Assert.Equal("not-authorized", ErrorCondition(await client.IqAsync("set", LegacyAuth("1101", "wrong"))));
        }
        // Mmss:C2s:MaxAuthAttemptsPerConnection (3) is shared with SASL: the third failure ends the stream.
        await client.AssertLastFailedLoginEndsTheStreamAsync(LegacyAuth("1101", "wrong"));
    }

    [Fact]
    public async Task With_digest_logins_off_by_default_no_digest_is_offered_and_one_sent_is_not_acceptable()
    {
        // Even a user provisioned for digests: the setting is what turns them on.
        using (var http = Server.AdminClient())
        {
            (await http.PutAsJsonAsync("admin/users/7751", new { password = "pw", legacyDigest = true })).EnsureSuccessStatusCode();
        }
        await using var client = await SecuredAsync(Server);
        var fields = await client.IqAsync("get", $"<query xmlns='{Namespaces.IqAuth}'/>");
        Assert.Null(fields.Element("query", Namespaces.IqAuth)!.Element("digest", Namespaces.IqAuth));
        var streamId = client.StreamHeader!.Attribute("id")!;
        var digest = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(streamId + "pw")));
        var answer = await client.IqAsync("set", LegacyAuth("7751", password: null, digest: digest));
        Assert.Equal("not-acceptable", ErrorCondition(answer));
    }

    [Fact]
    public async Task A_plaintext_password_before_tls_is_refused()
    {
        await using var client = await XmppClient.ConnectAsync(Server.Host, Server.C2sPort);
        await client.OpenStreamAsync(Server.Host);
        Assert.Null(client.Features!.Element("auth", Namespaces.IqAuthFeature));
        var answer = await client.IqAsync("set", LegacyAuth("1101", "pw-1101"));
        Assert.Equal("not-allowed", ErrorCondition(answer));
    }
}
