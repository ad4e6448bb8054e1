using System.Net.Http.Json;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests;

/// <summary>
/// Presence among the members of a talk group (RFC 6121 §4, a provisioned roster subscribed both ways), over real
/// sockets: initial presence and what probes would bring, changes, unavailable when a session ends, nothing for others.
/// </summary>
[Collection(ServerCollection.Name)]
public class Presence_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;

    private const string Domain = EmbeddedServer.Domain;

    /// <summary>Users prefix+"1" and prefix+"2" in group prefix+"9", prefix+"3" in no group with them; password "pw".</summary>
    private async Task<(string A, string B, string Outsider)> GroupAsync(string prefix)
    {
        var (a, b, outsider) = (prefix + "1", prefix + "2", prefix + "3");
        foreach (var udn in new[] { a, b, outsider }) await Server.ProvisionUserAsync(udn, "pw");
        using var admin = Server.AdminClient();
        (await admin.PutAsJsonAsync($"admin/groups/{prefix}9", new { name = "Patrol " + prefix, members = new[] { a, b } })).EnsureSuccessStatusCode();
        return (a, b, outsider);
    }

    private static bool IsPresence(XmlElement e, string fullJid, string? type = null) =>
        e.Name == "presence" && e.Attribute("from") == fullJid && e.Attribute("type") == type;

    private async Task<XmppClient> OnlineAsync(string udn, string resource, string presence = "<presence/>")
    {
        var client = await Server.LoginAsync(udn, "pw", resource: resource);
        await client.SendRawAsync(presence);
        // RFC 6121 §4.2.2: the initial presence comes back to the resource that sent it.
        await client.ReadUntilAsync(e => IsPresence(e, $"{udn}@{Domain}/{resource}"));
        return client;
    }

    [Fact]
    public async Task Members_of_a_talk_group_see_each_other_available_whoever_logs_in_first()
    {
        var (a, b, _) = await GroupAsync("6810");
        await using var first = await OnlineAsync(a, "dc");
        await using var second = await Server.LoginAsync(b, "pw", resource: "ue");
        await second.SendRawAsync("<presence><show>dnd</show><status>on patrol</status></presence>");

        // The one already online learns of the newcomer, with what it announced...
        var seen = await first.ReadUntilAsync(e => IsPresence(e, $"{b}@{Domain}/ue"));
        Assert.Equal($"{a}@{Domain}/dc", seen.Attribute("to"));
        Assert.Equal("dnd", seen.Element("show", Namespaces.Client)!.Text);
        Assert.Equal("on patrol", seen.Element("status", Namespaces.Client)!.Text);
        // ...and the newcomer gets the presence of the contact already online, as probes would bring it.
        var current = await second.ReadUntilAsync(e => IsPresence(e, $"{a}@{Domain}/dc"));
        Assert.Equal($"{b}@{Domain}/ue", current.Attribute("to"));
    }

    [Fact]
    public async Task A_contact_whose_connection_drops_goes_unavailable()
    {
        var (a, b, _) = await GroupAsync("6811");
        await using var watcher = await OnlineAsync(a, "dc");
        var dropped = await OnlineAsync(b, "ue");
        await watcher.ReadUntilAsync(e => IsPresence(e, $"{b}@{Domain}/ue"));

        // No </stream:stream>: the socket just closes.
        await dropped.DisposeAsync();

        var gone = await watcher.ReadUntilAsync(e => IsPresence(e, $"{b}@{Domain}/ue", "unavailable"));
        Assert.Equal($"{a}@{Domain}/dc", gone.Attribute("to"));
    }

    [Fact]
    public async Task Show_and_status_changes_and_unavailable_reach_contacts()
    {
        var (a, b, _) = await GroupAsync("6812");
        await using var watcher = await OnlineAsync(a, "dc");
        await using var unit = await OnlineAsync(b, "ue");
        await watcher.ReadUntilAsync(e => IsPresence(e, $"{b}@{Domain}/ue") && e.Element("show", Namespaces.Client) is null);

        await unit.SendRawAsync("<presence><show>away</show><status>at lunch</status></presence>");
        var away = await watcher.ReadUntilAsync(e => IsPresence(e, $"{b}@{Domain}/ue") && e.Element("show", Namespaces.Client) is not null);
        Assert.Equal("away", away.Element("show", Namespaces.Client)!.Text);
        Assert.Equal("at lunch", away.Element("status", Namespaces.Client)!.Text);

        await unit.SendRawAsync("<presence type='unavailable'><status>off duty</status></presence>");
        var off = await watcher.ReadUntilAsync(e => IsPresence(e, $"{b}@{Domain}/ue", "unavailable"));
        Assert.Equal("off duty", off.Element("status", Namespaces.Client)!.Text);
    }

    [Fact]
    public async Task A_user_outside_the_group_gets_no_presence_of_its_members()
    {
        var (a, b, outsider) = await GroupAsync("6813");
        await using var other = await OnlineAsync(outsider, "ue");
        await using var watcher = await OnlineAsync(a, "dc");
        await using var unit = await OnlineAsync(b, "ue");
        await watcher.ReadUntilAsync(e => IsPresence(e, $"{b}@{Domain}/ue"));
        // A second broadcast starts only when the first has reached every contact: once the member sees it, the
        // outsider would long have had the first if it were one.
        await unit.SendRawAsync("<presence><status>second</status></presence>");
        await watcher.ReadUntilAsync(e => IsPresence(e, $"{b}@{Domain}/ue") && e.Element("status", Namespaces.Client) is not null);

        await other.SendRawAsync("<iq type='get' id='outsider-ping'><ping xmlns='urn:xmpp:ping'/></iq>");
        var received = new List<XmlElement>();
        await other.ReadUntilAsync(e =>
        {
            received.Add(e);
            return e.Attribute("id") == "outsider-ping";
        });
        Assert.DoesNotContain(received, e => e.Name == "presence");
    }

    [Fact]
    public async Task The_roster_says_members_are_subscribed_both_ways_and_subscribe_is_answered_by_provisioning()
    {
        var (a, b, outsider) = await GroupAsync("6814");
        await using var client = await Server.LoginAsync(a, "pw", resource: "roster");
        await client.SendRawAsync("<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>");
        var roster = await client.ReadUntilAsync(e => e.Attribute("id") == "roster");
        var items = roster.Element("query", Namespaces.Roster)!.Elements.ToDictionary(i => i.Attribute("jid")!, i => i.Attribute("subscription"));
        Assert.Equal("both", items[$"{b}@{Domain}"]);
        Assert.Equal("none", items[$"68149@{Domain}"]);

        await client.SendRawAsync($"<presence type='subscribe' to='{b}@{Domain}'/>");
        var approved = await client.ReadUntilAsync(e => e.Name == "presence" && e.Attribute("from") == $"{b}@{Domain}");
        Assert.Equal("subscribed", approved.Attribute("type"));
        await client.SendRawAsync($"<presence type='subscribe' to='{outsider}@{Domain}'/>");
        var denied = await client.ReadUntilAsync(e => e.Name == "presence" && e.Attribute("from") == $"{outsider}@{Domain}");
        Assert.Equal("unsubscribed", denied.Attribute("type"));
    }

    [Fact]
    public async Task Directed_presence_reaches_the_available_sessions_of_a_local_user()
    {
        var (a, _, outsider) = await GroupAsync("6815");
        await using var target = await OnlineAsync(a, "dc");
        await using var sender = await Server.LoginAsync(outsider, "pw", resource: "ue");
        await sender.SendRawAsync($"<presence to='{a}@{Domain}'><status>knock knock</status></presence>");
        var directed = await target.ReadUntilAsync(e => IsPresence(e, $"{outsider}@{Domain}/ue"));
        Assert.Equal("knock knock", directed.Element("status", Namespaces.Client)!.Text);
    }
}
