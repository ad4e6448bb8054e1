using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests.Infrastructure;

public static class StreamErrorAssertions
{
    /// <summary>Reads past other elements to the stream error, checks its condition, and that the stream then ends.</summary>
    public static async Task<XmlElement> ExpectStreamErrorAsync(this XmppClient client, string condition)
    {
        XmlElement? element;
        do
        {
            element = await client.ReadAsync();
        } while (element is not null && !(element.Name == "error" && element.Namespace == Namespaces.Streams));
        Assert.NotNull(element);
        Assert.NotNull(element.Element(condition, Namespaces.StreamErrors));
        Assert.Null(await client.ReadAsync());
        return element;
    }
}
