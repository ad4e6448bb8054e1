using Mmss.GrainInterfaces;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>
/// Roster get (RFC 6121 §2.2): an MMSS keeps no contact lists, but a terminal can reach the talk groups it belongs to
/// and their members, so the roster lists those, read-only, from provisioning: each group as an item in the roster
/// group "Talk groups", each member as an item in a roster group named after each talk group it shares.
/// Roster sets are refused: provisioning owns membership. A member is subscribed both ways (RFC 6121 §2.1.2.5:
/// presence flows, see <see cref="PresenceHandler"/>) when it shares a talk group small enough to carry presence
/// (Mmss:Presence:MaxGroupMembers, the silos' setting, read here by name); otherwise, and for the groups themselves,
/// 'none'.
/// </summary>
public sealed class RosterHandler(IConfiguration configuration) : IIqHandler
{
    private readonly int _maxPresenceGroupMembers = configuration.GetValue("Mmss:Presence:MaxGroupMembers", 500);

    /// <summary>The roster group that marks an item as a talk group (the item's JID is the GDN).</summary>
    public const string TalkGroups = "Talk groups";

    /// <summary>Members listed at most, over all groups: a console needs the people it works with, not a 100,000-member directory.</summary>
    public const int MaxMembers = 500;

    public string Element => "query";
    public string Namespace => Namespaces.Roster;
    public string? Feature => null;

    public async ValueTask HandleAsync(C2sConnection connection, XmlElement iq, XmlElement payload)
    {
        if (iq.Attribute("type") != "get")
        {
            await connection.SendAsync(StanzaErrors.Reply(iq, "not-allowed", "cancel", connection.Domain));
            return;
        }
        var grains = connection.Services.Grains;
        var udn = connection.Udn!;
        var gdns = await grains.GetGrain<IMembershipGrain>(udn).GetGroupsAsync();
        var groups = (await Task.WhenAll(gdns.Select(gdn => grains.GetGrain<IGroupGrain>(gdn).GetAsync())))
            .OfType<GroupProfile>()
            .Where(group => group.Members.Contains(udn))
            .ToList();
        // Each member once, with every talk group it shares with this user, and whether presence flows through one.
        var shared = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var contacts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            foreach (var member in group.Members)
            {
                if (member == udn) continue;
                if (!shared.TryGetValue(member, out var names))
                {
                    if (shared.Count >= MaxMembers) continue;
                    shared[member] = names = [];
                }
                names.Add(GroupLabel(group));
                if (group.Members.Count <= _maxPresenceGroupMembers) contacts.Add(member);
            }
        }
        var profiles = await Task.WhenAll(shared.Keys.Select(member => grains.User(member).GetProfileAsync()));

        var result = connection.ResultFor(iq);
        var query = result.AddElement("query", Namespaces.Roster);
        foreach (var group in groups)
        {
            Item(query, $"{group.Gdn}@{connection.Domain}", string.IsNullOrEmpty(group.Name) ? group.Gdn : group.Name, "none").AddElement("group", text: TalkGroups);
        }
        foreach (var profile in profiles.OfType<UserProfile>())
        {
            var item = Item(query, $"{profile.Udn}@{connection.Domain}", profile.Name, contacts.Contains(profile.Udn) ? "both" : "none");
            foreach (var name in shared[profile.Udn]) item.AddElement("group", text: name);
        }
        await connection.SendAsync(result);
    }

    private static string GroupLabel(GroupProfile group) => string.IsNullOrEmpty(group.Name) ? group.Gdn : $"{group.Name} ({group.Gdn})";

    private static XmlElement Item(XmlElement query, string jid, string name, string subscription)
    {
        var item = query.AddElement("item");
        item.SetAttribute("jid", jid).SetAttribute("name", name).SetAttribute("subscription", subscription);
        return item;
    }
}
