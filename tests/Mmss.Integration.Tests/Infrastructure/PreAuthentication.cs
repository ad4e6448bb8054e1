using System.Net;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>A raw client on a TLS stream not yet authenticated, and iqs sent on it: what registration and legacy login need.</summary>
public static class PreAuthentication
{
    /// <param name="from">a source address on loopback (127.0.0.x), to be counted apart by the server's throttles</param>
    public static async Task<XmppClient> SecuredAsync(EmbeddedServer server, IPAddress? from = null)
    {
        var client = await XmppClient.ConnectAsync(server.Host, server.C2sPort, localAddress: from);
        await client.OpenStreamAsync(server.Host);
        await client.StartTlsAsync(server.Host);
        return client;
    }

    /// <summary>Sends an iq with this payload and returns the answer to it.</summary>
    public static async Task<XmlElement> IqAsync(this XmppClient client, string type, string payloadXml)
    {
        var id = "pre-" + Guid.NewGuid().ToString("N")[..8];
        await client.SendRawAsync($"<iq type='{type}' id='{id}'>{payloadXml}</iq>");
        return await client.ReadUntilAsync(e => e.Name == "iq" && e.Attribute("id") == id);
    }

    /// <summary>
    /// Sends a login iq that fails as the connection's last allowed attempt (Mmss:C2s:MaxAuthAttemptsPerConnection), and
    /// asserts it is answered not-authorized and the stream then ends with a not-authorized stream error.
    /// </summary>
    public static async Task AssertLastFailedLoginEndsTheStreamAsync(this XmppClient client, string payloadXml)
    {
        await client.SendRawAsync($"<iq type='set' id='last-attempt'>{payloadXml}</iq>");
        var answers = new List<XmlElement>();
        while (await client.ReadAsync() is { } element) answers.Add(element);
        Assert.Contains(answers, e => e.Name == "iq" && ErrorCondition(e) == "not-authorized");
        Assert.Contains(answers, e => e.Name == "error" && e.Element("not-authorized", Namespaces.StreamErrors) is not null);
    }

    /// <summary>The defined condition of an iq error, or null for a result.</summary>
    public static string? ErrorCondition(XmlElement iq) =>
        iq.Attribute("type") == "error" ? iq.Element("error", Namespaces.Client)?.Elements.First(e => e.Namespace == Namespaces.Stanzas).Name : null;

    public static string Register(string? udn, string? password, string? key = null) =>
        $"<query xmlns='{Namespaces.Register}'>" + (udn is null ? "" : $"<username>{udn}</username>") +
        (password is null ? "" : $"<password>{password}</password>") + (key is null ? "" : $"<key>{key}</key>") + "</query>";

    public static string LegacyAuth(string udn, string? password, string resource = "legacy", string? digest = null) =>
        $"<query xmlns='{Namespaces.IqAuth}'><username>{udn}</username>" + (password is null ? "" : $"<password>{password}</password>") +
        (digest is null ? "" : $"<digest>{digest}</digest>") + $"<resource>{resource}</resource></query>";
}
