using System.Net;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;
using static Mmss.Integration.Tests.Infrastructure.PreAuthentication;

namespace Mmss.Integration.Tests;

/// <summary>
/// XEP-0077 in-band registration under the Admin policy: an account needs the registration token; a user changes its
/// password and cancels its account; registrations are throttled per address.
/// </summary>
public sealed class InBandRegistration_Tests : IAsyncLifetime
{
    private const string Token = "registration-token-1";

    private readonly EmbeddedServer _server = new(new Dictionary<string, string>
    {
        ["Mmss__C2s__Registration"] = "Admin",
        ["Mmss__C2s__RegistrationToken"] = Token,
        ["Mmss__C2s__MaxRegistrationsPerAddress"] = "3",
    });

    public async Task InitializeAsync() => await _server.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<HttpStatusCode> AdminLookupAsync(string udn)
    {
        using var http = _server.AdminClient();
        return (await http.GetAsync($"admin/users/{udn}")).StatusCode;
    }

    [Fact]
    public async Task Slixmpp_registers_with_the_token_logs_in_changes_its_password_and_cancels_its_account()
    {
        var (exitCode, output) = await SlixmppScript.RunAsync(
            "slixmpp_register.py", "127.0.0.1", _server.C2sPort.ToString(), "6601@127.0.0.1", "pw-1", "pw-2", Token);
        Assert.True(exitCode == 0, $"slixmpp exited {exitCode}: {output}");
        Assert.Contains("FIELDS key password username", output);
        Assert.Contains("REGISTERED", output);
        Assert.Contains("LOGIN-OK 6601@127.0.0.1/", output);
        Assert.Contains("PASSWORD-CHANGED", output);
        Assert.Contains("CANCELLED", output);
        Assert.Equal(HttpStatusCode.NotFound, await AdminLookupAsync("6601"));
    }

    [Fact]
    public async Task A_registration_by_data_form_holds_the_same_credentials_as_the_admin_api_gives()
    {
        await using var client = await SecuredAsync(_server, from: IPAddress.Parse("127.0.0.41"));
        var fields = await client.IqAsync("get", $"<query xmlns='{Namespaces.Register}'/>");
        var form = fields.Element("query", Namespaces.Register)!.Element("x", Namespaces.DataForms)!;
        Assert.Equal(["FORM_TYPE", "username", "password", "token"], form.Elements.Where(e => e.Name == "field").Select(e => e.Attribute("var")));

        var answer = await client.IqAsync("set", $"<query xmlns='{Namespaces.Register}'><x xmlns='{Namespaces.DataForms}' type='submit'>" +
            $"<field var='FORM_TYPE'><value>{Namespaces.Register}</value></field><field var='username'><value>6602</value></field>" +
            $"<field var='password'><value>pw-form</value></field><field var='token'><value>{Token}</value></field></x></query>");
        Assert.Null(ErrorCondition(answer));
        Assert.Equal(HttpStatusCode.OK, await AdminLookupAsync("6602"));
        // Every mechanism works, so every derived secret was stored (SCRAM, DIGEST-MD5 H(A1), CRAM-MD5 midstates).
        foreach (var mechanism in new[] { "SCRAM-SHA-256", "DIGEST-MD5", "CRAM-MD5", "PLAIN" })
        {
            await using var login = await XmppClient.LoginAsync(_server.Host, _server.C2sPort, _server.Host, EmbeddedServer.Mechanism(mechanism, "6602", "pw-form"));
            Assert.StartsWith("6602@127.0.0.1/", login.BoundJid);
        }
    }

    [Fact]
    public async Task A_registration_without_the_token_or_with_a_wrong_one_is_not_authorized()
    {
        await using var client = await SecuredAsync(_server, from: IPAddress.Parse("127.0.0.42"));
        Assert.Equal("not-authorized", ErrorCondition(await client.IqAsync("set", Register("6603", "pw"))));
        Assert.Equal("not-authorized", ErrorCondition(await client.IqAsync("set", Register("6603", "pw", key: "guess"))));
        Assert.Equal(HttpStatusCode.NotFound, await AdminLookupAsync("6603"));
    }

    [Fact]
    public async Task A_taken_udn_gets_conflict_and_its_password_is_kept()
    {
        await _server.ProvisionUserAsync("6604", "pw-kept");
        await using var client = await SecuredAsync(_server, from: IPAddress.Parse("127.0.0.43"));
        Assert.Equal("conflict", ErrorCondition(await client.IqAsync("set", Register("6604", "pw-new", key: Token))));
        Assert.Equal("not-acceptable", ErrorCondition(await client.IqAsync("set", Register("FAIL", "pw", key: Token))));
        await using var login = await _server.LoginAsync("6604", "pw-kept");
        Assert.StartsWith("6604@127.0.0.1/", login.BoundJid);
    }

    [Fact]
    public async Task A_password_changed_in_band_replaces_the_old_one()
    {
        await _server.ProvisionUserAsync("6605", "pw-old");
        await using (var client = await _server.LoginAsync("6605", "pw-old"))
        {
            Assert.Equal("not-authorized", ErrorCondition(await client.IqAsync("set", Register("6604", "pw-other"))));
            Assert.Null(ErrorCondition(await client.IqAsync("set", Register("6605", "pw-new"))));
            var fields = await client.IqAsync("get", $"<query xmlns='{Namespaces.Register}'/>");
            Assert.NotNull(fields.Element("query", Namespaces.Register)!.Element("registered", Namespaces.Register));
        }
        await using var again = await _server.LoginAsync("6605", "pw-new");
        Assert.StartsWith("6605@127.0.0.1/", again.BoundJid);
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            XmppClient.AuthenticatedAsync(_server.Host, _server.C2sPort, _server.Host, EmbeddedServer.Mechanism("PLAIN", "6605", "pw-old")));
    }

    [Fact]
    public async Task Registrations_past_the_limit_from_one_address_are_refused()
    {
        await using var client = await SecuredAsync(_server, from: IPAddress.Parse("127.0.0.44"));
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(ErrorCondition(await client.IqAsync("set", Register($"661{i}", "pw", key: Token))));
        }
        Assert.Equal("resource-constraint", ErrorCondition(await client.IqAsync("set", Register("6619", "pw", key: Token))));
        Assert.Equal(HttpStatusCode.NotFound, await AdminLookupAsync("6619"));
        // Another address is not held back by this one's count.
        await using var other = await SecuredAsync(_server, from: IPAddress.Parse("127.0.0.45"));
        Assert.Null(ErrorCondition(await other.IqAsync("set", Register("6620", "pw", key: Token))));
    }
}
