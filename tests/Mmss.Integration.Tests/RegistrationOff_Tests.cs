using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Xmpp;
using static Mmss.Integration.Tests.Infrastructure.PreAuthentication;

namespace Mmss.Integration.Tests;

/// <summary>XEP-0077 with the default policy Off: advertised (spec 7.1.2), but nobody registers, changes or cancels in-band.</summary>
[Collection(ServerCollection.Name)]
public class RegistrationOff_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;

    [Fact]
    public async Task The_fields_are_instructions_only_and_a_registration_is_not_allowed()
    {
        await using var client = await SecuredAsync(Server);
        Assert.NotNull(client.Features!.Element("register", Namespaces.RegisterFeature));
        var fields = (await client.IqAsync("get", $"<query xmlns='{Namespaces.Register}'/>")).Element("query", Namespaces.Register)!;
        Assert.Equal(["instructions"], fields.Elements.Select(e => e.Name));
        Assert.Equal("not-allowed", ErrorCondition(await client.IqAsync("set", Register("6801", "pw"))));
        using var http = Server.AdminClient();
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("admin/users/6801")).StatusCode);
    }

    [Fact]
    public async Task An_authenticated_user_can_neither_change_its_password_nor_cancel_its_account()
    {
        await Server.ProvisionUserAsync("6802", "pw");
        await using (var client = await Server.LoginAsync("6802", "pw"))
        {
            Assert.Equal("not-allowed", ErrorCondition(await client.IqAsync("set", Register("6802", "pw-new"))));
            Assert.Equal("not-allowed", ErrorCondition(await client.IqAsync("set", $"<query xmlns='{Namespaces.Register}'><remove/></query>")));
        }
        await using var again = await Server.LoginAsync("6802", "pw");
        Assert.StartsWith("6802@127.0.0.1/", again.BoundJid);
    }
}
