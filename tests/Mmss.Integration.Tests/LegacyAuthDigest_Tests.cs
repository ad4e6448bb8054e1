using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;
using static Mmss.Integration.Tests.Infrastructure.PreAuthentication;

namespace Mmss.Integration.Tests;

/// <summary>
/// XEP-0078 digest logins with Mmss:C2s:LegacyAuthDigest on: they succeed only for users provisioned with legacyDigest,
/// whose password is kept; for anyone else a digest fails like a wrong password.
/// </summary>
public sealed class LegacyAuthDigest_Tests : IAsyncLifetime
{
    private const string Kept = "6801";
    private const string NotKept = "6802";
    private readonly string _seedFile = Path.Combine(Path.GetTempPath(), $"mmss-digest-seed-{Guid.NewGuid():N}.json");
    private readonly EmbeddedServer _server;

    public LegacyAuthDigest_Tests() => _server = new(new Dictionary<string, string>
    {
        ["Mmss__C2s__LegacyAuthDigest"] = "true",
        ["Mmss__Provisioning__SeedFile"] = _seedFile,
    });

    public async Task InitializeAsync()
    {
        // The opted-in user comes from the seed file, which takes the admin API's fields.
        await File.WriteAllTextAsync(_seedFile, $$"""{"users":[{"udn":"{{Kept}}","password":"Calli0pe","legacyDigest":true}]}""");
        await _server.StartAsync();
        await _server.ProvisionUserAsync(NotKept, "Calli0pe");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        File.Delete(_seedFile);
    }

    private async Task<HttpResponseMessage> ProvisionAsync(string udn, object body)
    {
        using var http = _server.AdminClient();
        return await http.PutAsJsonAsync($"admin/users/{udn}", body);
    }

    private static string DigestFor(XmppClient client, string password) =>
        LegacyAuthDigest.Compute(client.StreamHeader!.Attribute("id")!, Encoding.UTF8.GetBytes(password));

    [Fact]
    public async Task A_user_provisioned_for_digests_logs_in_with_the_digest_of_this_stream_and_is_bound()
    {
        await using var client = await SecuredAsync(_server);
        var fields = await client.IqAsync("get", $"<query xmlns='{Namespaces.IqAuth}'><username>{Kept}</username></query>");
        Assert.Equal(["username", "password", "digest", "resource"], fields.Element("query", Namespaces.IqAuth)!.Elements.Select(e => e.Name));

        var result = await client.IqAsync("set", LegacyAuth(Kept, password: null, resource: "digest-terminal", digest: DigestFor(client, "Calli0pe")));
        Assert.Null(ErrorCondition(result));
        Assert.Equal($"{Kept}@127.0.0.1/digest-terminal", result.Attribute("to"));
        var ping = await client.IqAsync("get", $"<ping xmlns='{Namespaces.Ping}'/>");
        Assert.Equal("result", ping.Attribute("type"));
    }

    [Fact]
    public async Task A_digest_for_a_user_without_the_kept_password_is_not_authorized_and_counts_as_a_failed_login()
    {
        await using var client = await SecuredAsync(_server);
        for (var attempt = 1; attempt < 3; attempt++)
        {
            var answer = await client.IqAsync("set", LegacyAuth(NotKept, password: null, digest: DigestFor(client, "Calli0pe")));
            Assert.Equal("not-authorized", ErrorCondition(answer));
        }
        // Mmss:C2s:MaxAuthAttemptsPerConnection (3) is shared with SASL and plaintext: the third failure ends the stream.
        await client.AssertLastFailedLoginEndsTheStreamAsync(LegacyAuth(NotKept, password: null, digest: DigestFor(client, "Calli0pe")));
    }

    [Fact]
    public async Task A_wrong_digest_or_one_from_another_stream_is_not_authorized()
    {
        await using var first = await SecuredAsync(_server);
        var replayed = DigestFor(first, "Calli0pe");
        await using var client = await SecuredAsync(_server);
        Assert.NotEqual(first.StreamHeader!.Attribute("id"), client.StreamHeader!.Attribute("id"));
        Assert.Equal("not-authorized", ErrorCondition(await client.IqAsync("set", LegacyAuth(Kept, password: null, digest: DigestFor(client, "wrong")))));
        Assert.Equal("not-authorized", ErrorCondition(await client.IqAsync("set", LegacyAuth(Kept, password: null, digest: replayed))));
    }

    [Fact]
    public async Task The_admin_api_shows_whether_the_password_is_kept_never_the_password_and_dropping_it_ends_digest_logins()
    {
        const string udn = "6803";
        Assert.True((await ProvisionAsync(udn, new { password = "Calli0pe", legacyDigest = true })).IsSuccessStatusCode);
        using var http = _server.AdminClient();
        var shown = await http.GetStringAsync($"admin/users/{udn}");
        Assert.True(JsonDocument.Parse(shown).RootElement.GetProperty("legacyDigest").GetBoolean());
        Assert.DoesNotContain("Calli0pe", shown);
        Assert.DoesNotContain("password", shown, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(HttpStatusCode.BadRequest, (await ProvisionAsync(NotKept, new { legacyDigest = true })).StatusCode);
        Assert.True((await ProvisionAsync(udn, new { legacyDigest = false })).IsSuccessStatusCode);
        Assert.False(JsonDocument.Parse(await http.GetStringAsync($"admin/users/{udn}")).RootElement.GetProperty("legacyDigest").GetBoolean());

        await using var client = await SecuredAsync(_server);
        Assert.Equal("not-authorized", ErrorCondition(await client.IqAsync("set", LegacyAuth(udn, password: null, digest: DigestFor(client, "Calli0pe")))));
        Assert.Null(ErrorCondition(await client.IqAsync("set", LegacyAuth(udn, "Calli0pe"))));
    }
}
