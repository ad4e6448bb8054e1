using Mmss.Protocol.Xmpp;

namespace Mmss.Bench;

/// <summary>Stanzas more than one scenario sends.</summary>
public static class BenchStanzas
{
    /// <summary>A terminal's MMS (MsgType 1) with a short text and a thumbnail body.</summary>
    public static string Mms(string id, string to, string domain) =>
        $"<message id='{id}' to='{to}@{domain}'><properties xmlns='{Namespaces.JiveProperties}'><property><name>MsgType</name><value type='string'>1</value></property><property><name>MsgText</name><value type='string'>load</value></property></properties><body>dGh1bWI=</body></message>";

    /// <summary>A terminal's ACK (MsgType 2, ReturnCode 1) to an MMS, addressed to ACK@domain (spec 7.5.2).</summary>
    public static string Ack(string id, string domain) =>
        $"<message id='{id}' to='ACK@{domain}' type='chat'><properties xmlns='{Namespaces.JiveProperties}'><property><name>MsgType</name><value type='string'>2</value></property><property><name>ReturnCode</name><value type='string'>1</value></property></properties></message>";
}
